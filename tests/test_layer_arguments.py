"""A layer's arguments are checked when it is made: a wrong one is a ValueError
naming the layer, the argument and the value; NumPy's integers and floats are
as good as Python's, as in Keras."""
import json

import numpy as np
import pytest

from minicnn import layers
from minicnn.models import Sequential

BAD = [
    (lambda: layers.Conv2D(8, 3.0), r'Conv2D: kernel_size must be a positive int .*got 3\.0'),
    (lambda: layers.Conv2D(8, None), r'Conv2D: kernel_size must be a positive int .*got None'),
    (lambda: layers.Conv2D(8, (3, 3, 3)), r'Conv2D: kernel_size must be .*got \(3, 3, 3\)'),
    (lambda: layers.Conv2D(8, 3, strides='2'), r"Conv2D: strides must be .*got '2'"),
    (lambda: layers.Conv2D(True, 3), r'Conv2D: filters must be a positive int, got True'),
    (lambda: layers.MaxPooling2D(2.5), r'MaxPooling2D: pool_size must be .*got 2\.5'),
    (lambda: layers.AveragePooling2D(2, strides=0), r'AveragePooling2D: strides must be .*got 0'),
    (lambda: layers.Dropout(None), r'Dropout: rate must be in \[0, 1\), got None'),
    (lambda: layers.Dropout('0.5'), r"Dropout: rate must be in \[0, 1\), got '0.5'"),
    (lambda: layers.Dropout(float('nan')), r'Dropout: rate must be in \[0, 1\), got nan'),
    (lambda: layers.GaussianNoise(None), r'GaussianNoise: stddev must be non-negative, got None'),
    (lambda: layers.Rescaling(None), r'Rescaling: scale must be a finite number, got None'),
    (lambda: layers.Rescaling(1 / 255, offset='1'), r"Rescaling: offset must be .*got '1'"),
    (lambda: layers.Input(shape=(-4,)), r'Input: shape must be a tuple of positive ints.*\(-4,\)'),
    (lambda: layers.Input(shape=5), r'Input: shape must be a tuple of positive ints.*got 5'),
    (lambda: layers.Input(shape=(28, 2.0)), r'Input: shape must be .*got \(28, 2\.0\)'),
    (lambda: layers.Dense(3, input_shape=(0,)), r'Dense: input_shape must be .*got \(0,\)'),
    (lambda: layers.Dense(None), r'Dense: units must be a positive int, got None'),
    (lambda: layers.Reshape(4), r'Reshape: target_shape must be .*got 4'),
    (lambda: layers.Permute(1), r'Permute: dims must be a permutation .*got 1'),
    (lambda: layers.RepeatVector(2.0), r'RepeatVector: n must be a positive int, got 2\.0'),
    (lambda: layers.ReLU(max_value=float('nan')), r'ReLU: max_value must be a number >= 0'),
]


@pytest.mark.parametrize('make, message', BAD)
def test_a_wrong_argument_is_named_with_its_value(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_numpy_integers_are_sizes_as_in_keras():
    model = Sequential([
        layers.Input(shape=(np.int64(8), np.int64(8), np.int32(3))),
        layers.Conv2D(np.int32(8), np.int64(3), strides=(np.int64(1), 1)),
        layers.ZeroPadding2D(np.int64(1)),
        layers.MaxPooling2D(np.int16(2)),
        layers.Flatten(),
        layers.Dropout(np.float32(0.25)),
        layers.Dense(np.int64(3)),
    ])
    assert model.output_shape == (None, 3)
    assert model.predict(np.zeros((2, 8, 8, 3), np.float32)).shape == (2, 3)
    json.dumps(model.get_config())  # the checked values are Python's: JSON takes them
    assert type(model.layers[-1].units) is int and type(model.layers[-2].rate) is float
