"""Input and InputLayer: where a functional model's graph starts.

    inputs = Input(shape=(32, 32, 3))          # a SymbolicTensor (None, 32, 32, 3)
    x = Conv2D(16, 3, activation='relu')(inputs)

``Input`` makes an InputLayer and returns its output, a placeholder that
layers can be called on (see minicnn/layers/base.py, SymbolicTensor).
"""
from minicnn.arguments import checked_shape, keywords_checked
from minicnn.layers.base import Layer, SymbolicTensor
from minicnn.missing import MissingFeatureError


class InputLayer(Layer):
    """The identity, for inputs of one sample's shape ``input_shape``; its
    ``output`` is the SymbolicTensor a model's graph starts from."""

    def __init__(self, input_shape=None, name=None, **kwargs):
        super().__init__(input_shape=input_shape, name=name, **kwargs)
        if self.sample_shape is None:
            raise ValueError('InputLayer: input_shape is required, e.g. (32, 32, 3)')
        self.built = True
        self.calls.append(SymbolicTensor((None, *self.sample_shape), self))

    @property
    def input(self):
        """An InputLayer's input is its output, the placeholder, as in Keras."""
        return self.output

    def forward(self, x, training):
        return x


@keywords_checked
def Input(shape=None, batch_size=None, name=None, dtype=None, sparse=None, tensor=None,  # noqa: N802
          ragged=None, type_spec=None, batch_shape=None, batch_input_shape=None):
    """A placeholder for a batch of inputs of one sample's ``shape``:
    -> SymbolicTensor of shape (None, *shape).

    Keras's other ways to say the shape, ``batch_shape`` (Keras 3) and
    ``batch_input_shape`` (Keras 2), put the batch axis first, None: minicnn
    takes batches of any size, so ``batch_size`` must be None. Sparse and
    ragged inputs, and inputs from existing tensors, are refused by name.
    """
    for keyword, value in (('sparse', sparse), ('tensor', tensor), ('ragged', ragged),
                           ('type_spec', type_spec)):
        if value is not None and value is not False:
            raise MissingFeatureError(f'Input({keyword}={value!r}): minicnn inputs are dense '
                                      f'arrays of a given shape only')
    batch_input_shape = batch_shape if batch_input_shape is None else batch_input_shape
    if shape is None and batch_input_shape is None:
        raise ValueError('Input: shape is required, e.g. Input(shape=(32, 32, 3))')
    return InputLayer(input_shape=None if shape is None else checked_shape('Input', 'shape', shape),
                      batch_input_shape=batch_input_shape, batch_size=batch_size, dtype=dtype,
                      name=name).output
