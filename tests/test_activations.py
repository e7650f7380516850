"""The activations: values against their formulas and Keras's documented
examples, float64 gradient checks, names and functions as Keras offers
them, the erf kernels, and the activation layers."""
import math

import numpy as np
import pytest

from minicnn import Tensor, activations, devices, gradcheck
from minicnn import functional as F
from minicnn.kernels import cupy_gpu, numba_cpu, reference
from minicnn.layers import ELU, Activation, Conv2D, Dense, Flatten, LeakyReLU, PReLU, ReLU, Softmax
from minicnn.models import Sequential
from minicnn.optimizers import Adam

from synthetic import plus_or_cross
from test_conv_variants import assert_config_rebuilds_an_equal_layer


def values(fn, points, **kwargs):
    return fn(np.array(points, dtype=np.float64), **kwargs).data


# ---- Values ------------------------------------------------------------------

@pytest.mark.parametrize('fn,kwargs,points,expected', [
    # Phi(1) = 0.8413447460685429, so gelu(1) = 1 * Phi(1)
    (F.gelu, {}, [1.0, -1.0, 0.0], [0.8413447460685429, -0.15865525393145707, 0.0]),
    (F.gelu, {'approximate': True}, [1.0],
     [0.5 * (1 + math.tanh(math.sqrt(2 / math.pi) * (1 + 0.044715)))]),
    (F.elu, {}, [-1.0, 2.0], [math.exp(-1) - 1, 2.0]),
    (F.elu, {'alpha': 0.5}, [-2.0], [0.5 * (math.exp(-2) - 1)]),
    (F.selu, {}, [1.0, -1.0], [1.0507009873554805, 1.0507009873554805 * 1.6732632423543772
                                * (math.exp(-1) - 1)]),
    (F.silu, {}, [1.0, -2.0], [1 / (1 + math.exp(-1)), -2 / (1 + math.exp(2))]),
    (F.softplus, {}, [0.0, 1.0, 1000.0, -1000.0], [math.log(2), math.log(1 + math.e), 1000.0, 0.0]),
    (F.softsign, {}, [1.0, -3.0], [0.5, -0.75]),
    # Keras 3: relu6(x + 3) / 6 (Keras 2's 0.2 x + 0.5 would give 0.7, 1.0, 0.0)
    (F.hard_sigmoid, {}, [1.0, 2.5, -2.5, -3.0, 3.0], [4 / 6, 5.5 / 6, 0.5 / 6, 0.0, 1.0]),
    (F.exponential, {}, [1.0, -1.0], [math.e, 1 / math.e]),
    (F.leaky_relu, {}, [-1.0, 2.0], [-0.2, 2.0]),               # Keras 3's default slope 0.2
    (F.relu6, {}, [-1.0, 3.0, 7.0], [0.0, 3.0, 6.0]),
    # keras.activations.relu's docstring examples
    (F.relu, {}, [-10, -5, 0.0, 5, 10], [0, 0, 0, 5, 10]),
    (F.relu, {'negative_slope': 0.5}, [-10, -5, 0.0, 5, 10], [-5, -2.5, 0, 5, 10]),
    (F.relu, {'max_value': 5.0}, [-10, -5, 0.0, 5, 10], [0, 0, 0, 5, 5]),
    (F.relu, {'threshold': 5.0}, [-10, -5, 0.0, 5, 10], [0, 0, 0, 0, 10]),
    (F.tanh, {}, [1.0], [math.tanh(1.0)]),
    (F.sigmoid, {}, [0.0], [0.5]),
])
def test_values_match_the_formulas(fn, kwargs, points, expected):
    np.testing.assert_allclose(values(fn, points, **kwargs), expected, rtol=1e-12, atol=1e-15)


def test_softmax_layer_matches_the_keras_docstring_example():
    np.testing.assert_allclose(Softmax()(np.array([[1.0, 2.0, 1.0]])).data,
                               [[0.21194157, 0.5761169, 0.21194157]], rtol=1e-6)


def test_erf_kernels_match_math_erf():
    x = np.linspace(-6, 6, 101)
    expected = [math.erf(v) for v in x]
    np.testing.assert_allclose(reference.erf(x), expected, rtol=1e-15, atol=1e-16)
    np.testing.assert_allclose(numba_cpu.erf(x), expected, rtol=1e-15, atol=1e-16)
    x32 = x.astype(np.float32).reshape(101, 1)
    assert numba_cpu.erf(x32).dtype == reference.erf(x32).dtype == np.float32
    np.testing.assert_allclose(numba_cpu.erf(x32), reference.erf(x32), rtol=1e-6, atol=1e-7)


@pytest.mark.gpu
@pytest.mark.skipif(not devices.gpu_available(), reason='needs CuPy and a CUDA device')
def test_the_cuda_erf_matches_math_erf():
    x = np.linspace(-6, 6, 101)
    got = devices.to_numpy(cupy_gpu.erf(devices.cupy().asarray(x)))
    np.testing.assert_allclose(got, [math.erf(v) for v in x], rtol=1e-15, atol=1e-16)


# ---- Gradients ---------------------------------------------------------------

KINKS = {'relu': 0.0, 'leaky_relu': 0.0, 'relu6': 6.0, 'hard_sigmoid': 3.0}


@pytest.mark.parametrize('fn', [
    F.elu, F.selu, F.gelu, lambda x: F.gelu(x, approximate=True), F.silu, F.softplus,
    F.softsign, F.hard_sigmoid, F.exponential, F.leaky_relu, F.relu6,
    lambda x: F.relu(x, negative_slope=0.3, max_value=1.5, threshold=0.5),
    lambda x: F.elu(x, alpha=0.7), F.relu, F.tanh, F.sigmoid, F.softmax, F.log_softmax,
], ids=lambda fn: getattr(fn, '__name__', 'fn'))
@pytest.mark.parametrize('shape', [(3, 5), (1, 4, 3, 2)])
def test_gradcheck(kernel_choice, fn, shape, rng):
    x = 3 * rng.standard_normal(shape)
    # no point within finite-difference reach of a kink (0, 0.5, 1.5, 6, +-3)
    for kink in (0.0, 0.5, 1.5, 6.0, 3.0, -3.0):
        x[np.abs(x - kink) < 1e-3] = kink + 0.1
    assert gradcheck(fn, x)


@pytest.mark.parametrize('alpha_shape', [(1, 4, 3, 2), (1, 1, 2), (1,)])
def test_prelu_gradcheck_of_x_and_a_shared_alpha(alpha_shape, rng):
    x = rng.standard_normal((2, 4, 3, 2))
    x[np.abs(x) < 1e-3] = 0.1
    assert gradcheck(lambda x, alpha: F.prelu(x, alpha), x, rng.standard_normal(alpha_shape))


def test_float32_stays_float32(kernel_choice, rng):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    for fn in (F.elu, F.selu, F.gelu, F.silu, F.softplus, F.softsign, F.hard_sigmoid,
               F.leaky_relu, F.relu6, lambda x: F.gelu(x, approximate=True)):
        t = Tensor(x, requires_grad=True)
        y = fn(t)
        y.sum().backward()
        assert y.dtype == t.grad.dtype == np.float32, fn


# ---- By name and as functions, as Keras ------------------------------------------

NAMES = ['relu', 'leaky_relu', 'relu6', 'elu', 'selu', 'gelu', 'silu', 'swish', 'softplus',
         'softsign', 'hard_sigmoid', 'exponential', 'tanh', 'sigmoid', 'softmax', 'log_softmax',
         'linear']


@pytest.mark.parametrize('name', NAMES)
def test_every_name_works_in_a_layer_and_as_a_function(name, rng):
    x = rng.standard_normal((2, 5)).astype(np.float32)
    identity = Dense(5, activation=name, kernel_initializer=lambda shape, dtype=None: np.eye(5))
    by_layer = identity(x).data
    function = getattr(activations, name)
    np.testing.assert_allclose(by_layer, Tensor(function(x)).data, rtol=1e-6)
    np.testing.assert_allclose(Activation(name)(x).data, by_layer, rtol=1e-6)


def test_swish_is_silu_and_functions_serialize_by_name():
    assert activations.swish is activations.silu
    assert activations.named('swish') == ('swish', activations.silu)
    assert activations.get('swish') is activations.silu
    layer = Dense(3, activation=activations.gelu)
    assert layer.get_config()['activation'] == 'gelu'


def test_keras_argument_names():
    x = np.array([-2.0, 4.0])
    np.testing.assert_allclose(activations.relu(x, negative_slope=0.1, max_value=3.0).data,
                               [-0.2, 3.0])
    np.testing.assert_allclose(activations.gelu(x, approximate=True).data,
                               F.gelu(x, approximate=True).data)
    np.testing.assert_allclose(activations.elu(x, alpha=2.0).data, [2 * math.expm1(-2), 4.0])
    np.testing.assert_allclose(activations.leaky_relu(x, negative_slope=0.5).data, [-1.0, 4.0])


# ---- The activation layers ----------------------------------------------------------

def test_activation_layers_match_their_functions(rng):
    x = rng.standard_normal((2, 3, 3, 2)).astype(np.float32)
    checks = [(ReLU(max_value=1.0, negative_slope=0.1, threshold=0.2),
               F.relu(x, negative_slope=0.1, max_value=1.0, threshold=0.2)),
              (LeakyReLU(), F.leaky_relu(x, 0.3)),
              (LeakyReLU(alpha=0.1), F.leaky_relu(x, 0.1)),
              (LeakyReLU(negative_slope=0.5), F.leaky_relu(x, 0.5)),
              (ELU(alpha=0.5), F.elu(x, 0.5)),
              (Softmax(axis=1), F.softmax(x, axis=1)),
              (Softmax(), F.softmax(x))]
    for layer, expected in checks:
        np.testing.assert_allclose(layer(x).data, expected.data, rtol=1e-6, err_msg=layer.name)


def test_leaky_relu_layer_defaults_as_keras_2_and_3():
    """0.3 in both Keras 2 (alpha) and Keras 3 (negative_slope); the function's default is 0.2."""
    np.testing.assert_allclose(LeakyReLU()(np.array([-10.0, 5.0])).data, [-3.0, 5.0])
    np.testing.assert_allclose(LeakyReLU(negative_slope=0.5)(np.array([-10, -5, 0.0, 5, 10])).data,
                               [-5, -2.5, 0, 5, 10])   # Keras 3's docstring example


@pytest.mark.parametrize('shared_axes,params', [(None, 6 * 6 * 3), ([1, 2], 3), (1, 6 * 3),
                                                ([1, 2, 3], 1)])
def test_prelu_learns_one_alpha_per_unshared_position(shared_axes, params):
    layer = PReLU(shared_axes=shared_axes)
    x = np.full((2, 6, 6, 3), -2.0, np.float32)
    np.testing.assert_array_equal(layer(x).data, 0.0)   # alpha starts at zero, as in Keras
    assert layer.count_params() == params
    assert [w.name.split('/')[1] for w in layer.weights] == ['alpha']
    layer.set_weights([np.full(layer.alpha.shape, 0.25, np.float32)])
    np.testing.assert_allclose(layer(x).data, -0.5)


def test_a_sequential_with_the_activation_layers_learns():
    x, y = plus_or_cross(160)
    model = Sequential([Conv2D(8, 3, padding='same', input_shape=(10, 10, 1)),
                        PReLU(shared_axes=[1, 2]), Conv2D(8, 3), LeakyReLU(), Conv2D(8, 3),
                        ELU(), Conv2D(8, 3, activation='gelu'), Flatten(), Dense(2), Softmax()])
    model.compile(optimizer=Adam(learning_rate=0.01), loss='sparse_categorical_crossentropy')
    losses = model.fit(x, y, batch_size=32, epochs=8, verbose=0).history['loss']
    assert losses[-1] < 0.7 * losses[0], losses
    assert np.abs(model.layers[1].get_weights()[0]).sum() > 0  # alpha, from zeros, was trained


@pytest.mark.parametrize('layer', [ReLU(max_value=6.0, negative_slope=0.1), LeakyReLU(alpha=0.2),
                                   ELU(alpha=0.4), PReLU(shared_axes=[1]), Softmax(axis=1)],
                         ids=lambda layer: type(layer).__name__)
def test_config_rebuilds_an_equal_layer(layer, rng):
    assert_config_rebuilds_an_equal_layer(layer, rng.standard_normal((2, 3, 4)).astype(np.float32))


@pytest.mark.parametrize('make,message', [
    (lambda: ReLU(max_value=-1.0), r'ReLU: max_value must be a number >= 0, got -1.0'),
    (lambda: ReLU(negative_slope=-0.1), r'ReLU: negative_slope must be a number >= 0, got -0.1'),
    (lambda: ReLU(threshold=None), r'ReLU: threshold must be a number >= 0, got None'),
    (lambda: LeakyReLU(alpha=-1), r'LeakyReLU: alpha must be a number >= 0, got -1'),
    (lambda: LeakyReLU(negative_slope=-1), r'LeakyReLU: negative_slope must be a number >= 0'),
    (lambda: LeakyReLU(alpha=0.1, negative_slope=0.2), r'LeakyReLU: give alpha.*or negative_slope'),
])
def test_bad_arguments_name_the_argument_and_the_value(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_prelu_bad_shared_axes_name_the_layer_and_the_shape():
    layer = PReLU(shared_axes=[3], name='prelu_x')
    with pytest.raises(ValueError, match=r"layer 'prelu_x': shared_axes must be ints from 1 to 2 "
                                         r"for input shape \(None, 4, 5\), got shared_axes=\[3\]"):
        layer(np.zeros((1, 4, 5)))
