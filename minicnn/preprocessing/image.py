"""Random image augmentation, vectorised over the batch (Keras' ImageDataGenerator).

Every augmentation here (rotation, zoom, shift, flip) moves pixels without
changing them, so one idea covers them all: for each pixel of the output,
compute where in the input it comes from, and copy that input pixel.

Coordinates are (row, column) with rows growing downwards; the centre of an
H x W image is ``c = ((H - 1) / 2, (W - 1) / 2)``. Output pixel ``p`` of
image n reads the input at

    src = c + Z R(-theta) (q - c - t)

    q = p, with the row index reversed if the image is flipped vertically
           (r -> H - 1 - r) and the column index if flipped horizontally
    t = (t_row, t_col)          shift in pixels; +1 moves the content down / right
    R(-theta) = [[ cos, sin],   undoes a rotation by theta degrees, which turns
                 [-sin, cos]]   the content counter-clockwise as displayed (Keras'
                                sense: theta = 90 gives np.rot90(x, 1, axes=(1, 2)))
    Z = diag(z_row, z_col)      zoom factors, input pixels per output pixel as in
                                Keras: z < 1 enlarges (zooms in), z > 1 shrinks

Read from right to left this is the forward picture: the input is zoomed and
rotated about its centre, then shifted, then flipped. The map is computed for
all N images at once as (N, H, W) arrays, which costs a few elementwise
operations per output pixel and no Python loop per image.

Sampling is nearest-neighbour: ``src`` is rounded (halves upwards), so an
integer shift, a flip or a rotation by a multiple of 90 degrees moves pixels
exactly. An index that falls outside the image is brought back by the fill
mode (shown for a row ``abcd``, with the image in the middle):

    'nearest'   aaaa|abcd|dddd
    'reflect'   dcba|abcd|dcba      (the edge pixel is repeated)
    'wrap'      abcd|abcd|abcd
    'constant'  kkkk|abcd|kkkk      (k = cval)

and then all images are gathered with one advanced index,
``x[n, rows, cols]``, on NumPy or CuPy alike.
"""
import numbers
from typing import NamedTuple

import numpy as np

from minicnn import backend

FILL_MODES = ('nearest', 'constant', 'reflect', 'wrap')


class Transform(NamedTuple):
    """The parameters of one transform per image, as in the module docstring.

    Each field is a scalar (the same for every image) or an array of shape
    (N,) on the images' device. The defaults leave an image unchanged.
    """
    theta: object = 0.0            # degrees, counter-clockwise
    shift_rows: object = 0.0       # pixels, positive moves the content down
    shift_cols: object = 0.0       # pixels, positive moves the content right
    zoom_rows: object = 1.0        # input pixels per output pixel, rows
    zoom_cols: object = 1.0        # input pixels per output pixel, columns
    flip_vertical: object = False
    flip_horizontal: object = False


def source_coordinates(transform, height, width, xp=np):
    """Where each output pixel reads the input: (rows, cols), float arrays
    broadcastable to (N, H, W), with ``src = c + Z R(-theta) (q - c - t)``."""
    p = Transform(*(xp.reshape(xp.asarray(v), (-1, 1, 1)) for v in transform))
    rows = xp.arange(height, dtype=xp.float64)[:, None]          # (H, 1)
    cols = xp.arange(width, dtype=xp.float64)[None, :]           # (1, W)
    rows = xp.where(p.flip_vertical, height - 1 - rows, rows)    # (N, H, 1)
    cols = xp.where(p.flip_horizontal, width - 1 - cols, cols)   # (N, 1, W)
    centre_row, centre_col = (height - 1) / 2, (width - 1) / 2
    u = rows - centre_row - p.shift_rows
    v = cols - centre_col - p.shift_cols
    theta = xp.deg2rad(p.theta)
    cos, sin = xp.cos(theta), xp.sin(theta)
    return (centre_row + p.zoom_rows * (cos * u + sin * v),
            centre_col + p.zoom_cols * (cos * v - sin * u))


def _clip(index, size):
    return index.clip(0, size - 1)


def _reflect(index, size):
    """Fold onto [0, size) by mirroring, the edge pixel repeated: period 2 * size."""
    xp = backend.get_array_module(index)
    phase = index % (2 * size)
    return xp.minimum(phase, 2 * size - 1 - phase)


def _wrap(index, size):
    return index % size


# How each fill mode brings an out-of-range index back into [0, size). For
# 'constant' any in-range index will do: those pixels are overwritten by cval.
_FOLD = {'nearest': _clip, 'constant': _clip, 'reflect': _reflect, 'wrap': _wrap}


def sample_nearest(x, rows, cols, fill_mode='nearest', cval=0.0):
    """Gather ``x[n, round(rows), round(cols)]`` for an NHWC batch x, with
    (N, H, W)-broadcastable source coordinates: -> float32 (N, H, W, C)."""
    xp = backend.get_array_module(x)
    n, height, width, _ = x.shape
    # floor(s + 0.5) rounds every half upwards; rint's round-half-to-even would
    # alternate, so a zoom would repeat some input pixels more than others.
    rows = xp.floor(rows + 0.5).astype(np.intp)
    cols = xp.floor(cols + 0.5).astype(np.intp)
    fold = _FOLD[fill_mode]
    images = xp.arange(n)[:, None, None]
    out = x[images, fold(rows, height), fold(cols, width)].astype(np.float32)
    if fill_mode != 'constant':
        return out
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    return xp.where(inside[..., None], out, np.float32(cval))


def _uniform(rng, low, high, n):
    """n draws from U[low, high); built on ``random`` because NumPy's and CuPy's
    generators share that method."""
    return low + (high - low) * rng.random(n)


def _generator(x, seed):
    """The random generator for x's device: the shared seedable one when seed is
    None, else a private one seeded with ``seed``."""
    if seed is None:
        return backend.rng(backend.device_of(x))
    return backend.get_array_module(x).random.default_rng(seed)


def _non_negative(name, value):
    if not (isinstance(value, numbers.Real) and value >= 0):
        raise ValueError(f'ImageDataGenerator: {name} must be a non-negative number, '
                         f'got {value!r}')
    return float(value)


def _zoom_interval(zoom_range):
    """[low, high] of the zoom factors: z -> [1 - z, 1 + z]; a pair is taken as is."""
    if isinstance(zoom_range, numbers.Real):
        pair = (1 - zoom_range, 1 + zoom_range)
    else:
        pair = tuple(zoom_range) if isinstance(zoom_range, (tuple, list)) else ()
    if not (len(pair) == 2 and all(isinstance(z, numbers.Real) for z in pair)
            and 0 < pair[0] <= pair[1]):
        raise ValueError('ImageDataGenerator: zoom_range must be a number in [0, 1) or a '
                         f'pair (low, high) with 0 < low <= high, got {zoom_range!r}')
    return float(pair[0]), float(pair[1])


def _shift_in_pixels(shift_range, size):
    """Keras' convention: below 1 a fraction of the image size, else pixels."""
    return shift_range * size if shift_range < 1 else shift_range


class ImageDataGenerator:
    """Random rotations, shifts, zooms and flips of NHWC image batches, then
    ``rescale``; ``flow`` serves augmented batches for training.

    rotation_range      degrees; theta ~ U[-r, r]
    width_shift_range   columns; t_col ~ U[-s, s] with s = range * W if range < 1,
                        else range pixels (and likewise height_shift_range, H)
    zoom_range          z_row, z_col ~ U[1 - z, 1 + z] independently, or U[low, high]
    horizontal_flip     reverse the columns of a random half of the images
    vertical_flip       reverse the rows of a random half of the images
    fill_mode, cval     what lies outside the input (see the module docstring)
    rescale             factor applied to the pixel values last (e.g. 1 / 255)
    """

    def __init__(self, rotation_range=0, width_shift_range=0.0, height_shift_range=0.0,
                 zoom_range=0.0, horizontal_flip=False, vertical_flip=False,
                 fill_mode='nearest', cval=0.0, rescale=None):
        self.rotation_range = _non_negative('rotation_range', rotation_range)
        self.width_shift_range = _non_negative('width_shift_range', width_shift_range)
        self.height_shift_range = _non_negative('height_shift_range', height_shift_range)
        self.zoom_range = _zoom_interval(zoom_range)
        self.horizontal_flip = bool(horizontal_flip)
        self.vertical_flip = bool(vertical_flip)
        if fill_mode not in FILL_MODES:
            raise ValueError(f'ImageDataGenerator: fill_mode must be one of {FILL_MODES}, '
                             f'got {fill_mode!r}')
        self.fill_mode = fill_mode
        if not isinstance(cval, numbers.Real):
            raise ValueError(f'ImageDataGenerator: cval must be a number, got {cval!r}')
        self.cval = float(cval)
        if rescale is not None and not isinstance(rescale, numbers.Real):
            raise ValueError('ImageDataGenerator: rescale must be None or a number, '
                             f'got {rescale!r}')
        self.rescale = rescale

    @property
    def augments(self):
        """Whether any pixel-moving augmentation is switched on."""
        return bool(self.rotation_range or self.width_shift_range or self.height_shift_range
                    or self.zoom_range != (1.0, 1.0)
                    or self.horizontal_flip or self.vertical_flip)

    def random_parameters(self, batch_shape, rng):
        """Draw one Transform per image of an (N, H, W, C) batch from generator rng."""
        n, height, width, _ = batch_shape
        max_rows = _shift_in_pixels(self.height_shift_range, height)
        max_cols = _shift_in_pixels(self.width_shift_range, width)
        return Transform(
            theta=_uniform(rng, -self.rotation_range, self.rotation_range, n),
            shift_rows=_uniform(rng, -max_rows, max_rows, n),
            shift_cols=_uniform(rng, -max_cols, max_cols, n),
            zoom_rows=_uniform(rng, *self.zoom_range, n),
            zoom_cols=_uniform(rng, *self.zoom_range, n),
            flip_vertical=(rng.random(n) < 0.5) & self.vertical_flip,
            flip_horizontal=(rng.random(n) < 0.5) & self.horizontal_flip)

    def apply_transform(self, x, transform):
        """Move the pixels of an NHWC batch by ``transform``: -> float32 (N, H, W, C)."""
        xp = backend.get_array_module(x)
        rows, cols = source_coordinates(transform, x.shape[1], x.shape[2], xp)
        return sample_nearest(x, rows, cols, self.fill_mode, self.cval)

    def augment(self, x, rng):
        """A random transform of each image of an NHWC batch: -> float32 (N, H, W, C)."""
        if not self.augments:
            return x.astype(np.float32)
        return self.apply_transform(x, self.random_parameters(x.shape, rng))

    def random_transform(self, x, seed=None):
        """A random transform of one (H, W, C) image (no rescale): -> float32 (H, W, C)."""
        if getattr(x, 'ndim', None) != 3:
            raise ValueError('random_transform: x must have rank 3 (height, width, '
                             f'channels), got shape {getattr(x, "shape", None)}')
        return self.augment(x[None], _generator(x, seed))[0]

    def standardize(self, x):
        """x as float32, times ``rescale`` when one is set; x is never changed in place."""
        x = x.astype(np.float32, copy=False)
        return x if self.rescale is None else x * np.float32(self.rescale)

    def flow(self, x, y=None, batch_size=32, shuffle=True, seed=None):
        """An endless iterator of augmented, standardized batches of x (and y).

        x is an (N, H, W, C) array (uint8 or float), y an optional array of N
        labels; both are copied to the active device first. See ArrayIterator.
        """
        if getattr(x, 'ndim', None) != 4 or len(x) == 0:
            raise ValueError('flow: x must be a non-empty array of rank 4 (images, height, '
                             f'width, channels), got shape {getattr(x, "shape", None)}')
        if y is not None and len(y) != len(x):
            raise ValueError('flow: x and y must hold as many samples, got len(x) = '
                             f'{len(x)} and len(y) = {len(y)}')
        if not (isinstance(batch_size, numbers.Integral) and batch_size > 0):
            raise ValueError(f'flow: batch_size must be a positive int, got {batch_size!r}')
        if not (seed is None or isinstance(seed, numbers.Integral) and seed >= 0):
            raise ValueError(f'flow: seed must be None or a non-negative int, got {seed!r}')
        # The data moves once to the active device, so that augmentation runs
        # where the model does (a no-op for NumPy arrays on the CPU).
        x = backend.to_device(x)
        y = None if y is None else backend.to_device(y)
        return ArrayIterator(self, x, y, batch_size, shuffle, _generator(x, seed))


class ArrayIterator:
    """Batches of ``standardize(augment(x[batch]))``, without end
    (Keras' NumpyArrayIterator); made by ``ImageDataGenerator.flow``.

    An epoch is ``len(self)`` = ceil(N / batch_size) batches that cover every
    sample once, the last one smaller when batch_size does not divide N. With
    shuffle the order is drawn afresh at the start of every epoch.
    """

    def __init__(self, image_data_generator, x, y, batch_size, shuffle, rng):
        self.image_data_generator, self.x, self.y = image_data_generator, x, y
        self.batch_size, self.shuffle, self.rng = batch_size, shuffle, rng
        self._order = None          # sample indices of the current epoch
        self._position = 0          # where the next batch starts in _order

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __iter__(self):
        return self

    def _new_epoch(self):
        xp = backend.get_array_module(self.x)
        n = len(self.x)
        # The argsort of uniform draws is a uniform random permutation; CuPy's
        # Generator has no permutation method.
        self._order = xp.argsort(self.rng.random(n)) if self.shuffle else xp.arange(n)
        self._position = 0

    def __next__(self):
        if self._order is None or self._position >= len(self._order):
            self._new_epoch()
        batch = self._order[self._position:self._position + self.batch_size]
        self._position += self.batch_size
        augmenter = self.image_data_generator
        x = augmenter.standardize(augmenter.augment(self.x[batch], self.rng))
        return x if self.y is None else (x, self.y[batch])
