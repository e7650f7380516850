"""Winograd's F(2x2, 3x3) convolution: its Numba transforms against the reference
ones, the convolution and its gradients against im2col's and by gradcheck, its
float32 error against exact sums, when ``conv2d`` picks it, and how it shares the
slices of the batch among threads."""
import collections
import inspect
import time

import numba
import numpy as np
import pytest
import threadpoolctl
from hypothesis import given, settings, strategies as st

import minicnn as mc
from minicnn import Tensor, devices, gradcheck
from minicnn import functional as F
from minicnn.functional.conv import (ChunkedConvolution, Im2colConvolution, WinogradConvolution,
                                     fastest_method)
from minicnn.kernels import winograd_numba, winograd_reference
from minicnn.kernels.parallel import map_parts

TOLERANCE = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}

# (x shape, padding, filters): odd and even outputs (a last tile half outside),
# 'same' and 'valid', int and pair padding, one pixel of output, batch 1.
CASES = [
    ((2, 5, 7, 3), 'valid', 4),
    ((1, 6, 5, 2), 'same', 3),
    ((3, 4, 4, 5), 'same', 2),
    ((2, 3, 3, 1), 'valid', 1),
    ((1, 8, 9, 4), 2, 6),
    ((2, 7, 6, 2), (1, 0), 3),
]


def test_same_public_functions_as_the_reference():
    expected = {name: inspect.signature(getattr(winograd_reference, name))
                for name in winograd_numba.__all__}
    assert {name: inspect.signature(getattr(winograd_numba, name))
            for name in winograd_numba.__all__} == expected
    public = {name for name, f in vars(winograd_reference).items() if inspect.isfunction(f)
              and f.__module__ == winograd_reference.__name__ and not name.startswith('_')}
    assert public == set(winograd_numba.__all__)


def transforms(module, x, pad, tiles, u, gy, bias):
    """Every transform of ``module`` on the same inputs, chained as the convolution
    chains them: [V, y, dM, db, dx]."""
    v = module.input_transform(x, pad, tiles)
    y = np.empty(gy.shape, dtype=x.dtype)
    module.output_transform(v @ u, bias, y)
    g_m, g_bias = module.output_gradient_transform(gy, tiles)
    gx = np.empty_like(x)
    module.input_gradient_transform(g_m @ u.swapaxes(1, 2), pad, tiles, gx)
    return [v, y, g_m, g_bias, gx]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 3), h=st.integers(1, 9), w=st.integers(1, 9), c=st.integers(1, 5),
       f=st.integers(1, 5), pad=st.tuples(*[st.integers(0, 2)] * 4),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**32 - 1))
def test_the_numba_transforms_match_the_reference(n, h, w, c, f, pad, dtype, seed):
    out_hw = (h + pad[0] + pad[1] - 2, w + pad[2] + pad[3] - 2)
    if min(out_hw) < 1:
        return
    rng = np.random.default_rng(seed)
    x, gy = (rng.standard_normal(shape).astype(dtype) for shape in [(n, h, w, c), (n, *out_hw, f)])
    u = winograd_reference.kernel_transform(rng.standard_normal((3, 3, c, f)).astype(dtype))
    bias = rng.standard_normal(f).astype(dtype)
    tiles = winograd_reference.tile_counts(out_hw)
    for ours, reference in zip(transforms(winograd_numba, x, pad, tiles, u, gy, bias),
                               transforms(winograd_reference, x, pad, tiles, u, gy, bias)):
        assert ours.dtype == dtype and ours.shape == reference.shape
        np.testing.assert_allclose(ours, reference, **TOLERANCE[dtype])


def test_the_planes_have_an_odd_number_of_rows_the_extra_one_zeros(kernel_choice):
    """4 images of 2x2 tiles make 16 tiles, so the planes get a 17th row, of zeros."""
    x = np.ones((4, 4, 4, 3))
    module = winograd_numba if kernel_choice == 'numba' else winograd_reference
    v = module.input_transform(x, (0, 0, 0, 0), (1, 1))
    g_m, _ = module.output_gradient_transform(np.ones((4, 2, 2, 5)), (1, 1))
    assert v.shape == (16, 5, 3) and g_m.shape == (16, 5, 5)
    v = module.input_transform(np.ones((4, 6, 6, 3)), (0, 0, 0, 0), (2, 2))
    assert v.shape == (16, 17, 3) and not v[:, 16].any() and v[:, :16].any()


def convolve(method, x0, k0, b0, padding, gy=None):
    """(y, dx, dK, db) of one convolution and backward with gy (random when None)."""
    x, k, b = (Tensor(a, requires_grad=True) for a in (x0, k0, b0))
    y = F.conv2d(x, k, b, padding=padding, method=method)
    gy = np.random.default_rng(7).standard_normal(y.shape) if gy is None else gy
    y.backward(gy.astype(y.dtype))
    return y.data, x.grad, k.grad, b.grad


@pytest.mark.parametrize('x_shape,padding,filters', CASES)
def test_winograd_equals_im2col_forward_and_backward(kernel_choice, x_shape, padding, filters,
                                                     rng, monkeypatch):
    monkeypatch.setitem(mc.kernels.CHUNK_BYTES, 'cpu', 1)  # one image a slice
    x, k, b = (rng.standard_normal(x_shape), rng.standard_normal((3, 3, x_shape[3], filters)),
               rng.standard_normal(filters))
    for ours, plain in zip(convolve(WinogradConvolution, x, k, b, padding),
                           convolve(Im2colConvolution, x, k, b, padding)):
        np.testing.assert_allclose(ours, plain, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('x_shape,padding,filters', CASES[:4])
def test_winograd_gradcheck(kernel_choice, x_shape, padding, filters, rng, monkeypatch):
    monkeypatch.setitem(mc.kernels.CHUNK_BYTES, 'cpu', 1)
    x, k, b = (rng.standard_normal(x_shape), rng.standard_normal((3, 3, x_shape[3], filters)),
               rng.standard_normal(filters))
    assert gradcheck(lambda x, k, b: F.conv2d(x, k, b, padding=padding,
                                              method=WinogradConvolution), x, k, b)


def test_the_first_layer_computes_no_image_gradient(rng):
    x = Tensor(rng.standard_normal((2, 5, 5, 3)))
    k = Tensor(rng.standard_normal((3, 3, 3, 2)), requires_grad=True)
    F.conv2d(x, k, method=WinogradConvolution).sum().backward()
    assert x.grad is None and k.grad.shape == (3, 3, 3, 2)


@pytest.mark.parametrize('x_shape,filters', [((8, 16, 16, 32), 32), ((16, 7, 7, 64), 64)])
def test_float32_error_is_no_larger_than_im2cols(x_shape, filters, rng):
    """Against the exact sums (float64), relative to the largest value: Winograd's
    float32 error of y is smaller than im2col's (measured 0.5 to 0.9 times it), that of
    dx and dK up to 2.5 times it, and all are about 1e-7 to 1e-6."""
    x, b = rng.standard_normal(x_shape), rng.standard_normal(filters)
    k = rng.standard_normal((3, 3, x_shape[3], filters)) / np.sqrt(9 * x_shape[3])
    gy = rng.standard_normal((x_shape[0], *x_shape[1:3], filters))
    exact = convolve(ChunkedConvolution, x, k, b, 'same', gy)
    errors = {}
    for method in (WinogradConvolution, ChunkedConvolution):
        got = convolve(method, *(a.astype(np.float32) for a in (x, k, b)), 'same', gy)
        errors[method] = [np.abs(g - e).max() / np.abs(e).max() for g, e in zip(got, exact)]
    for winograd, im2col in zip(errors[WinogradConvolution], errors[ChunkedConvolution]):
        assert winograd < 1e-5 and winograd <= 3 * im2col


def test_conv2d_picks_winograd_for_3x3_stride_1_on_the_cpu(monkeypatch):
    x, k3, k5 = np.zeros((1, 8, 8, 16)), np.zeros((3, 3, 16, 4)), np.zeros((5, 5, 16, 4))
    assert fastest_method(x, k3, 1, 1, 1) is WinogradConvolution
    assert fastest_method(Tensor(x), k3, (1, 1), (1, 1), 1) is WinogradConvolution
    for args in [(x, k5, 1, 1, 1), (x, k3, 2, 1, 1), (x, k3, (1, 2), 1, 1), (x, k3, 1, 2, 1),
                 (x, np.zeros((3, 3, 8, 4)), 1, 1, 2), (x[..., :3], k3[:, :, :3], 1, 1, 1)]:
        assert fastest_method(*args) is ChunkedConvolution
    monkeypatch.setattr(devices, 'device_of', lambda array: 'gpu')
    assert fastest_method(x, k3, 1, 1, 1) is ChunkedConvolution


@pytest.mark.parametrize('options,message', [
    (dict(strides=2), 'stride 1'), (dict(dilation_rate=2), 'no dilation'),
])
def test_winograd_refuses_what_it_cannot_compute(options, message):
    with pytest.raises(ValueError, match=message):
        F.conv2d(np.zeros((1, 8, 8, 1)), np.zeros((3, 3, 1, 1)), method=WinogradConvolution,
                 **options)
    with pytest.raises(ValueError, match='3x3 kernel'):
        F.conv2d(np.zeros((1, 8, 8, 1)), np.zeros((5, 5, 1, 1)), method=WinogradConvolution)


def test_map_parts_keeps_the_order_and_holds_blas_to_one_thread():
    def work(part):
        blas = [pool['num_threads'] for pool in threadpoolctl.threadpool_info()
                if pool['user_api'] == 'blas']
        return part, blas
    results = map_parts(work, list(range(7)), threads=3)
    assert [part for part, _ in results] == list(range(7))
    assert all(blas == [1] * len(blas) for _, blas in results)
    assert map_parts(lambda part: -part, [1, 2], threads=1) == [-1, -2]


def test_map_parts_does_every_part_once():
    calls = collections.Counter()

    def work(part):
        calls[part] += 1
        time.sleep(0.001)  # lets the helper thread take parts too
        return 2 * part
    assert map_parts(work, list(range(40)), threads=2) == [2 * part for part in range(40)]
    assert calls == collections.Counter(range(40))


def test_a_failing_part_is_raised_once_every_thread_has_stopped():
    running, started = [], []

    def work(part):
        running.append(part)
        started.append(part)
        time.sleep(0.002)
        running.remove(part)
        if part == 3:
            raise ValueError('part 3 failed')
        return part
    with pytest.raises(ValueError, match='part 3 failed'):
        map_parts(work, list(range(40)), threads=2)
    assert running == []
    assert len(started) < 10  # the parts left were not started


def test_the_threads_do_not_change_the_result(rng, monkeypatch):
    """Each slice's numbers are the same on any thread, and dU adds the slices in order."""
    monkeypatch.setitem(mc.kernels.CHUNK_BYTES, 'cpu', 1)
    x, k, b = rng.standard_normal((5, 6, 6, 2)), rng.standard_normal((3, 3, 2, 3)), np.zeros(3)
    before = numba.get_num_threads()
    try:
        results = []
        for threads in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(threads)
            results.append(convolve(WinogradConvolution, x, k, b, 'same'))
    finally:
        numba.set_num_threads(before)
    for one, many in zip(*results):
        np.testing.assert_array_equal(one, many)
