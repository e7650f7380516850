"""The Layer: owns its weights, builds them on first use, checks its input.

A subclass writes ``build(input_shape)`` (create weights with ``add_weight``),
``forward(x, training)`` (a few minicnn.functional calls),
``compute_output_shape(input_shape)`` and ``get_config()``. Shapes here
leave out the batch axis, as Keras's ``input_shape`` does.
"""
import collections

from minicnn import activations, initializers
from minicnn.autograd import Tensor, as_tensor

_name_counts = collections.Counter()


def unique_name(base):
    """'conv2d', then 'conv2d_1', 'conv2d_2', ... as Keras names layers."""
    count = _name_counts[base]
    _name_counts[base] += 1
    return base if count == 0 else f'{base}_{count}'


def snake_case(class_name):
    """'MaxPooling2D' -> 'max_pooling2d', the Keras default layer name."""
    out = ''.join('_' + c.lower() if c.isupper() else c for c in class_name).lstrip('_')
    return out.replace('2_d', '2d')


class Layer:
    def __init__(self, activation=None, name=None, input_shape=None, trainable=True):
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.activation_name, self.activation = activations.get(activation)
        self.trainable = trainable
        self.input_shape = tuple(input_shape) if input_shape is not None else None
        self.weights = []
        self.built = False

    def add_weight(self, shape, initializer, dtype='float32'):
        """Create a trainable Tensor of ``shape`` filled by ``initializer``."""
        weight = Tensor(initializers.get(initializer)(tuple(shape), dtype=dtype),
                        requires_grad=self.trainable)
        self.weights.append(weight)
        return weight

    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (no batch axis)."""
        self.input_shape = tuple(input_shape)
        self.built = True

    def __call__(self, x, training=False, activate=True):
        """Run the layer; ``activate=False`` leaves out its activation (fused losses)."""
        x = as_tensor(x)
        if not self.built:
            self.build(x.shape[1:])
        elif tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"layer '{self.name}' expects inputs of shape "
                             f"{(None, *self.input_shape)}, got {tuple(x.shape)}")
        y = self.forward(x, training)
        return y if self.activation is None or not activate else self.activation(y)

    def forward(self, x, training):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def count_params(self):
        return sum(w.size for w in self.weights)

    def get_config(self):
        """The constructor arguments that rebuild this layer (Keras style)."""
        config = {'name': self.name, 'trainable': self.trainable}
        if self.input_shape is not None:
            config['input_shape'] = list(self.input_shape)
        return config

    def __repr__(self):
        return f'<{type(self).__name__} {self.name!r}>'


class WeightedLayer(Layer):
    """A layer with a kernel, an optional bias and an activation (Conv2D, Dense)."""

    def __init__(self, activation=None, use_bias=True, kernel_initializer='glorot_uniform',
                 bias_initializer='zeros', **kwargs):
        super().__init__(activation=activation, **kwargs)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel = self.bias = None

    def build_weights(self, kernel_shape, units):
        self.kernel = self.add_weight(kernel_shape, self.kernel_initializer)
        if self.use_bias:
            self.bias = self.add_weight((units,), self.bias_initializer)

    def get_config(self):
        return {**super().get_config(), 'activation': self.activation_name,
                'use_bias': self.use_bias,
                'kernel_initializer': initializers.serialize(self.kernel_initializer),
                'bias_initializer': initializers.serialize(self.bias_initializer)}
