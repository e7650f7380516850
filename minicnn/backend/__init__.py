"""Keras's backend module: ``from minicnn import backend as K``.

What a Keras program asks of its backend apart from tensor math:

    settings      image_data_format, epsilon, floatx (and their setters)
    shapes        int_shape, ndim, dtype, is_keras_tensor, count_params
    values        get_value, set_value (of weights, and of an optimizer's
                  learning rate: K.set_value(model.optimizer.lr, 0.01))
    session       clear_session, get_uid, reset_uids
    tensors       K.mean, K.square, K.gradients, K.function, learning_phase, ...:
                  the functions on the symbolic outputs of a model's layers,
                  written in minicnn/backend/symbolic.py and imported here

minicnn is channels-last and float32 throughout, so the setters accept those
and refuse the rest by name; the tensor functions minicnn lacks are refused
by name (see minicnn.missing). Which arrays minicnn computes on, NumPy or
CuPy, is minicnn.devices, not this module.
"""
import collections
import numbers

import numpy as np

from minicnn import devices, missing
from minicnn.autograd import Tensor
from minicnn.backend import symbolic
from minicnn.backend.symbolic import Symbolic
# Keras's tensor functions, K.mean ... K.function: symbolic's public names.
from minicnn.backend.symbolic import *  # noqa: F401, F403, A004

__all__ = ['backend', 'image_data_format', 'set_image_data_format', 'epsilon', 'set_epsilon',
           'floatx', 'set_floatx', 'cast_to_floatx', 'int_shape', 'ndim', 'dtype',
           'is_keras_tensor', 'is_sparse', 'count_params', 'get_value', 'set_value',
           'batch_get_value', 'batch_set_value', 'clear_session', 'get_uid', 'reset_uids',
           *symbolic.__all__]

_settings = {'epsilon': 1e-7}
# How many layers of each name have been made: Keras names them conv2d, conv2d_1, ...
_uid_counts = collections.Counter()


def get_uid(prefix=''):
    """1, 2, 3, ... on successive calls with the same ``prefix`` (Keras's backend.get_uid)."""
    _uid_counts[prefix] += 1
    return _uid_counts[prefix]


def reset_uids():
    """Start every prefix's count again: the next layers get their plain names."""
    _uid_counts.clear()


def backend():
    """The backend's name: 'minicnn' (Keras says 'tensorflow')."""
    return 'minicnn'


def image_data_format():
    """'channels_last': images are (batch, height, width, channels) everywhere in minicnn."""
    return 'channels_last'


def set_image_data_format(data_format):
    """Only 'channels_last' is possible; 'channels_first' is refused."""
    if data_format == 'channels_first':
        raise missing.MissingFeatureError(
            "set_image_data_format('channels_first'): minicnn's layers and kernels are "
            "channels_last (NHWC) only; transpose the images with x.transpose(0, 2, 3, 1)")
    if data_format != 'channels_last':
        raise ValueError(f"set_image_data_format: data_format must be 'channels_last' or "
                         f"'channels_first', got {data_format!r}")


def epsilon():
    """The fuzz factor the losses and metrics use to keep logs and divisions finite
    (crossentropy clips probabilities to [epsilon, 1 - epsilon]); 1e-7 by default."""
    return _settings['epsilon']


def set_epsilon(value):
    """Set the fuzz factor ``epsilon()``: a number in (0, 0.5)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 0.5:
        raise ValueError(f'set_epsilon: epsilon must be a number in (0, 0.5), got {value!r}')
    _settings['epsilon'] = float(value)


def floatx():
    """'float32', the type of every weight and activation in minicnn."""
    return 'float32'


def set_floatx(value):
    """Only 'float32' is possible: the fast kernels are written for it."""
    if value in ('float16', 'bfloat16', 'float64'):
        raise missing.MissingFeatureError(
            f"set_floatx({value!r}): minicnn trains in float32 only (its fast kernels are "
            f"float32; float64 is used by minicnn.gradcheck alone)")
    if value != 'float32':
        raise ValueError(f"set_floatx: expected 'float32', 'float16', 'bfloat16' or 'float64', "
                         f"got {value!r}")


def cast_to_floatx(x):
    """``x`` as a NumPy array of type floatx()."""
    return np.asarray(x, dtype=floatx())


def int_shape(x):
    """The shape as a tuple, None for the batch axis of a symbolic tensor:
    ``K.int_shape(Input((28, 28, 1)))`` is (None, 28, 28, 1)."""
    if not hasattr(x, 'shape'):
        raise TypeError(f'int_shape: expected a tensor or an array, got {type(x).__name__}')
    return tuple(x.shape)


def ndim(x):
    """The number of axes, batch included."""
    return len(int_shape(x))


def dtype(x):
    """The element type's name, e.g. 'float32'."""
    if isinstance(x, Symbolic):
        return floatx()
    return np.dtype(x.dtype).name


def is_keras_tensor(x):
    """True for what ``Input`` and layers called on it return; False for a
    computed Tensor; anything else is no tensor at all (ValueError, as in Keras)."""
    if isinstance(x, Symbolic):
        return True
    if isinstance(x, Tensor):
        return False
    raise ValueError(f'is_keras_tensor: expected a tensor, got an instance of {type(x).__name__}')


def is_sparse(x):
    """False: minicnn has no sparse tensors."""
    return False


def count_params(x):
    """The number of values in a weight (or any array): the product of its shape."""
    return int(np.prod(int_shape(x), dtype=np.int64))


def get_value(x):
    """The value of a weight as a NumPy array (a copy), or of an optimizer's
    learning rate as a float, read now."""
    if hasattr(x, 'value') and hasattr(x, 'assign'):  # optimizer.learning_rate
        return x.value()
    if isinstance(x, Tensor):
        return np.array(devices.to_numpy(x.data), copy=True)
    if isinstance(x, (np.ndarray, numbers.Number)):
        return np.array(x, copy=True) if isinstance(x, np.ndarray) else x
    raise TypeError(f'get_value: expected a weight or an optimizer setting, got {x!r}')


def set_value(x, value):
    """Set a weight's values in place (same shape), or an optimizer's learning
    rate, which the next training step then uses::

        K.set_value(model.optimizer.lr, 0.01)
    """
    if hasattr(x, 'assign'):
        x.assign(value)
    elif isinstance(x, Tensor):
        value = np.asarray(value)
        if value.shape != x.shape:
            raise ValueError(f"set_value: weight {x.name or ''} has shape {x.shape}, got a value "
                             f"of shape {value.shape}")
        x.data[...] = devices.to_device(value, x.device)
    else:
        raise TypeError(f'set_value: {x!r} is a {type(x).__name__}, not a weight or an optimizer '
                        f'setting, so nothing would hold the new value')


def batch_get_value(tensors):
    """[get_value(x) for x in tensors]."""
    return [get_value(x) for x in tensors]


def batch_set_value(tuples):
    """set_value(x, value) for each (x, value) pair."""
    for x, value in tuples:
        set_value(x, value)


def clear_session():
    """Forget the layer names given so far: the next Dense is 'dense' again.
    (minicnn keeps no graph or session besides.)"""
    reset_uids()



missing.install(globals(), 'backend')
