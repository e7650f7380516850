import numpy as np


def dropout_forward(x, rate, training, uniform):
    if not training:
        return x
    return x * (uniform >= rate) / (1 - rate)


def dropout_backward(dy, rate, uniform):
    return dy * (uniform >= rate) / (1 - rate)
