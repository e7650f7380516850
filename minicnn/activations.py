"""Activations by name, as Keras layers accept them: ``activation='relu'``."""
from minicnn import functional as F

ACTIVATIONS = {
    'relu': F.relu,
    'tanh': F.tanh,
    'sigmoid': F.sigmoid,
    'softmax': F.softmax,
    'linear': None,
}


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
