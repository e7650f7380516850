"""Window arithmetic shared by convolution and pooling.

For an input of size ``n``, a window of size ``k`` moved by stride ``s`` over
the input padded with ``p0`` before and ``p1`` after gives

    out = (n + p0 + p1 - k) // s + 1

``padding='same'`` follows Keras/TensorFlow: ``out = ceil(n / s)`` and the
total padding ``max((out - 1) * s + k - n, 0)`` is split with the odd pixel
at the end (bottom or right).
"""


def padding_amounts(size, window, stride, padding):
    """(before, after) padding of one spatial axis for 'valid', 'same' or an int."""
    if padding == 'valid':
        return 0, 0
    if padding == 'same':
        out = -(-size // stride)
        total = max((out - 1) * stride + window - size, 0)
        return total // 2, total - total // 2
    if isinstance(padding, int) and padding >= 0:
        return padding, padding
    raise ValueError(f"padding must be 'valid', 'same', a non-negative int or a pair, got {padding!r}")


def window_geometry(fn_name, x_shape, window, strides, padding):
    """Padding (top, bottom, left, right) and output size (OH, OW) of an NHWC input.

    Raises ValueError naming ``fn_name`` when the window does not fit.
    """
    _, h, w, _ = x_shape
    if isinstance(padding, str):
        pad_h = pad_w = padding.lower()
    elif isinstance(padding, int):
        pad_h = pad_w = padding
    else:
        pad_h, pad_w = padding
    top, bottom = padding_amounts(h, window[0], strides[0], pad_h)
    left, right = padding_amounts(w, window[1], strides[1], pad_w)
    out_h = (h + top + bottom - window[0]) // strides[0] + 1
    out_w = (w + left + right - window[1]) // strides[1] + 1
    if out_h < 1 or out_w < 1:
        raise ValueError(f'{fn_name}: window {window} is larger than the padded input '
                         f'(input shape {tuple(x_shape)}, padding {padding!r})')
    return (top, bottom, left, right), (out_h, out_w)


def check_rank(fn_name, name, array, rank, meaning):
    if array.ndim != rank:
        raise ValueError(f'{fn_name}: {name} must have rank {rank} {meaning}, '
                         f'got shape {tuple(array.shape)}')
