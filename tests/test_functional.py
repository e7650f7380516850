"""Every function of minicnn.functional: gradient checks in float64 and
agreement with the plain nested loops of minicnn.tools.naive."""
import numpy as np
import pytest

import minicnn as mc
from minicnn import Tensor, gradcheck
from minicnn.tools import naive
from minicnn import functional as F
from minicnn.functional.conv import ChunkedConvolution, Im2colConvolution

# (x shape, kernel (kh, kw), strides, padding): strides 2 and 3, even kernels
# with 'same', non-square images and kernels, batch 1, 1x1 kernels, int padding.
CONV_CASES = [
    ((2, 5, 6, 3), (3, 3), (1, 1), 'valid'),
    ((1, 7, 5, 2), (2, 3), (2, 2), 'same'),
    ((2, 6, 6, 1), (4, 4), (1, 1), 'same'),
    ((1, 8, 7, 2), (3, 2), (3, 3), 'same'),
    ((2, 7, 7, 2), (3, 3), (3, 2), 'valid'),
    ((1, 4, 5, 3), (1, 1), (1, 1), 'valid'),
    ((2, 5, 4, 2), (1, 1), (2, 2), 'same'),
    ((1, 5, 5, 2), (3, 3), (2, 1), 1),
    ((1, 4, 6, 1), (2, 2), (1, 2), (1, 2)),
]
POOL_CASES = [
    ((2, 6, 6, 2), (2, 2), None, 'valid'),
    ((1, 7, 5, 3), (2, 2), None, 'same'),
    ((2, 7, 7, 1), (3, 3), (2, 2), 'same'),
    ((1, 9, 8, 2), (3, 2), (3, 3), 'valid'),
    ((1, 5, 6, 2), (2, 3), (1, 2), 'same'),
    ((2, 4, 4, 2), (1, 1), None, 'valid'),
]


@pytest.mark.parametrize('x_shape,window,strides,padding', CONV_CASES)
def test_conv2d_gradcheck(kernel_choice, x_shape, window, strides, padding, rng):
    x = rng.standard_normal(x_shape)
    k = rng.standard_normal((*window, x_shape[3], 3))
    b = rng.standard_normal(3)
    assert gradcheck(lambda x, k, b: F.conv2d(x, k, b, strides=strides, padding=padding), x, k, b)


@pytest.mark.parametrize('x_shape,window,strides,padding', CONV_CASES)
def test_conv2d_matches_loops(kernel_choice, x_shape, window, strides, padding, rng):
    x = rng.standard_normal(x_shape)
    k = rng.standard_normal((*window, x_shape[3], 4))
    b = rng.standard_normal(4)
    y = F.conv2d(x, k, b, strides=strides, padding=padding).data
    pad = padding if isinstance(padding, str) else padding if isinstance(padding, int) else None
    if pad is None:  # a pair of ints: pad explicitly, then 'valid'
        ph, pw = padding
        x = np.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
        pad = 'valid'
    np.testing.assert_allclose(y, naive.conv2d(x, k, b, strides, pad), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('x_shape,window,strides,padding', CONV_CASES[:6])
def test_conv2d_gradients_match_the_naive_loops(kernel_choice, x_shape, window, strides,
                                                 padding, rng):
    x = Tensor(rng.standard_normal(x_shape), requires_grad=True)
    k = Tensor(rng.standard_normal((*window, x_shape[3], 3)), requires_grad=True)
    b = Tensor(rng.standard_normal(3), requires_grad=True)
    y = F.conv2d(x, k, b, strides=strides, padding=padding)
    gy = rng.standard_normal(y.shape)
    y.backward(gy)
    expected = naive.conv2d_backward(gy, x.data, k.data, strides, padding)
    for got, want in zip((x.grad, k.grad, b.grad), expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('x_shape,window,strides,padding', CONV_CASES)
def test_the_plain_and_the_chunked_convolution_agree(kernel_choice, x_shape, window, strides,
                                                      padding, rng, monkeypatch):
    monkeypatch.setitem(mc.kernels.CHUNK_BYTES, 'cpu', 1)  # the fewest images per chunk
    x0, k0 = rng.standard_normal(x_shape), rng.standard_normal((*window, x_shape[3], 3))
    results, gy = [], None
    for method in (Im2colConvolution, ChunkedConvolution):
        x, k = Tensor(x0, requires_grad=True), Tensor(k0, requires_grad=True)
        y = F.conv2d(x, k, strides=strides, padding=padding, method=method)
        gy = rng.standard_normal(y.shape) if gy is None else gy
        y.backward(gy)
        results.append((y.data, x.grad, k.grad))
    for plain, chunked in zip(*results):
        np.testing.assert_allclose(chunked, plain, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('x_shape,window,strides,padding', POOL_CASES)
def test_max_pool_gradient_matches_the_naive_loops(kernel_choice, x_shape, window, strides,
                                                   padding, rng):
    x = Tensor(rng.standard_normal(x_shape), requires_grad=True)
    y = F.max_pool2d(x, window, strides, padding)
    gy = rng.standard_normal(y.shape)
    y.backward(gy)
    expected = naive.max_pool2d_backward(gy, x.data, window, strides or window, padding)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12)


def test_dense_and_softmax_cross_entropy_match_the_naive_loops(rng):
    x, k, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 5)), rng.standard_normal(5)
    np.testing.assert_allclose(F.dense(x, k, b).data, naive.dense(x, k, b), rtol=1e-12)
    rows = rng.random((3, 5))
    np.testing.assert_allclose(F.softmax_cross_entropy(x @ k, rows).data,
                               naive.softmax_cross_entropy(x @ k, rows), rtol=1e-12)


@pytest.mark.parametrize('x_shape,window,strides,padding', POOL_CASES)
@pytest.mark.parametrize('kind', ['max', 'avg'])
def test_pooling_gradcheck_and_loops(kernel_choice, kind, x_shape, window, strides, padding, rng):
    pool = F.max_pool2d if kind == 'max' else F.avg_pool2d
    x = rng.standard_normal(x_shape)  # continuous values: no ties, so max is differentiable
    assert gradcheck(lambda x: pool(x, window, strides, padding), x)
    y = pool(x, window, strides, padding).data
    expected = naive.pool2d(x, window, strides or window, padding, kind)
    np.testing.assert_allclose(y, expected, rtol=1e-12)


def test_max_pool_gradient_goes_to_the_argmax_only(kernel_choice):
    x = Tensor(np.array([1.0, 5.0, 2.0, 3.0]).reshape(1, 2, 2, 1), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.reshape(-1), [0, 1, 0, 0])


def test_avg_pool_same_counts_only_pixels_inside(kernel_choice):
    x = np.ones((1, 3, 3, 1))
    y = F.avg_pool2d(x, 2, padding='same').data  # edge windows hang over the image
    np.testing.assert_allclose(y, np.ones((1, 2, 2, 1)))


@pytest.mark.parametrize('shape', [(3, 4), (1, 6)])
def test_dense_gradcheck(shape, rng):
    x, k, b = rng.standard_normal(shape), rng.standard_normal((shape[1], 5)), rng.standard_normal(5)
    assert gradcheck(F.dense, x, k, b)
    assert gradcheck(lambda x, k: F.dense(x, k), x, k)


def test_flatten_keeps_batch_and_nhwc_order(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    y = F.flatten(x)
    assert y.shape == (2, 60)
    np.testing.assert_array_equal(y.data, x.reshape(2, -1))
    assert gradcheck(F.flatten, x)


@pytest.mark.parametrize('fn', [F.relu, F.tanh, F.sigmoid, F.softmax, F.log_softmax])
def test_activation_gradcheck(fn, rng):
    x = rng.standard_normal((3, 5))
    x[np.abs(x) < 1e-3] = 0.5  # relu's kink
    assert gradcheck(fn, x)


def test_softmax_along_other_axis(rng):
    x = rng.standard_normal((2, 3, 4))
    y = F.softmax(x, axis=1).data
    np.testing.assert_allclose(y.sum(axis=1), 1.0)
    assert gradcheck(lambda x: F.log_softmax(x, axis=1), x)


def test_sigmoid_is_finite_at_extremes():
    y = F.sigmoid(np.array([-1e4, 0.0, 1e4])).data
    np.testing.assert_allclose(y, [0.0, 0.5, 1.0])


@pytest.mark.parametrize('labels', [
    np.array([0, 3, 1, 2]), np.array([[0], [3], [1], [2]]),
    np.eye(4)[[0, 3, 1, 2]], np.full((4, 4), 0.25)])
def test_softmax_cross_entropy_gradcheck_and_value(labels, rng):
    z = rng.standard_normal((4, 4))
    assert gradcheck(lambda z: F.softmax_cross_entropy(z, labels), z)
    rows = labels if labels.shape == (4, 4) else np.eye(4)[labels.reshape(-1)]
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    direct = -(rows * np.log(p)).sum(axis=1).mean()
    np.testing.assert_allclose(F.softmax_cross_entropy(z, labels).data, direct, rtol=1e-12)


def test_softmax_cross_entropy_is_finite_at_extreme_logits():
    z = Tensor(np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]]), requires_grad=True)
    loss = F.softmax_cross_entropy(z, np.array([1, 1]))
    loss.backward()
    assert np.isfinite(loss.data) and np.isfinite(z.grad).all()
    np.testing.assert_allclose(loss.data, 1e4)  # first row: -log softmax = 2e4, second 0


def test_softmax_cross_entropy_rejects_bad_labels():
    z = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r'\[0, 3\).*from 0 to 3'):
        F.softmax_cross_entropy(z, np.array([0, 3]))
    with pytest.raises(ValueError, match=r'labels.*\(3,\)'):
        F.softmax_cross_entropy(z, np.array([0, 1, 2]))


def test_mean_squared_error_gradcheck(rng):
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    assert gradcheck(F.mean_squared_error, a, b)
    np.testing.assert_allclose(F.mean_squared_error(b, a).data, ((a - b) ** 2).mean())


def test_the_error_losses_take_keras_argument_order():
    """(y_true, y_pred) in functional as in minicnn.losses: a swap would not show in
    their values, which are symmetric, so the names are what is checked."""
    import inspect
    from minicnn import losses
    from minicnn.functional import loss_functions
    for fn in (F.mean_squared_error, loss_functions.absolute_error, loss_functions.huber_error,
               losses.mean_squared_error, losses.mean_absolute_error, losses.huber):
        assert list(inspect.signature(fn).parameters)[:2] == ['y_true', 'y_pred'], fn


def test_dropout_gradcheck_with_a_fixed_mask(rng):
    x = rng.standard_normal((4, 5))

    def f(x):
        mc.devices.set_seed(7)  # the same mask on every call
        return F.dropout(x, 0.4)
    assert gradcheck(f, x)


def test_dropout_is_inverted_and_off_when_not_training():
    x = np.ones((200, 100))
    y = F.dropout(x, 0.25).data
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_array_equal(F.dropout(x, 0.25, training=False).data, x)
    with pytest.raises(ValueError, match='rate'):
        F.dropout(x, 1.0)


def test_dropout_is_seedable():
    mc.devices.set_seed(3)
    a = F.dropout(np.ones((10, 10)), 0.5).data
    mc.devices.set_seed(3)
    b = F.dropout(np.ones((10, 10)), 0.5).data
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize('call,message', [
    (lambda: F.conv2d(np.zeros((2, 5, 5)), np.zeros((3, 3, 1, 1))), r'conv2d: x must have rank 4.*\(2, 5, 5\)'),
    (lambda: F.conv2d(np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 3, 1))), r'conv2d: x has 2 channels.*\(3, 3, 3, 1\)'),
    (lambda: F.conv2d(np.zeros((1, 2, 5, 1)), np.zeros((3, 3, 1, 1))), r'conv2d: window \(3, 3\).*\(1, 2, 5, 1\)'),
    (lambda: F.max_pool2d(np.zeros((1, 1, 4, 1)), 2), r'max_pool2d: window \(2, 2\).*\(1, 1, 4, 1\)'),
    (lambda: F.avg_pool2d(np.zeros((4, 4)), 2), r'avg_pool2d: x must have rank 4'),
    (lambda: F.dense(np.zeros((2, 3)), np.zeros((4, 5))), r'dense: x has 3 features.*\(4, 5\)'),
    (lambda: F.conv2d(np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 1)), strides=0), r'strides'),
    (lambda: F.conv2d(np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 1)), padding='full'), r'padding'),
])
def test_bad_shapes_name_the_function_and_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_float32_stays_float32_through_a_layer(kernel_choice, rng):
    x = Tensor(rng.standard_normal((2, 6, 6, 3)).astype(np.float32), requires_grad=True)
    k = Tensor(rng.standard_normal((3, 3, 3, 4)).astype(np.float32), requires_grad=True)
    y = F.max_pool2d(F.relu(F.conv2d(x, k, padding='same')), 2)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32 and k.grad.dtype == np.float32


def test_conv2d_unfolds_the_batch_in_slices(monkeypatch, kernel_choice, rng):
    """With tiny slices (two images each, the last one short) nothing changes."""
    from minicnn import kernels
    x, k, b = rng.standard_normal((5, 6, 5, 2)), rng.standard_normal((3, 3, 2, 3)), rng.standard_normal(3)
    whole = F.conv2d(x, k, b, strides=2, padding='same').data
    monkeypatch.setitem(kernels.CHUNK_BYTES, 'cpu', 1)
    assert [p.stop for p in kernels.batch_parts(x, 100)] == [2, 4, 6]
    np.testing.assert_allclose(F.conv2d(x, k, b, strides=2, padding='same').data, whole, rtol=1e-12)
    assert gradcheck(lambda x, k, b: F.conv2d(x, k, b, strides=2, padding='same'), x, k, b)
