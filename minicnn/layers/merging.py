"""Layers that merge a list of inputs into one output (functional models).

    Add()([a, b])                  a + b            (any number of inputs)
    Subtract()([a, b])             a - b            (exactly two)
    Multiply()([a, b])             a * b, elementwise
    Average()([a, b])              (a + b) / 2
    Maximum()([a, b])              elementwise max
    Minimum()([a, b])              elementwise min
    Concatenate(axis=-1)([a, b])   [a | b] along axis

Each has a lower-case function twin, Keras's shorthand for making the layer
and calling it at once: ``add([a, b])`` is ``Add()([a, b])``,
``concatenate([a, b], axis=1)`` is ``Concatenate(axis=1)([a, b])``.

The elementwise ones need inputs of one shape; Concatenate needs shapes
equal except along ``axis``. Their gradients come from the Tensor
operators and minicnn/functional/merging.py.
"""
import functools
import operator

from minicnn import functional as F
from minicnn.layers.base import Layer


class _Merge(Layer):
    """The base of the merge layers: a list of inputs, checked when built."""
    min_inputs, max_inputs = 2, None

    def build(self, input_shape):
        shapes = input_shape if isinstance(input_shape, list) else None
        if shapes is None or not self.min_inputs <= len(shapes) <= (self.max_inputs or len(shapes)):
            count = f'exactly {self.min_inputs}' if self.max_inputs == self.min_inputs \
                else f'at least {self.min_inputs}'
            raise ValueError(f"layer '{self.name}' ({type(self).__name__}) takes a list of "
                             f"{count} inputs, got {input_shape!r}")
        self.check_shapes(shapes)
        self.sample_shape = [tuple(s) for s in shapes]
        self.built = True
        self.set_initial_weights()

    def check_shapes(self, shapes):
        if any(s != shapes[0] for s in shapes):
            raise ValueError(f"layer '{self.name}' ({type(self).__name__}) needs inputs of one "
                             f"shape, got shapes {[(None, *s) for s in shapes]}")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config.pop('input_shape', None)  # a merge layer's shapes come from the calls
        return config


class Add(_Merge):
    """The sum of the inputs."""

    def forward(self, xs, training):
        return functools.reduce(operator.add, xs)


class Subtract(_Merge):
    """The first input minus the second."""
    max_inputs = 2

    def forward(self, xs, training):
        return xs[0] - xs[1]


class Multiply(_Merge):
    """The elementwise product of the inputs."""

    def forward(self, xs, training):
        return functools.reduce(operator.mul, xs)


class Average(_Merge):
    """The elementwise mean of the inputs."""

    def forward(self, xs, training):
        return functools.reduce(operator.add, xs) / len(xs)


class Maximum(_Merge):
    """The elementwise maximum of the inputs."""

    def forward(self, xs, training):
        return F.maximum(xs)


class Minimum(_Merge):
    """The elementwise minimum of the inputs."""

    def forward(self, xs, training):
        return F.minimum(xs)


class Concatenate(_Merge):
    """The inputs side by side along ``axis`` (-1: the channels)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, int) or axis == 0:
            raise ValueError(f'Concatenate: axis must be a non-zero int (0 is the batch axis), '
                             f'got {axis!r}')
        self.axis = axis

    def check_shapes(self, shapes):
        rank = len(shapes[0])
        axis = self.axis - 1 if self.axis > 0 else self.axis + rank  # in a sample's shape
        others = [s[:axis] + s[axis + 1:] for s in shapes]
        if any(len(s) != rank for s in shapes) or not 0 <= axis < rank or \
                any(o != others[0] for o in others):
            raise ValueError(f"layer '{self.name}' (Concatenate, axis={self.axis}) needs inputs "
                             f"whose shapes agree except along the axis, got shapes "
                             f"{[(None, *s) for s in shapes]}")
        self.sample_axis = axis

    def compute_output_shape(self, input_shape):
        out = list(input_shape[0])
        out[self.sample_axis] = sum(s[self.sample_axis] for s in input_shape)
        return tuple(out)

    def forward(self, xs, training):
        return F.concatenate(xs, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), 'axis': self.axis}


def _shorthand(layer_class):
    """The function ``f(inputs, **kwargs) = layer_class(**kwargs)(inputs)``."""
    def merge(inputs, **kwargs):
        return layer_class(**kwargs)(inputs)
    merge.__name__ = merge.__qualname__ = layer_class.__name__.lower()
    merge.__doc__ = (f'{layer_class.__name__}(**kwargs)(inputs): a new {layer_class.__name__} '
                     f'layer called on the list ``inputs``.')
    return merge


add, subtract, multiply, average, maximum, minimum, concatenate = (
    _shorthand(c) for c in (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate))
