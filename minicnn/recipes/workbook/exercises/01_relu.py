"""Exercise 1: ReLU and its gradient (tour chapter 1, a tensor and its backward).

Write both functions with NumPy, then run ``minicnn workbook check relu DIR``.
Every array is float64 and may have any shape.
"""
import numpy as np


def relu_forward(x):
    """y = max(x, 0), elementwise.

    x: any shape -> y: the same shape.
    """
    raise NotImplementedError


def relu_backward(dy, x):
    """dx = dy where x > 0, else 0 (the slope of max(x, 0) is 1 or 0).

    dy: the gradient of the loss with respect to y = relu_forward(x), x's shape;
    x: the forward's input -> dx: x's shape.
    """
    raise NotImplementedError
