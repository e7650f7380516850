"""Activation functions, elementwise or along one axis; shapes are unchanged.

    relu(x)    = max(x, 0)          d/dx = 1 where x > 0, else 0
    tanh(x)                          d/dx = 1 - y**2
    sigmoid(x) = 1 / (1 + e^-x)      d/dx = y * (1 - y)
    softmax(x)_i = e^{x_i} / sum_j e^{x_j}
        dx = y * (gy - sum(gy * y))
    log_softmax(x)_i = x_i - log sum_j e^{x_j}
        dx = gy - softmax(x) * sum(gy)
Softmax subtracts the row maximum first: the result is the same and exp
never overflows.
"""
from minicnn import kernels
from minicnn.autograd import Function
from minicnn.backend import get_array_module


class ReLU(Function):
    def forward(self, x):
        # The output is kept, not a mask: the next layer holds it anyway.
        self.y = kernels.for_array(x).relu(x)
        return self.y

    def backward(self, gy):
        return (kernels.for_array(gy).relu_backward(gy, self.y),)


class Tanh(Function):
    def forward(self, x):
        self.y = get_array_module(x).tanh(x)
        return self.y

    def backward(self, gy):
        return (gy * (1 - self.y * self.y),)


class Sigmoid(Function):
    def forward(self, x):
        xp = get_array_module(x)
        # tanh form: exact and never overflows, unlike 1 / (1 + exp(-x)) for x << 0.
        self.y = 0.5 * xp.tanh(0.5 * x) + 0.5
        return self.y

    def backward(self, gy):
        return (gy * self.y * (1 - self.y),)


def log_softmax_array(x, axis=-1):
    """log softmax of an array, stable for any magnitude."""
    xp = get_array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


class Softmax(Function):
    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        self.y = get_array_module(x).exp(log_softmax_array(x, self.axis))
        return self.y

    def backward(self, gy):
        return (self.y * (gy - (gy * self.y).sum(axis=self.axis, keepdims=True)),)


class LogSoftmax(Function):
    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        self.y = log_softmax_array(x, self.axis)
        return self.y

    def backward(self, gy):
        softmax = get_array_module(gy).exp(self.y)
        return (gy - softmax * gy.sum(axis=self.axis, keepdims=True),)


def relu(x):
    return ReLU()(x)


def tanh(x):
    return Tanh()(x)


def sigmoid(x):
    return Sigmoid()(x)


def softmax(x, axis=-1):
    return Softmax(axis)(x)


def log_softmax(x, axis=-1):
    return LogSoftmax(axis)(x)
