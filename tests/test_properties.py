"""Property tests: for any size, stride and padding, conv2d and the pools give
the output shape of the formulas, and their gradients check out."""
import math

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from minicnn import gradcheck
from minicnn import functional as F

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def expected_size(n, k, s, padding):
    """Keras: 'valid' -> ceil((n - k + 1) / s), 'same' -> ceil(n / s); int p -> (n + 2p - k) // s + 1."""
    if padding == 'valid':
        return math.ceil((n - k + 1) / s)
    if padding == 'same':
        return math.ceil(n / s)
    return (n + 2 * padding - k) // s + 1


@st.composite
def geometry(draw, max_size=9):
    """(image size, window, strides, padding) whose window fits the padded image."""
    size = draw(st.tuples(st.integers(1, max_size), st.integers(1, max_size)))
    padding = draw(st.sampled_from(['valid', 'same', 0, 1, 2]))
    window = draw(st.tuples(st.integers(1, size[0] + 2), st.integers(1, size[1] + 2)))
    assume(all(expected_size(n, k, 1, padding) >= 1 for n, k in zip(size, window)))
    strides = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    return size, window, strides, padding


@FAST
@given(geometry(), st.integers(1, 3), st.integers(1, 3))
def test_conv2d_output_shape(geo, channels, filters):
    (h, w), window, strides, padding = geo
    y = F.conv2d(np.zeros((2, h, w, channels), np.float32),
                 np.zeros((*window, channels, filters), np.float32), strides=strides, padding=padding)
    assert y.shape == (2, expected_size(h, window[0], strides[0], padding),
                       expected_size(w, window[1], strides[1], padding), filters)


@FAST
@given(geometry(), st.sampled_from([F.max_pool2d, F.avg_pool2d]))
def test_pool_output_shape(geo, pool):
    (h, w), window, strides, padding = geo
    assume(isinstance(padding, str))  # the pools take 'valid' or 'same'
    y = pool(np.zeros((1, h, w, 2), np.float32), window, strides, padding)
    assert y.shape == (1, expected_size(h, window[0], strides[0], padding),
                       expected_size(w, window[1], strides[1], padding), 2)


@settings(max_examples=12, deadline=None)
@given(geometry(max_size=6), st.integers(0, 2**31 - 1))
def test_conv2d_gradcheck_on_generated_shapes(geo, seed):
    (h, w), window, strides, padding = geo
    rng = np.random.default_rng(seed)
    x, k, b = rng.standard_normal((1, h, w, 2)), rng.standard_normal((*window, 2, 2)), rng.standard_normal(2)
    assert gradcheck(lambda x, k, b: F.conv2d(x, k, b, strides, padding), x, k, b)


@settings(max_examples=12, deadline=None)
@given(geometry(max_size=6), st.sampled_from([F.max_pool2d, F.avg_pool2d]), st.integers(0, 2**31 - 1))
def test_pool_gradcheck_on_generated_shapes(geo, pool, seed):
    (h, w), window, strides, padding = geo
    assume(isinstance(padding, str))  # the pools take 'valid' or 'same'
    x = np.random.default_rng(seed).standard_normal((1, h, w, 2))  # no ties: max is differentiable
    assert gradcheck(lambda x: pool(x, window, strides, padding), x)
