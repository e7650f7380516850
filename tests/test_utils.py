import numpy as np
import pytest

from minicnn.utils import set_seed, to_categorical
from minicnn import devices


def test_to_categorical_accepts_both_label_shapes():
    expected = np.eye(3, dtype=np.float32)[[0, 2, 1]]
    np.testing.assert_array_equal(to_categorical([0, 2, 1]), expected)
    np.testing.assert_array_equal(to_categorical(np.array([[0], [2], [1]]), 3), expected)
    assert to_categorical([1], num_classes=5).shape == (1, 5)


def test_to_categorical_errors():
    with pytest.raises(ValueError, match='num_classes=2'):
        to_categorical([0, 2], num_classes=2)
    with pytest.raises(ValueError, match=r'\(N,\) or \(N, 1\)'):
        to_categorical(np.zeros((2, 2)))


def test_set_seed_repeats_draws():
    set_seed(5)
    a = devices.rng().random(4)
    set_seed(5)
    np.testing.assert_array_equal(a, devices.rng().random(4))


def test_normalize_as_keras():
    from minicnn.utils import normalize
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(x), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(x, axis=0, order=1), [[1.0, 1.0], [0.0, 0.0]])
