"""Moving pixels: the geometry of an augmented image (ImageDataGenerator's
transforms), one map for all of rotation, shift, shear, zoom and flips.

Rotation, shift, shear, zoom and flips all move pixels without changing
them, so one idea covers them all: for each pixel of the output, compute
where in the input it comes from, and read the input there.

Coordinates are (row, column) with rows growing downwards; the centre of an
H x W image is ``c = ((H - 1) / 2, (W - 1) / 2)``. Output pixel ``p`` of
image n reads the input at

    src = c + R(-theta) (S Z (q - c) - t)

    q = p, with the row index reversed if the image is flipped vertically
           (r -> H - 1 - r) and the column index if flipped horizontally
    Z = diag(z_row, z_col)      zoom factors, input pixels per output pixel as in
                                Keras: z < 1 enlarges (zooms in), z > 1 shrinks
    S = [[ cos(s), 0],          shear by s degrees: column lines lean over, a
         [-sin(s), 1]]          vertical line turning counter-clockwise as displayed
                                (Keras' [[1, -sin s], [0, cos s]], written there for
                                (x, y) = (column, row))
    t = (t_row, t_col)          shift in input pixels; +1 moves the content down /
                                right when there is no zoom, shear or rotation
    R(-theta) = [[ cos, sin],   undoes a rotation by theta degrees, which turns
                 [-sin, cos]]   the content counter-clockwise as displayed (Keras'
                                sense: theta = 90 gives np.rot90(x, 1, axes=(1, 2)))

This is Keras' ``apply_affine_transform``: its matrix R T S Z applied about the
centre, with T the shift. The map is computed for all N images at once as
(N, H, W) arrays: a few elementwise operations per output pixel and no Python
loop per image.

Sampling (``interpolation_order``) reads the input at ``src``, which is rarely
a whole pixel:

    1  bilinear (the default, as in Keras): with r0 = floor(src_row),
       a = src_row - r0 and likewise c0, b for the column,
           out = (1-a)(1-b) x[r0, c0] + (1-a) b x[r0, c0+1]
                 + a (1-b) x[r0+1, c0] + a b x[r0+1, c0+1],
       four gathers and their weights for the whole batch;
    0  nearest: x at src rounded (halves upwards).

Both read whole pixels exactly when ``src`` is whole (within 1e-6, as
cos(90 degrees) is 6e-17 in floating point), so the identity, an integer
shift, a flip or a rotation by a multiple of 90 degrees moves pixels without
changing them. A neighbour index outside the image is brought back
by the fill mode (shown for a row ``abcd``, with the image in the middle):

    'nearest'   aaaa|abcd|dddd
    'reflect'   dcba|abcd|dcba      (the edge pixel is repeated)
    'wrap'      abcd|abcd|abcd
    'constant'  kkkk|abcd|kkkk      (k = cval)

As in SciPy's ``ndimage.affine_transform``, which Keras calls, 'constant' gives
cval wherever src lies outside [0, H - 1] x [0, W - 1], and interpolates only
between pixels of the image. All images are gathered with one advanced index,
``x[n, rows, cols]``, on NumPy or CuPy alike.
"""
from typing import NamedTuple

import numpy as np

from minicnn import devices

FILL_MODES = ('nearest', 'constant', 'reflect', 'wrap')
INTERPOLATION_ORDERS = (0, 1)        # nearest, bilinear

# cos(90 degrees) is 6e-17, not 0, so a rotation by 90 degrees reads a hair
# away from whole pixels; coordinates this close to a whole pixel are taken
# as that pixel, which keeps such rotations exact.
SNAP_TOLERANCE = 1e-6


class Transform(NamedTuple):
    """The parameters of one transform per image, as in the module docstring.

    Each field is a scalar (the same for every image) or an array of shape
    (N,) on the images' device. The defaults leave an image unchanged;
    ``channel_shift`` and ``brightness`` are off when None.
    """
    theta: object = 0.0            # degrees, counter-clockwise
    shift_rows: object = 0.0       # pixels, positive moves the content down
    shift_cols: object = 0.0       # pixels, positive moves the content right
    shear: object = 0.0            # degrees, counter-clockwise
    zoom_rows: object = 1.0        # input pixels per output pixel, rows
    zoom_cols: object = 1.0        # input pixels per output pixel, columns
    flip_horizontal: object = False
    flip_vertical: object = False
    channel_shift: object = None   # intensity added to every pixel value
    brightness: object = None      # brightness factor, 1 leaves the image as is


# The fields of a Transform that move pixels (the rest change their values).
GEOMETRY = ('theta', 'shift_rows', 'shift_cols', 'shear', 'zoom_rows', 'zoom_cols',
            'flip_horizontal', 'flip_vertical')


# --- where each output pixel comes from --------------------------------------

def _per_image(value, xp, dtype=None):
    """A Transform field as an (N, 1, 1) (or (1, 1, 1)) array, to broadcast over (N, H, W)."""
    return xp.reshape(xp.asarray(value, dtype=dtype), (-1, 1, 1))


def source_coordinates(transform, height, width, xp=np):
    """Where each output pixel reads the input: (rows, cols), float64 arrays
    broadcastable to (N, H, W), with ``src = c + R(-theta) (S Z (q - c) - t)``."""
    p = {name: _per_image(getattr(transform, name), xp, np.float64) for name in GEOMETRY[:6]}
    rows = xp.arange(height, dtype=np.float64)[:, None]                          # (H, 1)
    cols = xp.arange(width, dtype=np.float64)[None, :]                           # (1, W)
    rows = xp.where(_per_image(transform.flip_vertical, xp), height - 1 - rows, rows)
    cols = xp.where(_per_image(transform.flip_horizontal, xp), width - 1 - cols, cols)
    centre_row, centre_col = (height - 1) / 2, (width - 1) / 2
    # Right to left through the formula: about the centre, zoom, shear, shift, rotate.
    u, v = p['zoom_rows'] * (rows - centre_row), p['zoom_cols'] * (cols - centre_col)
    shear = xp.deg2rad(p['shear'])
    u, v = xp.cos(shear) * u, v - xp.sin(shear) * u
    u, v = u - p['shift_rows'], v - p['shift_cols']
    theta = xp.deg2rad(p['theta'])
    cos, sin = xp.cos(theta), xp.sin(theta)
    return centre_row + cos * u + sin * v, centre_col - sin * u + cos * v


def moves_pixels(transform):
    """Whether any geometric field differs from the identity (an array always may)."""
    identity = Transform()
    return any(hasattr(getattr(transform, name), 'shape')
               or getattr(transform, name) != getattr(identity, name) for name in GEOMETRY)


# --- reading the input at the source coordinates ----------------------------

def _clip(index, size):
    return index.clip(0, size - 1)


def _reflect(index, size):
    """Fold onto [0, size) by mirroring, the edge pixel repeated: period 2 * size."""
    xp = devices.get_array_module(index)
    phase = index % (2 * size)
    return xp.minimum(phase, 2 * size - 1 - phase)


def _wrap(index, size):
    return index % size


# How each fill mode brings an out-of-range index back into [0, size). For
# 'constant' any in-range index will do: those pixels are overwritten by cval.
_FOLD = {'nearest': _clip, 'constant': _clip, 'reflect': _reflect, 'wrap': _wrap}


def _nearest(x, rows, cols, fold, dtype):
    """``x[n, round(rows), round(cols)]``, the indices folded: -> (N, H, W, C)."""
    xp = devices.get_array_module(x)
    _, height, width, _ = x.shape
    # floor(s + 0.5) rounds every half upwards, as SciPy's order 0 does; rint's
    # round-half-to-even would repeat some input pixels of a zoom more than others.
    rows = xp.floor(rows + 0.5).astype(np.intp)
    cols = xp.floor(cols + 0.5).astype(np.intp)
    images = xp.arange(len(x))[:, None, None]
    return x[images, fold(rows, height), fold(cols, width)].astype(dtype)


def _lerp(a, b, weight):
    """a + weight (b - a): a at weight 0 exactly, so whole coordinates read exactly."""
    return a + weight * (b - a)


def _bilinear(x, rows, cols, fold, dtype):
    """Bilinear interpolation of the NHWC batch x at (rows, cols): -> (N, H, W, C).

    With r0 = floor(rows) and a = rows - r0 (likewise c0, b), interpolate
    along the columns in rows r0 and r0 + 1, then between those two rows.
    """
    xp = devices.get_array_module(x)
    _, height, width, _ = x.shape
    row0, col0 = xp.floor(rows), xp.floor(cols)
    a = (rows - row0).astype(dtype)[..., None]             # (N, H, W or 1, 1)
    b = (cols - col0).astype(dtype)[..., None]
    row0, col0 = row0.astype(np.intp), col0.astype(np.intp)
    top, bottom = fold(row0, height), fold(row0 + 1, height)
    left, right = fold(col0, width), fold(col0 + 1, width)
    images = xp.arange(len(x))[:, None, None]

    def at(r, c):
        return x[images, r, c].astype(dtype)
    return _lerp(_lerp(at(top, left), at(top, right), b),
                 _lerp(at(bottom, left), at(bottom, right), b), a)


def _snap(coordinates):
    """Coordinates within SNAP_TOLERANCE of a whole pixel, moved onto it."""
    xp = devices.get_array_module(coordinates)
    whole = xp.rint(coordinates)
    return xp.where(xp.abs(coordinates - whole) < SNAP_TOLERANCE, whole, coordinates)


def sample(x, rows, cols, fill_mode='nearest', cval=0.0, order=1, dtype=np.float32):
    """Read the NHWC batch x at the (N, H, W)-broadcastable source coordinates
    (rows, cols), by interpolation ``order`` 1 (bilinear) or 0 (nearest), with
    ``fill_mode`` outside the image: -> (N, H, W, C) of ``dtype``."""
    xp = devices.get_array_module(x)
    rows, cols = _snap(rows), _snap(cols)
    read = _bilinear if order == 1 else _nearest
    out = read(x, rows, cols, _FOLD[fill_mode], dtype)
    if fill_mode != 'constant':
        return out
    height, width = x.shape[1:3]
    inside = (rows >= 0) & (rows <= height - 1) & (cols >= 0) & (cols <= width - 1)
    return xp.where(inside[..., None], out, out.dtype.type(cval))
