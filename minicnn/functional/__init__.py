"""Differentiable functions on NHWC tensors, each with forward and backward side by side.

One module per family: ``basic`` (tensor operators), ``conv`` and
``conv_variants``, ``pooling`` and ``global_pooling``, ``dense``,
``normalization``, ``activation_functions``, ``loss_functions``, ``dropout``
and ``noise``, ``reshaping``, ``merging``. (The Keras names one level up,
``minicnn.activations`` and ``minicnn.losses``, map names such as 'relu' or
'categorical_crossentropy' to these.) ``minicnn.tools.naive`` holds the plain-loop
versions they are checked against.
"""
from minicnn.functional.activation_functions import (elu, exponential, gelu, hard_sigmoid,
                                                     leaky_relu, log_softmax, prelu, relu, relu6,
                                                     selu, sigmoid, silu, softmax, softplus,
                                                     softsign, swish, tanh)
from minicnn.functional.basic import mean, reshape, transpose
from minicnn.functional.conv import conv2d
from minicnn.functional.conv_variants import conv2d_transpose, depthwise_conv2d, separable_conv2d
from minicnn.functional.dense import dense, flatten
from minicnn.functional.dropout import dropout
from minicnn.functional.global_pooling import global_avg_pool2d, global_max_pool2d
from minicnn.functional.loss_functions import (mean_squared_error, sigmoid_binary_cross_entropy,
                                              softmax_cross_entropy)
from minicnn.functional.merging import concatenate, maximum, minimum
from minicnn.functional.noise import gaussian_dropout, gaussian_noise, spatial_dropout2d
from minicnn.functional.normalization import batch_norm, batch_norm_train
from minicnn.functional.pooling import avg_pool2d, max_pool2d
from minicnn.functional.reshaping import crop2d, repeat_vector, upsample2d, zero_pad2d

__all__ = ['mean', 'reshape', 'transpose',
           'conv2d', 'conv2d_transpose', 'depthwise_conv2d', 'separable_conv2d',
           'max_pool2d', 'avg_pool2d', 'global_avg_pool2d', 'global_max_pool2d',
           'dense', 'flatten', 'batch_norm', 'batch_norm_train',
           'relu', 'relu6', 'leaky_relu', 'prelu', 'elu', 'selu', 'gelu', 'swish', 'silu',
           'softplus', 'softsign', 'sigmoid', 'hard_sigmoid', 'tanh', 'exponential', 'softmax',
           'log_softmax',
           'softmax_cross_entropy', 'sigmoid_binary_cross_entropy', 'mean_squared_error',
           'dropout', 'spatial_dropout2d', 'gaussian_dropout', 'gaussian_noise',
           'zero_pad2d', 'crop2d', 'upsample2d', 'repeat_vector', 'concatenate', 'maximum',
           'minimum']
