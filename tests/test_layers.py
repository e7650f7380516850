import inspect

import numpy as np
import pytest

from minicnn import Tensor, gradcheck, layers
from minicnn import functional as F
from minicnn.layers import (Activation, AveragePooling2D, AvgPool2D, Conv2D, Dense, Dropout,
                            Flatten, MaxPool2D, MaxPooling2D)


def defaults(cls):
    return {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()
            if p.default is not inspect.Parameter.empty}


def test_keras_defaults():
    assert defaults(Conv2D) == {'strides': (1, 1), 'padding': 'valid', 'activation': None,
                                'use_bias': True, 'kernel_initializer': 'glorot_uniform',
                                'bias_initializer': 'zeros', 'dilation_rate': (1, 1), 'groups': 1}
    assert defaults(Dense) == {'activation': None, 'use_bias': True,
                               'kernel_initializer': 'glorot_uniform', 'bias_initializer': 'zeros'}
    assert defaults(MaxPooling2D) == {'pool_size': (2, 2), 'strides': None, 'padding': 'valid'}
    assert MaxPool2D is MaxPooling2D and AvgPool2D is AveragePooling2D


def test_conv2d_layer_is_the_functional_conv(rng):
    layer = Conv2D(4, (3, 2), strides=2, padding='same', activation='relu', input_shape=(7, 6, 3))
    x = rng.standard_normal((2, 7, 6, 3)).astype(np.float32)
    y = layer(x)
    expected = F.relu(F.conv2d(x, layer.kernel, layer.bias, strides=2, padding='same'))
    np.testing.assert_allclose(y.data, expected.data)
    assert y.shape == (2, *layer.compute_output_shape((7, 6, 3))) == (2, 4, 3, 4)
    assert layer.kernel.shape == (3, 2, 3, 4) and layer.bias.shape == (4,)


def test_dense_without_bias_and_layer_gradients(rng):
    layer = Dense(3, use_bias=False, activation='tanh')
    x = rng.standard_normal((4, 5))
    layer(x)  # builds the kernel
    assert layer.bias is None and len(layer.weights) == 1
    assert gradcheck(lambda x, k: F.tanh(F.dense(x, k)), x, layer.kernel.data.astype(np.float64))


def test_a_custom_initializer_sets_an_edge_filter():
    def edge(shape, dtype=None):
        f = -np.ones((3, 3, 1, 1))
        f[1, 1] = 8
        return f
    layer = Conv2D(1, (3, 3), kernel_initializer=edge, input_shape=(5, 5, 1))
    image = np.zeros((1, 5, 5, 1), dtype=np.float32)
    image[0, 2, 2, 0] = 1.0
    out = layer(image).data[0, :, :, 0]
    np.testing.assert_array_equal(out, [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])


def test_pooling_and_flatten_shapes():
    assert MaxPooling2D()(np.zeros((1, 7, 7, 2))).shape == (1, 3, 3, 2)
    assert MaxPooling2D(padding='same')(np.zeros((1, 7, 7, 2))).shape == (1, 4, 4, 2)
    assert AveragePooling2D(3, strides=1)(np.zeros((1, 7, 7, 2))).shape == (1, 5, 5, 2)
    assert Flatten()(np.zeros((2, 3, 4, 5))).shape == (2, 60)
    assert Flatten().compute_output_shape((3, 4, 5)) == (60,)


def test_dropout_only_while_training():
    layer = Dropout(0.5)
    x = np.ones((10, 10), dtype=np.float32)
    np.testing.assert_array_equal(layer(x).data, x)
    assert (layer(x, training=True).data == 0).any()


@pytest.mark.parametrize('name', ['relu', 'tanh', 'sigmoid', 'softmax', 'linear'])
def test_activation_by_name(name):
    x = Tensor(np.linspace(-2, 2, 8).reshape(2, 4))
    y = Activation(name)(x).data
    expected = {'relu': np.maximum(x.data, 0), 'tanh': np.tanh(x.data),
                'sigmoid': 1 / (1 + np.exp(-x.data)), 'linear': x.data,
                'softmax': np.exp(x.data) / np.exp(x.data).sum(axis=1, keepdims=True)}[name]
    np.testing.assert_allclose(y, expected, rtol=1e-6)


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown activation 'gelux'.*'relu'"):
        Dense(3, activation='gelux')


def test_wrong_input_shape_names_the_layer_and_both_shapes():
    layer = Conv2D(2, 3, input_shape=(8, 8, 3))
    layer(np.zeros((1, 8, 8, 3)))
    with pytest.raises(ValueError, match=r"layer 'conv2d.*\(None, 8, 8, 3\).*\(1, 8, 9, 3\)"):
        layer(np.zeros((1, 8, 9, 3)))
    with pytest.raises(ValueError, match=r"expects flat inputs.*Flatten"):
        Dense(2)(np.zeros((1, 4, 4)))


def test_config_rebuilds_an_equal_layer():
    layer = Conv2D(6, (5, 3), strides=(2, 1), padding='same', activation='relu', input_shape=(9, 9, 2))
    config = layer.get_config()
    clone = layers.from_config('Conv2D', {**config, 'name': 'copy'})
    assert clone.get_config() == {**config, 'name': 'copy'}
