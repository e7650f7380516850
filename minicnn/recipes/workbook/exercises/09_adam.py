"""Exercise 9: a step of Adam (tour chapter 5).

Run ``minicnn workbook check adam DIR``.
"""
import numpy as np


def adam_step(p, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    """Update p with running means m of g and v of g^2; t counts steps from 1:

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g^2
        lr_t = learning_rate * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        p = p - lr_t * m / (sqrt(v) + epsilon)

    m and v start at 0, so early on they are too small by the factors
    1 - beta^t: lr_t corrects that (the bias correction). epsilon is added to
    sqrt(v), as Keras does.

    p, g, m, v: the same shape. Returns the new (p, m, v).
    """
    raise NotImplementedError
