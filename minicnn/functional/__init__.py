"""Differentiable functions on NHWC tensors, each with forward and backward side by side.

One module per family: ``basic`` (tensor operators), ``conv``, ``pooling``,
``dense``, ``activation_functions``, ``loss_functions``, ``dropout``. (The
Keras names one level up, ``minicnn.activations`` and ``minicnn.losses``,
map names such as 'relu' or 'categorical_crossentropy' to these.)
"""
from minicnn.functional.activation_functions import log_softmax, relu, sigmoid, softmax, tanh
from minicnn.functional.basic import mean, reshape, transpose
from minicnn.functional.conv import conv2d
from minicnn.functional.dense import dense, flatten
from minicnn.functional.dropout import dropout
from minicnn.functional.loss_functions import mean_squared_error, softmax_cross_entropy
from minicnn.functional.pooling import avg_pool2d, max_pool2d

__all__ = ['conv2d', 'max_pool2d', 'avg_pool2d', 'dense', 'flatten', 'relu', 'tanh',
           'sigmoid', 'softmax', 'log_softmax', 'softmax_cross_entropy',
           'mean_squared_error', 'dropout', 'mean', 'reshape', 'transpose']
