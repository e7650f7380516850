"""2-D convolution by im2col and matrix multiplies.

Shapes (Keras layout): ``x`` (N, H, W, C) images, ``kernel`` (kh, kw, C, F)
in HWIO order, ``bias`` (F,), output ``y`` (N, OH, OW, F) with

    y[n, i, j, f] = b[f] + sum_{p, q, c} x_pad[n, i*sh + p, j*sw + q, c] * K[p, q, c, f]

which ``minicnn.naive.conv2d`` computes with seven nested loops. im2col
copies every window into a row, ``cols`` (N*OH*OW, kh*kw*C), so the sum
becomes one matrix product ``cols @ K.reshape(kh*kw*C, F)``. Backward, with
``gy`` reshaped to (N*OH*OW, F):

    dK = cols.T @ gy         db = sum of gy over rows
    dcols = gy @ K.T         dx = col2im(dcols): each window's gradient added back

``Im2colConvolution`` is exactly that, in a few lines. ``ChunkedConvolution``,
the fast version that ``conv2d`` runs, computes the same thing a few images
at a time (``kernels.batch_parts``): on a CPU each slice's ``cols`` then
stays in cache between im2col and the matrix product, and backward unfolds
``x`` again rather than keeping the whole ``cols``, which is kh*kw times the
size of ``x`` (133 MB for the second layer of the seed-004 network), at the
cost of one more im2col. The tests check the two against each other and
against the loops.
"""
from minicnn import kernels
from minicnn.autograd import Function
from minicnn.backend import get_array_module
from minicnn.functional.geometry import check_rank, pair, window_geometry


class Im2colConvolution(Function):
    """The plain convolution: unfold the whole batch, one product forward, two back."""

    def __init__(self, strides=1, padding='valid'):
        self.strides = pair(strides, 'conv2d: strides')
        self.padding = padding

    def forward(self, x, kernel, bias=None):
        check_shapes(x, kernel, bias)
        kh, kw, c, f = kernel.shape
        self.pad, out_hw = window_geometry('conv2d', x.shape, (kh, kw), self.strides, self.padding)
        self.x_shape, self.kernel = x.shape, kernel
        self.cols = kernels.for_array(x).im2col(x, (kh, kw), self.strides, self.pad)
        y = self.cols.reshape(-1, kh * kw * c) @ kernel.reshape(-1, f)     # (N*OH*OW, F)
        y = y.reshape(x.shape[0], *out_hw, f)
        return y if bias is None else y + bias

    def backward(self, gy):
        kh, kw, c, f = self.kernel.shape
        g = gy.reshape(-1, f)                                               # (N*OH*OW, F)
        g_kernel = self.cols.reshape(-1, kh * kw * c).T @ g                 # (kh*kw*C, F)
        g_cols = (g @ self.kernel.reshape(-1, f).T).reshape(self.cols.shape)
        gx = kernels.for_array(gy).col2im(g_cols, self.x_shape, (kh, kw), self.strides, self.pad)
        return gx, g_kernel.reshape(self.kernel.shape), g.sum(axis=0)


class ChunkedConvolution(Im2colConvolution):
    """The fast version: the same products, over cache-sized slices of the batch."""

    def forward(self, x, kernel, bias=None):
        check_shapes(x, kernel, bias)
        xp = get_array_module(x)
        kh, kw, c, f = kernel.shape
        self.pad, self.out_hw = window_geometry('conv2d', x.shape, (kh, kw), self.strides,
                                                self.padding)
        self.x, self.kernel = x, kernel
        y = xp.empty((x.shape[0], *self.out_hw, f), dtype=xp.result_type(x, kernel))
        for part in self._parts():
            y[part] = (self._unfold(self.x[part]) @ kernel.reshape(-1, f)).reshape(y[part].shape)
        if bias is not None:
            y += bias
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        kh, kw, c, f = self.kernel.shape
        g_kernel = xp.zeros((kh * kw * c, f), dtype=gy.dtype)
        gx = xp.empty(self.x.shape, dtype=gy.dtype) if self.needs_grad[0] else None
        for part in self._parts():
            cols = self._unfold(self.x[part])
            g = gy[part].reshape(-1, f)
            g_kernel += cols.T @ g
            if gx is not None:  # the first layer's images need no gradient
                g_cols = (g @ self.kernel.reshape(-1, f).T).reshape(*gy[part].shape[:3], kh, kw, c)
                gx[part] = kernels.for_array(gy).col2im(g_cols, gx[part].shape, (kh, kw),
                                                        self.strides, self.pad)
        return gx, g_kernel.reshape(self.kernel.shape), gy.sum(axis=(0, 1, 2))

    def _parts(self):
        """Slices of the batch, each unfolded into a few MB of ``cols``."""
        kh, kw, c, _ = self.kernel.shape
        cols_per_image = self.out_hw[0] * self.out_hw[1] * kh * kw * c * self.x.itemsize
        return kernels.batch_parts(self.x, cols_per_image)

    def _unfold(self, x):
        """im2col of x: (B, H, W, C) -> (B*OH*OW, kh*kw*C)."""
        kh, kw, c, _ = self.kernel.shape
        cols = kernels.for_array(x).im2col(x, (kh, kw), self.strides, self.pad)
        return cols.reshape(-1, kh * kw * c)


def check_shapes(x, kernel, bias):
    check_rank('conv2d', 'x', x, 4, '(N, H, W, C)')
    check_rank('conv2d', 'kernel', kernel, 4, '(kh, kw, in_channels, out_channels)')
    if x.shape[3] != kernel.shape[2]:
        raise ValueError(f'conv2d: x has {x.shape[3]} channels but the kernel expects '
                         f'{kernel.shape[2]} (x shape {x.shape}, kernel shape {kernel.shape})')
    if bias is not None and bias.shape != (kernel.shape[3],):
        raise ValueError(f'conv2d: bias must have shape ({kernel.shape[3]},), got {bias.shape}')


def conv2d(x, kernel, bias=None, strides=1, padding='valid', method=ChunkedConvolution):
    """Convolve NHWC images x with an HWIO kernel; see the module docstring.

    padding: 'valid' (none), 'same' (output ceil(H / stride), extra pixel at
    the bottom/right as in Keras) or an int or pair of ints (symmetric zeros).
    method: the Function that computes it, ``ChunkedConvolution`` (fast) or
    ``Im2colConvolution`` (plain); both equal ``minicnn.naive.conv2d``.
    """
    inputs = (x, kernel) if bias is None else (x, kernel, bias)
    return method(strides, padding)(*inputs)
