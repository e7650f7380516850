"""Input and InputLayer: where a functional model's graph starts.

    inputs = Input(shape=(32, 32, 3))          # a SymbolicTensor (None, 32, 32, 3)
    x = Conv2D(16, 3, activation='relu')(inputs)

``Input`` makes an InputLayer and returns its output, a placeholder that
layers can be called on (see minicnn/layers/base.py, SymbolicTensor).
"""
from minicnn.arguments import checked_shape, keywords_checked
from minicnn.layers.base import Layer, SymbolicTensor


class InputLayer(Layer):
    """The identity, for inputs of one sample's shape ``input_shape``; its
    ``output`` is the SymbolicTensor a model's graph starts from."""

    def __init__(self, input_shape=None, name=None, **kwargs):
        if input_shape is None:
            raise ValueError('InputLayer: input_shape is required, e.g. (32, 32, 3)')
        super().__init__(input_shape=input_shape, name=name, **kwargs)
        self.built = True
        self.output = SymbolicTensor((None, *self.sample_shape), self)

    def forward(self, x, training):
        return x


@keywords_checked
def Input(shape=None, name=None):  # noqa: N802 (Keras's name)
    """A placeholder for a batch of inputs of one sample's ``shape``:
    -> SymbolicTensor of shape (None, *shape)."""
    if shape is None:
        raise ValueError('Input: shape is required, e.g. Input(shape=(32, 32, 3))')
    return InputLayer(input_shape=checked_shape('Input', 'shape', shape), name=name).output
