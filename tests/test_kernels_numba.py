"""The Numba kernels give the reference kernels' results.

Every public function of ``minicnn.kernels.numba_cpu`` is run next to its twin
in ``minicnn.kernels.reference`` on the same input: first on named geometries
chosen to hit each edge (no padding, asymmetric padding, non-square windows,
strides 1 to 3, C=1, N=1, windows lying wholly in the padding), then on random
ones drawn by Hypothesis. Copies and maxima must match exactly; sums may
differ in rounding because the two add in different orders.
"""
import inspect

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minicnn.kernels import numba_cpu, reference

from kernel_cases import DTYPES, GEOMETRIES

# Windows wholly in the padding average over no pixel: 0/0 = NaN on both sides.
pytestmark = pytest.mark.filterwarnings('ignore:invalid value encountered',
                                        'ignore:divide by zero encountered')

TOLERANCE = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}


def test_same_public_functions_as_the_reference():
    expected = {name: inspect.signature(f) for name, f in vars(reference).items()
                if inspect.isfunction(f) and f.__module__ == reference.__name__
                and not name.startswith('_')}
    assert {name: inspect.signature(getattr(numba_cpu, name)) for name in numba_cpu.__all__} == expected


def random_input(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def assert_matches_reference(x, window, strides, pad):
    """Every window kernel on x (im2col and col2im in both forms): the Numba result
    equals the reference's, dtype included."""
    close = TOLERANCE[x.dtype.type]

    def same(got, want, exact=False):
        assert got.dtype == want.dtype and got.shape == want.shape
        if exact:
            np.testing.assert_array_equal(got, want)
        else:
            np.testing.assert_allclose(got, want, **close)

    geometry = (window, strides, pad)
    cols = reference.im2col(x, *geometry)
    same(numba_cpu.im2col(x, *geometry), cols, exact=True)
    same(numba_cpu.im2col_serial(x, *geometry), cols, exact=True)
    cols = random_input(cols.shape, x.dtype, seed=1)
    folded = reference.col2im(cols, x.shape, *geometry)
    same(numba_cpu.col2im(cols, x.shape, *geometry), folded)
    same(numba_cpu.col2im_serial(cols, x.shape, *geometry), folded)

    y, argmax = reference.max_pool(x, *geometry)
    got_y, got_argmax = numba_cpu.max_pool(x, *geometry)
    same(got_y, y, exact=True)
    same(got_argmax, argmax, exact=True)
    gy = random_input(y.shape, x.dtype, seed=2)
    same(numba_cpu.max_pool_backward(gy, argmax, x.shape, *geometry),
         reference.max_pool_backward(gy, argmax, x.shape, *geometry))

    same(numba_cpu.avg_pool(x, *geometry), reference.avg_pool(x, *geometry))
    same(numba_cpu.avg_pool_backward(gy, x.shape, *geometry),
         reference.avg_pool_backward(gy, x.shape, *geometry))


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('shape, window, strides, pad', GEOMETRIES.values(), ids=GEOMETRIES.keys())
def test_kernels_match_reference(shape, window, strides, pad, dtype):
    assert_matches_reference(random_input(shape, dtype), window, strides, pad)


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('shape, window, strides, pad', GEOMETRIES.values(), ids=GEOMETRIES.keys())
def test_kernels_match_reference_with_many_ties(shape, window, strides, pad, dtype):
    """Values drawn from {-1, 0, 1}: most windows hold equal maxima."""
    x = np.random.default_rng(3).integers(-1, 2, size=shape).astype(dtype)
    assert_matches_reference(x, window, strides, pad)


@st.composite
def geometries(draw):
    """A random (x shape, window, strides, pad) with at least one output and
    padding narrower than the window, as convolution and pooling layers make."""
    window = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    strides = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    pad = tuple(draw(st.integers(0, k - 1)) for k in (window[0], window[0], window[1], window[1]))
    h = draw(st.integers(max(1, window[0] - pad[0] - pad[1]), 9))
    w = draw(st.integers(max(1, window[1] - pad[2] - pad[3]), 9))
    return (draw(st.integers(1, 3)), h, w, draw(st.integers(1, 5))), window, strides, pad


@settings(max_examples=60, deadline=None)
@given(geometry=geometries(), dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_kernels_match_reference_on_random_geometries(geometry, dtype, seed):
    shape, window, strides, pad = geometry
    assert_matches_reference(random_input(shape, dtype, seed), window, strides, pad)


@pytest.mark.parametrize('dtype', DTYPES)
def test_windows_wholly_in_padding(dtype):
    """Padding wider than the window: some windows see no pixel of the image.
    Their max is -inf (argmax 0), their mean 0/0 = nan, and they pass no gradient."""
    with np.errstate(divide='ignore', invalid='ignore'):  # dividing by a count of 0
        assert_matches_reference(random_input((2, 3, 4, 2), dtype), (2, 2), (2, 2), (3, 2, 2, 3))


def test_max_pool_takes_the_first_of_equal_maxima():
    x = np.ones((1, 4, 4, 2), dtype=np.float32)
    x[0, 1, 1, 1] = 2.0  # channel 1, window (0, 0): a unique maximum at offset 1*2 + 1 = 3
    geometry = ((2, 2), (2, 2), (0, 0, 0, 0))
    y, argmax = numba_cpu.max_pool(x, *geometry)
    np.testing.assert_array_equal(argmax[0, :, :, 0], 0)  # all equal: the first one
    np.testing.assert_array_equal(argmax[0, :, :, 1], [[3, 0], [0, 0]])
    np.testing.assert_array_equal(y[0, :, :, 1], [[2, 1], [1, 1]])

    gx = numba_cpu.max_pool_backward(np.ones_like(y), argmax, x.shape, *geometry)
    np.testing.assert_array_equal(gx[0, :, :, 0], [[1, 0, 1, 0], [0, 0, 0, 0]] * 2)


def test_max_pool_never_picks_padding():
    """All-negative input: the zero a padded copy might hold must not win."""
    x = -np.ones((1, 2, 2, 1))
    y, argmax = numba_cpu.max_pool(x, (2, 2), (1, 1), (1, 0, 1, 0))
    np.testing.assert_array_equal(y[0, :, :, 0], -1)
    np.testing.assert_array_equal(argmax[0, :, :, 0], [[3, 2], [1, 0]])


@pytest.mark.parametrize('dtype', DTYPES)
def test_outputs_keep_the_input_dtype(dtype):
    x = random_input((2, 5, 5, 3), dtype)
    geometry = ((3, 3), (2, 2), (1, 1, 1, 1))
    cols = numba_cpu.im2col(x, *geometry)
    y, argmax = numba_cpu.max_pool(x, *geometry)
    assert cols.dtype == dtype
    assert numba_cpu.col2im(cols, x.shape, *geometry).dtype == dtype
    assert y.dtype == dtype and argmax.dtype == np.int32
    assert numba_cpu.max_pool_backward(y, argmax, x.shape, *geometry).dtype == dtype
    assert numba_cpu.avg_pool(x, *geometry).dtype == dtype
    assert numba_cpu.avg_pool_backward(y, x.shape, *geometry).dtype == dtype


def test_non_contiguous_inputs():
    """Views such as a transpose are copied to C order before the kernels see them."""
    x = random_input((5, 6, 7, 3), np.float64).transpose(0, 2, 1, 3)
    assert not x.flags.c_contiguous
    assert_matches_reference(x, (3, 2), (1, 2), (1, 1, 0, 1))


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('shape', [(7,), (3, 5, 4, 2), (1, 1), (2, 31, 31, 24)])
def test_gelu_and_its_gradient_match_the_reference(shape, dtype):
    x = 3 * random_input(shape, dtype)
    y, cdf = numba_cpu.gelu(x)
    y_ref, cdf_ref = reference.gelu(x)
    close = TOLERANCE[dtype]
    np.testing.assert_allclose(y, y_ref, **close)
    np.testing.assert_allclose(cdf, cdf_ref, **close)
    gy = random_input(shape, dtype, seed=1)
    gx = numba_cpu.gelu_backward(gy, x, cdf)
    np.testing.assert_allclose(gx, reference.gelu_backward(gy, x, cdf_ref), **close)
    assert y.dtype == cdf.dtype == gx.dtype == dtype


def test_float32_exp_is_within_an_ulp_of_exp_and_zero_past_its_limit():
    """_exp_neg_float32, the float32 GELU gradient's e^-t, against float64's exp."""
    from numba import njit

    @njit
    def exp_neg(t):
        out = np.empty_like(t)
        for k in range(t.size):
            out[k] = numba_cpu._exp_neg_float32(t[k])
        return out

    t = np.concatenate([np.linspace(0, numba_cpu.EXP_NEG_LIMIT, 4001, dtype=np.float32),
                        np.float32([1e-30, 0.3465736, 0.3465737, 84.999])])
    want = np.exp(-t.astype(np.float64))
    assert np.max(np.abs(exp_neg(t) - want) / want) <= np.finfo(np.float32).eps
    np.testing.assert_array_equal(exp_neg(np.float32([85.01, 88.0, 1e4, np.inf])), 0)


@pytest.mark.parametrize('x', [-20.0, -12.0, -9.0, -3.0, 0.0, 9.0, 13.5])
def test_float32_gelu_gradient_in_the_tails(x):
    """Where x phi(x) is tiny or beyond float32's normal numbers, the float32
    kernel's gradient still matches float64's to float32's smallest normals.
    Both get the same Phi(x), so only the gradient's own arithmetic differs."""
    x32 = np.full(3, x, np.float32)
    gy = np.ones(3, np.float32)
    cdf = numba_cpu.gelu(x32)[1]
    got = numba_cpu.gelu_backward(gy, x32, cdf)
    want = reference.gelu_backward(*(a.astype(np.float64) for a in (gy, x32, cdf)))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=np.finfo(np.float32).tiny)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('shape', [(7,), (3, 5, 4, 2), (1, 1)])
def test_relu_and_its_gradient_match_the_reference(shape, dtype):
    x = random_input(shape, dtype)
    x.reshape(-1)[0] = 0.0  # the kink: no gradient passes at exactly 0
    x.reshape(-1)[-1] = np.nan  # a NaN must come out, or a diverging run would hide it
    y = numba_cpu.relu(x)
    np.testing.assert_array_equal(y, reference.relu(x))
    gy = random_input(shape, dtype, seed=1)
    gx = numba_cpu.relu_backward(gy, y)
    np.testing.assert_array_equal(gx, reference.relu_backward(gy, y))
    assert y.dtype == gx.dtype == dtype
    in_place, expected = x.copy(), reference.relu(x)
    assert numba_cpu.relu(in_place, out=in_place) is in_place
    np.testing.assert_array_equal(in_place, expected)


def test_relu_refuses_an_out_it_could_not_write_through():
    x = np.ones((4, 6), np.float32)
    with pytest.raises(ValueError, match='C-contiguous'):
        numba_cpu.relu(x[:, ::2], out=x[:, ::2])


def test_each_kernel_set_names_its_per_operation_twins():
    """for_array(x) is the one way code is picked: each set carries its twins."""
    from minicnn.kernels import (batchnorm_numba, batchnorm_reference, cupy_gpu, optimizer_numba,
                                 winograd_numba, winograd_reference)
    assert (numba_cpu.winograd, numba_cpu.batchnorm, numba_cpu.optimizer) == (
        winograd_numba, batchnorm_numba, optimizer_numba)
    for plain in (reference, cupy_gpu):
        assert (plain.winograd, plain.batchnorm, plain.optimizer) == (
            winograd_reference, batchnorm_reference, None)
        assert plain.parallel_threads() == 1
    assert numba_cpu.parallel_threads() >= 1
