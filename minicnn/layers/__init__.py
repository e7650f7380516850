"""Keras-compatible layers; each one's forward is a few minicnn.functional calls."""
from minicnn.layers.base import Layer
from minicnn.layers.conv import Conv2D
from minicnn.layers.core import Activation, Dense, Dropout, Flatten
from minicnn.layers.input_layer import Input, InputLayer
from minicnn.layers.merging import Add, Average, Concatenate, Maximum, Multiply, Subtract
from minicnn.layers.pooling import AveragePooling2D, AvgPool2D, MaxPool2D, MaxPooling2D
from minicnn.layers.global_pooling import (GlobalAveragePooling2D, GlobalAvgPool2D,
                                          GlobalMaxPool2D, GlobalMaxPooling2D)
from minicnn.layers.noise import GaussianDropout, GaussianNoise, SpatialDropout2D
from minicnn.layers.normalization import BatchNormalization
from minicnn.layers.reshaping import (Cropping2D, Permute, RepeatVector, Reshape,
                                     UpSampling2D, ZeroPadding2D)
from minicnn.layers.activation import ELU, LeakyReLU, PReLU, ReLU, Softmax
from minicnn.layers.conv import Conv2DTranspose, DepthwiseConv2D, SeparableConv2D

Convolution2D = Conv2D

__all__ = ['Layer', 'Conv2D', 'Convolution2D', 'MaxPooling2D', 'MaxPool2D', 'AveragePooling2D',
           'AvgPool2D', 'Flatten', 'Dense', 'Dropout', 'Activation', 'Input', 'InputLayer',
           'Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Concatenate']
__all__ += ['BatchNormalization', 'GlobalAveragePooling2D', 'GlobalAvgPool2D',
            'GlobalMaxPooling2D', 'GlobalMaxPool2D', 'ZeroPadding2D', 'Cropping2D',
            'UpSampling2D', 'Reshape', 'Permute', 'RepeatVector', 'SpatialDropout2D',
            'GaussianNoise', 'GaussianDropout']
__all__ += ['Conv2DTranspose', 'DepthwiseConv2D', 'SeparableConv2D', 'ReLU', 'LeakyReLU', 'ELU',
            'PReLU', 'Softmax']


def from_config(class_name, config):
    """Rebuild a layer from ``get_config()`` output and its class name."""
    classes = Layer.subclasses()
    if class_name not in classes:
        raise ValueError(f'unknown layer class {class_name!r}; valid: {sorted(classes)}')
    return classes[class_name].from_config(config)
