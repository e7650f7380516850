"""BatchNormalization: the functions against loops and finite differences, the
Numba kernels against their references, and the layer as a Keras user meets it."""
import inspect
import pathlib
import sys

import numpy as np
import pytest

from minicnn import devices, gradcheck, kernels, layers
from minicnn import functional as F
from minicnn.kernels import batchnorm_numba, batchnorm_reference
from minicnn.layers import (Activation, BatchNormalization, Conv2D, Dense, Flatten,
                            GlobalAveragePooling2D)
from minicnn.models import Sequential, load_model
from minicnn.optimizers import SGD, Adam

from synthetic import plus_or_cross

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # benchmarks/ is a folder of the checkout, not installed
    sys.path.insert(0, str(ROOT))

SHAPES = [(4, 5, 3, 6), (1, 3, 3, 2), (3, 1, 1, 5), (7, 5), (1, 4), (2, 3, 4)]


def random_vectors(rng, n, count):
    return [rng.standard_normal(n) for _ in range(count)]


# -- the functions -------------------------------------------------------------

@pytest.mark.parametrize('shape', SHAPES)
def test_batch_statistics_gradcheck(kernel_choice, shape, rng):
    x = 3 * rng.standard_normal(shape) + 1
    gamma, beta = random_vectors(rng, shape[-1], 2)
    assert gradcheck(lambda x, g, b: F.batch_norm_train(x, g, b)[0], x, gamma, beta)


@pytest.mark.parametrize('shape', SHAPES)
def test_given_statistics_gradcheck(kernel_choice, shape, rng):
    x = rng.standard_normal(shape)
    gamma, beta, mean = random_vectors(rng, shape[-1], 3)
    variance = rng.random(shape[-1]) + 0.5
    assert gradcheck(lambda *a: F.batch_norm(*a), x, gamma, beta, mean, variance)


@pytest.mark.parametrize('axis', [0, 1, -2])
def test_gradcheck_along_other_axes_and_without_gamma_or_beta(kernel_choice, axis, rng):
    x = rng.standard_normal((3, 4, 5))
    gamma = rng.standard_normal(x.shape[axis])
    assert gradcheck(lambda x, g: F.batch_norm_train(x, g, None, axis=axis)[0], x, gamma)
    assert gradcheck(lambda x: F.batch_norm_train(x, None, None, axis=axis)[0], x)


def loop_statistics(x):
    """Per-channel mean and biased variance of NHWC x, by plain loops."""
    n, h, w, c = x.shape
    mean, variance = np.zeros(c), np.zeros(c)
    for ch in range(c):
        values = [x[b, i, j, ch] for b in range(n) for i in range(h) for j in range(w)]
        mean[ch] = sum(values) / len(values)
        variance[ch] = sum((v - mean[ch]) ** 2 for v in values) / len(values)
    return mean, variance


def test_batch_statistics_match_the_loops(kernel_choice, rng):
    x = rng.standard_normal((5, 3, 4, 3)) * [1, 10, 0.1] + [0, 5, -2]
    gamma, beta = random_vectors(rng, 3, 2)
    y, mean, variance = F.batch_norm_train(x, gamma, beta, epsilon=1e-3)
    loop_mean, loop_variance = loop_statistics(x)
    np.testing.assert_allclose(mean, loop_mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(variance, loop_variance, rtol=1e-12)
    expected = gamma * (x - loop_mean) / np.sqrt(loop_variance + 1e-3) + beta
    np.testing.assert_allclose(y.data, expected, rtol=1e-10, atol=1e-12)


def test_shapes_that_do_not_fit_are_named():
    with pytest.raises(ValueError, match=r'batch_norm: gamma must have shape \(3,\).*\(4,\)'):
        F.batch_norm_train(np.zeros((2, 3)), np.ones(4), None)


# -- the kernels ----------------------------------------------------------------

KERNEL_FUNCTIONS = ['column_statistics', 'normalize', 'gradient_sums', 'input_gradient']


def test_the_numba_kernels_have_the_reference_signatures():
    for name in KERNEL_FUNCTIONS:
        assert inspect.signature(getattr(batchnorm_numba, name)) == \
            inspect.signature(getattr(batchnorm_reference, name))


@pytest.mark.parametrize('dtype,rtol', [(np.float32, 2e-4), (np.float64, 1e-10)])
@pytest.mark.parametrize('shape,offset', [((1, 3), 0), ((7, 5), 0), ((4001, 16), 0),
                                          ((3000, 8), 1000)])
def test_the_numba_kernels_match_the_reference(shape, offset, dtype, rtol, rng):
    # offset: a mean far from 0 against the spread, where a careless one-pass variance fails
    x = (offset + rng.standard_normal(shape)).astype(dtype)
    exact_mean, exact_variance = batchnorm_reference.column_statistics(x.astype(np.float64))
    for module in (batchnorm_reference, batchnorm_numba):
        mean, variance = module.column_statistics(x)
        assert mean.dtype == variance.dtype == dtype
        np.testing.assert_allclose(mean, exact_mean, rtol=rtol)
        np.testing.assert_allclose(variance, exact_variance, rtol=20 * rtol)

    # the other kernels, given the same exact statistics
    mean, inv_std = exact_mean.astype(dtype), (1 / np.sqrt(exact_variance + 1e-3)).astype(dtype)
    gy = rng.standard_normal(shape).astype(dtype)
    gamma, beta = (v.astype(dtype) for v in random_vectors(rng, shape[1], 2))

    def outputs(module):
        sums = module.gradient_sums(gy, x, mean, inv_std)
        return [module.normalize(x, mean, inv_std, gamma, beta), *sums,
                module.input_gradient(gy, x, mean, inv_std, gamma, *sums)]
    for ours, reference in zip(outputs(batchnorm_numba), outputs(batchnorm_reference)):
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours, reference, rtol=rtol,
                                   atol=rtol * np.abs(reference).max())


def test_the_numba_kernels_take_non_contiguous_columns(rng):
    x = rng.standard_normal((6, 10))[:, ::2]
    for got, expected in zip(batchnorm_numba.column_statistics(x),
                             batchnorm_reference.column_statistics(x)):
        np.testing.assert_allclose(got, expected, rtol=1e-12)


# -- the layer ----------------------------------------------------------------

def test_keras_signature_and_defaults():
    params = inspect.signature(BatchNormalization.__init__).parameters
    assert {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty} \
        == {'axis': -1, 'momentum': 0.99, 'epsilon': 0.001, 'center': True, 'scale': True,
            'beta_initializer': 'zeros', 'gamma_initializer': 'ones',
            'moving_mean_initializer': 'zeros', 'moving_variance_initializer': 'ones',
            'beta_lr_multiplier': 1.0}


def test_weights_in_keras_order_and_the_statistics_untrainable():
    layer = BatchNormalization(input_shape=(4, 4, 3))
    layer.build((4, 4, 3))
    assert [w.name.split('/')[1] for w in layer.weights] == \
        ['gamma', 'beta', 'moving_mean', 'moving_variance']
    assert [w.requires_grad for w in layer.weights] == [True, True, False, False]
    assert layer.trainable_weights == layer.weights[:2]
    assert layer.non_trainable_weights == layer.weights[2:]
    np.testing.assert_array_equal(np.stack(layer.get_weights()), [[1] * 3, [0] * 3, [0] * 3, [1] * 3])
    layer.trainable = False
    assert layer.trainable_weights == [] and not any(w.requires_grad for w in layer.weights)
    layer.trainable = True  # unfreezing gamma and beta leaves the statistics untrainable
    assert [w.requires_grad for w in layer.weights] == [True, True, False, False]


@pytest.mark.parametrize('center,scale,names', [
    (True, False, ['beta', 'moving_mean', 'moving_variance']),
    (False, True, ['gamma', 'moving_mean', 'moving_variance']),
    (False, False, ['moving_mean', 'moving_variance'])])
def test_without_scale_or_center_the_weight_is_absent(center, scale, names, rng):
    layer = BatchNormalization(center=center, scale=scale)
    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = layer(x, training=True).data
    assert [w.name.split('/')[1] for w in layer.weights] == names
    assert (layer.gamma is None) != scale and (layer.beta is None) != center
    xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-3)
    np.testing.assert_allclose(y, xhat * (layer.gamma.data if scale else 1)
                               + (layer.beta.data if center else 0), rtol=1e-5, atol=1e-6)


def test_a_training_call_moves_the_statistics_by_keras_rule(rng):
    layer = BatchNormalization(momentum=0.9)
    x = (rng.standard_normal((16, 5)) * 2 + 3).astype(np.float32)
    layer(x, training=True)
    np.testing.assert_allclose(layer.moving_mean.data, 0.1 * x.mean(axis=0), rtol=1e-5)
    # the biased variance, as Keras 3 (ops.moments) takes it
    np.testing.assert_allclose(layer.moving_variance.data, 0.9 + 0.1 * x.var(axis=0), rtol=1e-5)


def test_inference_uses_the_moving_statistics(rng):
    layer = BatchNormalization(axis=1, epsilon=0.01)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    layer.build(x.shape[1:])
    gamma, beta, mean, variance = (rng.random(3).astype(np.float32) + 0.5 for _ in range(4))
    layer.set_weights([gamma, beta, mean, variance])
    shape = (1, 3, 1)
    expected = gamma.reshape(shape) * (x - mean.reshape(shape)) / \
        np.sqrt(variance.reshape(shape) + 0.01) + beta.reshape(shape)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-5)
    np.testing.assert_array_equal(layer.moving_mean.data, mean)  # inference changes nothing


def bn_cnn():
    return Sequential([Conv2D(8, 3, input_shape=(10, 10, 1)), BatchNormalization(),
                       Activation('relu'), GlobalAveragePooling2D(),
                       Dense(2, activation='softmax')])


def test_a_keras_cnn_with_batchnorm_trains_saves_and_loads(tmp_path):
    x, y = plus_or_cross(96)
    model = bn_cnn()
    model.compile(Adam(learning_rate=0.05), 'sparse_categorical_crossentropy', ['accuracy'])
    history = model.fit(x, y, batch_size=16, epochs=8, verbose=0)
    losses = history.history['loss']
    assert losses[-1] < 0.6 * losses[0]

    predicted = model.predict(x)
    np.testing.assert_array_equal(predicted, model.predict(x))  # moving statistics: no batch effect
    np.testing.assert_allclose(model.predict(x[:1]), predicted[:1], rtol=1e-5)

    bn = model.layers[1]
    weights = bn.get_weights()
    assert len(weights) == 4 and all(w.shape == (8,) for w in weights)
    model.save(tmp_path / 'bn.minicnn')
    loaded = load_model(tmp_path / 'bn.minicnn')
    for ours, theirs in zip(weights, loaded.layers[1].get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(loaded.predict(x), predicted)


def test_the_moving_mean_learns_the_data_mean():
    rng = np.random.default_rng(0)
    means = np.array([1.0, -2.0, 5.0], dtype=np.float32)
    x = rng.standard_normal((512, 3)).astype(np.float32) + means
    model = Sequential([BatchNormalization(momentum=0.9, input_shape=(3,)), Dense(1)])
    model.compile(SGD(learning_rate=0.01), 'mse')
    model.fit(x, x[:, :1], batch_size=32, epochs=3, verbose=0)
    bn = model.layers[0]
    np.testing.assert_allclose(bn.moving_mean.data, means, atol=0.15)
    np.testing.assert_allclose(bn.moving_variance.data, 1, atol=0.25)
    assert bn.moving_mean.grad is None and bn.moving_variance.grad is None


def test_a_frozen_layer_keeps_its_statistics_in_fit(rng):
    x = rng.standard_normal((32, 4)).astype(np.float32) + 3
    model = Sequential([BatchNormalization(input_shape=(4,)), Dense(1)])
    model.layers[0].trainable = False
    before = model.layers[0].get_weights()
    model.compile(SGD(learning_rate=0.1), 'mse')
    model.fit(x, x[:, :1], batch_size=8, epochs=1, verbose=0)
    for a, b in zip(before, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)


def test_summary_counts_the_statistics_as_non_trainable():
    lines = []
    Sequential([Conv2D(64, 3, input_shape=(8, 8, 3)), BatchNormalization()]).summary(
        print_fn=lines.append)
    text = lines[0]
    row = [line for line in text.splitlines() if '(BatchNormalization)' in line][0]
    assert row.split()[-1] == '256'  # as Keras: 4 x 64
    assert 'Total params: 2,048\nTrainable params: 1,920\nNon-trainable params: 128' in text


def test_config_rebuilds_an_equal_layer():
    layer = BatchNormalization(axis=1, momentum=0.6, epsilon=1e-12, scale=False,
                               beta_lr_multiplier=64, moving_variance_initializer='zeros',
                               input_shape=(5, 3))
    config = layer.get_config()
    assert config['scale'] is False and config['beta_lr_multiplier'] == 64
    clone = layers.from_config('BatchNormalization', {**config, 'name': 'copy'})
    assert clone.get_config() == {**config, 'name': 'copy'}


def test_the_beta_multiplier_rides_on_beta():
    layer = BatchNormalization(beta_lr_multiplier=64)
    layer.build((3,))
    assert layer.beta.lr_multiplier == 64
    assert getattr(layer.gamma, 'lr_multiplier', 1.0) == 1.0


@pytest.mark.parametrize('kwargs,message', [
    ({'momentum': 1.0}, r'momentum must be in \[0, 1\), got 1.0'),
    ({'momentum': -0.1}, r'momentum must be in \[0, 1\), got -0.1'),
    ({'epsilon': 0}, r'epsilon must be positive, got 0'),
    ({'axis': (1, 2)}, r'axis must be an int, got \(1, 2\)'),
    ({'beta_lr_multiplier': 0}, r'beta_lr_multiplier must be positive, got 0'),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BatchNormalization(**kwargs)


def test_bad_axis_and_inputs_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"layer 'bn0': axis 0 is not a feature axis.*"
                                         r"\(None, 4, 4, 3\)"):
        BatchNormalization(axis=0, name='bn0')(np.zeros((2, 4, 4, 3)))
    with pytest.raises(ValueError, match=r"axis 4 .*\(None, 4, 4, 3\)"):
        BatchNormalization(axis=4)(np.zeros((2, 4, 4, 3)))
    layer = BatchNormalization(name='bn1')
    layer(np.zeros((2, 4, 4, 3)))
    with pytest.raises(ValueError, match=r"layer 'bn1' expects inputs of shape \(None, 4, 4, 3\), "
                                         r"got \(2, 4, 4, 5\)"):
        layer(np.zeros((2, 4, 4, 5)))
    with pytest.raises(TypeError, match="'momentun'.*did you mean 'momentum'"):
        BatchNormalization(momentun=0.9)


def test_a_flattened_cnn_with_batchnorm_on_dense_features_runs():
    model = Sequential([Conv2D(2, 3, input_shape=(6, 6, 1)), Flatten(), BatchNormalization(),
                        Dense(2)])
    assert model.output_shape == (None, 2)
    assert model(np.ones((3, 6, 6, 1), dtype=np.float32), training=True).shape == (3, 2)


def test_the_benchmark_runs_at_a_tiny_size(capsys):
    from benchmarks import batchnorm
    choice, device = kernels.active_kernels(), devices.get_device()
    try:  # each implementation switches the global kernel choice and device
        results = batchnorm.main(['--batch', '2', '--repeats', '1', '--warmup', '0',
                                  '--models', 'cnn-seed004'])
    finally:
        kernels.use_kernels(choice)
        devices.set_device(device)
    assert [r['op'] for r in results][:2] == ['batchnorm 32x32x32', 'batchnorm 30x30x64']
    assert all(ms['forward'] > 0 for r in results for ms in r['ms'].values())
    assert 'nn.BatchNorm2d' in capsys.readouterr().out


@pytest.mark.parametrize("make", [lambda: SGD(0.1), lambda: Adam(0.01)])
def test_beta_lr_multiplier_scales_betas_steps_only(make):
    steps = {}
    for multiplier in (1.0, 64.0):
        layer = BatchNormalization(beta_lr_multiplier=multiplier)
        layer.build((3,))
        gamma, beta = layer.gamma, layer.beta
        before = gamma.data.copy(), beta.data.copy()
        gamma.grad, beta.grad = np.full(3, 0.5, np.float32), np.full(3, 0.5, np.float32)
        make().step([gamma, beta])
        steps[multiplier] = gamma.data - before[0], beta.data - before[1]
    np.testing.assert_allclose(steps[64.0][1], 64 * steps[1.0][1], rtol=1e-5)
    np.testing.assert_allclose(steps[64.0][0], steps[1.0][0], rtol=1e-6)
