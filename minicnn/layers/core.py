"""Dense, Flatten, Dropout, Activation, Rescaling and Lambda."""
import math

from minicnn import functional as F
from minicnn.arguments import check_positive_int, number
from minicnn.functional.noise import check_rate
from minicnn.layers.base import Layer, WeightedLayer, inferred_output_shape, with_batch_axis


class Dense(WeightedLayer):
    """Fully connected: (N, in) -> (N, units); weights kernel (in, units), bias (units,)."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer='glorot_uniform',
                 bias_initializer='zeros', **kwargs):
        super().__init__(activation, use_bias, kernel_initializer, bias_initializer, **kwargs)
        self.units = check_positive_int('Dense', 'units', units)

    def build(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(f"layer '{self.name}' expects flat inputs (N, features), got input "
                             f"shape {(None, *input_shape)}; add a Flatten layer before it")
        self.build_weights((input_shape[0], self.units), self.units)
        super().build(input_shape)

    def forward(self, x, training):
        return F.dense(x, self.kernel, self.bias)

    def compute_output_shape(self, input_shape):
        return (self.units,)

    def get_config(self):
        return {**super().get_config(), 'units': self.units}


class Flatten(Layer):
    """(N, H, W, C) -> (N, H*W*C), in NHWC order."""

    def forward(self, x, training):
        return F.flatten(x)

    def compute_output_shape(self, input_shape):
        return (math.prod(input_shape),)


class Dropout(Layer):
    """Zeroes a fraction ``rate`` of its inputs while training (inverted dropout)."""

    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate('Dropout', rate)

    def forward(self, x, training):
        return F.dropout(x, self.rate, training)

    def get_config(self):
        return {**super().get_config(), 'rate': self.rate}


class Activation(Layer):
    """Applies an activation by name: 'relu', 'tanh', 'sigmoid', 'softmax', 'linear'."""

    def __init__(self, activation, **kwargs):
        super().__init__(activation=activation, **kwargs)

    def forward(self, x, training):
        return x

    def get_config(self):
        return {**super().get_config(), 'activation': self.activation_name}


class Rescaling(Layer):
    """y = x * scale + offset, elementwise; keeps the shape.

    Keras uses it to bring pixels into a range (``Rescaling(1 / 255)``); the
    fast CIFAR-10 recipe uses it to scale its logits by 1/9, which changes how
    large the last layer's steps are relative to its weights.
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = number('Rescaling', 'scale', scale, 'a finite number', math.isfinite)
        self.offset = number('Rescaling', 'offset', offset, 'a finite number', math.isfinite)

    def forward(self, x, training):
        return x * self.scale + self.offset if self.offset else x * self.scale

    def get_config(self):
        return {**super().get_config(), 'scale': self.scale, 'offset': self.offset}


class Lambda(Layer):
    """A layer that applies a function of Tensors: ``Lambda(lambda x: x * 2)``.

    ``function(inputs, **arguments)`` sees Tensors (or a list of them) and
    builds its result from Tensor operators and minicnn.functional, which
    know their gradients. ``output_shape``: one sample's output shape, or a
    function of Keras's input shape that gives Keras's output shape; by
    default it is found by applying the function to a batch of zeros.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if mask is not None:
            raise TypeError("Lambda(mask=...) is a Keras argument that minicnn does not "
                            "implement (minicnn has no masking)")
        if not callable(function):
            raise TypeError(f'Lambda: function must be callable, got {function!r}')
        self.function, self.output_shape_given = function, output_shape
        self.arguments = dict(arguments or {})

    def forward(self, x, training):
        return self.function(x, **self.arguments)

    def compute_output_shape(self, input_shape):
        given = self.output_shape_given
        if callable(given):  # Keras calls it with Keras's shape, batch axis first
            return tuple(given(with_batch_axis(input_shape)))[1:]
        if given is not None:
            return tuple(given)
        return inferred_output_shape(self, input_shape)

    def get_config(self):
        raise NotImplementedError(
            f"layer '{self.name}' (Lambda) holds a Python function, which minicnn cannot "
            f"store in a file; save the weights (save_weights) and rebuild the model in code")
