"""Keras 2's backend functions on symbolic tensors: looking inside a model.

    K = minicnn.backend
    layer_output = model.get_layer('conv2d_1').output      # a SymbolicTensor (None, h, w, k)
    loss = K.mean(layer_output[:, :, :, 3])                 # an Expression, shape ()
    grads = K.gradients(loss, model.input)[0]               # an Expression, the input's shape
    iterate = K.function([model.input], [loss, grads])
    loss_value, grads_value = iterate([x])                  # NumPy arrays

Writing an expression computes nothing: like a SymbolicTensor, which
remembers the layer call that makes it, an ``Expression`` remembers a
backend function and its operands. Together they form one graph, from the
model's inputs through its layer calls to whatever was written on their
outputs. ``function`` evaluates it, with one interpreter (``evaluate``):
each node once per call, in topological order, on minicnn's autograd
Tensors, layers in inference mode. A gradient is then what autograd gives:
``gradients`` makes a node whose value is one backward pass
(``autograd.grad``) through what the forward walk recorded.

Each backend function is one line: its operation on Tensors (mostly a
minicnn.functional op) and the shape of its result, which Keras knows
before any data is seen (None for the batch axis). Called on autograd
Tensors (in a custom layer's ``call``, a Lambda, a loss), a backend function
runs that same operation at once and returns a Tensor, so gradients flow
through it; on arrays or numbers only, it returns a NumPy array.
What a K.function is fed may be a model's Input, any layer's output (to run
only the layers after it), a ``placeholder()`` or the ``learning_phase()``.
A symbolic operation minicnn lacks raises ``UnsupportedOperation``, naming it.
"""
import builtins
import contextlib
import functools
import math
import operator

import numpy as np

from minicnn import devices
from minicnn import functional as F
from minicnn.autograd import Function, Tensor, as_tensor, depth_first, grad, no_grad
from minicnn.functional.loss_functions import absolute_error
from minicnn.functional.loss_functions import clip as clip_values

# The Keras names minicnn.backend exports from here.
__all__ = ['abs', 'argmax', 'argmin', 'batch_flatten', 'cast', 'clip', 'concatenate', 'constant',
           'dot', 'elu', 'equal', 'exp', 'expand_dims', 'flatten', 'function', 'gradients',
           'greater', 'greater_equal', 'l2_normalize', 'learning_phase', 'less', 'less_equal',
           'log', 'max', 'maximum', 'mean', 'min', 'minimum', 'not_equal', 'ones_like',
           'permute_dimensions', 'placeholder', 'pow', 'prod', 'relu', 'reshape', 'set_learning_phase', 'shape',
           'sigmoid', 'sign', 'softmax', 'softplus', 'softsign', 'sqrt', 'square', 'squeeze',
           'stack', 'std', 'stop_gradient', 'sum', 'tanh', 'transpose', 'var', 'zeros_like']


class UnsupportedOperation(NotImplementedError):
    """A symbolic operation that minicnn does not implement."""


def unsupported(what, instead=''):
    return UnsupportedOperation(f'{what} is not implemented for minicnn\'s symbolic tensors'
                                + (f'; {instead}' if instead else ''))


class Symbolic:
    """A value a graph will compute: a layer's output (SymbolicTensor, in
    minicnn/layers/base.py) or a backend function's (Expression).

    ``shape`` is Keras's, None where the data decide (the batch axis);
    ``inputs`` are the nodes it is computed from. Python's operators build
    Expressions: ``t[:, 0] * 2 + 1``, ``-t``, ``1 / t``, ``t ** 2``, ``t > 0``,
    and so do NumPy's ufuncs: ``array * t``, ``np.exp(t)``.
    """

    __array_priority__ = 200  # above a Tensor's: tensor * t calls t.__rmul__
    differentiates = ()       # the nodes a gradient node takes derivatives by

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        """A NumPy ufunc given a symbolic tensor writes the backend function's
        expression: ``array + t``, ``np.sqrt(t)``, and ``loss += t`` for an array
        ``loss``, which then names the expression (as in Keras, where a variable
        plus a tensor is a new tensor)."""
        in_place = out is not None and len(out) == 1 and out[0] is inputs[0]
        if method != '__call__' or ufunc.__name__ not in _UFUNCS or kwargs or (
                out is not None and not in_place):
            raise unsupported(f"NumPy's {ufunc.__name__} (method {method!r}"
                              f"{', with ' + ', '.join(kwargs) if kwargs else ''})",
                              'use the functions of minicnn.backend')
        return _UFUNCS[ufunc.__name__](*inputs)

    def __add__(self, other):
        return _elementwise('add', operator.add, self, other)

    def __radd__(self, other):
        return _elementwise('add', operator.add, other, self)

    def __sub__(self, other):
        return _elementwise('subtract', operator.sub, self, other)

    def __rsub__(self, other):
        return _elementwise('subtract', operator.sub, other, self)

    def __mul__(self, other):
        return _elementwise('multiply', operator.mul, self, other)

    def __rmul__(self, other):
        return _elementwise('multiply', operator.mul, other, self)

    def __truediv__(self, other):
        return _elementwise('divide', operator.truediv, self, other)

    def __rtruediv__(self, other):
        return _elementwise('divide', operator.truediv, other, self)

    def __pow__(self, other):
        return pow(self, other)

    def __rpow__(self, other):
        return _elementwise('pow', operator.pow, other, self)

    def __neg__(self):
        return _apply('negative', operator.neg, [self], self.shape)

    def __abs__(self):
        return abs(self)

    def __matmul__(self, other):
        return dot(self, other)

    def __rmatmul__(self, other):
        return dot(other, self)

    # == and != stay Python's identity tests (a node is found in a list by
    # them); K.equal and K.not_equal compare values.
    def __gt__(self, other):
        return greater(self, other)

    def __ge__(self, other):
        return greater_equal(self, other)

    def __lt__(self, other):
        return less(self, other)

    def __le__(self, other):
        return less_equal(self, other)

    def __getitem__(self, index):
        """``t[:, :, :, 3]``, ``t[0]``, ``t[:, 5]``: NumPy's indexing, with its gradient."""
        if any(isinstance(i, Symbolic) for i in (index if isinstance(index, tuple) else (index,))):
            raise unsupported('indexing by a symbolic tensor', 'index by numbers or arrays')
        return _apply('getitem', lambda a: a[index], [self], _indexed_shape(self.shape, index))

    def __array__(self, *args, **kwargs):
        raise TypeError(f'{self!r} is symbolic: it has no values until K.function evaluates '
                        f'it, so it cannot be an array or a Tensor; write it with the '
                        f'functions of minicnn.backend, or evaluate it with K.function')

    def __bool__(self):
        raise TypeError('the truth value of a symbolic tensor is known only when K.function '
                        'evaluates it; compare the arrays it returns')

    def __iter__(self):
        raise TypeError('a symbolic tensor cannot be iterated; index it (t[0], t[:, 1]) or '
                        'evaluate it with K.function')

    def __len__(self):
        raise TypeError(f'a symbolic tensor of shape {self.shape} has no len(); use its '
                        f'.shape, or K.function to evaluate it')

    def __getattr__(self, name):
        # Only names not found otherwise come here: a method Keras's tensors
        # have (.numpy(), .eval(), .mean() from np.mean, ...) gets a reason.
        if name.startswith('_'):
            raise AttributeError(name)
        raise unsupported(f'.{name}', 'use the functions of minicnn.backend on symbolic '
                          'tensors, and K.function to get their values')


class Expression(Symbolic):
    """A backend function applied to operands: ``compute(*args)`` with each
    Symbolic among ``args`` replaced by its value (a Tensor, or an array for
    results without a gradient such as argmax's)."""

    def __init__(self, name, compute, args, shape, differentiates=()):
        self.name, self.compute, self.args = name, compute, list(args)
        self.inputs = [a for a in self.args if isinstance(a, Symbolic)]
        self.shape = None if shape is None else tuple(shape)
        self.differentiates = tuple(differentiates)

    def __repr__(self):
        return f'<Expression {self.name} shape={self.shape}>'


def operands(node):
    """The nodes ``node`` is computed from (a SymbolicTensor's inputs may be one
    node, a list, or () for an Input)."""
    return list(node.inputs) if isinstance(node.inputs, (list, tuple)) else [node.inputs]


# -- The interpreter -----------------------------------------------------------------

def evaluate(outputs, feeds, training=False):
    """The values of ``outputs`` (Symbolic nodes) given ``feeds``, {id(node): Tensor}.

    Every node the outputs need is computed once, after its operands; a fed
    node is not computed, nor what only it needs. Nodes that a gradient is
    taken by (``differentiates``) are made to want a gradient, and autograd
    records the graph only when some gradient is to be taken.
    """
    order = depth_first(outputs, lambda node: [] if id(node) in feeds else operands(node))
    targets = {id(v) for node in order for v in node.differentiates}
    values = {}
    with contextlib.nullcontext() if targets else no_grad(), _no_layer_updates(order, training):
        for node in order:
            value = feeds[id(node)] if id(node) in feeds else _compute(node, values, training)
            if id(node) in targets and isinstance(value, Tensor) and not value.requires_grad:
                value = Tensor(value.data, requires_grad=True)  # a leaf the gradient reaches
            values[id(node)] = value
    return [values[id(node)] for node in outputs]


def _compute(node, values, training):
    if isinstance(node, Expression):
        return node.compute(*[values[id(a)] if isinstance(a, Symbolic) else a for a in node.args])
    if node.inputs == ():  # an Input's placeholder
        raise ValueError(f"K.function: the outputs need the value of input "
                         f"'{node.layer.name}' {node.shape}; add it to the function's inputs")
    args = [values[id(i)] for i in node.inputs] if isinstance(node.inputs, (list, tuple)) \
        else values[id(node.inputs)]
    return node.layer(args, training)


@contextlib.contextmanager
def _no_layer_updates(nodes, training):
    """Layers run in training mode (learning phase 1) update what they keep
    (BatchNormalization's moving statistics); Keras's K.function runs no
    updates, so the untrained weights are put back as they were."""
    kept = [] if not training else [
        (w, w.data.copy()) for node in nodes if not isinstance(node, Expression)
        for w in node.layer.weights if not w.requires_grad]
    try:
        yield
    finally:
        for weight, data in kept:
            weight.data[...] = data


class _LearningPhase(Expression):
    """Keras 2's learning-phase placeholder: ``value`` (0, inference, unless
    set_learning_phase says otherwise), or what a K.function that lists it
    among its inputs is given (1 for training mode)."""

    def __init__(self):
        super().__init__('learning_phase', lambda: Tensor(np.float32(self.value)), [], ())
        self.value = 0


_LEARNING_PHASE = _LearningPhase()


def learning_phase():
    """The placeholder for the learning phase: list it among K.function's inputs
    and feed 0 or 1 to run the layers in inference or training mode."""
    return _LEARNING_PHASE


def set_learning_phase(value):
    """Run the layers of every K.function not fed a learning phase in inference
    (0) or training (1) mode."""
    _LEARNING_PHASE.value = int(_phase(value))


class Placeholder(Expression):
    """K.placeholder's node: a value that a K.function lists among its inputs."""

    def __init__(self, shape, dtype, name):
        super().__init__(name, self.not_fed, [], shape)
        self.dtype = np.dtype(dtype)

    def not_fed(self):
        raise ValueError(f"K.function: the outputs need the value of placeholder "
                         f"'{self.name}' {self.shape}; add it to the function's inputs")


def placeholder(shape=None, ndim=None, dtype='float32', sparse=False, name=None):
    """A symbolic tensor whose value K.function is given: of ``shape`` (the batch
    axis included, None where any size will do) or of ``ndim`` axes of any size."""
    if sparse:
        raise unsupported('K.placeholder(sparse=True)', 'minicnn has no sparse tensors')
    if shape is None and ndim is None:
        raise ValueError('K.placeholder: give shape (e.g. (None, 10)) or ndim')
    shape = tuple(shape) if shape is not None else (None,) * ndim
    if ndim is not None and ndim != len(shape):
        raise ValueError(f'K.placeholder: shape {shape} does not have ndim={ndim} axes')
    return Placeholder(shape, dtype, name or 'placeholder')


class BackendFunction:
    """What ``function(inputs, outputs)`` returns: call it with a list of arrays,
    one per input, for a list of NumPy arrays, one per output."""

    def __init__(self, inputs, outputs):
        self.single_input = not isinstance(inputs, (list, tuple))
        self.single_output = not isinstance(outputs, (list, tuple))
        self.inputs = [inputs] if self.single_input else list(inputs)
        self.outputs = [outputs] if self.single_output else list(outputs)
        for what, nodes in (('inputs', self.inputs), ('outputs', self.outputs)):
            wrong = [n for n in nodes if not isinstance(n, Symbolic)]
            if wrong:
                raise TypeError(f'K.function: {what} must be symbolic tensors (a model\'s or a '
                                f'layer\'s input or output, or expressions of them), got {wrong!r}')

    def __call__(self, arrays):
        arrays = [arrays] if self.single_input and not isinstance(arrays, (list, tuple)) \
            else list(arrays)
        if len(arrays) != len(self.inputs):
            raise ValueError(f'K.function: takes {len(self.inputs)} input arrays, one per '
                             f'input {self.inputs}, got {len(arrays)}')
        feeds, training = {}, bool(_LEARNING_PHASE.value)
        dtype = _weights_dtype(self.outputs)
        for node, array in zip(self.inputs, arrays):
            if node is _LEARNING_PHASE:
                training = _phase(array)
            feeds[id(node)] = _fed(node, array, None if node is _LEARNING_PHASE else
                                   node.dtype if isinstance(node, Placeholder) else dtype)
        values = [_to_numpy(v) for v in evaluate(self.outputs, feeds, training)]
        return values[0] if self.single_output else values


def function(inputs, outputs, updates=None, name=None, **kwargs):
    """A callable evaluating ``outputs`` from arrays given for ``inputs`` (Keras 2's
    K.function): ``f([x])`` -> [array, ...], one per output (one array for an
    output given alone). Inputs may be any symbolic tensors, Input placeholders
    or inner layer outputs, and K.learning_phase()."""
    if updates:
        raise unsupported('K.function(updates=...)', 'minicnn evaluates without updating '
                          'variables; train with model.fit or an optimizer instead')
    if kwargs:
        raise TypeError(f'K.function: unexpected arguments {sorted(kwargs)}')
    return BackendFunction(inputs, outputs)


def _phase(value):
    if value not in (0, 1):
        raise ValueError(f'K.function: the learning phase must be 0 (inference) or 1 '
                         f'(training), got {value!r}')
    return bool(value)


def _weights_dtype(outputs):
    """The dtype the layers that compute ``outputs`` hold their weights in, or
    None if they have none."""
    for node in depth_first(outputs, operands):
        if not isinstance(node, Expression) and node.layer.weights:
            return node.layer.weights[0].dtype
    return None


def _fed(node, array, dtype):
    """The array given for ``node`` as a Tensor of ``dtype`` (the model's, as
    Keras casts what it is fed to its placeholders' float type; None keeps a
    float array's own), its shape checked against the node's."""
    array = array.data if isinstance(array, Tensor) else array
    if not hasattr(array, 'shape'):
        array = np.asarray(array)
    shape = tuple(array.shape)
    if node.shape is not None and (len(shape) != len(node.shape) or any(
            want is not None and want != got for want, got in zip(node.shape, shape))):
        raise ValueError(f'K.function: the input {node!r} takes arrays of shape {node.shape}, '
                         f'got one of shape {shape}')
    data = devices.to_device(array)
    return Tensor(data if dtype is None else data.astype(dtype, copy=False))


def _to_numpy(value):
    """A NumPy array of its own (never a view of a fed array or of a layer's);
    a NumPy scalar for a single number, as TensorFlow's ``.numpy()`` gives."""
    array = np.array(devices.to_numpy(value.data if isinstance(value, Tensor) else value))
    return array[()] if array.ndim == 0 else array


# -- Building expressions --------------------------------------------------------------

def _apply(name, compute, args, shape):
    """``compute(*args)``: the Expression of it when an arg is symbolic; else its
    value at once, by the very op the interpreter would run. On autograd Tensors
    (a custom layer's ``call``, a loss) that value is a Tensor, recorded for the
    gradient; on arrays and numbers only, a NumPy array."""
    if any(isinstance(a, Symbolic) for a in args):
        return Expression(name, compute, args, shape)
    # numbers stay numbers, to take the dtype of the arrays they meet
    tensors = [a if isinstance(a, (int, float)) else as_tensor(a) for a in args]
    if any(isinstance(a, Tensor) for a in args):
        value = compute(*tensors)
        return value if isinstance(value, Tensor) else Tensor(value)  # argmax's: no gradient
    with no_grad():
        return _to_numpy(compute(*tensors))


def _shape_of(x):
    """A symbolic node's shape, or an array's or a number's."""
    if isinstance(x, Symbolic):
        return x.shape
    return tuple(np.shape(x.data if isinstance(x, Tensor) else x))


def _elementwise(name, op, a, b):
    """op(a, b) on Tensors, broadcasting as NumPy does; a number takes the dtype
    of the Tensor it meets."""
    def compute(x, y):
        x = as_tensor(x, like=y if isinstance(y, Tensor) else None)
        return op(x, as_tensor(y, like=x))
    return _apply(name, compute, [a, b], _broadcast_shape(name, _shape_of(a), _shape_of(b)))


def _data(value):
    return value.data if isinstance(value, Tensor) else value


def _array_result(name, op, args, shape):
    """An operation with no gradient (argmax, comparisons): its value is a plain
    array, which later operations take as a constant."""
    return _apply(name, lambda *vs: op(devices.get_array_module(_data(vs[0])),
                                       *[_data(v) for v in vs]), args, shape)


# -- Shapes, as Keras knows them before the data ---------------------------------------

def _broadcast_shape(name, a, b):
    """NumPy's broadcast of two shapes in which None is an unknown size."""
    if a is None or b is None:
        return None
    a, b = (1,) * (len(b) - len(a)) + tuple(a), (1,) * (len(a) - len(b)) + tuple(b)
    shape = []
    for m, n in zip(a, b):
        if m is not None and n is not None and m != n and 1 not in (m, n):
            raise ValueError(f'{name}: shapes {a} and {b} do not broadcast')
        known = [d for d in (m, n) if d not in (None, 1)]
        shape.append(known[0] if known else None if None in (m, n) else 1)
    return tuple(shape)


def _axes(axis, ndim, name='axis'):
    """Keras's axis (None, an int or a list of them, negative from the end) as
    sorted non-negative ints, checked against ndim."""
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    if not all(isinstance(a, (int, np.integer)) and -ndim <= a < ndim for a in axes):
        raise ValueError(f'{name} {axis!r} is out of range for a tensor of {ndim} axes')
    return tuple(sorted(int(a) % ndim for a in axes))


def _reduced_shape(shape, axes, keepdims):
    return tuple(1 if i in axes else d for i, d in enumerate(shape) if keepdims or i not in axes)


def _indexed_shape(shape, index):
    """The shape t[index] has: NumPy's indexing tried on an array of that shape
    that takes no memory (every element one), with two sizes in place of
    None to see which axes still depend on it."""
    probe = np.ones((), np.float32)
    first, second = ([n if n is not None else size for n in shape] for size in (101, 103))
    try:
        a = np.broadcast_to(probe, first)[index].shape
        b = np.broadcast_to(probe, second)[index].shape
    except (IndexError, TypeError, ValueError) as error:
        raise ValueError(f'getitem: cannot index a tensor of shape {shape} by {index!r}: '
                         f'{error}') from None
    return tuple(m if m == n else None for m, n in zip(a, b))


def _reshaped(shape, new):
    """Keras's reshape target (its batch axis included, one -1 allowed) with the
    -1 worked out where the size is known."""
    new = tuple(int(d) for d in new)
    if new.count(-1) > 1 or any(d < -1 or d == 0 for d in new):
        raise ValueError(f'reshape: the new shape {new} must have positive sizes and at most '
                         f'one -1')
    known = math.prod(d for d in new if d != -1)
    size = None if None in shape else math.prod(shape)
    if size is not None and (size % known if -1 in new else size != known):
        raise ValueError(f'reshape: a tensor of shape {shape} ({size} values) cannot take '
                         f'the shape {new}')
    return tuple(d if d != -1 else None if size is None else size // known for d in new)


# -- The backend functions: reductions -------------------------------------------------

def _reduction(name, op, x, axis, keepdims):
    axes = _axes(axis, len(_shape_of(x)))
    return _apply(name, lambda v: op(as_tensor(v), axes, keepdims), [x],
                  _reduced_shape(_shape_of(x), axes, keepdims))


def sum(x, axis=None, keepdims=False):  # noqa: A001 (Keras's name)
    """The sum over ``axis`` (an int, a list of them, or None for all)."""
    return _reduction('sum', lambda v, a, k: v.sum(a, k), x, axis, keepdims)


def mean(x, axis=None, keepdims=False):
    """The mean over ``axis`` (an int, a list of them, or None for all)."""
    return _reduction('mean', F.mean, x, axis, keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    """The maximum over ``axis``; its gradient is shared among tied maxima."""
    return _reduction('max', lambda v, a, k: v.max(a, k), x, axis, keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    """The minimum over ``axis``: -max(-x)."""
    return _reduction('min', lambda v, a, k: -(-v).max(a, k), x, axis, keepdims)


class Prod(Function):
    """y = product of x over axis;  dx = gy * y / x (refused where an x is 0)."""

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.x, self.y = x, x.prod(axis=self.axis, keepdims=True)
        return self.y if self.keepdims else x.prod(axis=self.axis)

    def backward(self, gy):
        if (self.x == 0).any():
            raise unsupported('the gradient of prod where a factor is 0')
        return (gy.reshape(self.y.shape) * self.y / self.x,)


def prod(x, axis=None, keepdims=False):
    """The product over ``axis`` (an int, a list of them, or None for all)."""
    return _reduction('prod', lambda v, a, k: Prod(a, k)(v), x, axis, keepdims)


def var(x, axis=None, keepdims=False):
    """The variance over ``axis``: mean((x - mean(x))^2), divided by n as Keras does."""
    return _reduction('var', _variance, x, axis, keepdims)


def std(x, axis=None, keepdims=False):
    """The standard deviation over ``axis``: sqrt(var(x))."""
    return _reduction('std', lambda v, a, k: _variance(v, a, k) ** 0.5, x, axis, keepdims)


def _variance(v, axes, keepdims):
    deviation = v - F.mean(v, axes, keepdims=True)
    return F.mean(deviation * deviation, axes, keepdims)


def l2_normalize(x, axis=None):
    """x / sqrt(max(sum of x^2 over axis, 1e-12)): unit length along ``axis``."""
    def normalize(v):
        squares = (v * v).sum(_axes(axis, v.ndim), keepdims=True)
        return v / _larger(squares, 1e-12) ** 0.5
    return _unary('l2_normalize', normalize, x)


def argmax(x, axis=-1):
    """The index of the largest value along ``axis`` (int64; no gradient)."""
    axes = _axes(axis, len(_shape_of(x)))
    return _array_result('argmax', lambda xp, v: xp.argmax(v, axis=axes[0]), [x],
                         _reduced_shape(_shape_of(x), axes, False))


def argmin(x, axis=-1):
    """The index of the smallest value along ``axis`` (int64; no gradient)."""
    axes = _axes(axis, len(_shape_of(x)))
    return _array_result('argmin', lambda xp, v: xp.argmin(v, axis=axes[0]), [x],
                         _reduced_shape(_shape_of(x), axes, False))


# -- Elementwise -----------------------------------------------------------------------

def _unary(name, op, x):
    return _apply(name, lambda v: op(as_tensor(v)), [x], _shape_of(x))


def square(x):
    return _unary('square', lambda v: v * v, x)


def sqrt(x):
    """sqrt(x), negative values taken as 0 first, as Keras does."""
    return _unary('sqrt', lambda v: clip_values(v, 0, np.inf) ** 0.5, x)


def abs(x):  # noqa: A001
    """|x|; its gradient sign(x) (0 at 0)."""
    return _unary('abs', lambda v: absolute_error(v, 0), x)


def exp(x):
    return _unary('exp', lambda v: v.exp(), x)


def log(x):
    return _unary('log', lambda v: v.log(), x)


def pow(x, a):  # noqa: A001
    """x ** a, elementwise."""
    return _elementwise('pow', operator.pow, x, a)


def sign(x):
    """-1, 0 or 1 by the sign of x; a constant to gradients, as in TensorFlow."""
    return _unary('sign', lambda v: Tensor(devices.get_array_module(v.data).sign(v.data)), x)


def maximum(x, y):
    """The elementwise maximum, broadcasting."""
    return _elementwise('maximum', _larger, x, y)


def minimum(x, y):
    """The elementwise minimum, broadcasting."""
    return _elementwise('minimum', _smaller, x, y)


def _larger(a, b):
    """max(a, b) = a + relu(b - a): where they tie, the gradient goes to a, as in TensorFlow."""
    return a + F.relu(b - a)


def _smaller(a, b):
    """min(a, b) = a - relu(a - b): where they tie, the gradient goes to a."""
    return a - F.relu(a - b)


def clip(x, min_value, max_value):
    """x clipped into [min_value, max_value] (a max below the min is taken as the min)."""
    high = max_value if max_value is None or min_value is None else builtins.max(min_value,
                                                                                 max_value)
    return _unary('clip', lambda v: clip_values(v, min_value, high), x)


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    return _unary('relu', lambda v: F.relu(v, alpha, max_value, threshold), x)


def elu(x, alpha=1.0):
    return _unary('elu', lambda v: F.elu(v, alpha), x)


def softmax(x, axis=-1):
    return _unary('softmax', lambda v: F.softmax(v, axis), x)


def sigmoid(x):
    return _unary('sigmoid', F.sigmoid, x)


def tanh(x):
    return _unary('tanh', F.tanh, x)


def softplus(x):
    return _unary('softplus', F.softplus, x)


def softsign(x):
    return _unary('softsign', F.softsign, x)


def stop_gradient(x):
    """x, through which no gradient flows."""
    return _unary('stop_gradient', lambda v: v.detach(), x)


def zeros_like(x):
    return _unary('zeros_like', lambda v: Tensor(devices.get_array_module(v.data).zeros_like(v.data)), x)


def ones_like(x):
    return _unary('ones_like', lambda v: Tensor(devices.get_array_module(v.data).ones_like(v.data)), x)


def _comparison(name, op):
    def compare(x, y):
        return _array_result(name, op, [x, y], _broadcast_shape(name, _shape_of(x), _shape_of(y)))
    compare.__name__ = name
    compare.__doc__ = f'{name}(x, y), elementwise: a boolean array (no gradient).'
    return compare


greater = _comparison('greater', lambda xp, a, b: xp.greater(a, b))
greater_equal = _comparison('greater_equal', lambda xp, a, b: xp.greater_equal(a, b))
less = _comparison('less', lambda xp, a, b: xp.less(a, b))
less_equal = _comparison('less_equal', lambda xp, a, b: xp.less_equal(a, b))
equal = _comparison('equal', lambda xp, a, b: xp.equal(a, b))
not_equal = _comparison('not_equal', lambda xp, a, b: xp.not_equal(a, b))


class Cast(Function):
    """y = x as another float dtype;  dx = gy as x's dtype."""

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        self.x_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return (gy.astype(self.x_dtype),)


def cast(x, dtype):
    """x as ``dtype``: a float dtype keeps the gradient, another gives a plain array."""
    dtype = np.dtype(dtype)
    if dtype.kind == 'f':
        return _unary('cast', lambda v: Cast(dtype)(v), x)
    return _array_result('cast', lambda xp, v: v.astype(dtype), [x], _shape_of(x))


def shape(x):
    """The shape x has when evaluated, as an int64 array (K.int_shape gives
    the one known before)."""
    return _array_result('shape', lambda xp, v: xp.asarray(v.shape, dtype=np.int64), [x],
                         (len(_shape_of(x)),))


def constant(value, dtype=None, shape=None, name=None):
    """A NumPy array of ``value`` (float32 unless dtype says), filled to ``shape``
    if given; it enters expressions as a constant. (``name`` is Keras's; an
    array has none.)"""
    array = np.asarray(value, dtype=dtype or np.float32)
    return np.array(np.broadcast_to(array, shape)) if shape is not None else array


# -- Shapes and joins ------------------------------------------------------------------

def reshape(x, shape):
    """x with Keras's ``shape``, batch axis included, e.g. (-1, 128)."""
    return _apply('reshape', lambda v: F.reshape(as_tensor(v), tuple(shape)), [x],
                  _reshaped(_shape_of(x), shape))


def flatten(x):
    """All of x in one axis (the batch too)."""
    return reshape(x, (-1,))


def batch_flatten(x):
    """(N, ...) -> (N, everything else)."""
    return _apply('batch_flatten', lambda v: F.reshape(as_tensor(v), (v.shape[0], -1)), [x],
                  (_shape_of(x)[0], *_reshaped(_shape_of(x)[1:], (-1,))))


def permute_dimensions(x, pattern):
    """x with its axes in the order ``pattern``."""
    shape = _shape_of(x)
    if sorted(pattern) != list(range(len(shape))):
        raise ValueError(f'permute_dimensions: pattern {pattern!r} is not an order of the '
                         f'{len(shape)} axes of a tensor of shape {shape}')
    return _apply('permute_dimensions', lambda v: F.transpose(as_tensor(v), tuple(pattern)),
                  [x], tuple(shape[i] for i in pattern))


def transpose(x):
    """x with its axes reversed."""
    return permute_dimensions(x, tuple(reversed(range(len(_shape_of(x))))))


def expand_dims(x, axis=-1):
    """x with a new axis of size 1 at ``axis``."""
    shape = _shape_of(x)
    axis = _axes(axis, len(shape) + 1)[0]
    return _apply('expand_dims', lambda v: F.reshape(v, (*v.shape[:axis], 1, *v.shape[axis:])),
                  [x], (*shape[:axis], 1, *shape[axis:]))


def squeeze(x, axis):
    """x without ``axis``, which must have size 1."""
    shape = _shape_of(x)
    axis = _axes(axis, len(shape))[0]
    if shape[axis] != 1:
        raise ValueError(f'squeeze: axis {axis} of a tensor of shape {shape} has size '
                         f'{shape[axis]}, not 1')
    return _apply('squeeze', lambda v: F.reshape(v, v.shape[:axis] + v.shape[axis + 1:]),
                  [x], shape[:axis] + shape[axis + 1:])


def concatenate(tensors, axis=-1):
    """The tensors joined along ``axis``; the other sizes must agree."""
    shapes = [_shape_of(t) for t in tensors]
    axis = _axes(axis, len(shapes[0]))[0]
    along = [s[axis] for s in shapes]
    shape = (*shapes[0][:axis], None if None in along else builtins.sum(along),
             *shapes[0][axis + 1:])
    return _apply('concatenate', lambda *vs: F.concatenate([as_tensor(v) for v in vs], axis),
                  list(tensors), shape)


def stack(tensors, axis=0):
    """Tensors of one shape stacked along a new ``axis``."""
    return concatenate([expand_dims(t, axis) for t in tensors], axis)


def dot(x, y):
    """The matrix product, Keras's way: for x (..., k) and y (k, m), (..., m)."""
    sx, sy = _shape_of(x), _shape_of(y)
    if len(sy) != 2 or len(sx) < 2:
        raise unsupported(f'dot of shapes {sx} and {sy}', 'minicnn multiplies x (..., k) by '
                          'y (k, m)')
    if sx[-1] is not None and sy[0] is not None and sx[-1] != sy[0]:
        raise ValueError(f'dot: shapes {sx} and {sy} do not match ({sx[-1]} != {sy[0]})')

    def product(a, b):
        a, b = as_tensor(a), as_tensor(b)
        return F.reshape(F.reshape(a, (-1, a.shape[-1])) @ b, (*a.shape[:-1], b.shape[1]))
    return _apply('dot', product, [x, y], (*sx[:-1], sy[1]))


# -- Gradients -------------------------------------------------------------------------

def gradients(loss, variables):
    """[d sum(loss) / d v for v in variables]: symbolic tensors shaped like each v
    (Keras 2's K.gradients). ``variables`` are symbolic tensors the loss is
    computed from (model.input, layer outputs) or weights (model.trainable_weights);
    a single one is taken as a list of one."""
    variables = list(variables) if isinstance(variables, (list, tuple)) else [variables]
    if not isinstance(loss, Symbolic):
        raise TypeError(f'K.gradients: the loss must be a symbolic tensor, got {loss!r}')
    needed = depth_first([loss], operands)
    _check_first_order(needed)
    for v in variables:
        _check_variable(v, needed)
    together = Expression('gradients', _gradient_values, [loss, *variables], None,
                          differentiates=variables)
    return [Expression('gradients', lambda gs, k=k: gs[k], [together], _shape_of(v))
            for k, v in enumerate(variables)]


def _gradient_values(loss, *variables):
    """Each variable's gradient as a constant Tensor (zeros where no gradient reaches)."""
    frozen = [v.name for v in variables if not v.requires_grad]
    if frozen:
        raise ValueError(f'K.gradients: weights {frozen} are frozen (trainable=False), so '
                         f'minicnn records no gradient for them; unfreeze them first')
    arrays = grad(loss, variables)
    return [Tensor(devices.get_array_module(v.data).zeros_like(v.data) if g is None else g)
            for g, v in zip(arrays, variables)]


def _check_first_order(nodes):
    if any(n.differentiates for n in nodes):
        raise unsupported('K.gradients of an expression that holds gradients (a second '
                          'derivative)', "minicnn's autograd computes first derivatives")


def _check_variable(v, needed):
    if isinstance(v, Tensor):
        return
    if not isinstance(v, Symbolic):
        raise TypeError(f'K.gradients: variables must be symbolic tensors or weights, got {v!r}')
    if all(v is not n for n in needed):
        raise ValueError(f'K.gradients: the loss is not computed from {v!r}, so it has no '
                         f'gradient by it (a layer inside a nested model is reached only '
                         f'through that model\'s own input)')


# NumPy's ufuncs that write an expression of a symbolic tensor (Symbolic.__array_ufunc__);
# the arithmetic ones straight to _elementwise, since operator.add(array, t) would
# come back to the ufunc.
_UFUNCS = {name: functools.partial(_elementwise, name, op) for name, op in (
    ('add', operator.add), ('subtract', operator.sub), ('multiply', operator.mul),
    ('divide', operator.truediv), ('true_divide', operator.truediv), ('power', operator.pow))}
_UFUNCS.update({'negative': operator.neg, 'absolute': abs, 'exp': exp, 'log': log, 'sqrt': sqrt,
                'square': square, 'sign': sign, 'tanh': tanh, 'maximum': maximum,
                'minimum': minimum, 'greater': greater, 'greater_equal': greater_equal,
                'less': less, 'less_equal': less_equal, 'equal': equal, 'not_equal': not_equal})
