"""The CUDA kernels (``kernels.cupy_gpu``) against the reference twins, on a GPU.

Skipped, with the reason, where CuPy or a CUDA device is missing. The cases
and checks defined here also run without a GPU: test_cuda_sources_compile.py
compiles the same CUDA source for the CPU and runs these checks on it.
"""
import types

import numpy as np
import pytest

from minicnn import devices
from minicnn.kernels import cupy_gpu, reference

from kernel_cases import DTYPES, GEOMETRIES as CASES


def _why_no_gpu():
    """What minicnn.devices says is missing for the GPU, or ''."""
    try:
        devices.cupy()
    except RuntimeError as err:
        return str(err)
    return ''


pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not devices.gpu_available(), reason=_why_no_gpu())]

TOLERANCE = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-13}

# How the kernels are launched: as chosen, or forced onto the paths that small
# test arrays never take (64-bit index arithmetic; threads looping over
# several elements because the grid is smaller than the array).
LAUNCH_VARIANTS = ['as chosen', '64-bit indices', 'one block']


def use_launch_variant(monkeypatch, variant):
    if variant == '64-bit indices':
        monkeypatch.setattr(cupy_gpu, '_index_bits', lambda largest: 64)
    elif variant == 'one block':
        monkeypatch.setattr(cupy_gpu, '_MAX_BLOCKS', 1)


def kernel_inputs(case, dtype):
    """Seeded random inputs for every kernel of one case, as NumPy arrays."""
    x_shape, window, strides, pad = case
    rng = np.random.default_rng(0)
    out_shape = (x_shape[0], *reference.output_size(x_shape, window, strides, pad), x_shape[3])
    ties = rng.integers(-1, 2, x_shape).astype(dtype)   # three values: many tied maxima
    return types.SimpleNamespace(
        x_shape=x_shape, geometry=(window, strides, pad),
        x=rng.standard_normal(x_shape).astype(dtype), ties=ties,
        gy=rng.standard_normal(out_shape).astype(dtype),
        cols=rng.standard_normal((*out_shape[:3], *window, x_shape[3])).astype(dtype),
        argmax=reference.max_pool(ties, window, strides, pad)[1])


def assert_same(actual, expected, exact=False):
    """Same dtype and values, NaN and -inf (windows wholly in the padding) included.

    Copies and maxima must be exact. Sums are added in the reference's order,
    so they should be too, but a compiler may contract or flush differently.
    """
    actual = devices.to_numpy(actual)
    assert actual.dtype == expected.dtype
    if exact:
        np.testing.assert_array_equal(actual, expected)
    else:
        tolerance = TOLERANCE[expected.dtype]
        np.testing.assert_allclose(actual, expected, rtol=tolerance, atol=tolerance)


# Each check runs one kernel of ``kernels`` on device copies (``to_device``)
# of the inputs and compares it with the reference. The copies are Fortran-
# ordered, so the kernels must make their inputs C-contiguous first.

def _on_device(to_device, array):
    return to_device(np.asfortranarray(array))


def check_im2col(kernels, data, to_device):
    assert_same(kernels.im2col(_on_device(to_device, data.x), *data.geometry),
                reference.im2col(data.x, *data.geometry), exact=True)


def check_col2im(kernels, data, to_device):
    folding = (data.x_shape, *data.geometry)
    assert_same(kernels.col2im(_on_device(to_device, data.cols), *folding),
                reference.col2im(data.cols, *folding))


def check_max_pool(kernels, data, to_device):
    for x in (data.x, data.ties):
        y, argmax = kernels.max_pool(_on_device(to_device, x), *data.geometry)
        y_expected, argmax_expected = reference.max_pool(x, *data.geometry)
        assert_same(y, y_expected, exact=True)
        assert_same(argmax, argmax_expected, exact=True)


def check_max_pool_backward(kernels, data, to_device):
    folding = (data.x_shape, *data.geometry)
    gy, argmax = _on_device(to_device, data.gy), _on_device(to_device, data.argmax)
    assert_same(kernels.max_pool_backward(gy, argmax, *folding),
                reference.max_pool_backward(data.gy, data.argmax, *folding))


def check_avg_pool(kernels, data, to_device):
    with np.errstate(invalid='ignore'):   # 0 / 0 in windows wholly in the padding
        expected = reference.avg_pool(data.x, *data.geometry)
    assert_same(kernels.avg_pool(_on_device(to_device, data.x), *data.geometry), expected)


def check_avg_pool_backward(kernels, data, to_device):
    folding = (data.x_shape, *data.geometry)
    with np.errstate(divide='ignore', invalid='ignore'):
        expected = reference.avg_pool_backward(data.gy, *folding)
    assert_same(kernels.avg_pool_backward(_on_device(to_device, data.gy), *folding), expected)


KERNEL_CHECKS = [check_im2col, check_col2im, check_max_pool, check_max_pool_backward,
                 check_avg_pool, check_avg_pool_backward]


def check_argument_errors(kernels, to_device):
    """Other dtypes and mis-shaped gradients are refused, not read out of bounds."""
    geometry = ((2, 2), (2, 2), (0, 0, 0, 0))
    with pytest.raises(TypeError, match='float32 and float64'):
        kernels.avg_pool(to_device(np.zeros((1, 4, 4, 1), np.float16)), *geometry)
    with pytest.raises(ValueError, match='gy must have shape'):
        kernels.avg_pool_backward(to_device(np.zeros((1, 3, 2, 1))), (1, 4, 4, 1), *geometry)
    with pytest.raises(ValueError, match='cols must have shape'):
        kernels.col2im(to_device(np.zeros((1, 2, 2, 2, 2, 3))), (1, 4, 4, 1), *geometry)


def for_every_kernel_case(test):
    """Parametrize ``test`` over launch variant, kernel check, dtype and case."""
    marks = [pytest.mark.parametrize('variant', LAUNCH_VARIANTS),
             pytest.mark.parametrize('check', KERNEL_CHECKS,
                                     ids=lambda check: check.__name__.removeprefix('check_')),
             pytest.mark.parametrize('dtype', DTYPES, ids=lambda dtype: np.dtype(dtype).name),
             pytest.mark.parametrize('case', CASES.values(), ids=CASES.keys())]
    for mark in marks:
        test = mark(test)
    return test


@for_every_kernel_case
def test_kernel_matches_reference(monkeypatch, variant, check, dtype, case):
    use_launch_variant(monkeypatch, variant)
    check(cupy_gpu, kernel_inputs(case, dtype), devices.cupy().asarray)


def test_argument_errors():
    check_argument_errors(cupy_gpu, devices.cupy().asarray)
