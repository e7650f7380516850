"""Activations by name, as Keras layers accept them (``activation='gelu'``), and
as functions, as Keras's ``keras.activations.gelu(x)``.

The math, with each derivative, is in minicnn/functional/activation_functions.py.
"""
from minicnn import missing
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

__all__ = ['get', 'serialize', 'deserialize', 'elu', 'exponential', 'gelu', 'hard_sigmoid', 'leaky_relu', 'linear',
           'log_softmax', 'relu', 'relu6', 'selu', 'sigmoid', 'silu', 'softmax', 'softplus',
           'softsign', 'swish', 'tanh']


def named(identifier):
    """(name, function) for a name, None, or a callable; function None means identity."""
    if identifier is None:
        return 'linear', None
    if callable(identifier):
        return getattr(identifier, '__name__', 'custom'), identifier
    name = str(identifier).lower()
    if name not in ACTIVATIONS:
        raise ValueError(f'unknown activation {identifier!r}; valid names: {sorted(ACTIVATIONS)}')
    return name, ACTIVATIONS[name]


def get(identifier):
    """The activation function of a name ('relu'), None (linear) or a callable, as in Keras."""
    name, fn = named(identifier)
    return linear if fn is None else fn


def serialize(activation):
    """The name an activation function is known by (Keras's activations.serialize)."""
    return named(activation)[0]


def deserialize(name):
    """The activation function of a name (``serialize``'s inverse)."""
    return get(name)


missing.install(globals(), 'activations')
