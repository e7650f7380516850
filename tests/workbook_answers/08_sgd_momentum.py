import numpy as np


def sgd_momentum_step(p, g, v, learning_rate, momentum):
    v = momentum * v - learning_rate * g
    return p + v, v
