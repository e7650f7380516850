"""Exercise 2: the Dense (fully connected) layer, forward and backward (tour chapter 1).

Run ``minicnn workbook check dense DIR``.
"""
import numpy as np


def dense_forward(x, kernel, bias):
    """y[n, o] = bias[o] + sum_i x[n, i] * kernel[i, o], that is y = x @ kernel + bias.

    x (N, in), kernel (in, out), bias (out,) -> y (N, out).
    """
    raise NotImplementedError


def dense_backward(dy, x, kernel):
    """The gradients of dense_forward, given dy = dL/dy (N, out):

        dx = dy @ kernel.T         (N, in)
        dkernel = x.T @ dy         (in, out): every sample's contribution, summed
        dbias = sum of dy over N   (out,)

    Returns (dx, dkernel, dbias).
    """
    raise NotImplementedError
