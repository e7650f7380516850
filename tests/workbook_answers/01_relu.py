"""A learner's answers, written from the exercises' docstrings alone (not from
minicnn's code): the tests check that such a workbook passes and trains."""
import numpy as np


def relu_forward(x):
    return np.maximum(x, 0)


def relu_backward(dy, x):
    return dy * (x > 0)
