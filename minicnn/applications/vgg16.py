"""VGG16 (Simonyan & Zisserman, "Very Deep Convolutional Networks for
Large-Scale Image Recognition", ICLR 2015), built as Keras's
``keras.applications.VGG16`` builds it, layer names included, so that
Keras's published ImageNet weights load into it.

Five blocks of 3x3 'same' convolutions with ReLU, each ending in a 2x2
max pooling that halves the image; then, with the top, three dense layers:

    block1_conv1, block1_conv2, block1_pool          64 filters
    block2_conv1, block2_conv2, block2_pool          128
    block3_conv1 ... block3_conv3, block3_pool       256
    block4_conv1 ... block4_conv3, block4_pool       512
    block5_conv1 ... block5_conv3, block5_pool       512
    flatten, fc1 (4096), fc2 (4096), predictions (classes)

14,714,688 parameters in the convolutions; the top adds 123,642,856
(102,764,544 of them in fc1), 138,357,544 in all.

The ImageNet weights expect images prepared by ``preprocess_input``:
channels RGB -> BGR and each channel less its ImageNet mean, unscaled
(Keras's 'caffe' mode, that of the original Caffe model).
"""
import os
import warnings

import numpy as np

from minicnn import missing
from minicnn.applications.weights import weights_file
from minicnn.arguments import keywords_checked
from minicnn.devices import get_array_module
from minicnn.layers import (Conv2D, Dense, Flatten, GlobalAveragePooling2D, GlobalMaxPooling2D,
                            Input, MaxPooling2D)
from minicnn.layers.base import SymbolicTensor
from minicnn.models import Model, graph_order

# Keras's published weights, their names in the cache and their MD5s
# (keras/applications/vgg16.py).
WEIGHTS_URL = ('https://storage.googleapis.com/tensorflow/keras-applications/vgg16/'
               'vgg16_weights_tf_dim_ordering_tf_kernels.h5')
WEIGHTS_URL_NO_TOP = ('https://storage.googleapis.com/tensorflow/keras-applications/vgg16/'
                      'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5')
WEIGHTS_MD5 = '64373286793e3c8b2b4e3219cbf3544b'
WEIGHTS_MD5_NO_TOP = '6d6bbae143d832006294945121d1f1fc'

BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))  # (filters, convolutions) each
DEFAULT_SIZE, MIN_SIZE = 224, 32  # with the top, the ImageNet weights need 224 x 224
IMAGENET_MEAN_BGR = (103.939, 116.779, 123.68)


@keywords_checked
def VGG16(include_top=True, weights=None, input_tensor=None, input_shape=None,  # noqa: N802
          pooling=None, classes=1000, classifier_activation='softmax'):
    """The VGG16 functional Model, named 'vgg16': NHWC images -> class
    probabilities (N, classes), or without the top the features of
    block5_pool (N, H/32, W/32, 512), pooled to (N, 512) by pooling 'avg' or 'max'.

    weights: None (random), 'imagenet' (Keras's published weights, downloaded
    into minicnn's cache once) or the path of a Keras HDF5 weights file.
    input_shape: (224, 224, 3) by default; without the top any (H, W, C)
    with H, W >= 32 (Keras's default there, (None, None, 3), needs sizes
    minicnn's layers do not leave open). input_tensor: a SymbolicTensor to
    build on instead of a new Input.
    """
    _check_arguments(include_top, weights, pooling, classes, classifier_activation)
    if input_tensor is None:
        inputs = Input(shape=_input_shape(input_shape, include_top, weights))
    elif isinstance(input_tensor, SymbolicTensor):
        _input_shape(input_tensor.shape[1:], include_top, weights)
        inputs = input_tensor
    else:
        raise TypeError(f'VGG16: input_tensor must be a SymbolicTensor (from Input or a layer '
                        f'call), got {type(input_tensor).__name__}')
    x = inputs
    for block, (filters, convolutions) in enumerate(BLOCKS, start=1):
        for k in range(1, convolutions + 1):
            x = Conv2D(filters, (3, 3), activation='relu', padding='same',
                       name=f'block{block}_conv{k}')(x)
        x = MaxPooling2D((2, 2), strides=(2, 2), name=f'block{block}_pool')(x)
    if include_top:
        x = Flatten(name='flatten')(x)
        x = Dense(4096, activation='relu', name='fc1')(x)
        x = Dense(4096, activation='relu', name='fc2')(x)
        x = Dense(classes, activation=classifier_activation, name='predictions')(x)
    elif pooling == 'avg':
        x = GlobalAveragePooling2D()(x)
    elif pooling == 'max':
        x = GlobalMaxPooling2D()(x)
    model = Model(_source_inputs(inputs), x, name='vgg16')
    if weights == 'imagenet':
        weights = _imagenet_weights(include_top)
    if weights is not None:
        model.load_weights(weights)
    return model


def _imagenet_weights(include_top):
    """The path of Keras's ImageNet weights file, cached or downloaded, under Keras's name."""
    if include_top:
        return weights_file('vgg16_weights_tf_dim_ordering_tf_kernels.h5', WEIGHTS_URL,
                            WEIGHTS_MD5)
    return weights_file('vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5', WEIGHTS_URL_NO_TOP,
                        WEIGHTS_MD5_NO_TOP)


def _check_arguments(include_top, weights, pooling, classes, classifier_activation):
    """Keras's checks of VGG16's arguments, in its words."""
    if not (weights in (None, 'imagenet') or _is_file(weights)):
        raise ValueError(f'VGG16: the `weights` argument should be either `None` (random '
                         f'initialization), `imagenet` (pre-training on ImageNet), or the path '
                         f'to the weights file to be loaded. Received: weights={weights}')
    if weights == 'imagenet' and include_top and classes != 1000:
        raise ValueError(f'VGG16: if using `weights` as `"imagenet"` with `include_top` as true, '
                         f'`classes` should be 1000. Received `classes={classes}`')
    if pooling not in (None, 'avg', 'max'):
        raise ValueError(f"VGG16: pooling must be None, 'avg' or 'max', got {pooling!r}")
    if weights is not None and include_top and classifier_activation not in (None, 'softmax'):
        raise ValueError(f'VGG16: only `None` and `softmax` activations are allowed for the '
                         f'`classifier_activation` argument when using pretrained weights, '
                         f'with `include_top=True`; Received: '
                         f'classifier_activation={classifier_activation}')


def _is_file(path):
    return isinstance(path, (str, os.PathLike)) and os.path.isfile(path)


def _input_shape(input_shape, include_top, weights):
    """The input shape, checked as Keras's ``obtain_input_shape`` checks it."""
    default = (DEFAULT_SIZE, DEFAULT_SIZE, 3)
    if input_shape is None:
        return default
    shape = tuple(input_shape)
    if weights == 'imagenet' and include_top and shape != default:
        raise ValueError(f'VGG16: when setting `include_top=True` and loading `imagenet` '
                         f'weights, `input_shape` should be {default}.')
    if len(shape) != 3:
        raise ValueError(f'VGG16: `input_shape` must be a tuple of three integers, got {shape}')
    if weights == 'imagenet' and shape[-1] != 3:
        raise ValueError(f'VGG16: the input must have 3 channels; got `input_shape={shape}`')
    if min(shape[:2]) < MIN_SIZE:
        raise ValueError(f'VGG16: input size must be at least {MIN_SIZE}x{MIN_SIZE}; got '
                         f'`input_shape={shape}`')
    if weights != 'imagenet' and shape[-1] not in (1, 3):
        warnings.warn(f'VGG16: this model usually expects 1 or 3 input channels. However, it '
                      f'was passed an input_shape with {shape[-1]} input channels.')
    return shape


def _source_inputs(tensor):
    """The Input(s) a tensor comes from (Keras's get_source_inputs)."""
    sources = [t for t in graph_order([tensor]) if t.inputs == ()]
    return sources[0] if len(sources) == 1 else sources


def preprocess_input(x, data_format=None):
    """Images as the ImageNet weights expect them, Keras's 'caffe' mode:
    (..., H, W, 3) RGB values in [0, 255] -> BGR, each channel less its
    ImageNet mean (103.939, 116.779, 123.68), not scaled.

    Returns a new array: integers become float32, floats keep their dtype.
    Keras's writes over a float NumPy input; this leaves x as it was.
    """
    if data_format not in (None, 'channels_last'):
        raise ValueError(f"preprocess_input: minicnn's images are channels_last (NHWC), got "
                         f"data_format={data_format!r}")
    xp = get_array_module(x)
    x = xp.asarray(x)
    if x.dtype.kind != 'f':
        x = x.astype(np.float32)
    if x.shape[-1] != 3:
        raise ValueError(f'preprocess_input: expected RGB images (..., H, W, 3), got shape '
                         f'{x.shape}')
    return x[..., ::-1] - xp.asarray(IMAGENET_MEAN_BGR, dtype=x.dtype)


missing.install(globals(), 'applications.vgg16')
