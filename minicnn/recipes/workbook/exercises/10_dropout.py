"""Exercise 10: inverted dropout, training and inference (tour chapter 6).

Run ``minicnn workbook check dropout DIR``.

While training, each element is kept with probability 1 - rate and the kept
ones are scaled by 1 / (1 - rate), so that the expected output is the input
and inference needs no rescaling: at inference dropout is the identity.
The random draws are given (``uniform``, one number in [0, 1) per element),
so that your layer drops exactly what minicnn's would.
"""
import numpy as np


def dropout_forward(x, rate, training, uniform):
    """y = x * mask / (1 - rate) while training, mask = (uniform >= rate); y = x otherwise.

    x any shape; rate in [0, 1); training a bool; uniform x's shape -> y x's shape.
    """
    raise NotImplementedError


def dropout_backward(dy, rate, uniform):
    """dx = dy * mask / (1 - rate), the same mask as the training forward's.

    dy, uniform: the same shape -> dx: that shape.
    """
    raise NotImplementedError
