"""The Layer: owns its weights, builds them on first use, checks its input.

A subclass writes ``build(input_shape)`` (create weights with ``add_weight``),
``forward(x, training)`` (a few minicnn.functional calls),
``compute_output_shape(input_shape)`` and ``get_config()``. Shapes here
leave out the batch axis, as Keras's ``input_shape`` does; a layer that
takes several inputs (Add, Concatenate) gets a list of them, and lists of
shapes.

Called on arrays or Tensors, a layer computes. Called on a ``SymbolicTensor``
(what ``Input(shape)`` returns), it only records the call and returns a new
SymbolicTensor of its output's shape: that is how a functional ``Model`` is
described (see minicnn/models.py).
"""
import collections
import re

import numpy as np

from minicnn import activations, devices, initializers, regularizers
from minicnn.arguments import checked_shape, keyword_names, reject_unknown
from minicnn.autograd import Tensor, as_tensor

_name_counts = collections.Counter()


def unique_name(base):
    """'conv2d', then 'conv2d_1', 'conv2d_2', ... as Keras names layers."""
    count = _name_counts[base]
    _name_counts[base] += 1
    return base if count == 0 else f'{base}_{count}'


def snake_case(class_name):
    """'MaxPooling2D' -> 'max_pooling2d', 'ReLU' -> 're_lu': the Keras default layer name.

    Keras's rule: an underscore before each capital that starts a word of
    lower-case letters, and between a lower-case letter and a capital.
    """
    name = re.sub('(.)([A-Z][a-z]+)', r'\1_\2', class_name)
    return re.sub('([a-z])([A-Z])', r'\1_\2', name).lower()


class SymbolicTensor:
    """A placeholder for the values a layer will output: their Keras shape
    (batch axis None) and the call that makes them, ``layer(inputs)``.

    Following ``inputs`` back from a model's outputs gives its graph of
    layer calls, just as ``creator.inputs`` gives a Tensor's graph of Functions.
    """

    def __init__(self, shape, layer=None, inputs=()):
        self.shape = tuple(shape)
        self.layer, self.inputs = layer, inputs

    def __repr__(self):
        made_by = f' from {self.layer.name!r}' if self.layer is not None else ''
        return f'<SymbolicTensor shape={self.shape}{made_by}>'


def is_symbolic(x):
    return isinstance(x, SymbolicTensor) or (
        isinstance(x, (list, tuple)) and any(isinstance(t, SymbolicTensor) for t in x))


def shapes_of(x):
    """The per-sample shape of a batch, or a list of them for a list of batches."""
    if isinstance(x, (list, tuple)):
        return [shapes_of(t) for t in x]
    return tuple(x.shape[1:])


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
        self._weights = []
        self.trainable = trainable
        self.sample_shape = (None if input_shape is None else
                             checked_shape(type(self).__name__, 'input_shape', input_shape))
        self.built = False

    @property
    def trainable(self):
        """Whether fit updates this layer's weights. Setting it to False freezes
        them: they then need no gradient, so backward skips their work too."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for weight in self._weights:
            weight.requires_grad = self._trainable

    @property
    def weights(self):
        """The layer's weight Tensors, in Keras's order (kernel, then bias)."""
        return self._weights

    @property
    def trainable_weights(self):
        return self.weights if self.trainable else []

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    def add_weight(self, name, shape, initializer, dtype='float32'):
        """Create a trainable Tensor ``'<layer>/<name>'`` of ``shape`` filled by ``initializer``."""
        weight = Tensor(initializers.get(initializer)(tuple(shape), dtype=dtype),
                        requires_grad=self.trainable, name=f'{self.name}/{name}')
        self._weights.append(weight)
        return weight

    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (no batch axis)."""
        self.sample_shape = tuple(input_shape)
        self.built = True

    @property
    def input_shape(self):
        """(None, *sample_shape), as Keras reports it (a list for several inputs)."""
        if self.sample_shape is None:
            raise AttributeError(f"layer '{self.name}' has no input shape yet: it has not been "
                                 f"built or called, and was given no input_shape")
        return with_batch_axis(self.sample_shape)

    @property
    def output_shape(self):
        """(None, *output shape of one sample), as Keras reports it."""
        return with_batch_axis(self.compute_output_shape(self.sample_shape))

    def __call__(self, x, training=False):
        """Run the layer: its activation of ``pre_activation(x)``; on a
        SymbolicTensor, record the call instead (see the module docstring)."""
        if is_symbolic(x):
            return self.call_symbolic(x)
        z = self.pre_activation(x, training)
        return z if self.activation is None else self.activation(z)

    def pre_activation(self, x, training=False):
        """The layer's output before its activation (the logits of a softmax layer).

        Builds the weights on first use and checks the input's shape.
        """
        if isinstance(x, (list, tuple)):
            x = [as_tensor(t) for t in x]
            self.check_input(shapes_of(x), [tuple(t.shape) for t in x])
        else:
            x = as_tensor(x)
            self.check_input(shapes_of(x), tuple(x.shape))
        return self.forward(x, training)

    def call_symbolic(self, x):
        """Record ``self(x)`` for SymbolicTensor(s) x: -> a SymbolicTensor of the output."""
        shapes = shapes_of(x)
        self.check_input(shapes, [t.shape for t in x] if isinstance(x, (list, tuple)) else x.shape)
        return SymbolicTensor(with_batch_axis(self.compute_output_shape(shapes)), self, x)

    def forward(self, x, training):
        raise NotImplementedError

    @property
    def losses(self):
        """The penalties this layer adds to the training loss (Keras's
        ``layer.losses``): none, unless it has regularizers (WeightedLayer)."""
        return []

    def check_input(self, shapes, shown):
        """Build for inputs of ``shapes`` on first use; afterwards they must match."""
        if not self.built:
            self.build(shapes)
        elif shapes != self.sample_shape:
            raise ValueError(f"layer '{self.name}' expects inputs of shape "
                             f"{self.input_shape}, got {shown}")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def count_params(self):
        return sum(w.size for w in self.weights)

    def get_weights(self):
        """Copies of the weights as NumPy arrays (kernel, then bias), as in Keras.

        Copies, so that ``w = layer.get_weights()`` keeps these values while
        training goes on changing the layer's own arrays.
        """
        return [np.array(devices.to_numpy(w.data), copy=True) for w in self.weights]

    def set_weights(self, arrays):
        """Copy ``arrays`` (in get_weights() order) into the weights; shapes must match."""
        arrays = list(arrays)
        if len(arrays) != len(self.weights):
            raise ValueError(f"set_weights: {type(self).__name__} '{self.name}' has "
                             f"{len(self.weights)} weight arrays, got {len(arrays)}")
        for weight, array in zip(self.weights, arrays):
            if tuple(np.shape(array)) != weight.shape:
                raise ValueError(f"set_weights: weight '{weight.name}' has shape {weight.shape}, "
                                 f"got an array of shape {tuple(np.shape(array))}")
        for weight, array in zip(self.weights, arrays):
            # Written into the existing array: the layer keeps its own storage,
            # and the caller's array is never shared with the model.
            weight.data[...] = devices.to_device(array, weight.device)

    @classmethod
    def from_config(cls, config):
        """The layer that ``get_config()`` describes (new weights)."""
        return cls(**config)

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


def with_batch_axis(shape):
    """(None, *shape), or a list of those for a list of shapes."""
    if isinstance(shape, list):
        return [with_batch_axis(s) for s in shape]
    return (None, *shape)


def constructor_keywords(cls):
    """Every keyword the constructors along ``cls``'s class chain accept."""
    return set().union(*(keyword_names(c.__init__) for c in cls.__mro__
                         if '__init__' in vars(c) and c is not object))


class WeightedLayer(Layer):
    """A layer with a kernel, an optional bias and an activation (Conv2D, Dense).

    kernel_regularizer and bias_regularizer penalize the weights,
    activity_regularizer the layer's outputs (divided by the batch size, as
    Keras does); ``losses`` lists the penalties (see minicnn/regularizers.py).
    """

    def __init__(self, activation=None, use_bias=True, kernel_initializer='glorot_uniform',
                 bias_initializer='zeros', kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, **kwargs):
        super().__init__(activation=activation, **kwargs)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.activity_penalty = None  # the activity regularizer's, of the latest call
        self.kernel = self.bias = None

    def pre_activation(self, x, training=False):
        """Layer's, and with an activity regularizer its penalty of this call's
        activated outputs. Taken here, it is the same when training fuses the
        activation into the loss and never calls it (an unfused step then runs
        the activation twice: the price of regularizing it)."""
        z = super().pre_activation(x, training)
        if self.activity_regularizer is not None:
            y = z if self.activation is None else self.activation(z)
            self.activity_penalty = self.activity_regularizer(y) / y.shape[0]
        return z

    @property
    def losses(self):
        """The regularizers' penalties: of the trainable kernel and bias (a frozen
        layer's weights are not penalized, as in Keras) and of the latest outputs."""
        trainable = {id(w) for w in self.trainable_weights}
        penalties = [regularizer(weight) for regularizer, weight in
                     ((self.kernel_regularizer, self.kernel), (self.bias_regularizer, self.bias))
                     if regularizer is not None and id(weight) in trainable]
        return penalties if self.activity_penalty is None else [*penalties, self.activity_penalty]

    def build_weights(self, kernel_shape, units):
        self.kernel = self.add_weight('kernel', kernel_shape, self.kernel_initializer)
        if self.use_bias:
            self.bias = self.add_weight('bias', (units,), self.bias_initializer)

    def get_config(self):
        return {**super().get_config(), 'activation': self.activation_name,
                'use_bias': self.use_bias,
                'kernel_initializer': initializers.serialize(self.kernel_initializer),
                'bias_initializer': initializers.serialize(self.bias_initializer),
                'kernel_regularizer': regularizers.serialize(self.kernel_regularizer),
                'bias_regularizer': regularizers.serialize(self.bias_regularizer),
                'activity_regularizer': regularizers.serialize(self.activity_regularizer)}
