"""Random image augmentation, vectorised over the batch (Keras' ImageDataGenerator).

An augmented batch is made in three steps, in Keras' order:

1. move the pixels: rotation, shift, shear, zoom and flips (``transform_batch``);
2. change the pixel values: channel shift, then brightness;
3. ``standardize``: preprocessing_function, rescale, samplewise and featurewise
   centring and scaling, ZCA whitening.

Moving pixels (the geometry: the source coordinates of each output pixel, the
sampling there and the fill modes) is minicnn/preprocessing/geometry.py.

Changing pixel values
---------------------
channel shift       x + i clipped to the image's own [min, max], the same i for
                    every channel (Keras' ``apply_channel_shift``)
brightness          Keras' ``apply_brightness_shift``, which goes through an 8-bit
                    PIL image: an image with values outside [0, 255] is first
                    stretched onto [0, 255] by its min and max; the values are
                    cut to integers (floor), multiplied by the factor f in float32,
                    cut to integers again and clipped to [0, 255]; a stretched
                    image is stretched back. A 4th (alpha) channel is kept as is.
                    Images in [0, 1] therefore come out black, as in Keras: rescale
                    after augmenting (``rescale=1/255``), not before.

Where minicnn differs from Keras
--------------------------------
- Images are NHWC only (data_format None or 'channels_last').
- interpolation_order is 0 or 1 (Keras passes any spline order to SciPy).
- 'wrap' has period H (W), as Keras' docs draw it; SciPy's 'wrap', which Keras
  uses, repeats with period H - 1 (its first and last pixels overlap; seen in
  SciPy 1.17), so that there an integer shift is not np.roll.
- tx and zx act on rows, ty and zy on columns, and height_shift_range moves the
  content vertically, as documented; Keras >= 2.9 applies tx and zx to the
  columns, so its height_shift_range moves images sideways (keras#17398).
- The centre of a non-square image is ((H - 1) / 2, (W - 1) / 2); Keras >= 2.9
  swaps the two, so it rotates, shears and zooms non-square images about
  another point.
- Random draws come from minicnn's generators (``seed=`` or
  ``devices.set_seed``), not from np.random.
"""
import functools
import math
import numbers
import warnings

import numpy as np

from minicnn import devices, missing
from minicnn.arguments import (argument_error, check_flag, check_seed, is_finite_number,
                               keywords_checked)
from minicnn.preprocessing.directory import SUBSETS, DirectoryIterator, ImageSaver
from minicnn.preprocessing.geometry import (FILL_MODES, INTERPOLATION_ORDERS, Transform,
                                            moves_pixels, sample, source_coordinates)
from minicnn.preprocessing.image_files import array_to_img, img_to_array, load_img, save_img  # noqa: F401,E501 (Keras's names)

# Keras' small constant in the samplewise and featurewise std normalisation.
STD_EPSILON = 1e-6


# Keras' transform_parameters keys, and the default each takes when left out.
KERAS_DEFAULTS = {'theta': 0.0, 'tx': 0.0, 'ty': 0.0, 'shear': 0.0, 'zx': 1.0, 'zy': 1.0,
                  'flip_horizontal': False, 'flip_vertical': False,
                  'channel_shift_intensity': None, 'brightness': None}


# --- changing pixel values ------------------------------------------------------

def _image_extremes(x):
    """Each image's smallest and largest value, as (N, 1, 1, 1) arrays."""
    return x.min(axis=(1, 2, 3), keepdims=True), x.max(axis=(1, 2, 3), keepdims=True)


def _per_batch(value, x):
    """A scalar or (N,) parameter as an (N or 1, 1, 1, 1) array of x's dtype."""
    xp = devices.get_array_module(x)
    return xp.reshape(xp.asarray(value, dtype=x.dtype), (-1, 1, 1, 1))


def channel_shift(x, intensity):
    """Keras' apply_channel_shift for each image of an NHWC float batch:
    ``clip(x + intensity, min(x), max(x))`` with one min and max per image
    and a scalar or (N,) intensity: -> (N, H, W, C)."""
    xp = devices.get_array_module(x)
    low, high = _image_extremes(x)
    return xp.minimum(xp.maximum(x + _per_batch(intensity, x), low), high)


def brightness_shift(x, factor):
    """Keras' apply_brightness_shift(image, factor, scale=False) for each image
    of an NHWC float batch, with a scalar or (N,) factor: -> (N, H, W, C).

    Keras makes an 8-bit PIL image and blends it with black (PIL's
    ImageEnhance.Brightness). With m, M the image's min and max:

        stretched = 255 (x - m) / (M - m)  if m < 0 or M > 255,  else x
        levels    = floor(stretched)              8-bit pixels truncate
        out       = clip(floor(f levels), 0, 255) the blend, in float32
        result    = m + out (M - m) / 255  if stretched,  else out

    The 4th channel of a 4-channel image is alpha, which PIL leaves alone.
    """
    xp = devices.get_array_module(x)
    channels = x.shape[-1]
    if channels not in (1, 3, 4):
        raise ValueError('brightness_range: Keras shifts brightness through a PIL image, '
                         f'which needs 1, 3 or 4 channels, got {channels}')
    low, high = _image_extremes(x)
    if bool(((low >= 0) & (high > 0) & (high <= 1)).any()):
        warnings.warn('brightness_range: some images lie in [0, 1], and the brightness '
                      'shift rounds pixel values down to integers 0..255 as Keras does, '
                      'so they come out black; rescale after augmenting instead '
                      '(ImageDataGenerator(rescale=1/255) does)')
    stretch = (low < 0) | (high > 255)
    span = high - low
    levels = xp.floor(xp.where(stretch, (x - low) / xp.where(span != 0, span, 1) * 255, x))
    out = xp.clip(xp.floor(_per_batch(factor, x) * levels), 0, 255)
    if channels == 4:
        out[..., 3] = levels[..., 3]
    return xp.where(stretch, out / 255 * span + low, out)


# --- random draws ----------------------------------------------------------------

def _uniform(rng, low, high, n):
    """n draws from U[low, high); built on ``random`` because NumPy's and CuPy's
    generators share that method."""
    return low + (high - low) * rng.random(n)


def _random_sign(rng, n):
    return 1.0 - 2.0 * (rng.random(n) < 0.5)


def _random_shift(rng, shift_range, size, n):
    """n shifts in pixels, drawn as Keras' get_random_transform draws them.

    a float r       U[-r, r)
    an int r        k * (+-1), k uniform in {0, ..., r - 1}: whole pixels
    a tuple         one of its values, times +-1
    A float below 1, or a tuple whose values all are, is a fraction of size.
    """
    if not shift_range:
        return 0.0
    if isinstance(shift_range, tuple):
        index = (rng.random(n) * len(shift_range)).astype(np.intp)
        xp = devices.get_array_module(index)
        shift = xp.asarray(shift_range)[index] * _random_sign(rng, n)
    elif isinstance(shift_range, int):
        shift = (rng.random(n) * shift_range).astype(np.intp) * _random_sign(rng, n)
    else:
        shift = _uniform(rng, -shift_range, shift_range, n)
    return shift * size if max(np.atleast_1d(shift_range)) < 1 else shift


# --- checking arguments ------------------------------------------------------------

def _checked(name, value, requirement, ok):
    """value, if ok; else the ValueError of an ImageDataGenerator argument."""
    if not ok:
        raise argument_error('ImageDataGenerator', name, requirement, value)
    return value


def _non_negative(name, value):
    return float(_checked(name, value, 'a non-negative number', is_finite_number(value) and value >= 0))


def _shift_range(name, value):
    """A shift range as Keras takes it: a float, an int (whole pixels) or a list."""
    if isinstance(value, (list, tuple, np.ndarray)):
        values = tuple(np.ravel(value).tolist())
        if not (len(values) > 0 and np.ndim(value) == 1 and all(map(is_finite_number, values))):
            raise argument_error('ImageDataGenerator', name, 'a non-empty 1-D list of numbers', value)
        return tuple(float(v) for v in values)
    if not (is_finite_number(value) and value >= 0):
        raise argument_error('ImageDataGenerator', name,
                    'a non-negative number or a list of numbers', value)
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def _zoom_interval(zoom_range):
    """[low, high] of the zoom factors: z -> [1 - z, 1 + z]; a pair is taken as is."""
    pair = (1 - zoom_range, 1 + zoom_range) if is_finite_number(zoom_range) else zoom_range
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2
            and all(map(is_finite_number, pair)) and 0 < pair[0] <= pair[1]):
        raise argument_error('ImageDataGenerator', 'zoom_range',
                    'a number in [0, 1) or a pair (low, high) with 0 < low <= high', zoom_range)
    return float(pair[0]), float(pair[1])


def _brightness_interval(brightness_range):
    if brightness_range is None:
        return None
    if not (isinstance(brightness_range, (tuple, list)) and len(brightness_range) == 2
            and all(map(is_finite_number, brightness_range))
            and 0 <= brightness_range[0] <= brightness_range[1]):
        raise argument_error('ImageDataGenerator', 'brightness_range',
                    'None or a pair (low, high) with 0 <= low <= high', brightness_range)
    return float(brightness_range[0]), float(brightness_range[1])


def _float_dtype(dtype):
    """The output dtype: float32 for None (minicnn's float type), else a float dtype."""
    try:
        resolved = np.dtype('float32' if dtype is None else dtype)
    except TypeError:
        resolved = None
    if resolved is None or not np.issubdtype(resolved, np.floating):
        raise argument_error('ImageDataGenerator', 'dtype', 'None or a floating-point dtype', dtype)
    return resolved


def _check_rank(where, x, rank):
    shape = getattr(x, 'shape', None)
    if len(shape or ()) != rank or (rank == 4 and shape[0] == 0):
        what = ('a non-empty array of rank 4 (images, height, width, channels)' if rank == 4
                else 'an array of rank 3 (height, width, channels)')
        raise ValueError(f'{where}: x must be {what}, got shape {shape}')


def _keras_to_transform(transform_parameters):
    """Keras' transform_parameters dict (missing keys take the defaults) -> Transform.

    Keras' tx and ty read the input tx, ty pixels further on (output[q] =
    input[q + t]), which moves the content by -t: hence the minus signs.
    """
    unknown = sorted(set(transform_parameters) - set(KERAS_DEFAULTS))
    if unknown:
        raise ValueError(f'apply_transform: unknown transform parameter {unknown[0]!r}; '
                         f'the keys are {list(KERAS_DEFAULTS)}')
    p = {**KERAS_DEFAULTS, **transform_parameters}
    for key, value in p.items():
        optional = KERAS_DEFAULTS[key] is None
        if not (is_finite_number(value) or isinstance(value, (bool, np.bool_))
                or optional and value is None):
            raise argument_error('apply_transform', f'transform_parameters[{key!r}]',
                        'a number' + (' or None' if optional else ''), value)
    return Transform(theta=p['theta'], shift_rows=-p['tx'], shift_cols=-p['ty'],
                     shear=p['shear'], zoom_rows=p['zx'], zoom_cols=p['zy'],
                     flip_horizontal=bool(p['flip_horizontal']),
                     flip_vertical=bool(p['flip_vertical']),
                     channel_shift=p['channel_shift_intensity'], brightness=p['brightness'])


def _first(value):
    """The value for the first image, as a Python scalar (None stays None)."""
    return value.reshape(-1)[0].item() if hasattr(value, 'shape') else value


def _transform_to_keras(transform):
    """The first image's Transform -> Keras' transform_parameters dict."""
    t = Transform(*map(_first, transform))
    # 0.0 - shift rather than -shift: an unshifted image gets 0.0, not -0.0.
    return {'theta': t.theta, 'tx': 0.0 - t.shift_rows, 'ty': 0.0 - t.shift_cols,
            'shear': t.shear,
            'zx': t.zoom_rows, 'zy': t.zoom_cols,
            'flip_horizontal': bool(t.flip_horizontal), 'flip_vertical': bool(t.flip_vertical),
            'channel_shift_intensity': t.channel_shift, 'brightness': t.brightness}


class ImageDataGenerator:
    """Keras' ImageDataGenerator for NHWC image batches: random augmentation
    (module docstring), then ``standardize``; ``flow`` serves the batches.

    rotation_range      degrees; theta ~ U[-r, r)
    width_shift_range   columns: a float r: U[-r, r) pixels, times W if r < 1; an int
                        r: whole pixels k * (+-1), k uniform in {0..r-1}; a list: one
                        of its values times +-1 (times W if all are below 1)
    height_shift_range  likewise for rows and H
    shear_range         degrees; s ~ U[-r, r)
    zoom_range          z_row, z_col ~ U[1 - z, 1 + z) independently, or U[low, high)
    channel_shift_range intensity i ~ U[-r, r), see channel_shift
    brightness_range    (low, high): factor f ~ U[low, high), see brightness_shift
    horizontal_flip     reverse the columns of a random half of the images
    vertical_flip       reverse the rows of a random half of the images
    fill_mode, cval     what lies outside the input (module docstring)
    interpolation_order 1 bilinear, 0 nearest
    rescale             factor applied in standardize, after augmentation (None
                        or 0: none)
    preprocessing_function  called on each augmented (H, W, C) image, first
                        thing in standardize; must return the same shape
    featurewise_center, featurewise_std_normalization, zca_whitening, zca_epsilon
                        statistics of the data set, computed by ``fit``
    samplewise_center, samplewise_std_normalization
                        statistics of each image
    validation_split    fraction of flow's data kept for subset='validation'
    data_format         None or 'channels_last'; minicnn images are NHWC
    dtype               float dtype of the batches (None: float32)

    As in Keras, zca_whitening turns featurewise_center on and
    featurewise_std_normalization off, and either std normalisation turns its
    centring on, each with a warning.
    """

    @keywords_checked
    def __init__(self, featurewise_center=False, samplewise_center=False,
                 featurewise_std_normalization=False, samplewise_std_normalization=False,
                 zca_whitening=False, zca_epsilon=1e-6, rotation_range=0,
                 width_shift_range=0.0, height_shift_range=0.0, brightness_range=None,
                 shear_range=0.0, zoom_range=0.0, channel_shift_range=0.0,
                 fill_mode='nearest', cval=0.0, horizontal_flip=False, vertical_flip=False,
                 rescale=None, preprocessing_function=None, data_format=None,
                 validation_split=0.0, interpolation_order=1, dtype=None):
        flag = functools.partial(check_flag, 'ImageDataGenerator')
        self.featurewise_center = flag('featurewise_center', featurewise_center)
        self.samplewise_center = flag('samplewise_center', samplewise_center)
        self.featurewise_std_normalization = flag('featurewise_std_normalization',
                                                  featurewise_std_normalization)
        self.samplewise_std_normalization = flag('samplewise_std_normalization',
                                                 samplewise_std_normalization)
        self.zca_whitening = flag('zca_whitening', zca_whitening)
        self.zca_epsilon = float(_checked('zca_epsilon', zca_epsilon, 'a positive number',
                                          is_finite_number(zca_epsilon) and zca_epsilon > 0))
        self.rotation_range = _non_negative('rotation_range', rotation_range)
        self.width_shift_range = _shift_range('width_shift_range', width_shift_range)
        self.height_shift_range = _shift_range('height_shift_range', height_shift_range)
        self.brightness_range = _brightness_interval(brightness_range)
        self.shear_range = _non_negative('shear_range', shear_range)
        self.zoom_range = _zoom_interval(zoom_range)
        self.channel_shift_range = _non_negative('channel_shift_range', channel_shift_range)
        self.fill_mode = _checked('fill_mode', fill_mode, f'one of {FILL_MODES}',
                                  fill_mode in FILL_MODES)
        self.cval = float(_checked('cval', cval, 'a number', is_finite_number(cval)))
        self.horizontal_flip = flag('horizontal_flip', horizontal_flip)
        self.vertical_flip = flag('vertical_flip', vertical_flip)
        self.rescale = _checked('rescale', rescale, 'None or a number',
                                rescale is None or is_finite_number(rescale))
        self.preprocessing_function = _checked(
            'preprocessing_function', preprocessing_function, 'None or a function',
            preprocessing_function is None or callable(preprocessing_function))
        _checked('data_format', data_format, "None or 'channels_last' (minicnn images are NHWC)",
                 data_format in (None, 'channels_last'))
        self.data_format = 'channels_last'
        self.validation_split = float(_checked(
            'validation_split', validation_split, 'a number in [0, 1)',
            is_finite_number(validation_split) and 0 <= validation_split < 1))
        self.interpolation_order = int(_checked(
            'interpolation_order', interpolation_order, '0 (nearest) or 1 (bilinear)',
            isinstance(interpolation_order, numbers.Integral)
            and not isinstance(interpolation_order, bool)
            and interpolation_order in INTERPOLATION_ORDERS))
        self.dtype = _float_dtype(dtype)
        self._resolve_normalisation_flags()
        self.mean = self.std = self.zca_whitening_matrix = None     # set by fit

    def _resolve_normalisation_flags(self):
        """Keras' rules: ZCA implies centring and replaces std normalisation, and
        std normalisation implies centring; each change is announced."""
        def override(flag, value, reason):
            if getattr(self, flag) != value:
                setattr(self, flag, value)
                warnings.warn(f'This ImageDataGenerator specifies {reason}, which overrides '
                              f'the setting of {flag} (now {value})')
        if self.zca_whitening:
            override('featurewise_center', True, 'zca_whitening')
            override('featurewise_std_normalization', False, 'zca_whitening')
        if self.featurewise_std_normalization:
            override('featurewise_center', True, 'featurewise_std_normalization')
        if self.samplewise_std_normalization:
            override('samplewise_center', True, 'samplewise_std_normalization')

    @property
    def _work_dtype(self):
        """The dtype augmentation computes in: dtype, but at least float32."""
        return np.result_type(self.dtype, np.float32)

    # --- random augmentation, vectorised over the batch ---------------------------

    def random_parameters(self, batch_shape, rng):
        """Draw one Transform per image of an (N, H, W, C) batch from generator rng,
        with Keras' distributions; a switched-off part is its scalar default."""
        n, height, width, _ = batch_shape

        def symmetric(r, off=0.0):
            return _uniform(rng, -r, r, n) if r else off

        zoom_on = self.zoom_range != (1.0, 1.0)
        return Transform(
            theta=symmetric(self.rotation_range),
            shift_rows=_random_shift(rng, self.height_shift_range, height, n),
            shift_cols=_random_shift(rng, self.width_shift_range, width, n),
            shear=symmetric(self.shear_range),
            zoom_rows=_uniform(rng, *self.zoom_range, n) if zoom_on else 1.0,
            zoom_cols=_uniform(rng, *self.zoom_range, n) if zoom_on else 1.0,
            flip_horizontal=rng.random(n) < 0.5 if self.horizontal_flip else False,
            flip_vertical=rng.random(n) < 0.5 if self.vertical_flip else False,
            channel_shift=symmetric(self.channel_shift_range, off=None),
            brightness=_uniform(rng, *self.brightness_range, n) if self.brightness_range else None)

    def transform_batch(self, x, transform):
        """Apply ``transform`` (one Transform per image) to an NHWC batch in Keras'
        order: move the pixels, shift the channels, change the brightness.
        -> (N, H, W, C) float32 (or dtype, if wider); x is not changed."""
        xp = devices.get_array_module(x)
        if moves_pixels(transform):
            rows, cols = source_coordinates(transform, x.shape[1], x.shape[2], xp)
            out = sample(x, rows, cols, self.fill_mode, self.cval,
                         self.interpolation_order, self._work_dtype)
        else:
            out = x.astype(self._work_dtype)
        if transform.channel_shift is not None:
            out = channel_shift(out, transform.channel_shift)
        if transform.brightness is not None:
            out = brightness_shift(out, transform.brightness)
        return out

    def augment(self, x, rng):
        """A random transform of each image of an NHWC batch: -> (N, H, W, C) float32."""
        return self.transform_batch(x, self.random_parameters(x.shape, rng))

    # --- Keras' single-image API ------------------------------------------------------

    @keywords_checked
    def get_random_transform(self, img_shape, seed=None):
        """Random parameters for one image of shape (H, W, C), as Keras' dict:
        theta, tx, ty, shear, zx, zy, flip_horizontal, flip_vertical,
        channel_shift_intensity, brightness (see apply_transform)."""
        if not (isinstance(img_shape, (tuple, list)) and len(img_shape) == 3
                and all(isinstance(s, numbers.Integral) and s > 0 for s in img_shape)):
            raise argument_error('get_random_transform', 'img_shape', '(height, width, channels)',
                        img_shape)
        check_seed('get_random_transform', seed)
        rng = devices.random_generator('cpu', seed)
        return _transform_to_keras(self.random_parameters((1, *img_shape), rng))

    @keywords_checked
    def apply_transform(self, x, transform_parameters):
        """Transform one (H, W, C) image by Keras' transform_parameters dict:
        -> (H, W, C) float32.

        theta, shear    degrees, counter-clockwise
        tx, ty          shift in pixels along rows, columns: output[q] = input[q + t]
        zx, zy          zoom of rows, columns (input pixels per output pixel)
        flip_horizontal, flip_vertical      booleans
        channel_shift_intensity, brightness None, or see channel_shift and
                                            brightness_shift
        A key left out takes the value that changes nothing.
        """
        _check_rank('apply_transform', x, 3)
        return self.transform_batch(x[None], _keras_to_transform(transform_parameters))[0]

    @keywords_checked
    def random_transform(self, x, seed=None):
        """A random transform of one (H, W, C) image (no standardize): -> (H, W, C)
        float32; ``apply_transform(x, get_random_transform(x.shape, seed))``."""
        _check_rank('random_transform', x, 3)
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    # --- standardize and fit ------------------------------------------------------------

    @keywords_checked
    def standardize(self, x):
        """Keras' normalisation of an (N, H, W, C) batch or one (H, W, C) image,
        in Keras' order; x itself is not changed:

            preprocessing_function(image)       each image
            x * rescale                         unless rescale is None or 0
            x - mean(image)                     samplewise_center
            x / (std(image) + 1e-6)             samplewise_std_normalization
            x - mean                            featurewise_center (per channel, from fit)
            x / (std + 1e-6)                    featurewise_std_normalization
            flat(x) @ zca_whitening_matrix      zca_whitening

        -> the same shape, of dtype. A featurewise option before ``fit`` is
        skipped with a warning, as in Keras.
        """
        if getattr(x, 'ndim', None) not in (3, 4):
            raise ValueError('standardize: x must be an image (rank 3) or a batch (rank 4), '
                             f'got shape {getattr(x, "shape", None)}')
        if x.ndim == 3:
            return self.standardize(x[None])[0]
        return self._standardize(x.astype(self._work_dtype, copy=True))

    def _standardize(self, x):
        """standardize on a float batch that this generator owns (changed in place)."""
        x = self._preprocess(x)
        if self.rescale:
            x *= x.dtype.type(self.rescale)
        if self.samplewise_center:
            x -= x.mean(axis=(1, 2, 3), keepdims=True)
        if self.samplewise_std_normalization:
            x /= x.std(axis=(1, 2, 3), keepdims=True) + STD_EPSILON
        if self.featurewise_center and self._fitted('mean', 'featurewise_center'):
            x -= self._stat('mean', x)
        if (self.featurewise_std_normalization
                and self._fitted('std', 'featurewise_std_normalization')):
            x /= self._stat('std', x) + STD_EPSILON
        if self.zca_whitening and self._fitted('zca_whitening_matrix', 'zca_whitening'):
            x = (x.reshape(len(x), -1) @ self._stat('zca_whitening_matrix', x)).reshape(x.shape)
        return x.astype(self.dtype, copy=False)

    def _preprocess(self, x):
        """preprocessing_function on each image: Keras calls it per (H, W, C) image."""
        if self.preprocessing_function is None:
            return x
        xp = devices.get_array_module(x)
        images = [xp.asarray(self.preprocessing_function(image)) for image in x]
        for image in images:
            if image.shape != x.shape[1:]:
                raise ValueError('preprocessing_function must return an image of the shape '
                                 f'it gets, {x.shape[1:]}, got one of shape {image.shape}')
        return xp.stack(images).astype(x.dtype, copy=False)

    def _fitted(self, statistic, option):
        if getattr(self, statistic) is None:
            warnings.warn(f"This ImageDataGenerator specifies {option}, but it hasn't been "
                          'fit on any training data. Fit it first by calling .fit(x).')
            return False
        return True

    def _stat(self, statistic, x):
        """A statistic from fit, on x's device and in x's dtype."""
        value = devices.to_device(getattr(self, statistic), devices.device_of(x))
        return value.astype(x.dtype, copy=False)

    @keywords_checked
    def fit(self, x, augment=False, rounds=1, seed=None):
        """Compute the data set statistics that the featurewise options use, as Keras:

            x <- x * rescale                (if rescale), then, with augment,
                 ``rounds`` randomly augmented copies of x
            mean = mean of x over images, rows and columns: shape (1, 1, C)
            std  = std of x - mean, likewise, and x <- (x - mean) / (std + 1e-6)
            zca_whitening_matrix = U diag(sqrt(n) / (s + zca_epsilon)) U^T,
                 with x (flattened to n rows of H*W*C) = V diag(s) U^T its SVD

        so that the whitened data ``x @ zca_whitening_matrix`` has covariance
        (near) the identity. x is an (N, H, W, C) array; the statistics lie on
        the active device.
        """
        _check_rank('fit', x, 4)
        augment = check_flag('fit', 'augment', augment)
        if not (isinstance(rounds, numbers.Integral) and rounds > 0):
            raise argument_error('fit', 'rounds', 'a positive int', rounds)
        check_seed('fit', seed)
        data = devices.to_device(x).astype(self._work_dtype, copy=True)
        if self.rescale:
            data *= data.dtype.type(self.rescale)
        if augment:
            data = self._augmented_copies(data, rounds, devices.random_generator(devices.device_of(data), seed))
        channels = data.shape[-1]
        if self.featurewise_center:
            self.mean = data.mean(axis=(0, 1, 2)).reshape(1, 1, channels)
            data -= self.mean
        if self.featurewise_std_normalization:
            self.std = data.std(axis=(0, 1, 2)).reshape(1, 1, channels)
            data /= self.std + STD_EPSILON
        if self.zca_whitening:
            self.zca_whitening_matrix = _zca_matrix(data, self.zca_epsilon)

    def _augmented_copies(self, data, rounds, rng, chunk=1024):
        """``rounds`` augmented copies of data, one after the other; augmented a
        chunk at a time so that the (N, H, W) coordinate arrays stay small."""
        xp = devices.get_array_module(data)
        return xp.concatenate([self.augment(data[start:start + chunk], rng)
                               for _ in range(rounds) for start in range(0, len(data), chunk)])

    # --- serving batches -----------------------------------------------------------------

    @keywords_checked
    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None,
             save_to_dir=None, save_prefix='', save_format='png', ignore_class_split=False,
             subset=None):
        """An endless iterator of augmented, standardized batches: x, (x, y), or
        (x, y, sample_weight) when sample weights are given (see ArrayIterator).

        x is an (N, H, W, C) array (uint8 or float), y and sample_weight optional
        arrays of N entries; all are copied to the active device first. With
        ``validation_split`` v, subset='validation' serves the first int(N v)
        samples and subset='training' the rest; unless ignore_class_split, both
        parts must hold the same set of labels (Keras' check). With save_to_dir,
        every image served is also written there as
        ``{save_prefix}_{index}_{random}.{save_format}``, stretched onto 0..255.
        """
        _check_rank('flow', x, 4)
        for name, values in (('y', y), ('sample_weight', sample_weight)):
            if values is not None and len(values) != len(x):
                raise ValueError(f'flow: x and {name} must hold as many samples, got '
                                 f'len(x) = {len(x)} and len({name}) = {len(values)}')
        if sample_weight is not None and y is None:
            raise ValueError('flow: sample_weight needs y (Keras drops the weights without it)')
        if not (isinstance(batch_size, numbers.Integral) and batch_size > 0):
            raise argument_error('flow', 'batch_size', 'a positive int', batch_size)
        check_seed('flow', seed)
        check_flag('flow', 'shuffle', shuffle)
        saver = None if save_to_dir is None else ImageSaver(save_to_dir, save_prefix,
                                                             save_format, x.shape[-1])
        x, y, sample_weight = self._subset(x, y, sample_weight, subset,
                                           check_flag('flow', 'ignore_class_split', ignore_class_split))
        # The data moves once to the active device, so that augmentation runs
        # where the model does (a no-op for NumPy arrays on the CPU).
        x, y, sample_weight = (None if a is None else devices.to_device(a)
                               for a in (x, y, sample_weight))
        return ArrayIterator(self, x, y, batch_size, shuffle,
                             devices.random_generator(devices.device_of(x), seed), sample_weight, saver)

    def _subset(self, x, y, sample_weight, subset, ignore_class_split):
        """The part of (x, y, sample_weight) that ``subset`` names: the first
        int(N validation_split) samples for 'validation', the rest for 'training'."""
        if subset is None:
            return x, y, sample_weight
        if subset not in SUBSETS:
            raise argument_error('flow', 'subset', f"None or one of {SUBSETS}", subset)
        if not self.validation_split:
            raise ValueError(f'flow: subset={subset!r} needs ImageDataGenerator(validation_split'
                             '=...) above 0, got validation_split=0')
        split = int(len(x) * self.validation_split)
        if subset == 'validation' and split == 0:
            raise ValueError(f'flow: the validation subset is empty: int(len(x) * '
                             f'validation_split) = int({len(x)} * {self.validation_split}) = 0')
        if y is not None and not ignore_class_split:
            labels = devices.to_numpy(y)
            if not np.array_equal(np.unique(labels[:split]), np.unique(labels[split:])):
                raise ValueError('flow: the training and validation subsets hold different '
                                 'sets of labels; shuffle the data before splitting, or pass '
                                 'ignore_class_split=True')
        part = slice(None, split) if subset == 'validation' else slice(split, None)
        return tuple(None if a is None else a[part] for a in (x, y, sample_weight))

    @keywords_checked
    def flow_from_directory(self, directory, target_size=(256, 256), color_mode='rgb',
                            classes=None, class_mode='categorical', batch_size=32, shuffle=True,
                            seed=None, save_to_dir=None, save_prefix='', save_format='png',
                            follow_links=False, subset=None, interpolation='nearest',
                            keep_aspect_ratio=False):
        """Augmented, standardized batches of the images in the class folders of
        ``directory``, read from disk a batch at a time: a DirectoryIterator,
        both a Sequence and an endless iterator (see minicnn.preprocessing.directory).

        Images are resized to target_size = (height, width); a batch is
        (images, labels) as class_mode says, or the images alone for None. With
        ``validation_split`` v, subset='validation' serves the first int(v n)
        files of each class folder of n files and subset='training' the rest.
        """
        return DirectoryIterator(
            directory, self, target_size=target_size, color_mode=color_mode, classes=classes,
            class_mode=class_mode, batch_size=batch_size, shuffle=shuffle, seed=seed,
            save_to_dir=save_to_dir, save_prefix=save_prefix, save_format=save_format,
            follow_links=follow_links, subset=subset, interpolation=interpolation,
            keep_aspect_ratio=keep_aspect_ratio)


def _zca_matrix(data, epsilon):
    """Keras' ZCA whitening matrix of centred (n, H, W, C) data: (D, D), D = H*W*C.

    With the SVD flat(data) = V diag(s) U^T, the matrix is
    U diag(sqrt(n) / (s + epsilon)) U^T: it rotates onto the principal axes,
    scales each by 1 / its standard deviation s / sqrt(n), and rotates back.
    """
    xp = devices.get_array_module(data)
    flat = data.reshape(len(data), -1)
    _, s, axes = xp.linalg.svd(flat, full_matrices=False)     # axes: (k, D), rows = U^T
    return (axes.T * (math.sqrt(len(data)) / (s + epsilon))) @ axes


class ArrayIterator:
    """Batches of ``standardize(augment(x[batch]))``, without end (Keras'
    NumpyArrayIterator); made by ``ImageDataGenerator.flow``.

    Each batch is x, (x, y) or (x, y, sample_weight). An epoch is
    ``len(self)`` = ceil(N / batch_size) batches that cover every sample once,
    the last one smaller when batch_size does not divide N. With shuffle the
    order is drawn afresh at the start of every epoch.
    """

    def __init__(self, image_data_generator, x, y, batch_size, shuffle, rng,
                 sample_weight=None, saver=None):
        self.image_data_generator, self.x, self.y = image_data_generator, x, y
        self.sample_weight, self.saver = sample_weight, saver
        self.batch_size, self.shuffle, self.rng = batch_size, shuffle, rng
        self._order = None          # sample indices of the current epoch
        self._position = 0          # where the next batch starts in _order

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __iter__(self):
        return self

    def _new_epoch(self):
        xp = devices.get_array_module(self.x)
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
        # augment returns a fresh array, which _standardize may change in place.
        x = augmenter._standardize(augmenter.augment(self.x[batch], self.rng))
        if self.saver is not None:
            self.saver.save(x, batch)
        if self.y is None:
            return x
        if self.sample_weight is None:
            return x, self.y[batch]
        return x, self.y[batch], self.sample_weight[batch]


NumpyArrayIterator = ArrayIterator  # Keras's name
missing.install(globals(), 'preprocessing.image')

