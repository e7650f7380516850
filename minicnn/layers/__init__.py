"""Keras-compatible layers; each one's forward is a few minicnn.functional calls.

    base            Layer (and SymbolicTensor, what a layer called on an Input returns)
    core            Dense, Flatten, Dropout, Activation, Rescaling, Lambda
    conv            Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D
    pooling         MaxPooling2D, AveragePooling2D
    global_pooling  GlobalAveragePooling2D, GlobalMaxPooling2D
    normalization   BatchNormalization
    reshaping       ZeroPadding2D, Cropping2D, UpSampling2D, Reshape, Permute, RepeatVector
    activation      ReLU, LeakyReLU, ELU, PReLU, Softmax
    noise           SpatialDropout2D, GaussianNoise, GaussianDropout
    merging         Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate,
                    and their shorthands add, subtract, ..., concatenate
    input_layer     Input, InputLayer

The Keras layers minicnn lacks (LSTM, Conv1D, ...) are importable here and
refuse to be used, saying why (see minicnn.missing).
"""
from minicnn.layers.activation import ELU, LeakyReLU, PReLU, ReLU, Softmax
from minicnn.layers.base import Layer
from minicnn.layers.conv import Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D
from minicnn.layers.core import Activation, Dense, Dropout, Flatten, Lambda, Rescaling
from minicnn.layers.global_pooling import (GlobalAveragePooling2D, GlobalAvgPool2D,
                                          GlobalMaxPool2D, GlobalMaxPooling2D)
from minicnn.layers.input_layer import Input, InputLayer
from minicnn import missing
from minicnn.layers.merging import (Add, Average, Concatenate, Maximum, Minimum, Multiply,
                                    Subtract, add, average, concatenate, maximum, minimum,
                                    multiply, subtract)
from minicnn.layers.noise import GaussianDropout, GaussianNoise, SpatialDropout2D
from minicnn.layers.normalization import BatchNormalization
from minicnn.layers.pooling import AveragePooling2D, AvgPool2D, MaxPool2D, MaxPooling2D
from minicnn.layers.reshaping import (Cropping2D, Permute, RepeatVector, Reshape,
                                     UpSampling2D, ZeroPadding2D)

Convolution2D = Conv2D
Convolution2DTranspose = Conv2DTranspose
SeparableConvolution2D = SeparableConv2D

__all__ = ['Layer', 'Dense', 'Flatten', 'Dropout', 'Activation', 'Rescaling', 'Lambda',
           'Conv2D', 'Convolution2D', 'Conv2DTranspose', 'Convolution2DTranspose',
           'DepthwiseConv2D', 'SeparableConv2D', 'SeparableConvolution2D',
           'MaxPooling2D', 'MaxPool2D', 'AveragePooling2D', 'AvgPool2D',
           'GlobalAveragePooling2D', 'GlobalAvgPool2D', 'GlobalMaxPooling2D', 'GlobalMaxPool2D',
           'BatchNormalization',
           'ZeroPadding2D', 'Cropping2D', 'UpSampling2D', 'Reshape', 'Permute', 'RepeatVector',
           'ReLU', 'LeakyReLU', 'ELU', 'PReLU', 'Softmax',
           'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout',
           'Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate',
           'add', 'subtract', 'multiply', 'average', 'maximum', 'minimum', 'concatenate',
           'Input', 'InputLayer', 'serialize', 'deserialize']


# Model and Sequential, registered by minicnn.models as it defines them: a saved
# model is rebuilt by its class name (here, and in minicnn.saving and
# minicnn.interchange) without importing minicnn.models, which imports them.
MODEL_CLASSES = {}


def register_model_class(cls):
    """Class decorator: ``from_config`` and ``model_class`` will find cls by its name."""
    MODEL_CLASSES[cls.__name__] = cls
    return cls


def model_class(name):
    """The registered model class 'Model' or 'Sequential'."""
    if name not in MODEL_CLASSES:
        raise LookupError(f'model_class: {name!r} is not registered (registered: '
                          f'{sorted(MODEL_CLASSES)}); minicnn.models registers Model and '
                          f'Sequential when minicnn is imported')
    return MODEL_CLASSES[name]


def from_config(class_name, config):
    """Rebuild a layer, or a registered model, from ``get_config()`` output and its class name."""
    classes = {**Layer.subclasses(), **MODEL_CLASSES}
    if class_name not in classes:
        raise ValueError(f'unknown layer class {class_name!r}; valid: {sorted(classes)}')
    return classes[class_name].from_config(config)


def serialize(layer):
    """{'class_name': ..., 'config': layer.get_config()}, as Keras writes a layer."""
    return {'class_name': type(layer).__name__, 'config': layer.get_config()}


def deserialize(config):
    """The layer (new weights) that ``serialize`` described."""
    return from_config(config['class_name'], config['config'])


missing.install(globals(), 'layers')
