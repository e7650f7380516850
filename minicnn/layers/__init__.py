"""Keras-compatible layers; each one's forward is a few minicnn.functional calls."""
from minicnn.layers.base import Layer
from minicnn.layers.conv import Conv2D
from minicnn.layers.core import Activation, Dense, Dropout, Flatten
from minicnn.layers.pooling import AveragePooling2D, AvgPool2D, MaxPool2D, MaxPooling2D

Convolution2D = Conv2D

__all__ = ['Layer', 'Conv2D', 'Convolution2D', 'MaxPooling2D', 'MaxPool2D', 'AveragePooling2D',
           'AvgPool2D', 'Flatten', 'Dense', 'Dropout', 'Activation']


def from_config(class_name, config):
    """Rebuild a layer from ``get_config()`` output and its class name."""
    classes = Layer.subclasses()
    if class_name not in classes:
        raise ValueError(f'unknown layer class {class_name!r}; valid: {sorted(classes)}')
    return classes[class_name](**config)
