"""Plain array versions of the memory-bound kernels: the reference twins.

Each window function loops in Python over the ``kh * kw`` offsets of the
window and does the rest with whole-array slicing, so it works unchanged on
NumPy and on CuPy arrays; ReLU and its gradient are one array call each. The Numba (``numba_cpu``) and CUDA (``cupy_gpu``) versions have
the same signatures and must give the same results.

Shapes: ``x`` is NHWC ``(N, H, W, C)``; ``window = (kh, kw)``,
``strides = (sh, sw)``, ``pad = (top, bottom, left, right)``; outputs are
``(N, OH, OW, ...)`` with ``OH = (H + top + bottom - kh) // sh + 1``.
"""
from minicnn.backend import get_array_module


def output_size(x_shape, window, strides, pad):
    """(OH, OW) of a window sliding over a padded NHWC input."""
    _, h, w, _ = x_shape
    top, bottom, left, right = pad
    return ((h + top + bottom - window[0]) // strides[0] + 1,
            (w + left + right - window[1]) // strides[1] + 1)


def _pad(x, pad, value=0.0):
    top, bottom, left, right = pad
    xp = get_array_module(x)
    return xp.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)


def _unpad(x_padded, pad):
    top, bottom, left, right = pad
    h, w = x_padded.shape[1] - bottom, x_padded.shape[2] - right
    return x_padded[:, top:h, left:w, :]


def _window_offsets(window, strides, out_hw):
    """For each offset (i, j) in the window: its flat index and the slice of
    the padded input that this offset reads at every output position."""
    (kh, kw), (sh, sw), (oh, ow) = window, strides, out_hw
    for i in range(kh):
        for j in range(kw):
            rows = slice(i, i + sh * (oh - 1) + 1, sh)
            cols = slice(j, j + sw * (ow - 1) + 1, sw)
            yield i * kw + j, (slice(None), rows, cols, slice(None))


def _fold(part, per_output, x_shape, window, strides, pad):
    """Add ``part(k)``, shaped like ``per_output`` (N, OH, OW, C), into the padded
    input at every window offset k, then crop the padding: -> x_shape."""
    xp = get_array_module(per_output)
    n, h, w, c = x_shape
    top, bottom, left, right = pad
    g_padded = xp.zeros((n, h + top + bottom, w + left + right, c), dtype=per_output.dtype)
    for k, where in _window_offsets(window, strides, per_output.shape[1:3]):
        g_padded[where] += part(k)
    return _unpad(g_padded, pad)


def im2col(x, window, strides, pad):
    """Unfold every window of x: (N, H, W, C) -> (N, OH, OW, kh, kw, C).

    Reshaped to (N*OH*OW, kh*kw*C) it meets an HWIO kernel reshaped to
    (kh*kw*C, F) in one matrix product.
    """
    xp = get_array_module(x)
    n, _, _, c = x.shape
    out_hw = output_size(x.shape, window, strides, pad)
    cols = xp.empty((n, *out_hw, *window, c), dtype=x.dtype)
    x_padded = _pad(x, pad)
    for k, where in _window_offsets(window, strides, out_hw):
        cols[:, :, :, k // window[1], k % window[1], :] = x_padded[where]
    return cols


def col2im(cols, x_shape, window, strides, pad):
    """Fold windows back, summing overlaps: (N, OH, OW, kh, kw, C) -> x_shape."""
    def part(k):
        return cols[:, :, :, k // window[1], k % window[1], :]
    return _fold(part, cols, x_shape, window, strides, pad)


def max_pool(x, window, strides, pad):
    """Window maxima and where they are: (N, H, W, C) -> y, argmax, both (N, OH, OW, C).

    ``argmax`` holds the flat offset ``i * kw + j`` of the first maximum in
    each window. Padding is -inf, so it is never the maximum.
    """
    xp = get_array_module(x)
    out_hw = output_size(x.shape, window, strides, pad)
    x_padded = _pad(x, pad, value=-xp.inf)
    y = xp.full((x.shape[0], *out_hw, x.shape[3]), -xp.inf, dtype=x.dtype)
    argmax = xp.zeros(y.shape, dtype=xp.int32)
    for k, where in _window_offsets(window, strides, out_hw):
        candidate = x_padded[where]
        better = candidate > y
        y = xp.where(better, candidate, y)
        argmax = xp.where(better, k, argmax)
    return y, argmax


def max_pool_backward(gy, argmax, x_shape, window, strides, pad):
    """Route each output gradient to its window's maximum: -> (N, H, W, C)."""
    xp = get_array_module(gy)
    return _fold(lambda k: xp.where(argmax == k, gy, 0), gy, x_shape, window, strides, pad)


def window_counts(x_shape, window, strides, pad, xp):
    """How many real (not padding) pixels each window covers: (1, OH, OW, 1)."""
    ones = xp.ones((1, x_shape[1], x_shape[2], 1), dtype=xp.float32)
    counts = xp.zeros((1, *output_size(x_shape, window, strides, pad), 1), dtype=xp.float32)
    ones_padded = _pad(ones, pad)
    for _, where in _window_offsets(window, strides, counts.shape[1:3]):
        counts += ones_padded[where]
    return counts


def avg_pool(x, window, strides, pad):
    """Window means over the pixels inside the image: (N, H, W, C) -> (N, OH, OW, C)."""
    xp = get_array_module(x)
    out_hw = output_size(x.shape, window, strides, pad)
    total = xp.zeros((x.shape[0], *out_hw, x.shape[3]), dtype=x.dtype)
    x_padded = _pad(x, pad)
    for _, where in _window_offsets(window, strides, out_hw):
        total += x_padded[where]
    return total / window_counts(x.shape, window, strides, pad, xp).astype(x.dtype)


def avg_pool_backward(gy, x_shape, window, strides, pad):
    """Spread each output gradient evenly over its window's pixels: -> (N, H, W, C)."""
    xp = get_array_module(gy)
    share = gy / window_counts(x_shape, window, strides, pad, xp).astype(gy.dtype)
    return _fold(lambda k: share, gy, x_shape, window, strides, pad)


def relu(x):
    """max(x, 0), elementwise."""
    return get_array_module(x).maximum(x, 0)


def relu_backward(gy, y):
    """The gradient passes where the output y = relu(x) is positive."""
    return get_array_module(gy).where(y > 0, gy, 0)
