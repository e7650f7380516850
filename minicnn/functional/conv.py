"""2-D convolution by im2col and one matrix multiply.

Shapes (Keras layout): ``x`` (N, H, W, C) images, ``kernel`` (kh, kw, C, F)
in HWIO order, ``bias`` (F,), output ``y`` (N, OH, OW, F) with

    y[n, i, j, f] = b[f] + sum_{p, q, c} x_pad[n, i*sh + p, j*sw + q, c] * K[p, q, c, f]

im2col copies every window into a row, ``cols`` (N*OH*OW, kh*kw*C), so the
sum becomes ``cols @ K.reshape(kh*kw*C, F)``. Backward, with ``gy`` reshaped
to (N*OH*OW, F):

    dK = cols.T @ gy         db = sum of gy over rows
    dcols = gy @ K.T         dx = col2im(dcols): each window's gradient added back
"""
from minicnn import kernels
from minicnn.autograd import Function
from minicnn.functional.geometry import check_rank, pair, window_geometry


class Conv2d(Function):
    def __init__(self, strides=1, padding='valid'):
        self.strides = pair(strides, 'conv2d: strides')
        self.padding = padding

    def forward(self, x, kernel, bias=None):
        self._check_shapes(x, kernel, bias)
        kh, kw, c, f = kernel.shape
        self.pad, _ = window_geometry('conv2d', x.shape, (kh, kw), self.strides, self.padding)
        self.x_shape, self.kernel = x.shape, kernel
        cols = kernels.for_array(x).im2col(x, (kh, kw), self.strides, self.pad)
        self.out_shape = cols.shape[:3] + (f,)
        self.cols = cols.reshape(-1, kh * kw * c)
        y = self.cols @ kernel.reshape(-1, f)
        if bias is not None:
            y += bias
        return y.reshape(self.out_shape)

    def backward(self, gy):
        kh, kw, c, f = self.kernel.shape
        gy = gy.reshape(-1, f)
        g_kernel = (self.cols.T @ gy).reshape(self.kernel.shape)
        gx = None
        if self.needs_grad[0]:  # the first layer's images need no gradient
            g_cols = (gy @ self.kernel.reshape(-1, f).T).reshape(self.out_shape[:3] + (kh, kw, c))
            gx = kernels.for_array(gy).col2im(g_cols, self.x_shape, (kh, kw), self.strides, self.pad)
        return gx, g_kernel, gy.sum(axis=0)

    @staticmethod
    def _check_shapes(x, kernel, bias):
        check_rank('conv2d', 'x', x, 4, '(N, H, W, C)')
        check_rank('conv2d', 'kernel', kernel, 4, '(kh, kw, in_channels, out_channels)')
        if x.shape[3] != kernel.shape[2]:
            raise ValueError(f'conv2d: x has {x.shape[3]} channels but the kernel expects '
                             f'{kernel.shape[2]} (x shape {x.shape}, kernel shape {kernel.shape})')
        if bias is not None and bias.shape != (kernel.shape[3],):
            raise ValueError(f'conv2d: bias must have shape ({kernel.shape[3]},), got {bias.shape}')


def conv2d(x, kernel, bias=None, strides=1, padding='valid'):
    """Convolve NHWC images x with an HWIO kernel; see the module docstring.

    padding: 'valid' (none), 'same' (output ceil(H / stride), extra pixel at
    the bottom/right as in Keras) or an int or pair of ints (symmetric zeros).
    """
    inputs = (x, kernel) if bias is None else (x, kernel, bias)
    return Conv2d(strides, padding)(*inputs)
