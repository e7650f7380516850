"""Keras's backend module, ``from minicnn import backend as K``: the functions
Keras 2 programs call as ``K.mean``, ``K.gradients``, ``K.function``, ...

The tensor functions, which work on the symbolic outputs of a model's
layers, are written in minicnn/symbolic.py.
"""
from minicnn.symbolic import (abs, argmax, argmin, batch_flatten, cast, clip, concatenate,  # noqa: F401, A004
                              constant, dot, elu, equal, exp, expand_dims, flatten, function,
                              gradients, greater, greater_equal, l2_normalize, learning_phase,
                              less, less_equal, log, max, maximum, mean, min, minimum, not_equal,
                              ones_like, permute_dimensions, placeholder, pow, prod, relu, reshape,
                              set_learning_phase, shape, sigmoid, sign, softmax, softplus,
                              softsign, sqrt, square, squeeze, stack, std, stop_gradient, sum,
                              tanh, transpose, var, zeros_like)
