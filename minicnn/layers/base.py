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
described (see minicnn/models/). The layer keeps what its calls made:
``layer.output`` and ``layer.input``, which Keras's backend functions
(minicnn/backend/symbolic.py) compute with.
"""
import contextlib
import re

import numpy as np

from minicnn import activations, devices, initializers, missing, regularizers
from minicnn.arguments import checked_shape, keyword_names, reject_unknown
from minicnn.autograd import Tensor, as_tensor, no_grad
from minicnn.missing import MissingFeatureError
from minicnn.backend import get_uid
from minicnn.backend.symbolic import Symbolic
from minicnn.functional.activation_functions import ReLU, writable_in_place

def unique_name(base):
    """'conv2d', then 'conv2d_1', 'conv2d_2', ... as Keras names layers."""
    uid = get_uid(base)
    return base if uid == 1 else f'{base}_{uid - 1}'


def snake_case(class_name):
    """'MaxPooling2D' -> 'max_pooling2d', 'ReLU' -> 're_lu': the Keras default layer name.

    Keras's rule: an underscore before each capital that starts a word of
    lower-case letters, and between a lower-case letter and a capital.
    """
    name = re.sub('(.)([A-Z][a-z]+)', r'\1_\2', class_name)
    return re.sub('([a-z])([A-Z])', r'\1_\2', name).lower()


# -- the training flag of the call being run ------------------------------------
# Keras's call context: a layer called inside another's call without a
# ``training`` argument (``self.dropout(x)`` in a subclass's ``call``) takes
# the flag of the call around it, so fit's training=True reaches every layer.

_training_flags = [False]  # a stack: the flag of each call being run, innermost last


def resolve_training(training):
    """``training``, or where it is None the flag of the enclosing call (False outside any)."""
    return _training_flags[-1] if training is None else bool(training)


@contextlib.contextmanager
def training_scope(training):
    """Run the calls inside with ``training`` as their flag when they are given none."""
    _training_flags.append(training)
    try:
        yield
    finally:
        _training_flags.pop()


# -- Keras's tracking of sublayers ----------------------------------------------

def holds_layers(value):
    """Whether ``value`` is a Layer, or a list, tuple or dict holding one."""
    if isinstance(value, Layer):
        return True
    items = value.values() if isinstance(value, dict) else value \
        if isinstance(value, (list, tuple)) else ()
    return any(holds_layers(v) for v in items)


def layers_in(value):
    """The Layers in ``value`` (see holds_layers), in order, lists and dicts opened."""
    if isinstance(value, Layer):
        yield value
    elif isinstance(value, (list, tuple, dict)):
        for v in (value.values() if isinstance(value, dict) else value):
            yield from layers_in(v)


class SymbolicTensor(Symbolic):
    """A placeholder for the values a layer will output: their Keras shape
    (batch axis None) and the call that makes them, ``layer(inputs)``.

    Following ``inputs`` back from a model's outputs gives its graph of
    layer calls, just as ``creator.inputs`` gives a Tensor's graph of Functions.
    Sliced and combined by Keras's backend functions, it makes Expressions
    (minicnn/backend/symbolic.py).
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

    A subclass written as Keras writes layers, with ``call(inputs)`` (and
    perhaps ``training``) rather than ``forward``, is run as Keras runs it: its
    own ``build`` and ``compute_output_shape`` get and give shapes with the
    batch axis first, and without a ``compute_output_shape`` its output shape
    is found by calling it on a batch of zeros (see ``keras_style_subclass``).
    """
    keras_style = False
    built = False  # True once build has made the weights
    # No activation unless the constructor names one (a model's are properties).
    activation_name, activation = 'linear', None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if 'call' in vars(cls) and 'forward' not in vars(cls):
            keras_style_subclass(cls)

    def __init__(self, activation=None, name=None, input_shape=None, trainable=True,
                 input_dim=None, batch_input_shape=None, batch_size=None, dtype=None,
                 weights=None, dynamic=False, activity_regularizer=None, **unknown):
        """Keras's arguments of every layer: ``input_shape`` (one sample's shape),
        or ``batch_input_shape`` (the batch axis first, None), or ``input_dim``
        (flat inputs of that many features); ``weights``, the initial weights
        (checked and set when the layer builds); ``dtype`` float32; ``dynamic``
        (minicnn always runs eagerly, as a dynamic Keras layer does);
        ``activity_regularizer``, a penalty of the layer's outputs (divided by
        the batch size, as Keras does), listed in ``losses``."""
        where = type(self).__name__
        reject_unknown(where, unknown, constructor_keywords(type(self)))
        self.name = name or unique_name(snake_case(where))
        if activation is not None:
            self.activation_name, self.activation = activations.named(activation)
        self._weights = []
        self._untrained = set()  # ids of the weights made with add_weight(trainable=False)
        self._weight_penalties = []  # (regularizer, weight) pairs of add_weight(regularizer=)
        self.trainable = trainable
        check_dtype(where, dtype)
        self.sample_shape = sample_shape_from(where, input_shape, input_dim, batch_input_shape,
                                              batch_size)
        self.initial_weights = None if weights is None else list(weights)
        self.dynamic = bool(dynamic)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.activity_penalty = None  # the activity regularizer's, of the latest call
        self.calls = []  # the SymbolicTensor each symbolic call made, in order

    def __setattr__(self, name, value):
        """Keras's tracking: a Layer set as an attribute (or a list, tuple or dict
        of them) is a sublayer, whose weights are this layer's too (see sublayers)."""
        if holds_layers(value):
            if '_weights' not in vars(self):
                raise RuntimeError(f'{type(self).__name__}: call super().__init__() in __init__ '
                                   f'before setting the layer attribute {name!r}')
            vars(self).setdefault('_tracked', {})[name] = value
        elif name in vars(self).get('_tracked', {}):
            del self._tracked[name]
        super().__setattr__(name, value)

    def sublayers(self):
        """The layers set as this one's attributes, each once, in the order set
        (Keras's tracked layers); lists and dicts appended to later count too."""
        found = {}
        for value in vars(self).get('_tracked', {}).values():
            for layer in layers_in(value):
                found.setdefault(id(layer), layer)
        found.pop(id(self), None)
        return list(found.values())

    @property
    def trainable(self):
        """Whether fit updates this layer's weights. Setting it to False freezes
        them (its sublayers' too): they then need no gradient, so backward skips
        their work too."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for weight in self._weights:
            weight.requires_grad = self._trainable and id(weight) not in self._untrained
        for layer in self.sublayers():
            layer.trainable = value

    @property
    def weights(self):
        """The layer's weight Tensors, in Keras's order (kernel, then bias); with
        sublayers, Keras's: the trainable ones (its own, then the sublayers'),
        then the others."""
        if not self.sublayers():
            return self._weights
        return [*self.trainable_weights, *self.non_trainable_weights]

    @property
    def trainable_weights(self):
        """The weights fit updates: none of a frozen layer, and never those made
        with ``add_weight(trainable=False)`` (BatchNormalization's statistics)."""
        own = [w for w in self._weights if self.trainable and id(w) not in self._untrained]
        return [*own, *(w for layer in self.sublayers() for w in layer.trainable_weights)]

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.trainable_weights}
        own = [w for w in self._weights if id(w) not in trainable]
        return [*own, *(w for layer in self.sublayers() for w in layer.non_trainable_weights)]

    # Keras's names for what minicnn does one way only: float32 throughout, no
    # masks, no states carried between batches, no input checks but the layer's own.
    dtype = compute_dtype = variable_dtype = 'float32'
    supports_masking = stateful = False
    input_spec = None
    variables = property(lambda self: self.weights, doc="Keras's other name for weights")
    trainable_variables = property(lambda self: self.trainable_weights,
                                   doc="Keras's other name for trainable_weights")
    non_trainable_variables = property(lambda self: self.non_trainable_weights,
                                       doc="Keras's other name for non_trainable_weights")

    def add_variable(self, *args, **kwargs):
        """Keras 2's older name for ``add_weight``."""
        return self.add_weight(*args, **kwargs)

    def add_weight(self, name=None, shape=None, dtype=None, initializer=None, regularizer=None,
                   trainable=True, constraint=None):
        """Create a weight Tensor ``'<layer>/<name>'`` of ``shape`` filled by
        ``initializer`` (Keras's default: glorot_uniform), as Keras's
        ``add_weight`` does; ``trainable=False`` makes one that fit leaves alone,
        ``regularizer`` adds its penalty to ``losses``."""
        if shape is None:
            raise ValueError(f"layer '{self.name}': add_weight({name!r}) needs a shape")
        if constraint is not None:
            raise TypeError(f"layer '{self.name}': add_weight(constraint=...) is a Keras "
                            f"argument that minicnn does not implement")
        check_dtype(f'add_weight({name!r})', dtype)
        initializer = 'glorot_uniform' if initializer is None else initializer
        weight = Tensor(initializers.get(initializer)(tuple(shape), dtype='float32'),
                        requires_grad=self.trainable and trainable,
                        name=f'{self.name}/{name or f"weight_{len(self._weights)}"}')
        self._weights.append(weight)
        if not trainable:
            self._untrained.add(id(weight))
        if regularizer is not None:
            self._weight_penalties.append((regularizers.get(regularizer), weight))
        return weight

    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (no batch axis).
        A subclass creates its weights first, then calls this."""
        self.sample_shape = tuple(input_shape)
        self.built = True
        self.set_initial_weights()

    def set_initial_weights(self):
        """Put the ``weights=`` given to the constructor (Keras 2's argument) into
        the weights just built; their number and shapes must match."""
        if self.initial_weights is not None:
            weights, self.initial_weights = self.initial_weights, None
            try:
                self.set_weights(weights)
            except ValueError as error:
                raise ValueError(f'{type(self).__name__}(weights=...): {error}') from None

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

    def __call__(self, x, training=None):
        """Run the layer: its activation of ``pre_activation(x)``; on a
        SymbolicTensor, record the call instead (see the module docstring).
        ``training`` None takes the flag of the call around it (False outside)."""
        if is_symbolic(x):
            return self.call_symbolic(x)
        return self.call_owning(x, training, owns_input=False)

    def call_owning(self, x, training=None, owns_input=True):
        """``self(x)``, told whether anything but this call reads ``x`` (inside
        a Sequential, nothing reads the output of the layer before but the
        next layer).

        A ReLU may then write its output over its input, as PyTorch's
        ``ReLU(inplace=True)``, and save one buffer of the output's size: over
        the input when the call owns it, over the pre-activation of one of
        minicnn's own layers (a fresh array; a subclass's forward might keep
        it), and only where the function that made it did not keep it for
        its backward (``writable_in_place``).
        """
        z = self.pre_activation(x, training)
        if self.activation is None:
            return z
        owned = owns_input if z is x else type(self).__module__.startswith('minicnn.layers')
        if owned and self.activation is activations.relu and writable_in_place(z):
            return ReLU(in_place=True)(z)
        return self.activation(z)

    def pre_activation(self, x, training=None):
        """The layer's output before its activation (the logits of a softmax layer).

        Builds the weights on first use and checks the input's shape. With an
        activity regularizer, also takes its penalty of this call's activated
        outputs. Taken here, it is the same when training fuses the activation
        into the loss and never calls it (an unfused step then runs the
        activation twice: the price of regularizing it).
        """
        if isinstance(x, (list, tuple)):
            x = [as_tensor(t) for t in x]
            self.check_input(shapes_of(x), [tuple(t.shape) for t in x])
        else:
            x = as_tensor(x)
            self.check_input(shapes_of(x), tuple(x.shape))
        training = resolve_training(training)
        with training_scope(training):
            z = self.forward(x, training)
        if self.activity_regularizer is not None:
            y = z if self.activation is None else self.activation(z)
            self.activity_penalty = self.activity_regularizer(y) / y.shape[0]
        return z

    def call_symbolic(self, x):
        """Record ``self(x)`` for SymbolicTensor(s) x: -> a SymbolicTensor of the output."""
        shapes = shapes_of(x)
        self.check_input(shapes, [t.shape for t in x] if isinstance(x, (list, tuple)) else x.shape)
        output = SymbolicTensor(with_batch_axis(self.compute_output_shape(shapes)), self, x)
        self.calls.append(output)
        return output

    @property
    def output(self):
        """The SymbolicTensor this layer's call made (Keras's ``layer.output``)."""
        return self._only_call('output')

    @property
    def input(self):
        """The SymbolicTensor(s) this layer was called on (Keras's ``layer.input``)."""
        return self._only_call('input').inputs

    def get_output_at(self, node_index):
        """The output of this layer's call number ``node_index`` (a shared layer's)."""
        return self._call_at(node_index, 'get_output_at')

    def get_input_at(self, node_index):
        """The input of this layer's call number ``node_index``."""
        return self._call_at(node_index, 'get_input_at').inputs

    def _only_call(self, what):
        if not self.calls:
            raise AttributeError(f"layer '{self.name}' has never been called on a symbolic "
                                 f"tensor, so it has no {what}; build the model with an input "
                                 f"shape (or Input) first")
        if len(self.calls) > 1:
            raise AttributeError(f"layer '{self.name}' has been called {len(self.calls)} times, "
                                 f"so its {what} is not one tensor; use get_{what}_at(i)")
        return self.calls[0]

    def _call_at(self, node_index, where):
        if not isinstance(node_index, int) or not 0 <= node_index < len(self.calls):
            raise ValueError(f"{where}: layer '{self.name}' has {len(self.calls)} symbolic "
                             f"calls, got node_index {node_index!r}")
        return self.calls[node_index]

    def forward(self, x, training):
        """The layer's computation; one written as Keras writes layers runs its ``call``."""
        if not self.keras_style:
            raise NotImplementedError(f'{type(self).__name__} defines neither forward nor call')
        if 'training' in keyword_names(self.call):
            return self.call(x, training=training)
        return self.call(x)

    @property
    def losses(self):
        """The penalties this layer adds to the training loss (Keras's
        ``layer.losses``): those of ``add_weight(regularizer=)`` on trainable
        weights, and its activity regularizer's of the latest call, if any
        (a WeightedLayer adds its kernel's and bias's)."""
        trainable = {id(w) for w in self.trainable_weights}
        penalties = [regularizer(w) for regularizer, w in self._weight_penalties
                     if id(w) in trainable]
        penalties += [p for layer in self.sublayers() for p in layer.losses]
        return penalties if self.activity_penalty is None else [*penalties, self.activity_penalty]

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
        if self.activity_regularizer is not None:
            config['activity_regularizer'] = regularizers.serialize(self.activity_regularizer)
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


missing.install_members(Layer, 'layers.Layer')


def check_dtype(where, dtype):
    """minicnn's layers compute in float32: dtype None or float32, else refused."""
    try:
        float32 = dtype is None or np.dtype(dtype) == np.float32
    except TypeError:  # a mixed-precision policy such as 'mixed_float16'
        float32 = False
    if not float32:
        raise MissingFeatureError(f'{where}(dtype={dtype!r}): minicnn computes in float32 only')


def check_any_batch_size(where, name, value, batch):
    if batch is not None:
        raise MissingFeatureError(
            f'{where}({name}={value!r}) fixes the batch size to {batch}; minicnn models take '
            f'batches of any size, so give None there')


def sample_shape_from(where, input_shape, input_dim, batch_input_shape, batch_size):
    """One sample's shape from Keras's shape arguments, as Keras ranks them:
    batch_input_shape (batch axis first) over input_shape over input_dim."""
    check_any_batch_size(where, 'batch_size', batch_size, batch_size)
    if batch_input_shape is not None:
        batch_input_shape = tuple(batch_input_shape)
        check_any_batch_size(where, 'batch_input_shape', batch_input_shape,
                             batch_input_shape[0] if batch_input_shape else None)
        return checked_shape(where, 'batch_input_shape[1:]', batch_input_shape[1:])
    if input_shape is not None:
        return checked_shape(where, 'input_shape', input_shape)
    return None if input_dim is None else checked_shape(where, 'input_dim', (input_dim,))


def keras_style_subclass(cls):
    """Let the class ``cls``, written as Keras writes layers, keep Keras's shapes
    (batch axis first) in its own ``build`` and ``compute_output_shape``, while
    minicnn's machinery calls them with one sample's shape."""
    cls.keras_style = True
    own_build = vars(cls).get('build')
    own_output_shape = vars(cls).get('compute_output_shape')

    def build(self, input_shape):
        if own_build is not None:
            own_build(self, with_batch_axis(input_shape))
        Layer.build(self, input_shape)  # (again, if own_build called it with Keras's shape)

    def compute_output_shape(self, input_shape):
        if own_output_shape is not None:
            return without_batch_axis(own_output_shape(self, with_batch_axis(input_shape)))
        return inferred_output_shape(self, input_shape)

    build.__doc__ = own_build.__doc__ if own_build else Layer.build.__doc__
    cls.build, cls.compute_output_shape = build, compute_output_shape


def zeros_batch(shape):
    """A batch of one sample of zeros of ``shape`` (a list of them for a list of shapes)."""
    if isinstance(shape, list):
        return [zeros_batch(s) for s in shape]
    return as_tensor(np.zeros((1, *shape), 'float32'))


def inferred_output_shape(layer, input_shape):
    """The output shape of one sample, found as Keras finds it for a layer that
    does not say: by running the (built) layer on a batch of zeros."""
    with no_grad():
        return shapes_of(layer.forward(zeros_batch(input_shape), False))


def without_batch_axis(shape):
    """Keras's shape (None, *sample) -> the sample's shape (a list of them for a list)."""
    if isinstance(shape, list):
        return [without_batch_axis(s) for s in shape]
    return tuple(shape)[1:]


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

    kernel_regularizer and bias_regularizer penalize the weights (and, as on
    every layer, activity_regularizer the outputs); ``losses`` lists the
    penalties (see minicnn/regularizers.py).
    """

    def __init__(self, activation=None, use_bias=True, kernel_initializer='glorot_uniform',
                 bias_initializer='zeros', kernel_regularizer=None, bias_regularizer=None,
                 **kwargs):
        super().__init__(activation=activation, **kwargs)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel = self.bias = None

    @property
    def losses(self):
        """The regularizers' penalties: of the trainable kernel and bias (a frozen
        layer's weights are not penalized, as in Keras) and of the latest outputs."""
        trainable = {id(w) for w in self.trainable_weights}
        penalties = [regularizer(weight) for regularizer, weight in
                     ((self.kernel_regularizer, self.kernel), (self.bias_regularizer, self.bias))
                     if regularizer is not None and id(weight) in trainable]
        return [*penalties, *super().losses]

    def build_weights(self, kernel_shape, units):
        self.kernel = self.add_weight('kernel', kernel_shape, initializer=self.kernel_initializer)
        if self.use_bias:
            self.bias = self.add_weight('bias', (units,), initializer=self.bias_initializer)

    def get_config(self):
        return {**super().get_config(), 'activation': self.activation_name,
                'use_bias': self.use_bias,
                'kernel_initializer': initializers.serialize(self.kernel_initializer),
                'bias_initializer': initializers.serialize(self.bias_initializer),
                'kernel_regularizer': regularizers.serialize(self.kernel_regularizer),
                'bias_regularizer': regularizers.serialize(self.bias_regularizer),
                'activity_regularizer': regularizers.serialize(self.activity_regularizer)}
