"""The one place that knows NumPy from CuPy.

Every other module asks this one for its array module::

    xp = get_array_module(x)      # numpy or cupy, whichever holds x
    xp = current_module()         # the module of the active device

The active device is 'cpu' unless ``set_device('gpu')`` was called or the
environment variable ``MINICNN_DEVICE`` says ``gpu``. CuPy is imported here,
lazily, and nowhere else.

Random numbers come from one seedable generator per device (``rng()``), so
that ``set_seed`` makes initial weights, dropout masks and shuffling
repeatable.
"""
import os

import numpy as np

DEVICES = ('cpu', 'gpu')

_state = {'device': None, 'cupy': None, 'rng': {}, 'seed': None}


def _import_cupy():
    """Return the cupy module, or raise saying what is missing."""
    if _state['cupy'] is None:
        try:
            import cupy
        except ImportError as err:
            raise RuntimeError(
                "device 'gpu' needs CuPy, which is not installed "
                "(pip install 'minicnn[gpu]')") from err
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as err:  # CUDA driver missing or broken
            raise RuntimeError(
                f"device 'gpu' needs a CUDA device; CuPy is installed but "
                f"CUDA reports: {err}") from err
        if count == 0:
            raise RuntimeError("device 'gpu' needs a CUDA device; none was found")
        _state['cupy'] = cupy
    return _state['cupy']


def gpu_available():
    """True when CuPy imports and sees at least one CUDA device."""
    try:
        _import_cupy()
    except RuntimeError:
        return False
    return True


def cupy():
    """The cupy module (for the GPU kernels); raises if it cannot be used."""
    return _import_cupy()


def set_device(device):
    """Make 'cpu' (NumPy) or 'gpu' (CuPy) the device new arrays are made on."""
    if device not in DEVICES:
        raise ValueError(f"set_device: device must be one of {DEVICES}, got {device!r}")
    if device == 'gpu':
        _import_cupy()
    _state['device'] = device


def get_device():
    """The active device name, 'cpu' or 'gpu'."""
    if _state['device'] is None:
        set_device(os.environ.get('MINICNN_DEVICE', 'cpu').strip().lower() or 'cpu')
    return _state['device']


def module_for(device):
    """numpy for 'cpu', cupy for 'gpu'."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    return _import_cupy() if device == 'gpu' else np


def current_module():
    """The array module of the active device."""
    return module_for(get_device())


def is_gpu_array(x):
    return type(x).__module__.split('.')[0] == 'cupy'


def get_array_module(*arrays):
    """numpy or cupy, whichever holds the arrays (numpy for scalars).

    Raises TypeError when NumPy and CuPy arrays are mixed: that is always a
    bug in the caller, and CuPy's own message for it is cryptic.
    """
    on_gpu = {is_gpu_array(a) for a in arrays if hasattr(a, 'shape')}
    if len(on_gpu) > 1:
        raise TypeError("arrays on different devices (NumPy and CuPy) used together; "
                        "move them to one device first with Tensor.to() or to_device()")
    return _import_cupy() if on_gpu == {True} else np


def device_of(x):
    return 'gpu' if is_gpu_array(x) else 'cpu'


def to_device(x, device=None):
    """Copy an array to 'cpu' or 'gpu' (default: the active device)."""
    device = device or get_device()
    if device == 'cpu':
        return x.get() if is_gpu_array(x) else np.asarray(x)
    return _import_cupy().asarray(x)


def to_numpy(x):
    """A NumPy array holding x, wherever x lives."""
    return to_device(x, 'cpu')


class Generator:
    """A device's random generator (NumPy's or CuPy's ``default_rng``) that can
    be reseeded in place, so that whoever holds it follows ``set_seed``."""

    def __init__(self, xp, seed):
        self.xp = xp
        self.reseed(seed)

    def reseed(self, seed):
        self.generator = self.xp.random.default_rng(seed)

    def __getattr__(self, name):  # random, permutation, normal, ... of the generator
        return getattr(self.generator, name)


def rng(device=None):
    """The seedable random generator of a device."""
    device = device or get_device()
    if device not in _state['rng']:
        # seeded with the last set_seed, even when CuPy came later
        _state['rng'][device] = Generator(module_for(device), _state['seed'])
    return _state['rng'][device]


def set_seed(seed):
    """Reseed the generators of both devices (the GPU's also when it is made later)."""
    _state['seed'] = seed
    for generator in _state['rng'].values():
        generator.reseed(seed)


def reseed_gpu_from_cpu():
    """Draw a new seed for the GPU's generator from the CPU's, if there is one.

    CuPy's generators have no state that can be saved, so ``fit`` calls this
    at the start of every epoch: the CPU generator's state, which checkpoints
    hold, then fixes the GPU's draws too, and a resumed run repeats them.
    """
    if 'gpu' in _state['rng']:
        _state['rng']['gpu'].reseed(int(rng('cpu').integers(2**63)))


def random_generator(device, seed):
    """The random generator for a device: the shared seedable one (``rng``) when
    seed is None, else a private one seeded with ``seed``."""
    if seed is None:
        return rng(device)
    return module_for(device).random.default_rng(seed)


def rng_state():
    """The CPU generator's state, a plain dict that can be saved and restored
    (through ``reseed_gpu_from_cpu`` it also fixes the GPU's next epoch)."""
    return rng('cpu').bit_generator.state


def set_rng_state(state):
    rng('cpu').bit_generator.state = state


def variable(value, dtype=None, name=None):
    """Keras's ``K.variable``, as the tutorials' custom initializers call it: the
    values as an array of the active device (minicnn has no separate Variable)."""
    return current_module().asarray(value, dtype=dtype or 'float32')
