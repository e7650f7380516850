"""Initializers: the starting values of weights, with Keras's names and rules.

An initializer is called as ``init(shape, dtype=None)`` and returns an array
on the active device (NumPy or CuPy), float32 unless dtype says otherwise.
Random values come from ``devices.rng()``, so ``devices.set_seed`` repeats them.

Variance scaling (Glorot, He, LeCun) keeps the variance of the signal about
the same from layer to layer, forward and backward, by drawing weights with::

    Var(w) = scale / n,      n = fan_in, fan_out or (fan_in + fan_out) / 2

    glorot_uniform   U(-limit, limit),  limit = sqrt(6 / (fan_in + fan_out))
    glorot_normal    truncated normal,  std = sqrt(2 / (fan_in + fan_out))
    he_uniform       U(-limit, limit),  limit = sqrt(6 / fan_in)
    he_normal        truncated normal,  std = sqrt(2 / fan_in)
    lecun_normal     truncated normal,  std = sqrt(1 / fan_in)

U(-a, a) has variance a^2 / 3, hence limit = sqrt(3 * scale / n). The normals
are truncated at two standard deviations, as in Keras: a value beyond is
drawn again. Cutting the tails shrinks the standard deviation by the factor
TRUNCATED_STD = 0.8796..., so the normal is first widened by 1 / 0.8796...
and the values drawn have the variance asked for.

Two initializers come from the fast CIFAR-10 recipe (minicnn.recipes.fast_recipe),
not from Keras: ``Dirac`` starts a convolution as the identity on its first
channels, and ``patch_whitening`` computes a first layer's kernel from the
training images.

Fans, counted as Keras does: a dense kernel (in, out) has fan_in = in and
fan_out = out. A conv kernel (kh, kw, in, out) has fan_in = kh * kw * in
(the inputs each output sums) and fan_out = kh * kw * out (the outputs each
input feeds).
"""
import inspect
import math

import numpy as np

from minicnn import devices, missing
from minicnn.arguments import keywords_checked
from minicnn.autograd import Tensor

# The standard deviation of a standard normal truncated to [-2, 2].
TRUNCATED_STD = 0.87962566103423978


def compute_fans(shape):
    """(fan_in, fan_out) of a weight of this shape (see the module docstring)."""
    if len(shape) < 2:  # a bias or a scalar
        return math.prod(shape), math.prod(shape)
    receptive_field = math.prod(shape[:-2])  # kh * kw for a conv kernel, 1 for a dense one
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _dtype(dtype):
    return np.dtype(np.float32 if dtype is None else dtype)


class Initializer:
    """Base class: ``init(shape, dtype=None)`` returns the starting values.

    A subclass keeps each constructor argument under its own name, which is
    all ``get_config`` needs.
    """

    def __init_subclass__(cls, **kwargs):
        # Every initializer's constructor names an unknown keyword and its near miss.
        super().__init_subclass__(**kwargs)
        if '__init__' in vars(cls):
            cls.__init__ = keywords_checked(cls.__init__)

    def __call__(self, shape, dtype=None):
        raise NotImplementedError

    def get_config(self):
        """The constructor arguments (Keras style): ``type(init)(**config)`` is a twin."""
        return {name: getattr(self, name) for name in inspect.signature(type(self)).parameters}


class Constant(Initializer):
    """Every element equal to ``value``."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return devices.current_module().full(shape, self.value, dtype=_dtype(dtype))


class Zeros(Constant):
    """All zeros: Keras's default for biases."""

    def __init__(self):
        super().__init__(0.0)


class Ones(Constant):
    """All ones: Keras's default for batch normalization's scale."""

    def __init__(self):
        super().__init__(1.0)


class RandomInitializer(Initializer):
    """Base of the random initializers: subclasses write ``sample``.

    With ``seed=None`` values come from ``devices.rng()``; an integer seed
    gives the same values at every call, as in Keras.
    """

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        if dtype.kind != 'f':
            raise ValueError(f'{type(self).__name__}: random values need a float dtype, '
                             f'got {dtype}')
        xp = devices.current_module()
        generator = devices.rng() if self.seed is None else xp.random.default_rng(self.seed)
        return self.sample(generator, tuple(shape)).astype(dtype)

    def sample(self, generator, shape):
        """float64 values of the given shape, drawn from generator."""
        raise NotImplementedError


class RandomNormal(RandomInitializer):
    """Normal values: mean + stddev * N(0, 1)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = mean
        self.stddev = stddev

    def sample(self, generator, shape):
        return self.mean + self.stddev * generator.standard_normal(shape)


class TruncatedNormal(RandomInitializer):
    """mean + stddev * z, z ~ N(0, 1) cut at two standard deviations (values beyond
    drawn again), as Keras's: stddev is the normal's before the cut."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = mean
        self.stddev = stddev

    def sample(self, generator, shape):
        return self.mean + self.stddev * truncated_standard_normal(generator, shape)


class RandomUniform(RandomInitializer):
    """Uniform values in [minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval = minval
        self.maxval = maxval

    def sample(self, generator, shape):
        return self.minval + (self.maxval - self.minval) * generator.random(shape)


def truncated_standard_normal(generator, shape):
    """N(0, 1) values, each one outside [-2, 2] drawn again until it falls inside."""
    z = generator.standard_normal(shape)
    while (outside := abs(z) > 2).any():  # about 4.6% of the values each round
        z[outside] = generator.standard_normal(int(outside.sum()))
    return z


class VarianceScaling(RandomInitializer):
    """Var(w) = scale / n with n from the fans ``mode``; see the module docstring."""
    MODES = ('fan_in', 'fan_out', 'fan_avg')
    DISTRIBUTIONS = ('truncated_normal', 'uniform')

    def __init__(self, scale=1.0, mode='fan_in', distribution='truncated_normal', seed=None):
        super().__init__(seed)
        if mode not in self.MODES:
            raise ValueError(f'VarianceScaling: mode must be one of {self.MODES}, got {mode!r}')
        if distribution not in self.DISTRIBUTIONS:
            raise ValueError(f'VarianceScaling: distribution must be one of '
                             f'{self.DISTRIBUTIONS}, got {distribution!r}')
        self.scale = scale
        self.mode = mode
        self.distribution = distribution

    def sample(self, generator, shape):
        fan_in, fan_out = compute_fans(shape)
        n = {'fan_in': fan_in, 'fan_out': fan_out, 'fan_avg': (fan_in + fan_out) / 2}[self.mode]
        std = math.sqrt(self.scale / max(1, n))  # max: a shape with a zero size has no fans
        if self.distribution == 'uniform':
            limit = math.sqrt(3) * std
            return limit * (2 * generator.random(shape) - 1)
        return std / TRUNCATED_STD * truncated_standard_normal(generator, shape)


class GlorotUniform(VarianceScaling):
    """U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010).

    Keras's default for kernels.
    """

    def __init__(self, seed=None):
        super().__init__(1.0, 'fan_avg', 'uniform', seed)


class GlorotNormal(VarianceScaling):
    """Truncated normal with std sqrt(2 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""

    def __init__(self, seed=None):
        super().__init__(1.0, 'fan_avg', 'truncated_normal', seed)


class HeUniform(VarianceScaling):
    """U(-limit, limit), limit = sqrt(6 / fan_in): for ReLU layers (He et al., 2015)."""

    def __init__(self, seed=None):
        super().__init__(2.0, 'fan_in', 'uniform', seed)


class HeNormal(VarianceScaling):
    """Truncated normal with std sqrt(2 / fan_in): for ReLU layers (He et al., 2015)."""

    def __init__(self, seed=None):
        super().__init__(2.0, 'fan_in', 'truncated_normal', seed)


class LecunNormal(VarianceScaling):
    """Truncated normal with std sqrt(1 / fan_in): for SELU layers (LeCun et al., 1998)."""

    def __init__(self, seed=None):
        super().__init__(1.0, 'fan_in', 'truncated_normal', seed)


class LecunUniform(VarianceScaling):
    """U(-limit, limit), limit = sqrt(3 / fan_in) (LeCun et al., 1998)."""

    def __init__(self, seed=None):
        super().__init__(1.0, 'fan_in', 'uniform', seed)


class Identity(Initializer):
    """``gain`` times the identity matrix, for 2-D shapes only, as in Keras: a
    dense kernel (in, out) gets gain on its diagonal and 0 elsewhere (a
    rectangular one too: the first min(in, out) outputs copy their inputs)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(f'Identity: the identity initializer is for 2-D shapes only, as '
                             f'in Keras, got shape {tuple(shape)}')
        return self.gain * devices.current_module().eye(*shape, dtype=_dtype(dtype))


class FunctionInitializer(Initializer):
    """A hand-written ``fn(shape, dtype=None)``, made safe to use as an initializer.

    fn may return a list, a NumPy or CuPy array or a Tensor; the result becomes
    an array of the active device with the dtype asked for, and its shape
    must be the shape asked for.
    """

    def __init__(self, fn):
        self.fn = fn
        self.name = getattr(fn, '__name__', type(fn).__name__)

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        values = self.fn(shape, dtype=dtype)
        if isinstance(values, Tensor):
            values = values.data
        # astype copies, so training, which updates weights in place, cannot
        # change an array that fn keeps and returns again.
        array = devices.to_device(values).astype(dtype)
        if array.shape != tuple(shape):
            raise ValueError(f'initializer {self.name!r} returned shape {array.shape}, '
                             f'but shape {tuple(shape)} was asked for')
        return array


class Dirac(Initializer):
    """A conv kernel (kh, kw, C, F) (or dense (C, F)) that starts as the identity on the first
    min(C, F) channels: filter f < C has weight 1 at its centre tap on input
    channel f and 0 elsewhere, so that it passes channel f through unchanged
    ('same' padding). The other filters are drawn from ``base``. PyTorch's
    ``nn.init.dirac_``, applied to the first filters only, as in airbench
    (Keller Jordan's fast CIFAR-10 training), which found that a network so
    started reaches 94% in 18 epochs rather than 21.
    """

    def __init__(self, base='glorot_uniform'):
        self.base = serialize(base)

    def __call__(self, shape, dtype=None):
        if len(shape) < 2:
            raise ValueError(f'Dirac: a kernel (..., C, F) is needed, got shape {tuple(shape)}')
        kernel = get(self.base)(shape, dtype)
        identity = min(shape[-2:])
        centre = tuple(k // 2 for k in shape[:-2])   # () for a dense kernel (C, F)
        kernel[..., :identity] = 0
        diagonal = devices.current_module().arange(identity)   # ints and arrays: CuPy too
        kernel[(*centre, diagonal, diagonal)] = 1
        return kernel


def patch_whitening(images, patch_size=2, epsilon=5e-4, verbose=0):
    """A conv kernel (p, p, C, 2 D), D = p * p * C, that whitens the images' p x p patches.

    images: (N, H, W, C), already scaled as the network will see them.
    Each patch, flattened to a row d of D numbers (in the kernel's (kh, kw, C)
    order), is one sample. Their second-moment matrix

        S = sum_patches d d^T / n = V diag(lambda) V^T        (D, D)

    has eigenvectors V (the principal directions of patches: the first is
    about the patch's mean brightness, later ones edges and colour contrasts
    at finer and finer scales) and eigenvalues lambda, their variances. The
    filters w_i = v_i / sqrt(lambda_i + epsilon), largest lambda first, turn a
    patch into D components of variance lambda_i / (lambda_i + epsilon), about
    1 each and uncorrelated: whitened. The kernel holds them and their
    negatives, so that a following GELU or ReLU loses neither sign. A PCA of
    2x2 patches: airbench's first layer (frozen), which replaced a BatchNorm
    and cut its epochs to 94% from 35 to 21. The sums go in float64, a few
    hundred images at a time; verbose=1 shows their progress.
    """
    from tqdm.auto import tqdm
    images = devices.to_numpy(images)
    if images.ndim != 4 or min(images.shape[1:3]) < patch_size:
        raise ValueError(f'patch_whitening: images must be (N, H, W, C) with H, W >= '
                         f'patch_size={patch_size}, got shape {images.shape}')
    c = images.shape[3]
    d = patch_size * patch_size * c
    second_moment, count = np.zeros((d, d)), 0
    for start in tqdm(range(0, len(images), 500), desc='patch whitening (PCA of patches)',
                      unit='x500 images', disable=not verbose):
        windows = np.lib.stride_tricks.sliding_window_view(
            images[start:start + 500], (patch_size, patch_size), axis=(1, 2))  # (n, H', W', C, p, p)
        rows = windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, d).astype(np.float64)
        second_moment += rows.T @ rows
        count += len(rows)
    eigenvalues, eigenvectors = np.linalg.eigh(second_moment / count)   # ascending
    filters = eigenvectors[:, ::-1] / np.sqrt(eigenvalues[::-1] + epsilon)
    kernel = np.concatenate([filters, -filters], axis=1)
    return devices.to_device(kernel.reshape(patch_size, patch_size, c, 2 * d).astype(np.float32))


NAMES = {
    'zeros': Zeros, 'ones': Ones, 'constant': Constant,
    'random_normal': RandomNormal, 'random_uniform': RandomUniform,
    'variance_scaling': VarianceScaling,
    'glorot_uniform': GlorotUniform, 'glorot_normal': GlorotNormal,
    'he_uniform': HeUniform, 'he_normal': HeNormal, 'lecun_normal': LecunNormal,
    'lecun_uniform': LecunUniform, 'truncated_normal': TruncatedNormal, 'identity': Identity,
    'dirac': Dirac,
}
# Keras's lower-case names of the classes: initializers.glorot_uniform() is GlorotUniform().
(zeros, ones, constant, random_normal, random_uniform, variance_scaling, glorot_uniform,
 glorot_normal, he_uniform, he_normal, lecun_normal, lecun_uniform, truncated_normal,
 identity) = (NAMES[name] for name in (
    'zeros', 'ones', 'constant', 'random_normal', 'random_uniform', 'variance_scaling',
    'glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal', 'lecun_normal',
    'lecun_uniform', 'truncated_normal', 'identity'))
_BY_KEY = {name.replace('_', ''): cls for name, cls in NAMES.items()}


def get(identifier):
    """An initializer from
        a name                 'he_normal' or 'HeNormal': a new one with default arguments
        an Initializer         returned as is
        serialize's dict       {'class_name': 'RandomNormal', 'config': {'stddev': 1.0}}
        a function             fn(shape, dtype=None), wrapped in a FunctionInitializer
    """
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, dict):
        return _class_named(identifier['class_name'])(**identifier.get('config', {}))
    if isinstance(identifier, str):
        return _class_named(identifier)()
    if callable(identifier):
        return FunctionInitializer(identifier)
    raise _unknown(identifier)


def serialize(initializer):
    """What a layer's get_config stores: JSON-ready, and get() turns it back.

    A name stays a name and an Initializer becomes {'class_name', 'config'}.
    A function cannot be stored, only its name, as in Keras: get() does not
    know that name, so the function has to be given again.
    """
    if isinstance(initializer, str):
        return initializer
    initializer = get(initializer)
    if isinstance(initializer, FunctionInitializer):
        return initializer.name
    return {'class_name': type(initializer).__name__, 'config': initializer.get_config()}


def _class_named(name):
    # 'glorot_uniform' and 'GlorotUniform' both become 'glorotuniform'.
    cls = _BY_KEY.get(name.replace('_', '').lower())
    if cls is None:
        raise _unknown(name)
    return cls


def _unknown(identifier):
    return ValueError(f'unknown initializer {identifier!r}; give a function '
                      f'(shape, dtype=None) -> array or one of {sorted(NAMES)}')


def deserialize(config):
    """``serialize``'s inverse: the initializer of a name or of {'class_name', 'config'}."""
    return get(config)


missing.install(globals(), 'initializers')
