"""Max and average pooling over NHWC images.

Both slide a (ph, pw) window with strides (sh, sw), default = the window:

    max:  y[n, i, j, c] = max_{p, q} x_pad[n, i*sh + p, j*sw + q, c]
          dx: each gy goes to the (first) arg-max of its window
    avg:  y[n, i, j, c] = mean over the window's pixels inside the image
          dx: each gy is shared equally among those pixels

With ``padding='same'`` max pooling pads with -inf and average pooling
leaves the padding out of the count, as Keras does. ``minicnn.tools.naive.pool2d``
and ``naive.max_pool2d_backward`` are the loop forms these must equal.
"""
from minicnn import kernels
from minicnn.arguments import positive_int_pair
from minicnn.autograd import Function
from minicnn.functional.geometry import check_rank, window_geometry


class _Pooling(Function):
    name = 'pool2d'

    def __init__(self, pool_size=2, strides=None, padding='valid'):
        self.window = positive_int_pair(self.name, 'pool_size', pool_size)
        self.strides = positive_int_pair(self.name, 'strides', strides) if strides is not None else self.window
        self.padding = padding

    def forward(self, x):
        check_rank(self.name, 'x', x, 4, '(N, H, W, C)')
        self.pad, _ = window_geometry(self.name, x.shape, self.window, self.strides, self.padding)
        self.x_shape = x.shape
        return self.pool(kernels.for_array(x), x)


class WindowMax(_Pooling):
    name = 'max_pool2d'

    def pool(self, k, x):
        y, self.argmax = k.max_pool(x, self.window, self.strides, self.pad)
        return y

    def backward(self, gy):
        k = kernels.for_array(gy)
        return (k.max_pool_backward(gy, self.argmax, self.x_shape, self.window, self.strides, self.pad),)


class WindowMean(_Pooling):
    name = 'avg_pool2d'

    def pool(self, k, x):
        return k.avg_pool(x, self.window, self.strides, self.pad)

    def backward(self, gy):
        k = kernels.for_array(gy)
        return (k.avg_pool_backward(gy, self.x_shape, self.window, self.strides, self.pad),)


def max_pool2d(x, pool_size=2, strides=None, padding='valid'):
    """Largest value of each window: (N, H, W, C) -> (N, OH, OW, C)."""
    return WindowMax(pool_size, strides, padding)(x)


def avg_pool2d(x, pool_size=2, strides=None, padding='valid'):
    """Mean of each window's in-image pixels: (N, H, W, C) -> (N, OH, OW, C)."""
    return WindowMean(pool_size, strides, padding)(x)
