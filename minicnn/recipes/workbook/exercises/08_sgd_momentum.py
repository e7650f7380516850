"""Exercise 8: a step of SGD with momentum (tour chapter 5).

Run ``minicnn workbook check sgd_momentum DIR``.

Keras's form: the velocity v carries the learning rate inside it.
"""
import numpy as np


def sgd_momentum_step(p, g, v, learning_rate, momentum):
    """One update of a parameter p with gradient g and velocity v:

        v = momentum * v - learning_rate * g
        p = p + v

    p, g, v: the same shape. Returns the new (p, v); the arrays passed in may
    be changed in place or left alone.
    """
    raise NotImplementedError
