"""The convolution's relatives, built from the same windows (im2col and col2im).

Shapes are Keras's, images NHWC:

    conv2d_transpose(x, K)      x (N, H, W, C), K (kh, kw, F, C)   -> (N, OH, OW, F)
    depthwise_conv2d(x, K)      x (N, H, W, C), K (kh, kw, C, M)   -> (N, OH, OW, C*M)
    separable_conv2d(x, D, P)   depthwise D (kh, kw, C, M), then the
                                1x1 conv2d P (1, 1, C*M, F)         -> (N, OH, OW, F)

**The transposed convolution** (Keras's Conv2DTranspose, sometimes called
deconvolution) is the adjoint of a convolution. Take the conv2d whose kernel
is the same array K, read as HWIO: it maps images with F channels, of size
(OH, OW), to images with C channels, of size (H, W). conv2d_transpose maps
back the other way, and is exactly what that convolution's backward does to
its incoming gradient: forward and backward trade places.

    conv2d(z, K)            = im2col(z) @ K                  (its forward)
    conv2d_transpose(x, K)  = col2im(x @ K.T)                (its backward for x)
    backward of the latter:   dx = im2col(gy) @ K = conv2d(gy, K)
                              dK = im2col(gy).T @ x

so <conv2d(z, K), x> = <z, conv2d_transpose(x, K)> for every z and x (the
tests check it). Each input pixel stamps a copy of the kernel, weighted by
its channels, onto the output, s pixels apart: a stride s upsamples by s.
The output size is Keras's (``deconv_output_length``), per axis, with
k = (kh - 1) * dh + 1 the dilated span and op the output_padding:

    'valid':  (H - 1) * s + k + op,  op defaulting to max(k, s) - k
    'same':   H * s when op is None, else (H - 1) * s + k % 2 + op

and the padding is the one that convolution uses from that output size back
to H, ``(top, bottom)`` with top = max((H - 1) * s + k - OH, 0) // 2.

**The depthwise convolution** convolves every input channel c with its own
M = depth_multiplier filters and no other channel:

    y[n, i, j, c*M + m] = b[c*M + m]
                          + sum_{p, q} x_pad[n, i*sh + p*dh, j*sw + q*dw, c] * K[p, q, c, m]

It is conv2d with groups=C and the kernel reshaped to (kh, kw, 1, C*M),
which the tests check; that would be C matrix products of one channel
each, so here the sum over (p, q) runs for all channels at once, in einsum
over im2col's ``cols`` (N, OH, OW, kh, kw, C):

    y     = einsum('nhwpqc,pqcm->nhwcm', cols, K)
    dK    = einsum('nhwpqc,nhwcm->pqcm', cols, gy)
    dcols = einsum('nhwcm,pqcm->nhwpqc', gy, K)        dx = col2im(dcols)

**The separable convolution** is a depthwise convolution followed by a 1x1
conv2d that mixes the channels: far fewer weights than one conv2d
(kh*kw*C*M + C*M*F against kh*kw*C*F). It needs no Function of its own.
"""
from minicnn.devices import get_array_module
from minicnn.functional.conv import SlidingWindows, check_bias, conv2d, dilated_window
from minicnn.functional.geometry import check_rank


class TransposedConvolution(SlidingWindows):
    """conv2d_transpose: forward col2im(x @ K.T), backward im2col(gy) @ K."""
    name = 'conv2d_transpose'

    def __init__(self, strides=1, padding='valid', output_padding=None, dilation_rate=1):
        super().__init__(strides, padding, dilation_rate)
        if not isinstance(padding, str) or padding.lower() not in ('valid', 'same'):
            raise ValueError(f"{self.name}: padding must be 'valid' or 'same', got {padding!r}")
        self.padding = padding.lower()
        self.output_padding = check_output_padding(self.name, output_padding, self.strides)

    def forward(self, x, kernel, bias=None):
        check_transposed_shapes(x, kernel, bias)
        kh, kw, f, c = kernel.shape
        self.y_shape, self.pad = transposed_geometry(x.shape, kernel.shape, self.strides,
                                                     self.padding, self.output_padding,
                                                     self.dilation)
        self.x, self.kernel = x, kernel
        cols = x.reshape(-1, c) @ kernel.reshape(-1, c).T                  # (N*H*W, kh*kw*F)
        y = self.fold(cols.reshape(*x.shape[:3], kh, kw, f), self.y_shape)  # (N, OH, OW, F)
        return y if bias is None else y + bias

    def backward(self, gy):
        kh, kw, f, c = self.kernel.shape
        cols = self.unfold(gy).reshape(-1, kh * kw * f)                    # (N*H*W, kh*kw*F)
        gx = (cols @ self.kernel.reshape(-1, c)).reshape(self.x.shape)
        g_kernel = (cols.T @ self.x.reshape(-1, c)).reshape(self.kernel.shape)
        return gx, g_kernel, gy.sum(axis=(0, 1, 2))


def transposed_geometry(x_shape, kernel_shape, strides, padding, output_padding, dilation):
    """The output's shape (N, OH, OW, F) and the padding (top, bottom, left, right)
    of the convolution from it back to x's (H, W), which any output_padding
    below the stride gives; see the module docstring."""
    n, h, w, _ = x_shape
    out_hw, pad = [], []
    for size, k, s, op in zip((h, w), dilated_window(kernel_shape[:2], dilation), strides,
                              output_padding or (None, None)):
        out = deconv_output_length(size, k, s, padding, op)
        total = max((size - 1) * s + k - out, 0) if padding == 'same' else 0
        out_hw.append(out)
        pad += [total // 2, total - total // 2]
    return (n, *out_hw, kernel_shape[2]), tuple(pad)


def deconv_output_length(size, span, stride, padding, output_padding=None):
    """Keras's output length of a transposed convolution along one axis.

    span: the dilated kernel size (k - 1) * d + 1; see the module docstring.
    """
    if padding == 'valid':
        extra = max(span, stride) - span if output_padding is None else output_padding
        return (size - 1) * stride + span + extra
    if output_padding is None:
        return size * stride
    return (size - 1) * stride + span % 2 + output_padding


def check_output_padding(fn_name, output_padding, strides):
    """None, or a pair of non-negative ints each below its stride (as Keras requires)."""
    if output_padding is None:
        return None
    pair_ = (output_padding,) * 2 if isinstance(output_padding, int) else tuple(output_padding)
    if len(pair_) != 2 or not all(isinstance(v, int) and 0 <= v < s
                                  for v, s in zip(pair_, strides)):
        raise ValueError(f'{fn_name}: output_padding must be None or non-negative ints, each '
                         f'strictly less than its stride; got output_padding={output_padding!r}, '
                         f'strides={strides}')
    return pair_


def check_transposed_shapes(x, kernel, bias):
    check_rank('conv2d_transpose', 'x', x, 4, '(N, H, W, C)')
    check_rank('conv2d_transpose', 'kernel', kernel, 4, '(kh, kw, filters, in_channels)')
    if x.shape[3] != kernel.shape[3]:
        raise ValueError(f'conv2d_transpose: x has {x.shape[3]} channels but the kernel '
                         f'(kh, kw, filters, in_channels) expects {kernel.shape[3]} '
                         f'(x shape {x.shape}, kernel shape {kernel.shape})')
    check_bias('conv2d_transpose', bias, kernel.shape[2])


class DepthwiseConvolution(SlidingWindows):
    """depthwise_conv2d: every channel convolved with its own filters, by einsum over cols."""
    name = 'depthwise_conv2d'

    def forward(self, x, kernel, bias=None):
        check_depthwise_shapes(x, kernel, bias)
        xp = get_array_module(x)
        self.pad, out_hw = self.geometry(x.shape, kernel.shape)
        self.x_shape, self.kernel = x.shape, kernel
        self.cols = self.unfold(x)                                         # (N, OH, OW, kh, kw, C)
        y = xp.einsum('nhwpqc,pqcm->nhwcm', self.cols, kernel)            # (N, OH, OW, C, M)
        y = y.reshape(x.shape[0], *out_hw, -1)                             # channel c*M + m
        return y if bias is None else y + bias

    def backward(self, gy):
        xp = get_array_module(gy)
        g = gy.reshape(*gy.shape[:3], *self.kernel.shape[2:])              # (N, OH, OW, C, M)
        g_kernel = xp.einsum('nhwpqc,nhwcm->pqcm', self.cols, g)
        g_cols = xp.einsum('nhwcm,pqcm->nhwpqc', g, self.kernel)
        return self.fold(g_cols, self.x_shape), g_kernel, gy.sum(axis=(0, 1, 2))


def check_depthwise_shapes(x, kernel, bias):
    check_rank('depthwise_conv2d', 'x', x, 4, '(N, H, W, C)')
    check_rank('depthwise_conv2d', 'kernel', kernel, 4, '(kh, kw, in_channels, depth_multiplier)')
    if x.shape[3] != kernel.shape[2]:
        raise ValueError(f'depthwise_conv2d: x has {x.shape[3]} channels but the kernel expects '
                         f'{kernel.shape[2]} (x shape {x.shape}, kernel shape {kernel.shape})')
    check_bias('depthwise_conv2d', bias, kernel.shape[2] * kernel.shape[3])


def conv2d_transpose(x, kernel, bias=None, strides=1, padding='valid', output_padding=None,
                     dilation_rate=1):
    """The transposed convolution of NHWC x with kernel (kh, kw, filters, in_channels).

    padding: 'valid' or 'same'; output_padding: None (Keras's default size)
    or an int or pair, each below its stride. See the module docstring.
    """
    inputs = (x, kernel) if bias is None else (x, kernel, bias)
    return TransposedConvolution(strides, padding, output_padding, dilation_rate)(*inputs)


def depthwise_conv2d(x, kernel, bias=None, strides=1, padding='valid', dilation_rate=1):
    """Convolve each channel of NHWC x with its own kernel[:, :, c, :] (kh, kw, C, M)."""
    inputs = (x, kernel) if bias is None else (x, kernel, bias)
    return DepthwiseConvolution(strides, padding, dilation_rate)(*inputs)


def separable_conv2d(x, depthwise_kernel, pointwise_kernel, bias=None, strides=1,
                     padding='valid', dilation_rate=1):
    """depthwise_conv2d with depthwise_kernel (kh, kw, C, M), then a 1x1 conv2d
    with pointwise_kernel (1, 1, C*M, F) and bias (F,)."""
    depthwise = depthwise_conv2d(x, depthwise_kernel, None, strides, padding, dilation_rate)
    return conv2d(depthwise, pointwise_kernel, bias)
