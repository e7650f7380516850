"""Functions that move pixels without learning anything: zero padding,
cropping, upsampling and repeating, each with its backward.

    zero_pad2d  (N, H, W, C) -> (N, top + H + bottom, left + W + right, C)
                y = x inside a border of zeros;        dx = gy cropped to the inside
    crop2d      (N, H, W, C) -> (N, H - top - bottom, W - left - right, C)
                y = x without its border;              dx = gy inside a border of zeros

Padding and cropping are each other's adjoint, so each one's backward is the other.

    upsample2d  (N, H, W, C) -> (N, H * sh, W * sw, C)

Resizing is linear and separable: one matrix A_h (OH, H) mixes the rows,
another A_w (OW, W) the columns, for every image and channel alike:

    y[n, :, :, c] = A_h @ x[n, :, :, c] @ A_w.T     dx[n, :, :, c] = A_h.T @ gy[n, :, :, c] @ A_w

The backward is the adjoint: the same products with the matrices transposed.
The interpolation only chooses A, with TensorFlow's half-pixel centres
(``tf.image.resize``, which Keras's UpSampling2D calls): output pixel o of an
axis sits at the input coordinate  s = (o + 0.5) * in_size / out_size - 0.5

    nearest   A[o, floor(s + 0.5)] = 1          for integer factors: o // factor
    bilinear  A[o, floor(s)] = 1 - t,  A[o, floor(s) + 1] = t,   t = s - floor(s),
              indices clamped to [0, in_size - 1] (the edge pixels repeat)

    repeat_vector  (N, F) -> (N, n, F), y[:, k] = x;   dx = sum over k of gy[:, k]
"""
import numpy as np

from minicnn.arguments import is_int, positive_int_pair
from minicnn.autograd import Function
from minicnn.devices import get_array_module
from minicnn.functional.geometry import check_rank


def border(value, name):
    """Keras's padding or cropping argument as ((top, bottom), (left, right)):
    an int (all four), a pair (symmetric rows, symmetric columns) or two pairs."""
    rows_and_cols = (value, value) if is_int(value) else value
    try:
        amounts = tuple((v, v) if is_int(v) else tuple(v) for v in rows_and_cols)
    except TypeError:  # not a sequence
        amounts = ()
    if len(amounts) != 2 or not all(len(side) == 2 and all(is_int(v) and v >= 0
                                                           for v in side) for side in amounts):
        raise ValueError(f'{name} must be a non-negative int, a pair of them or two pairs '
                         f'((top, bottom), (left, right)), got {value!r}')
    return tuple((int(before), int(after)) for before, after in amounts)


def _pad(x, rows, cols):
    (top, bottom), (left, right) = rows, cols
    n, h, w, c = x.shape
    y = get_array_module(x).zeros((n, top + h + bottom, left + w + right, c), dtype=x.dtype)
    y[:, top:top + h, left:left + w] = x
    return y


def _crop(x, rows, cols):
    (top, bottom), (left, right) = rows, cols
    _, h, w, _ = x.shape
    return x[:, top:h - bottom, left:w - right].copy()


class ZeroPad(Function):
    def __init__(self, padding):
        self.rows, self.cols = border(padding, 'zero_pad2d: padding')

    def forward(self, x):
        check_rank('zero_pad2d', 'x', x, 4, '(N, H, W, C)')
        return _pad(x, self.rows, self.cols)

    def backward(self, gy):
        return (_crop(gy, self.rows, self.cols),)


class Crop(Function):
    def __init__(self, cropping):
        self.rows, self.cols = border(cropping, 'crop2d: cropping')

    def forward(self, x):
        check_rank('crop2d', 'x', x, 4, '(N, H, W, C)')
        (top, bottom), (left, right) = self.rows, self.cols
        if top + bottom >= x.shape[1] or left + right >= x.shape[2]:
            raise ValueError(f'crop2d: cropping {(self.rows, self.cols)} leaves nothing of '
                             f'images of shape {x.shape}')
        return _crop(x, self.rows, self.cols)

    def backward(self, gy):
        return (_pad(gy, self.rows, self.cols),)


def interpolation_matrix(in_size, out_size, interpolation):
    """A (out_size, in_size): row o holds the weights of output pixel o (see above)."""
    s = (np.arange(out_size) + 0.5) * (in_size / out_size) - 0.5
    a = np.zeros((out_size, in_size))
    rows = np.arange(out_size)
    if interpolation == 'nearest':
        a[rows, np.clip(np.floor(s + 0.5).astype(int), 0, in_size - 1)] = 1
        return a
    below = np.floor(s)
    t = s - below
    # add.at, so that both weights add up where the clamp sends them to one pixel
    np.add.at(a, (rows, np.clip(below.astype(int), 0, in_size - 1)), 1 - t)
    np.add.at(a, (rows, np.clip(below.astype(int) + 1, 0, in_size - 1)), t)
    return a


INTERPOLATIONS = ('nearest', 'bilinear')


def check_interpolation(where, interpolation):
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f'{where}: interpolation must be one of {INTERPOLATIONS}, '
                         f'got {interpolation!r}')


def _resize(x, a_rows, a_cols):
    """a_rows @ image @ a_cols.T for every image and channel of x (N, H, W, C)."""
    n, h, w, c = x.shape
    rows_mixed = (a_rows @ x.reshape(n, h, w * c)).reshape(n * a_rows.shape[0], w, c)
    return (a_cols @ rows_mixed).reshape(n, a_rows.shape[0], a_cols.shape[0], c)


class Resize(Function):
    def __init__(self, size, interpolation):
        self.size = positive_int_pair('upsample2d', 'size', size)
        check_interpolation('upsample2d', interpolation)
        self.interpolation = interpolation

    def forward(self, x):
        check_rank('upsample2d', 'x', x, 4, '(N, H, W, C)')
        xp = get_array_module(x)
        self.a_rows, self.a_cols = (
            xp.asarray(interpolation_matrix(n, n * factor, self.interpolation), dtype=x.dtype)
            for n, factor in zip(x.shape[1:3], self.size))
        return _resize(x, self.a_rows, self.a_cols)

    def backward(self, gy):
        return (_resize(gy, self.a_rows.T, self.a_cols.T),)


class RepeatRows(Function):
    def __init__(self, n):
        self.n = n

    def forward(self, x):
        check_rank('repeat_vector', 'x', x, 2, '(N, features)')
        return get_array_module(x).repeat(x[:, None, :], self.n, axis=1)

    def backward(self, gy):
        return (gy.sum(axis=1),)


def zero_pad2d(x, padding=(1, 1)):
    """Surround each image with zeros: (N, H, W, C) -> (N, top + H + bottom, left + W + right, C)."""
    return ZeroPad(padding)(x)


def crop2d(x, cropping=((0, 0), (0, 0))):
    """Cut a border off each image: (N, H, W, C) -> (N, H - top - bottom, W - left - right, C)."""
    return Crop(cropping)(x)


def upsample2d(x, size=(2, 2), interpolation='nearest'):
    """Enlarge each image by integer factors: (N, H, W, C) -> (N, H * sh, W * sw, C)."""
    return Resize(size, interpolation)(x)


def repeat_vector(x, n):
    """Repeat each row n times: (N, F) -> (N, n, F)."""
    return RepeatRows(n)(x)
