"""Every exercise solved with minicnn's own code: the references the checker
compares a learner's functions with, and the fillings the tests check it by.

Each function has the signature of the exercise of the same name (see
``exercises/``), takes and returns NumPy arrays, and calls the function
minicnn itself runs: a kernel of ``minicnn.kernels.reference``, or a
``Function`` of ``minicnn.functional`` run forward and backward by
``forward_and_gradients``. So the workbook cannot drift from the code it teaches.
"""
import numpy as np

from minicnn.autograd import Tensor
from minicnn.functional.activation_functions import ReLU
from minicnn.functional.conv import Im2colConvolution
from minicnn.functional.dense import Affine
from minicnn.functional.dropout import kept_and_scaled
from minicnn.functional.normalization import BatchStatisticsNorm
from minicnn.kernels import reference
from minicnn.optimizers import SGD, Adam
from minicnn.recipes.workbook.adapters import softmax_cross_entropy_on_logits


def forward_and_gradients(function, inputs, dy):
    """Run ``function`` (a Function, or anything taking and giving Tensors) on
    ``inputs``, then backward from ``dy``: (y, [dL/d input for each input])."""
    tensors = [Tensor(np.asarray(a), requires_grad=True) for a in inputs]
    y = function(*tensors)
    y.backward(np.asarray(dy, dtype=y.dtype))
    return y.data, [t.grad for t in tensors]


def zero_padded(x, pad):
    """x (N, H, W, C) with pad = (top, bottom, left, right) rows and columns of zeros."""
    top, bottom, left, right = pad
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))


def unpadded(x_padded, pad):
    top, bottom, left, right = pad
    return x_padded[:, top:x_padded.shape[1] - bottom, left:x_padded.shape[2] - right]


def relu_forward(x):
    return reference.relu(x)


def relu_backward(dy, x):
    return forward_and_gradients(ReLU(), [x], dy)[1][0]


def dense_forward(x, kernel, bias):
    return Affine().forward(x, kernel, bias)


def dense_backward(dy, x, kernel):
    bias = np.zeros(kernel.shape[1], dtype=kernel.dtype)
    return tuple(forward_and_gradients(Affine(), [x, kernel, bias], dy)[1])


def softmax_cross_entropy(logits, targets):
    loss, (dlogits,) = forward_and_gradients(
        lambda z: softmax_cross_entropy_on_logits(z, Tensor(targets)), [logits], 1.0)
    return float(loss), dlogits


def im2col(x, window, strides, pad):
    return reference.im2col(x, tuple(window), tuple(strides), tuple(pad))


def conv2d_forward(x, kernel, bias, strides, pad):
    return Im2colConvolution(tuple(strides)).forward(zero_padded(x, pad), kernel, bias)


def conv2d_backward(dy, x, kernel, strides, pad):
    bias = np.zeros(kernel.shape[3], dtype=kernel.dtype)
    _, (dx_padded, dkernel, dbias) = forward_and_gradients(
        Im2colConvolution(tuple(strides)), [zero_padded(x, pad), kernel, bias], dy)
    return unpadded(dx_padded, pad), dkernel, dbias


def max_pool_forward(x, window, strides, pad):
    return reference.max_pool(x, tuple(window), tuple(strides), tuple(pad))[0]


def max_pool_backward(dy, x, window, strides, pad):
    _, argmax = reference.max_pool(x, tuple(window), tuple(strides), tuple(pad))
    return reference.max_pool_backward(dy, argmax, x.shape, tuple(window), tuple(strides),
                                       tuple(pad))


def dropout_forward(x, rate, training, uniform):
    return kept_and_scaled(x, uniform >= rate, rate) if training else x


def dropout_backward(dy, rate, uniform):
    return kept_and_scaled(dy, uniform >= rate, rate)


def batchnorm_forward(x, gamma, beta, epsilon):
    norm = BatchStatisticsNorm(epsilon, -1)
    y = norm.forward(x, gamma, beta)
    return y, norm.mean, norm.variance


def batchnorm_backward(dy, x, gamma, epsilon):
    beta = np.zeros_like(gamma)
    return tuple(forward_and_gradients(BatchStatisticsNorm(epsilon, -1), [x, gamma, beta], dy)[1])


def sgd_momentum_step(p, g, v, learning_rate, momentum):
    p, v = p.copy(), v.copy()
    SGD(learning_rate, momentum=momentum).reference_update(p, g, {'v': v}, learning_rate)
    return p, v


def adam_step(p, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    p, m, v = p.copy(), m.copy(), v.copy()
    adam = Adam(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
    adam.iterations = t - 1  # Adam counts the steps it has taken; step t follows t - 1 of them
    adam.reference_update(p, g, {'m': m, 'v': v}, learning_rate)
    return p, m, v
