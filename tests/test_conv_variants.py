"""Dilated and grouped conv2d, conv2d_transpose, depthwise and separable convolutions.

Each is checked against plain loops written here from its definition, by
float64 gradient checks, against Keras's own test shapes (from
keras/src/layers/convolutional/*_test.py), and, for the transposed
convolution, by the adjoint identity <conv2d(z), x> = <z, conv2d_transpose(x)>.
The dilated im2col and col2im of every backend are checked against the
reference. Then the layers, as a Keras user meets them.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minicnn as mc
from minicnn import Tensor, devices, gradcheck, layers
from minicnn import functional as F
from minicnn.functional.conv import ChunkedConvolution, Im2colConvolution
from minicnn.functional.geometry import padding_amounts
from minicnn.kernels import cupy_gpu, numba_cpu, reference
from minicnn.layers import (Conv2D, Conv2DTranspose, DepthwiseConv2D, Flatten, Dense, ReLU,
                            SeparableConv2D)
from minicnn.models import Sequential
from minicnn.optimizers import Adam

from synthetic import plus_or_cross
from test_cuda_sources_compile import host_kernels, host_library  # noqa: F401 (fixtures)


# ---- The definitions, as loops -------------------------------------------------

def span(k, d):
    return (k - 1) * d + 1


def pad_of(x_shape, window, strides, dilation, padding):
    """(top, bottom, left, right) of Keras's padding for a dilated window."""
    _, h, w, _ = x_shape
    return (*padding_amounts(h, span(window[0], dilation[0]), strides[0], padding),
            *padding_amounts(w, span(window[1], dilation[1]), strides[1], padding))


def padded(x, pad):
    top, bottom, left, right = pad
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))


def windows_over(x_padded, window, strides, dilation):
    """(OH, OW): how many dilated windows fit in the padded images."""
    return tuple((size - span(k, d)) // s + 1
                 for size, k, s, d in zip(x_padded.shape[1:3], window, strides, dilation))


def loop_conv2d(x, kernel, bias, strides, dilation, pad, groups):
    """y[n, i, j, f] = b[f] + sum_{p, q, c} x_pad[n, i*sh + p*dh, j*sw + q*dw, g*Cg + c]
                                               * K[p, q, c, f]
    where g = f // (F / groups) is the group of filter f and Cg = C / groups."""
    xp = padded(x, pad)
    kh, kw, cg, f = kernel.shape
    (sh, sw), (dh, dw) = strides, dilation
    oh, ow = windows_over(xp, (kh, kw), strides, dilation)
    y = np.zeros((x.shape[0], oh, ow, f))
    for o in range(f):
        group = o // (f // groups)
        for i in range(oh):
            for j in range(ow):
                for p in range(kh):
                    for q in range(kw):
                        for c in range(cg):
                            pixel = xp[:, i * sh + p * dh, j * sw + q * dw, group * cg + c]
                            y[:, i, j, o] += pixel * kernel[p, q, c, o]
    return y if bias is None else y + bias


def loop_depthwise_conv2d(x, kernel, bias, strides, dilation, pad):
    """y[n, i, j, c*M + m] = b[c*M + m]
                           + sum_{p, q} x_pad[n, i*sh + p*dh, j*sw + q*dw, c] * K[p, q, c, m]."""
    xp = padded(x, pad)
    kh, kw, channels, multiplier = kernel.shape
    (sh, sw), (dh, dw) = strides, dilation
    oh, ow = windows_over(xp, (kh, kw), strides, dilation)
    y = np.zeros((x.shape[0], oh, ow, channels * multiplier))
    for c in range(channels):
        for m in range(multiplier):
            for i in range(oh):
                for j in range(ow):
                    for p in range(kh):
                        for q in range(kw):
                            y[:, i, j, c * multiplier + m] += \
                                xp[:, i * sh + p * dh, j * sw + q * dw, c] * kernel[p, q, c, m]
    return y if bias is None else y + bias


def keras_transposed_size(size, k, stride, dilation, padding, output_padding):
    """Keras 2's conv_utils.deconv_output_length, as written there."""
    k = k + (k - 1) * (dilation - 1)
    if output_padding is None:
        return size * stride + max(k - stride, 0) if padding == 'valid' else size * stride
    pad = k // 2 if padding == 'same' else 0
    return (size - 1) * stride + k - 2 * pad + output_padding


def loop_conv2d_transpose(x, kernel, bias, strides, dilation, padding, output_padding):
    """Each input pixel stamps the kernel, weighted by its channels, onto the
    output: y_pad[n, i*sh + p*dh, j*sw + q*dw, f] += x[n, i, j, c] K[p, q, f, c],
    then the padding (TensorFlow's, for the output size) is cut away."""
    n, h, w, c = x.shape
    kh, kw, f, _ = kernel.shape
    (sh, sw), (dh, dw) = strides, dilation
    ops = output_padding or (None, None)
    out = [keras_transposed_size(size, k, s, d, padding, op)
           for size, k, s, d, op in zip((h, w), (kh, kw), strides, dilation, ops)]
    before = [max((size - 1) * s + span(k, d) - o, 0) // 2 if padding == 'same' else 0
              for size, k, s, d, o in zip((h, w), (kh, kw), strides, dilation, out)]
    reach = [max(b + o, (size - 1) * s + span(k, d))  # the rows (columns) either one needs
             for b, o, size, s, k, d in zip(before, out, (h, w), strides, (kh, kw), dilation)]
    y = np.zeros((n, *reach, f))
    for i in range(h):
        for j in range(w):
            for p in range(kh):
                for q in range(kw):
                    for o in range(f):
                        for ch in range(c):
                            y[:, i * sh + p * dh, j * sw + q * dw, o] += \
                                x[:, i, j, ch] * kernel[p, q, o, ch]
    y = y[:, before[0]:before[0] + out[0], before[1]:before[1] + out[1]]
    return y if bias is None else y + bias


# ---- conv2d with dilation and groups ---------------------------------------------

# (x shape, kernel (kh, kw), strides, dilation, padding, groups, filters): odd
# sizes, batch 1, strides with dilation (the function allows what the layer
# refuses), groups up to one per channel, 1x1 kernels, int padding.
CONV_CASES = [
    ((2, 7, 8, 4), (3, 3), (1, 1), (2, 2), 'same', 2, 6),
    ((1, 9, 7, 3), (2, 3), (1, 1), (3, 2), 'valid', 3, 3),
    ((2, 6, 5, 6), (3, 2), (2, 3), (1, 1), 'same', 3, 6),
    ((1, 8, 9, 2), (3, 3), (2, 2), (2, 1), 'same', 1, 4),
    ((2, 5, 6, 4), (1, 1), (1, 1), (1, 1), 'valid', 4, 8),
    ((1, 7, 7, 4), (2, 2), (1, 1), (2, 3), 1, 2, 2),
]


def conv_inputs(rng, x_shape, window, groups, filters):
    return (rng.standard_normal(x_shape),
            rng.standard_normal((*window, x_shape[3] // groups, filters)),
            rng.standard_normal(filters))


@pytest.mark.parametrize('method', [Im2colConvolution, ChunkedConvolution])
@pytest.mark.parametrize('x_shape,window,strides,dilation,padding,groups,filters', CONV_CASES)
def test_dilated_grouped_conv2d_matches_the_loops(kernel_choice, method, x_shape, window, strides,
                                                 dilation, padding, groups, filters, rng):
    x, k, b = conv_inputs(rng, x_shape, window, groups, filters)
    y = F.conv2d(x, k, b, strides, padding, dilation, groups, method=method).data
    pad = (padding,) * 4 if isinstance(padding, int) else pad_of(x_shape, window, strides,
                                                                 dilation, padding)
    np.testing.assert_allclose(y, loop_conv2d(x, k, b, strides, dilation, pad, groups),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('method', [Im2colConvolution, ChunkedConvolution])
@pytest.mark.parametrize('x_shape,window,strides,dilation,padding,groups,filters', CONV_CASES)
def test_dilated_grouped_conv2d_gradcheck(kernel_choice, method, x_shape, window, strides,
                                          dilation, padding, groups, filters, rng, monkeypatch):
    monkeypatch.setitem(mc.kernels.CHUNK_BYTES, 'cpu', 1)  # several slices of the batch
    x, k, b = conv_inputs(rng, x_shape, window, groups, filters)
    assert gradcheck(lambda x, k, b: F.conv2d(x, k, b, strides, padding, dilation, groups,
                                              method=method), x, k, b)


def test_a_grouped_conv2d_is_convolutions_side_by_side(rng):
    x, k, b = conv_inputs(rng, (2, 6, 6, 6), (3, 3), 3, 9)
    y = F.conv2d(x, k, b, padding='same', groups=3).data
    # By im2col too: the ungrouped default, Winograd's, rounds its sums otherwise.
    apart = [F.conv2d(x[..., 2 * g:2 * g + 2], k[..., 3 * g:3 * g + 3], b[3 * g:3 * g + 3],
                      padding='same', method=ChunkedConvolution).data for g in range(3)]
    np.testing.assert_allclose(y, np.concatenate(apart, axis=-1), rtol=1e-12)


def test_same_padding_is_computed_on_the_dilated_span():
    """A 3x3 kernel with dilation 2 spans 5x5: 'same' pads 2 each side, as TensorFlow."""
    x = np.zeros((1, 6, 6, 1))
    x[0, 0, 0, 0] = 1.0
    k = np.zeros((3, 3, 1, 1))
    k[0, 0, 0, 0] = 1.0  # the top-left tap, 2 rows and 2 columns above the centre
    y = F.conv2d(x, k, padding='same', dilation_rate=2).data
    assert y.shape == (1, 6, 6, 1)
    assert y[0, 2, 2, 0] == 1.0 and y.sum() == 1.0


# ---- conv2d_transpose ----------------------------------------------------------

# (x shape, kernel (kh, kw, filters), strides, dilation, padding, output_padding)
TRANSPOSE_CASES = [
    ((2, 4, 5, 3), (3, 3, 2), (2, 2), (1, 1), 'valid', None),
    ((1, 3, 4, 2), (3, 2, 3), (2, 3), (1, 1), 'same', None),
    ((2, 4, 3, 2), (4, 4, 2), (2, 2), (1, 1), 'same', None),      # even kernel
    ((1, 3, 3, 2), (3, 3, 2), (3, 2), (1, 1), 'same', (2, 1)),
    ((1, 4, 3, 3), (3, 2, 2), (2, 2), (1, 1), 'valid', (1, 0)),
    ((2, 4, 4, 2), (3, 3, 2), (1, 1), (2, 2), 'same', None),      # dilated
    ((1, 3, 5, 2), (2, 3, 1), (1, 1), (3, 2), 'valid', None),
    ((1, 3, 3, 2), (1, 1, 2), (3, 3), (1, 1), 'valid', None),     # 1x1 spread out
    ((1, 2, 3, 1), (2, 2, 2), (2, 2), (1, 1), 'same', (0, 1)),    # even kernel, op 0
]


def transpose_inputs(rng, x_shape, kernel):
    kh, kw, filters = kernel
    return (rng.standard_normal(x_shape), rng.standard_normal((kh, kw, filters, x_shape[3])),
            rng.standard_normal(filters))


@pytest.mark.parametrize('x_shape,kernel,strides,dilation,padding,output_padding',
                         TRANSPOSE_CASES)
def test_conv2d_transpose_matches_the_loops(kernel_choice, x_shape, kernel, strides, dilation,
                                            padding, output_padding, rng):
    x, k, b = transpose_inputs(rng, x_shape, kernel)
    y = F.conv2d_transpose(x, k, b, strides, padding, output_padding, dilation).data
    expected = loop_conv2d_transpose(x, k, b, strides, dilation, padding, output_padding)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('x_shape,kernel,strides,dilation,padding,output_padding',
                         TRANSPOSE_CASES)
def test_conv2d_transpose_gradcheck(kernel_choice, x_shape, kernel, strides, dilation, padding,
                                    output_padding, rng):
    x, k, b = transpose_inputs(rng, x_shape, kernel)
    assert gradcheck(lambda x, k, b: F.conv2d_transpose(x, k, b, strides, padding, output_padding,
                                                        dilation), x, k, b)


def output_padding_back_to(sizes, conv_out, window, strides, dilation, padding):
    """The output_padding with which conv2d_transpose of conv_out gives back
    sizes (H, W): None where Keras's default size does."""
    axes = list(zip(sizes, conv_out, window, strides, dilation))
    if all(keras_transposed_size(o, k, s, d, padding, None) == size for size, o, k, s, d in axes):
        return None
    return tuple(size - keras_transposed_size(o, k, s, d, padding, 0) for size, o, k, s, d in axes)


@pytest.mark.parametrize('x_shape,window,strides,dilation,padding', [
    ((2, 7, 6, 3), (3, 3), (2, 2), (1, 1), 'valid'),
    ((1, 7, 8, 2), (2, 3), (3, 2), (1, 1), 'same'),
    ((2, 6, 6, 2), (4, 4), (2, 2), (1, 1), 'same'),
    ((1, 9, 7, 3), (3, 2), (1, 1), (2, 3), 'same'),
    ((2, 5, 5, 2), (3, 3), (1, 1), (2, 1), 'valid'),
    ((1, 5, 6, 1), (1, 1), (2, 3), (1, 1), 'valid'),
])
def test_conv2d_transpose_is_the_adjoint_of_conv2d(kernel_choice, x_shape, window, strides,
                                                   dilation, padding, rng):
    """<conv2d(z, K), x> = <z, conv2d_transpose(x, K)> for random z and x."""
    z = rng.standard_normal(x_shape)
    k = rng.standard_normal((*window, x_shape[3], 4))
    conv = F.conv2d(z, k, strides=strides, padding=padding, dilation_rate=dilation).data
    x = rng.standard_normal(conv.shape)
    output_padding = output_padding_back_to(x_shape[1:3], conv.shape[1:3], window, strides,
                                            dilation, padding)
    back = F.conv2d_transpose(x, k, None, strides, padding, output_padding, dilation).data
    assert back.shape == z.shape
    np.testing.assert_allclose(np.vdot(conv, x), np.vdot(z, back), rtol=1e-10)


def test_conv2d_transpose_backward_is_conv2d_forward(rng):
    """Forward and backward trade places: the input gradient is conv2d of gy."""
    x = Tensor(rng.standard_normal((2, 4, 4, 3)), requires_grad=True)
    k = rng.standard_normal((3, 3, 2, 3))
    y = F.conv2d_transpose(x, k, strides=2, padding='same')
    gy = rng.standard_normal(y.shape)
    y.backward(gy)
    np.testing.assert_allclose(x.grad, F.conv2d(gy, k, strides=2, padding='same').data,
                               rtol=1e-12)


@pytest.mark.parametrize('kwargs,input_shape,output_shape', [
    # keras/src/layers/convolutional/conv_transpose_test.py, channels last
    (dict(filters=5, kernel_size=2, strides=2, padding='valid'), (2, 8, 8, 4), (2, 16, 16, 5)),
    (dict(filters=6, kernel_size=2, strides=3, padding='same', output_padding=2), (2, 8, 8, 4),
     (2, 23, 23, 6)),
    (dict(filters=6, kernel_size=(2, 3), strides=(2, 1), padding='valid'), (2, 8, 8, 4),
     (2, 16, 10, 6)),
    (dict(filters=2, kernel_size=(7, 7), strides=(16, 16), padding='valid'), (1, 14, 14, 2),
     (1, 224, 224, 2)),
])
def test_conv2d_transpose_shapes_as_keras_tests_them(kwargs, input_shape, output_shape):
    layer = Conv2DTranspose(**kwargs)
    assert layer(np.zeros(input_shape, np.float32)).shape == output_shape
    assert layer.output_shape == (None, *output_shape[1:])
    assert layer.kernel.shape == (*layer.kernel_size, kwargs['filters'], input_shape[3])


# ---- depthwise and separable --------------------------------------------------

# (x shape, kernel (kh, kw), depth_multiplier, strides, dilation, padding)
DEPTHWISE_CASES = [
    ((2, 6, 7, 3), (3, 3), 1, (1, 1), (1, 1), 'same'),
    ((1, 7, 6, 2), (2, 3), 3, (2, 1), (1, 1), 'valid'),
    ((2, 8, 8, 2), (3, 2), 2, (1, 1), (2, 3), 'same'),
    ((1, 5, 5, 4), (1, 1), 2, (3, 3), (1, 1), 'same'),
]


@pytest.mark.parametrize('x_shape,window,multiplier,strides,dilation,padding', DEPTHWISE_CASES)
def test_depthwise_conv2d_matches_the_loops_and_the_grouped_conv2d(
        kernel_choice, x_shape, window, multiplier, strides, dilation, padding, rng):
    channels = x_shape[3]
    x = rng.standard_normal(x_shape)
    k = rng.standard_normal((*window, channels, multiplier))
    b = rng.standard_normal(channels * multiplier)
    y = F.depthwise_conv2d(x, k, b, strides, padding, dilation).data
    pad = pad_of(x_shape, window, strides, dilation, padding)
    np.testing.assert_allclose(y, loop_depthwise_conv2d(x, k, b, strides, dilation, pad),
                               rtol=1e-10, atol=1e-12)
    grouped = F.conv2d(x, k.reshape(*window, 1, channels * multiplier), b, strides, padding,
                       dilation, groups=channels).data
    np.testing.assert_allclose(y, grouped, rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda x, k, b: F.depthwise_conv2d(x, k, b, strides, padding, dilation),
                     x, k, b)


def test_separable_conv2d_is_depthwise_then_pointwise(kernel_choice, rng):
    x = rng.standard_normal((2, 6, 5, 3))
    depthwise, pointwise = rng.standard_normal((3, 3, 3, 2)), rng.standard_normal((1, 1, 6, 4))
    b = rng.standard_normal(4)
    y = F.separable_conv2d(x, depthwise, pointwise, b, padding='same', dilation_rate=2).data
    pad = pad_of(x.shape, (3, 3), (1, 1), (2, 2), 'same')
    expected = loop_conv2d(loop_depthwise_conv2d(x, depthwise, None, (1, 1), (2, 2), pad),
                           pointwise, b, (1, 1), (1, 1), (0, 0, 0, 0), 1)
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda x, d, p, b: F.separable_conv2d(x, d, p, b, strides=2), x,
                     depthwise, pointwise, b)


# ---- The dilated kernels of every backend ----------------------------------------

@st.composite
def dilated_geometries(draw):
    """A random (x shape, window, strides, pad, dilation) with at least one output."""
    window = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dilation = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    strides = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    pad = tuple(draw(st.integers(0, 3)) for _ in range(4))
    h = draw(st.integers(max(1, span(window[0], dilation[0]) - pad[0] - pad[1]), 10))
    w = draw(st.integers(max(1, span(window[1], dilation[1]) - pad[2] - pad[3]), 10))
    return (draw(st.integers(1, 3)), h, w, draw(st.integers(1, 4))), window, strides, pad, dilation


def check_dilated_kernels(kernels, geometry, dtype, to_device, seed=0):
    """im2col exactly, col2im to rounding, as the reference."""
    shape, *folding = geometry
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    cols = reference.im2col(x, *folding)
    np.testing.assert_array_equal(devices.to_numpy(kernels.im2col(to_device(x), *folding)), cols)
    g_cols = rng.standard_normal(cols.shape).astype(dtype)
    got = devices.to_numpy(kernels.col2im(to_device(g_cols), shape, *folding))
    assert got.dtype == dtype
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, reference.col2im(g_cols, shape, *folding), rtol=tolerance,
                               atol=tolerance)


@settings(max_examples=60, deadline=None)
@given(geometry=dilated_geometries(), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**32 - 1))
def test_numba_dilated_im2col_and_col2im_match_the_reference(geometry, dtype, seed):
    check_dilated_kernels(numba_cpu, geometry, dtype, np.asarray, seed)


def test_the_reference_im2col_reads_the_dilated_taps():
    x = np.arange(1.0, 26.0).reshape(1, 5, 5, 1)
    cols = reference.im2col(x, (2, 2), (1, 1), (0, 0, 0, 0), (2, 3))
    assert cols.shape == (1, 3, 2, 2, 2, 1)  # the window spans 3 rows, 4 columns
    np.testing.assert_array_equal(cols[0, 0, 0, :, :, 0], [[1, 4], [11, 14]])


DILATED_CASES = {
    'dilation 2, same padding': ((2, 6, 7, 3), (3, 3), (1, 1), (2, 2, 2, 2), (2, 2)),
    'dilations 3 and 1, strides 2 and 1': ((1, 9, 6, 2), (2, 3), (2, 1), (0, 1, 1, 1), (3, 1)),
    'taps in the padding only': ((1, 2, 2, 1), (2, 2), (1, 1), (3, 3, 3, 3), (4, 4)),
}


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('geometry', DILATED_CASES.values(), ids=DILATED_CASES.keys())
def test_cuda_dilated_kernels_run_on_the_host_match_the_reference(host_kernels,  # noqa: F811
                                                                   geometry, dtype):
    check_dilated_kernels(host_kernels, geometry, dtype, np.asarray)


@pytest.mark.gpu
@pytest.mark.skipif(not devices.gpu_available(), reason='needs CuPy and a CUDA device')
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('geometry', DILATED_CASES.values(), ids=DILATED_CASES.keys())
def test_cuda_dilated_kernels_on_the_gpu_match_the_reference(geometry, dtype):
    check_dilated_kernels(cupy_gpu, geometry, dtype, devices.cupy().asarray)


# ---- The layers, as a Keras user meets them ----------------------------------------

def test_summary_param_counts_are_keras_counts():
    lines = []
    model = Sequential([SeparableConv2D(8, 3, input_shape=(10, 10, 3)), DepthwiseConv2D(3),
                        Conv2D(4, 3, groups=2, dilation_rate=2), Conv2DTranspose(2, 3, strides=2)])
    model.summary(print_fn=lines.append)
    rows = {kind: line for line in lines[0].splitlines()
            for kind in ('(SeparableConv2D)', '(DepthwiseConv2D)', '(Conv2D)', '(Conv2DTranspose)')
            if kind in line}
    assert rows['(SeparableConv2D)'].split()[-1] == str(3 * 3 * 3 + 3 * 8 + 8)        # 59
    assert rows['(DepthwiseConv2D)'].split()[-1] == str(3 * 3 * 8 + 8)            # 80
    assert rows['(Conv2D)'].split()[-1] == str(3 * 3 * (8 // 2) * 4 + 4)          # 148
    assert rows['(Conv2DTranspose)'].split()[-1] == str(3 * 3 * 2 * 4 + 2)
    assert '(None, 8, 8, 8)' in rows['(SeparableConv2D)']
    assert '(None, 2, 2, 4)' in rows['(Conv2D)']          # 6 - (3 - 1) * 2
    assert '(None, 5, 5, 2)' in rows['(Conv2DTranspose)']  # (2 - 1) * 2 + 3
    depthwise = Sequential([DepthwiseConv2D(3, input_shape=(5, 5, 4))])
    assert depthwise.count_params() == 3 * 3 * 4 + 4 == 40


def test_weights_in_keras_order_and_names():
    separable = SeparableConv2D(8, 3, depth_multiplier=2)
    separable(np.zeros((1, 5, 5, 3), np.float32))
    assert [w.shape for w in separable.weights] == [(3, 3, 3, 2), (1, 1, 6, 8), (8,)]
    assert [w.name.split('/')[1] for w in separable.weights] == \
        ['depthwise_kernel', 'pointwise_kernel', 'bias']
    depthwise = DepthwiseConv2D((3, 2), depth_multiplier=3, use_bias=False)
    assert depthwise(np.zeros((1, 5, 5, 2), np.float32)).shape == (1, 3, 4, 6)
    assert [w.name.split('/')[1] for w in depthwise.weights] == ['depthwise_kernel']
    grouped = Conv2D(6, 3, groups=3)
    grouped(np.zeros((1, 5, 5, 3), np.float32))
    assert grouped.kernel.shape == (3, 3, 1, 6)


@pytest.mark.parametrize('kwargs,input_shape,output_shape', [
    # keras/src/layers/convolutional/conv_test.py
    (dict(filters=5, kernel_size=2), (3, 5, 5, 4), (3, 4, 4, 5)),
    (dict(filters=6, kernel_size=2, padding='same', dilation_rate=(2, 2), groups=2),
     (3, 4, 4, 4), (3, 4, 4, 6)),
    (dict(filters=6, kernel_size=(2, 2), strides=(2, 1), groups=2), (3, 5, 5, 4), (3, 2, 4, 6)),
])
def test_conv2d_shapes_as_keras_tests_them(kwargs, input_shape, output_shape):
    assert Conv2D(**kwargs)(np.zeros(input_shape, np.float32)).shape == output_shape


@pytest.mark.parametrize('kwargs,input_shape,output_shape', [
    # keras/src/layers/convolutional/depthwise_conv_test.py
    (dict(depth_multiplier=5, kernel_size=2), (3, 5, 5, 4), (3, 4, 4, 20)),
    (dict(depth_multiplier=6, kernel_size=2, padding='same', dilation_rate=(2, 2)),
     (3, 4, 4, 4), (3, 4, 4, 24)),
    (dict(depth_multiplier=6, kernel_size=(2, 2), strides=(2, 2)), (3, 5, 5, 4), (3, 2, 2, 24)),
])
def test_depthwise_conv2d_shapes_as_keras_tests_them(kwargs, input_shape, output_shape):
    layer = DepthwiseConv2D(**kwargs)
    assert layer(np.zeros(input_shape, np.float32)).shape == output_shape
    assert layer.compute_output_shape(input_shape[1:]) == output_shape[1:]


@pytest.mark.parametrize('make', [
    lambda: [Conv2D(8, 3, padding='same', activation='relu', input_shape=(10, 10, 1)),
             Conv2D(8, 3, groups=2, dilation_rate=2, padding='same', activation='relu'),
             SeparableConv2D(8, 3, activation='relu'),
             Conv2DTranspose(4, 3, strides=2, padding='same', activation='relu')],
    lambda: [Conv2D(8, 3, padding='same', activation='relu', input_shape=(10, 10, 1)),
             DepthwiseConv2D(3, depth_multiplier=2), ReLU()],
], ids=['dilated grouped separable transposed', 'depthwise'])
def test_a_sequential_of_the_new_convolutions_learns(make):
    x, y = plus_or_cross(160)
    model = Sequential([*make(), Flatten(), Dense(2, activation='softmax')])
    model.compile(optimizer=Adam(learning_rate=0.01), loss='sparse_categorical_crossentropy')
    losses = model.fit(x, y, batch_size=32, epochs=8, verbose=0).history['loss']
    assert losses[-1] < 0.7 * losses[0], losses


@pytest.mark.parametrize('make', [
    lambda: Conv2D(6, (3, 2), dilation_rate=(2, 1), groups=3, padding='same',
                   input_shape=(7, 7, 3)),
    lambda: Conv2DTranspose(4, 3, strides=2, padding='same', output_padding=1,
                            input_shape=(5, 5, 2)),
    lambda: DepthwiseConv2D(3, depth_multiplier=2, dilation_rate=2, use_bias=False,
                            input_shape=(7, 7, 2)),
    lambda: SeparableConv2D(4, 3, strides=2, depth_multiplier=2, activation='relu',
                            input_shape=(7, 7, 2)),
])
def test_config_rebuilds_an_equal_layer(make, rng):
    layer = make()
    assert_config_rebuilds_an_equal_layer(
        layer, rng.standard_normal((2, *layer.sample_shape)).astype(np.float32))


def assert_config_rebuilds_an_equal_layer(layer, x):
    """from_config(get_config()) makes a layer with the same config that,
    given the same weights, gives the same outputs on x."""
    y = layer(x).data
    config = layer.get_config()
    clone = layers.from_config(type(layer).__name__, {**config, 'name': 'copy'})
    assert clone.get_config() == {**config, 'name': 'copy'}
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x).data, y, rtol=1e-6)


@pytest.mark.parametrize('make,message', [
    (lambda: Conv2D(6, 3, groups=4),
     r'Conv2D: filters must be divisible by groups.*filters=6.*groups=4'),
    (lambda: Conv2D(4, 3, groups=0), r'Conv2D: groups must be a positive int, got 0'),
    (lambda: Conv2D(4, 3, strides=2, dilation_rate=2),
     r'Conv2D: `strides > 1` not supported in conjunction with `dilation_rate > 1`.*'
     r'strides=\(2, 2\).*dilation_rate=\(2, 2\)'),
    (lambda: Conv2D(4, 3, dilation_rate=0), r'Conv2D: dilation_rate must be a positive int.*0'),
    (lambda: DepthwiseConv2D(3, strides=(1, 2), dilation_rate=(2, 1)),
     r'DepthwiseConv2D: `strides > 1`'),
    (lambda: SeparableConv2D(4, 3, strides=2, dilation_rate=2), r'SeparableConv2D: `strides > 1`'),
    (lambda: Conv2DTranspose(4, 3, strides=2, dilation_rate=2), r'Conv2DTranspose: `strides > 1`'),
    (lambda: Conv2DTranspose(4, 3, strides=2, output_padding=2),
     r'Conv2DTranspose: output_padding.*output_padding=2, strides=\(2, 2\)'),
    (lambda: Conv2DTranspose(4, 3, padding=1),
     r"Conv2DTranspose: padding must be 'valid' or 'same', got 1"),
    (lambda: DepthwiseConv2D(3, depth_multiplier=0), r'DepthwiseConv2D: depth_multiplier.*got 0'),
    (lambda: SeparableConv2D(0, 3), r'SeparableConv2D: filters must be a positive int, got 0'),
])
def test_bad_arguments_name_the_argument_and_the_value(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize('layer', [Conv2D(4, 3, groups=2), Conv2DTranspose(4, 3),
                                   DepthwiseConv2D(3), SeparableConv2D(4, 3)],
                         ids=lambda layer: type(layer).__name__)
def test_bad_inputs_name_the_layer_and_both_shapes(layer):
    with pytest.raises(ValueError, match=rf"layer '{layer.name}' expects images \(None, H, W, C\), "
                                         r"got input shape \(None, 6, 6\)"):
        layer(np.zeros((1, 6, 6), np.float32))
    layer(np.zeros((1, 6, 6, 2), np.float32))
    with pytest.raises(ValueError, match=rf"layer '{layer.name}' expects inputs of shape "
                                         r"\(None, 6, 6, 2\), got \(1, 6, 6, 4\)"):
        layer(np.zeros((1, 6, 6, 4), np.float32))


def test_groups_that_do_not_divide_the_channels_name_the_layer_and_shape():
    layer = Conv2D(4, 3, groups=2, name='grouped')
    with pytest.raises(ValueError,
                       match=r"layer 'grouped'.*3 channels.*groups=2.*\(None, 6, 6, 3\)"):
        layer(np.zeros((1, 6, 6, 3), np.float32))


@pytest.mark.parametrize('call,message', [
    (lambda: F.conv2d(np.zeros((1, 5, 5, 4)), np.zeros((3, 3, 1, 6)), groups=2),
     r'conv2d: x has 4 channels but the kernel expects 2 '
     r'\(1 in each of 2 groups\).*\(3, 3, 1, 6\)'),
    (lambda: F.conv2d(np.zeros((1, 5, 5, 4)), np.zeros((3, 3, 2, 5)), groups=2),
     r"conv2d: the kernel's 5 filters do not split into groups=2"),
    (lambda: F.conv2d(np.zeros((1, 4, 4, 1)), np.zeros((3, 3, 1, 1)), dilation_rate=2),
     r'conv2d: window \(5, 5\) is larger than the padded input.*\(1, 4, 4, 1\)'),
    (lambda: F.conv2d_transpose(np.zeros((1, 4, 4, 3)), np.zeros((3, 3, 2, 2))),
     r'conv2d_transpose: x has 3 channels but the kernel.*expects 2.*\(3, 3, 2, 2\)'),
    (lambda: F.conv2d_transpose(np.zeros((1, 4, 4)), np.zeros((3, 3, 2, 2))),
     r'conv2d_transpose: x must have rank 4'),
    (lambda: F.depthwise_conv2d(np.zeros((1, 4, 4, 3)), np.zeros((3, 3, 2, 1))),
     r'depthwise_conv2d: x has 3 channels but the kernel expects 2.*\(3, 3, 2, 1\)'),
    (lambda: F.depthwise_conv2d(np.zeros((1, 4, 4, 2)), np.zeros((3, 3, 2, 2)), np.zeros(2)),
     r'depthwise_conv2d: bias must have shape \(4,\)'),
])
def test_bad_function_inputs_name_the_function_and_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_float32_stays_float32(kernel_choice, rng):
    x = Tensor(rng.standard_normal((2, 6, 6, 4)).astype(np.float32), requires_grad=True)
    k = Tensor(rng.standard_normal((3, 3, 4, 2)).astype(np.float32), requires_grad=True)
    y = F.depthwise_conv2d(F.conv2d_transpose(F.conv2d(x, k[:, :, :2, :], padding='same',
                                                       groups=2, dilation_rate=2), k, strides=2),
                           k)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == k.grad.dtype == np.float32
