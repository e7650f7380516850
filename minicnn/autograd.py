"""Reverse-mode automatic differentiation, define-by-run.

A ``Tensor`` wraps an array (``.data``). Calling a ``Function`` on tensors
runs its ``forward`` on the arrays and, when a gradient may be needed,
records the function as the ``creator`` of its output. ``loss.backward()``
then walks the recorded graph from the loss back to the leaves, calling each
function's ``backward`` once, in reverse topological order:

    forward:   y = f(x1, x2)           (arrays in, array out)
    backward:  gx1, gx2 = f.backward(gy)   with gxi = dL/dxi = gy * dy/dxi

Gradients of leaf tensors that have ``requires_grad=True`` accumulate into
``.grad``, as in PyTorch; intermediate gradients are dropped once used.
"""
import contextlib
import functools

import numpy as np

from minicnn import devices

_grad_enabled = [True]


@contextlib.contextmanager
def no_grad():
    """Inside this block functions record no graph (evaluation, optimizer steps)."""
    _grad_enabled.append(False)
    try:
        yield
    finally:
        _grad_enabled.pop()


def is_grad_enabled():
    return _grad_enabled[-1]


def _as_float_array(data, xp):
    """Float arrays keep their dtype; anything else becomes float32."""
    # Arrays are recognised by type: hasattr(data, 'dtype') would ask the
    # object itself, and a symbolic tensor answers that with its own error.
    is_array = isinstance(data, (np.ndarray, np.generic)) or devices.is_gpu_array(data)
    if is_array and data.dtype.kind == 'f':
        return data
    return xp.asarray(data, dtype=np.float32)


def gives_way(operator):
    """A binary operator that returns NotImplemented for an operand of a higher
    ``__array_priority__``, so that Python asks that operand instead."""
    @functools.wraps(operator)
    def checked(self, other):
        if getattr(other, '__array_priority__', 0) > self.__array_priority__:
            return NotImplemented
        return operator(self, other)
    return checked


class Tensor:
    """An array with an optional gradient and a link to the function that made it."""

    __array_priority__ = 100  # ndarray + Tensor calls Tensor.__radd__
    lr_multiplier = 1.0  # optimizers scale this weight's steps by it (BatchNormalization's beta)

    def __init__(self, data, requires_grad=False, name=None):
        if isinstance(data, Tensor):
            data = data.data
        xp = devices.get_array_module(data) if hasattr(data, 'shape') else devices.current_module()
        self.data = _as_float_array(data, xp)
        self.requires_grad = requires_grad
        self.grad = None
        self.creator = None
        self.name = name  # weights are named '<layer>/<weight>', e.g. 'conv2d/kernel'

    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    device = property(lambda self: devices.device_of(self.data))

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        grad = ', requires_grad=True' if self.requires_grad else ''
        return f'Tensor({self.data!r}{grad})'

    def numpy(self):
        """The values as a NumPy array (copied from the GPU if needed)."""
        return devices.to_numpy(self.data)

    def item(self):
        return float(self.data)

    def detach(self):
        """The same values, cut from the graph."""
        return Tensor(self.data)

    def to(self, device):
        """This tensor's values on 'cpu' or 'gpu' (a new leaf tensor)."""
        return Tensor(devices.to_device(self.data, device), requires_grad=self.requires_grad)

    def zero_grad(self):
        self.grad = None

    def backward(self, grad=None):
        """Backpropagate from this tensor; ``grad`` defaults to 1 for a scalar.

        The graph is released afterwards, so a second call needs a new
        forward pass.
        """
        if not self.requires_grad:
            raise RuntimeError('backward: this tensor does not require grad and has no graph')
        if grad is None:
            if self.size != 1:
                raise RuntimeError(f'backward: grad can be implied only for a scalar, '
                                   f'this tensor has shape {self.shape}; pass grad=')
            grad = devices.get_array_module(self.data).ones_like(self.data)
        for t, gy in backpropagate(self, grad, release_graph=True):
            if t.creator is None and t.requires_grad:
                t.grad = gy if t.grad is None else t.grad + gy

    # -- Operators. Each records one Function of minicnn/functional/basic.py,
    # where its forward and backward are written; ``a + 2`` turns 2 into a
    # constant Tensor of a's dtype first. As NumPy's arrays give way to a
    # Tensor, they give way (``@gives_way``) to an operand of a higher
    # __array_priority__: a symbolic tensor, whose own operator then writes
    # the expression.

    @gives_way
    def __add__(self, other):
        return basic.Add()(self, as_tensor(other, like=self))

    @gives_way
    def __radd__(self, other):
        return basic.Add()(as_tensor(other, like=self), self)

    @gives_way
    def __sub__(self, other):
        return basic.Sub()(self, as_tensor(other, like=self))

    @gives_way
    def __rsub__(self, other):
        return basic.Sub()(as_tensor(other, like=self), self)

    @gives_way
    def __mul__(self, other):
        return basic.Mul()(self, as_tensor(other, like=self))

    @gives_way
    def __rmul__(self, other):
        return basic.Mul()(as_tensor(other, like=self), self)

    @gives_way
    def __truediv__(self, other):
        return basic.Div()(self, as_tensor(other, like=self))

    @gives_way
    def __rtruediv__(self, other):
        return basic.Div()(as_tensor(other, like=self), self)

    @gives_way
    def __pow__(self, other):
        return basic.Pow()(self, as_tensor(other, like=self))

    @gives_way
    def __rpow__(self, other):
        return basic.Pow()(as_tensor(other, like=self), self)

    @gives_way
    def __matmul__(self, other):
        return basic.MatMul()(self, as_tensor(other, like=self))

    @gives_way
    def __rmatmul__(self, other):
        return basic.MatMul()(as_tensor(other, like=self), self)

    def __neg__(self):
        return basic.Neg()(self)

    def __getitem__(self, index):
        return basic.GetItem(index)(self)

    def exp(self):
        return basic.Exp()(self)

    def log(self):
        return basic.Log()(self)

    def sum(self, axis=None, keepdims=False):
        return basic.Sum(axis, keepdims)(self)

    def max(self, axis=None, keepdims=False):
        return basic.Max(axis, keepdims)(self)

    def mean(self, axis=None, keepdims=False):
        return basic.mean(self, axis, keepdims)

    def reshape(self, *shape):
        return basic.reshape(self, *shape)

    def transpose(self, *axes):
        return basic.transpose(self, *axes)

    @property
    def T(self):
        return basic.Transpose()(self)


def depth_first(roots, inputs_of):
    """Every node reachable from ``roots`` by following ``inputs_of(node)``,
    each listed after all of its inputs (a post-order).

    Iterative, so a chain of 10,000 functions does not hit Python's
    recursion limit. A functional model orders its layer calls with it too.
    """
    order, visited = [], set()
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        stack.extend((x, False) for x in reversed(inputs_of(node)) if id(x) not in visited)
    return order


def topological_order(root):
    """Tensors reachable from root that need a gradient, each after every
    tensor that uses it: the order in which backward visits them."""
    def inputs_of(t):
        return [] if t.creator is None else [x for x in t.creator.inputs if x.requires_grad]
    return depth_first([root], inputs_of)[::-1]


def backpropagate(root, grad, release_graph):
    """Yield (t, dL/dt) for every tensor t that root depends on and that needs
    a gradient, in backward order: when t comes, every use of it has added its
    share, so dL/dt is complete. ``grad`` is dL/droot (an array or Tensor).
    With ``release_graph`` each Function's links are cut once it has run."""
    grads = {id(root): grad.data if isinstance(grad, Tensor) else grad}
    for t in topological_order(root):
        gy = grads.pop(id(t), None)
        if gy is None:
            continue
        yield t, gy
        if t.creator is None:
            continue
        fn = t.creator
        gxs = fn.backward(gy)
        for x, gx in zip(fn.inputs, gxs):
            if gx is None or not x.requires_grad:
                continue
            grads[id(x)] = gx if id(x) not in grads else grads[id(x)] + gx
        if release_graph:
            t.creator = None
            fn.inputs = None


def grad(output, inputs):
    """[d sum(output) / d x for x in inputs]: arrays shaped like each x, or None
    for an x that output does not depend on through the graph.

    Unlike ``output.backward()``, leaves' ``.grad`` stay as they were and the
    graph is kept (a Function's backward only reads what its forward kept), so
    several gradients can be taken of one forward pass; an x may be any tensor
    of the graph, not only a leaf.
    """
    if not output.requires_grad:
        return [None] * len(inputs)
    wanted = {id(x): None for x in inputs}
    ones = devices.get_array_module(output.data).ones_like(output.data)
    for t, gy in backpropagate(output, ones, release_graph=False):
        if id(t) in wanted:
            wanted[id(t)] = gy
    return [wanted[id(x)] for x in inputs]


def as_tensor(x, like=None):
    """x itself if it is a Tensor, else a constant Tensor (scalars take like's dtype)."""
    if isinstance(x, Tensor):
        return x
    if like is not None and not hasattr(x, 'shape'):
        xp = devices.get_array_module(like.data)
        return Tensor(xp.asarray(x, dtype=like.dtype))
    return Tensor(x)


class Function:
    """One differentiable step. Subclasses write ``forward`` and ``backward``.

    ``forward(*arrays) -> array``; ``backward(gy) -> tuple`` with one gradient
    (or None) per input. Whatever backward needs, forward keeps on ``self``.
    ``self.needs_grad[i]`` says whether input i wants a gradient at all, so
    backward can skip work (as PyTorch's ``ctx.needs_input_grad``).
    """

    def __call__(self, *inputs):
        inputs = [as_tensor(x) for x in inputs]
        self._check_one_device(inputs)
        self.needs_grad = tuple(x.requires_grad for x in inputs)
        y = Tensor(self.forward(*[x.data for x in inputs]))
        if is_grad_enabled() and any(x.requires_grad for x in inputs):
            y.requires_grad = True
            y.creator = self
            self.inputs = inputs
        return y

    def _check_one_device(self, inputs):
        input_devices = {x.device for x in inputs}
        if len(input_devices) > 1:
            shapes = ', '.join(f'{x.shape} on {x.device}' for x in inputs)
            raise TypeError(f'{type(self).__name__}: inputs live on different devices '
                            f'({shapes}); move them to one with .to(device)')

    def forward(self, *xs):
        raise NotImplementedError

    def backward(self, gy):
        raise NotImplementedError


# Last, because basic.py builds its Functions from Function and Tensor above.
from minicnn.functional import basic  # noqa: E402
