"""The Layer: owns its weights, builds them on first use, checks its input.

A subclass writes ``build(input_shape)`` (create weights with ``add_weight``),
``forward(x, training)`` (a few minicnn.functional calls),
``compute_output_shape(input_shape)`` and ``get_config()``. Shapes here
leave out the batch axis, as Keras's ``input_shape`` does.
"""
import collections

import numpy as np

from minicnn import activations, backend, initializers
from minicnn.arguments import keyword_names, reject_unknown
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
    """The base of every layer.

    ``sample_shape`` is the shape of one input sample (no batch axis), known
    once the layer is built; ``input_shape`` and ``output_shape`` give the
    Keras form, with the batch axis as None: ``(None, 32, 32, 3)``.
    """

    def __init__(self, activation=None, name=None, input_shape=None, trainable=True,
                 **unknown):
        reject_unknown(type(self).__name__, unknown, constructor_keywords(type(self)))
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.activation_name, self.activation = activations.get(activation)
        self.weights = []
        self.trainable = trainable
        self.sample_shape = tuple(input_shape) if input_shape is not None else None
        self.built = False

    @property
    def trainable(self):
        """Whether fit updates this layer's weights. Setting it to False freezes
        them: they then need no gradient, so backward skips their work too."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for weight in self.weights:
            weight.requires_grad = self._trainable

    def add_weight(self, name, shape, initializer, dtype='float32'):
        """Create a trainable Tensor ``'<layer>/<name>'`` of ``shape`` filled by ``initializer``."""
        weight = Tensor(initializers.get(initializer)(tuple(shape), dtype=dtype),
                        requires_grad=self.trainable, name=f'{self.name}/{name}')
        self.weights.append(weight)
        return weight

    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (no batch axis)."""
        self.sample_shape = tuple(input_shape)
        self.built = True

    @property
    def input_shape(self):
        """(None, *sample_shape), as Keras reports it."""
        if self.sample_shape is None:
            raise AttributeError(f"layer '{self.name}' has no input shape yet: it has not been "
                                 f"built or called, and was given no input_shape")
        return (None, *self.sample_shape)

    @property
    def output_shape(self):
        """(None, *output shape of one sample), as Keras reports it."""
        return (None, *self.compute_output_shape(self.input_shape[1:]))

    def __call__(self, x, training=False):
        """Run the layer: its activation of ``pre_activation(x)``."""
        z = self.pre_activation(x, training)
        return z if self.activation is None else self.activation(z)

    def pre_activation(self, x, training=False):
        """The layer's output before its activation (the logits of a softmax layer).

        Builds the weights on first use and checks the input's shape.
        """
        x = as_tensor(x)
        if not self.built:
            self.build(x.shape[1:])
        elif tuple(x.shape[1:]) != self.sample_shape:
            raise ValueError(f"layer '{self.name}' expects inputs of shape "
                             f"{self.input_shape}, got {tuple(x.shape)}")
        return self.forward(x, training)

    def forward(self, x, training):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def count_params(self):
        return sum(w.size for w in self.weights)

    def get_weights(self):
        """Copies of the weights as NumPy arrays (kernel, then bias), as in Keras.

        Copies, so that ``w = layer.get_weights()`` keeps these values while
        training goes on changing the layer's own arrays.
        """
        return [np.array(backend.to_numpy(w.data), copy=True) for w in self.weights]

    def set_weights(self, arrays):
        """Copy ``arrays`` (in get_weights() order) into the weights; shapes must match."""
        arrays = list(arrays)
        if len(arrays) != len(self.weights):
            raise ValueError(f"set_weights: layer '{self.name}' has {len(self.weights)} weight "
                             f"arrays, got {len(arrays)}")
        for weight, array in zip(self.weights, arrays):
            if tuple(np.shape(array)) != weight.shape:
                raise ValueError(f"set_weights: weight '{weight.name}' has shape {weight.shape}, "
                                 f"got an array of shape {tuple(np.shape(array))}")
        for weight, array in zip(self.weights, arrays):
            # Written into the existing array: the layer keeps its own storage,
            # and the caller's array is never shared with the model.
            weight.data[...] = backend.to_device(array, weight.device)

    def get_config(self):
        """The constructor arguments that rebuild this layer (Keras style)."""
        config = {'name': self.name, 'trainable': self.trainable}
        if self.sample_shape is not None:
            config['input_shape'] = list(self.sample_shape)
        return config

    def __repr__(self):
        return f'<{type(self).__name__} {self.name!r}>'

    @classmethod
    def subclasses(cls):
        """Every public layer class by name (for rebuilding saved models)."""
        found, todo = {}, [cls]
        while todo:
            for sub in todo.pop().__subclasses__():
                todo.append(sub)
                if not sub.__name__.startswith('_'):
                    found[sub.__name__] = sub
        return found


def constructor_keywords(cls):
    """Every keyword the constructors along ``cls``'s class chain accept."""
    return set().union(*(keyword_names(c.__init__) for c in cls.__mro__
                         if '__init__' in vars(c) and c is not object))


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
        self.kernel = self.add_weight('kernel', kernel_shape, self.kernel_initializer)
        if self.use_bias:
            self.bias = self.add_weight('bias', (units,), self.bias_initializer)

    def get_config(self):
        return {**super().get_config(), 'activation': self.activation_name,
                'use_bias': self.use_bias,
                'kernel_initializer': initializers.serialize(self.kernel_initializer),
                'bias_initializer': initializers.serialize(self.bias_initializer)}
