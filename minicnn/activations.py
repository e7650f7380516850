"""Activations by name, as Keras layers accept them (``activation='gelu'``), and
as functions, as Keras's ``keras.activations.gelu(x)``.

The math, with each derivative, is in minicnn/functional/activation_functions.py.
"""
from minicnn.functional.activation_functions import (elu, exponential, gelu, hard_sigmoid,
                                                     leaky_relu, linear, log_softmax, relu,
                                                     relu6, selu, sigmoid, silu, softmax,
                                                     softplus, softsign, swish, tanh)

ACTIVATIONS = {
    'relu': relu,
    'leaky_relu': leaky_relu,
    'relu6': relu6,
    'elu': elu,
    'selu': selu,
    'gelu': gelu,
    'silu': silu,
    'swish': silu,   # Keras's other name for it
    'softplus': softplus,
    'softsign': softsign,
    'hard_sigmoid': hard_sigmoid,
    'exponential': exponential,
    'tanh': tanh,
    'sigmoid': sigmoid,
    'softmax': softmax,
    'log_softmax': log_softmax,
    'linear': None,  # the identity: a layer with it applies nothing
}

__all__ = ['get', 'elu', 'exponential', 'gelu', 'hard_sigmoid', 'leaky_relu', 'linear',
           'log_softmax', 'relu', 'relu6', 'selu', 'sigmoid', 'silu', 'softmax', 'softplus',
           'softsign', 'swish', 'tanh']


def get(identifier):
    """(name, function) for a name, None, or a callable; function None means identity."""
    if identifier is None:
        return 'linear', None
    if callable(identifier):
        return getattr(identifier, '__name__', 'custom'), identifier
    name = str(identifier).lower()
    if name not in ACTIVATIONS:
        raise ValueError(f'unknown activation {identifier!r}; valid names: {sorted(ACTIVATIONS)}')
    return name, ACTIVATIONS[name]
