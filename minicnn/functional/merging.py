"""Functions that merge several tensors into one (the merge layers' math).

    concatenate([x1, ..., xk], axis):  y = [x1 | ... | xk] along axis
        dx_i = the slice of gy where x_i was placed
    maximum([x1, ..., xk]):            y = elementwise max of the x_i
        dx_i = gy where x_i is the (first) maximum, else 0
    minimum([x1, ..., xk]):            y = -maximum([-x1, ..., -xk])

Add, Subtract, Multiply and Average need no Function of their own: they
are sums and products of Tensors, whose gradients minicnn/functional/basic.py
already knows.
"""
from minicnn.autograd import Function
from minicnn.devices import get_array_module


class Concatenate(Function):
    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        return get_array_module(*xs).concatenate(xs, axis=self.axis)

    def backward(self, gy):
        xp = get_array_module(gy)
        ends = xp.cumsum(xp.asarray(self.sizes)).tolist()[:-1]
        return tuple(xp.split(gy, ends, axis=self.axis))


class Maximum(Function):
    def forward(self, *xs):
        xp = get_array_module(*xs)
        self.count = len(xs)
        self.winner = xp.argmax(xp.stack(xs), axis=0)  # which input holds each maximum
        return xp.max(xp.stack(xs), axis=0)

    def backward(self, gy):
        xp = get_array_module(gy)
        return tuple(xp.where(self.winner == i, gy, 0) for i in range(self.count))


def concatenate(xs, axis=-1):
    """Join tensors of equal shapes but along ``axis``: list of (N, ..., d_i, ...) -> (N, ..., sum d_i, ...)."""
    return Concatenate(axis)(*xs)


def maximum(xs):
    """The elementwise maximum of tensors of one shape."""
    return Maximum()(*xs)


def minimum(xs):
    """The elementwise minimum of tensors of one shape: min_i x_i = -max_i (-x_i)."""
    return -maximum([-x for x in xs])
