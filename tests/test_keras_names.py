"""Keras 2 names that programs use and minicnn had under another name or not
at all, each written as a Keras user writes it and checked against the value
Keras gives."""
import numpy as np
import pytest

import minicnn as keras
from minicnn import (backend, callbacks, gradcheck, initializers, layers, losses, metrics,
                     models, utils)
from minicnn import functional as F
from minicnn.missing import MissingFeatureError
from minicnn.preprocessing.image import ImageDataGenerator, NumpyArrayIterator


def test_tf_keras_style_top_level_names():
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(2)])
    assert model.output_shape == (None, 2)
    inputs = keras.Input(shape=(3,))
    functional = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    assert functional.output_shape == (None, 1)
    assert keras.backend.image_data_format() == 'channels_last'
    assert keras.models.Sequential is keras.Sequential and keras.layers.Input is keras.Input
    with pytest.raises(MissingFeatureError, match='keras.constraints.MaxNorm'):
        keras.constraints.MaxNorm(3)
    with pytest.raises(MissingFeatureError, match='keras.mixed_precision.set_global_policy'):
        keras.mixed_precision.set_global_policy('mixed_float16')


def test_keras_1_and_2_layer_aliases_are_the_same_classes():
    assert layers.Convolution2D is layers.Conv2D
    assert layers.Convolution2DTranspose is layers.Conv2DTranspose
    assert layers.SeparableConvolution2D is layers.SeparableConv2D


def test_the_lower_case_merge_functions_give_what_their_layers_give():
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(3,))
    outputs = [layers.add([a, b]), layers.subtract([a, b]), layers.multiply([a, b]),
               layers.average([a, b]), layers.maximum([a, b]), layers.minimum([a, b]),
               layers.concatenate([a, b]), layers.concatenate([a, b], axis=1, name='joined')]
    x = np.array([[1.0, -2.0, 3.0]], 'float32')
    y = np.array([[0.5, 4.0, -1.0]], 'float32')
    expected = [x + y, x - y, x * y, (x + y) / 2, np.maximum(x, y), np.minimum(x, y),
                np.concatenate([x, y], 1), np.concatenate([x, y], 1)]
    for output, want in zip(outputs, expected):
        got = keras.Model([a, b], output)([x, y])  # several inputs: called, not predict (#22)
        np.testing.assert_allclose(got.data, want, rtol=1e-6)
    assert isinstance(outputs[5].layer, layers.Minimum)
    assert outputs[-1].layer.name == 'joined'


def test_minimum_is_differentiable():
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((2, 5)) for _ in range(3)]
    assert gradcheck(lambda *ts: F.minimum(list(ts)), *xs)


def test_clone_model_has_the_same_layers_and_new_weights():
    model = keras.Sequential([layers.Dense(4, activation='relu', input_shape=(3,)),
                              layers.Dense(2)])
    clone = models.clone_model(model)
    assert [type(la) for la in clone.layers] == [type(la) for la in model.layers]
    assert not np.allclose(clone.get_weights()[0], model.get_weights()[0])
    clone.set_weights(model.get_weights())
    x = np.ones((2, 3), 'float32')
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(TypeError, match='clone_function'):
        models.clone_model(model, clone_function=lambda layer: layer)


def test_model_from_config_and_layers_serialize_round_trip():
    model = keras.Sequential([layers.Dense(4, input_shape=(3,), name='hidden')])
    rebuilt = models.model_from_config(layers.serialize(model))
    assert rebuilt.get_layer('hidden').units == 4 and rebuilt.input_shape == (None, 3)
    dense = layers.deserialize(layers.serialize(layers.Dense(5, activation='relu')))
    assert dense.units == 5 and dense.activation_name == 'relu'


def test_save_model_and_load_model(tmp_path):
    model = keras.Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile('sgd', 'mse')
    models.save_model(model, tmp_path / 'm.npz')
    loaded = models.load_model(tmp_path / 'm.npz')
    for got, want in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_loss_short_names_are_keras_per_sample_functions():
    y_true = np.array([[0.2, 0.8], [0.5, 0.5]])
    y_pred = np.array([[0.4, 0.6], [0.9, 0.1]], 'float32')
    kl = np.sum(y_true * np.log(y_true / y_pred), axis=-1)
    for fn in (losses.KLD, losses.kld, losses.kullback_leibler_divergence):
        np.testing.assert_allclose(fn(y_true, y_pred).data, kl, rtol=1e-5)
    np.testing.assert_allclose(losses.MSE(y_true, y_pred).data,
                               np.mean((y_true - y_pred) ** 2, axis=-1), rtol=1e-6)
    np.testing.assert_allclose(losses.MAE(y_true, y_pred).data,
                               np.mean(np.abs(y_true - y_pred), axis=-1), rtol=1e-6)
    assert losses.mse is losses.mean_squared_error and losses.mae is losses.MAE
    assert metrics.mse is metrics.MSE and metrics.mae is metrics.MAE
    assert losses.deserialize('mse') is losses.mean_squared_error
    assert isinstance(losses.deserialize(losses.serialize(losses.Huber(delta=2.0))), losses.Huber)


def test_a_subclassed_loss_trains_as_keras_trains_it():
    class MeanSquared(losses.Loss):
        def call(self, y_true, y_pred):
            return ((y_pred - y_true) ** 2).mean(axis=-1)

    x = np.linspace(-1, 1, 12, dtype='float32').reshape(6, 2)
    y = x.sum(axis=1, keepdims=True)
    results = []
    for loss in (MeanSquared(), 'mse'):
        utils.set_random_seed(3)
        model = keras.Sequential([layers.Dense(1, input_shape=(2,))])
        model.compile(keras.optimizers.SGD(0.1), loss)
        results.append(model.fit(x, y, epochs=2, verbose=0).history['loss'])
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)
    assert MeanSquared().name == 'mean_squared'
    with pytest.raises(TypeError, match="'reduction'"):
        losses.Loss(reduction='none')


def test_custom_metric_and_mean_as_keras_writes_them():
    mean = metrics.Mean()
    mean.update_state(np.array([1.0, 2.0, 6.0]))
    assert float(mean.result()) == pytest.approx(3.0)
    assert issubclass(metrics.Mean, metrics.Metric)


def test_callback_list_takes_keras_arguments():
    seen = []
    log = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    model = keras.Sequential([layers.Dense(1, input_shape=(2,))])
    hooks = callbacks.CallbackList([log], model=model, epochs=1)
    hooks.on_epoch_end(0, {})
    assert seen == [0] and log.model is model and log.params == {'epochs': 1}
    with pytest.raises(TypeError, match='add_history'):
        callbacks.CallbackList([log], add_history=True)


def test_identity_initializer_with_gain_and_2d_only():
    np.testing.assert_array_equal(initializers.Identity(gain=2.0)((3, 3)), 2 * np.eye(3))
    np.testing.assert_array_equal(initializers.identity()((2, 4)), np.eye(2, 4))
    dense = layers.Dense(3, kernel_initializer='identity')
    dense.build((3,))
    np.testing.assert_array_equal(dense.get_weights()[0], np.eye(3))
    with pytest.raises(ValueError, match='2-D'):
        initializers.Identity()((3, 3, 2, 2))


def test_lecun_uniform_and_truncated_normal_draw_from_kerass_ranges():
    w = initializers.LecunUniform(seed=1)((400, 300))
    limit = np.sqrt(3 / 400)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit
    assert initializers.lecun_uniform is initializers.LecunUniform
    t = initializers.TruncatedNormal(mean=1.0, stddev=0.5, seed=2)((200, 200))
    assert np.abs(t - 1.0).max() <= 1.0  # cut at two standard deviations
    # the std of N(0, 1) cut at +-2 is 0.8796 of the uncut one
    assert t.std() == pytest.approx(0.5 * 0.8796, rel=0.02)
    assert initializers.truncated_normal is initializers.TruncatedNormal
    assert initializers.variance_scaling is initializers.VarianceScaling


def test_a_custom_initializer_subclass_initializes_a_layer():
    class Twos(initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return np.full(shape, 2.0, dtype=dtype)

    dense = layers.Dense(2, kernel_initializer=Twos())
    dense.build((3,))
    np.testing.assert_array_equal(dense.get_weights()[0], np.full((3, 2), 2.0))


def test_flow_returns_a_numpy_array_iterator():
    flow = ImageDataGenerator().flow(np.zeros((4, 8, 8, 3), 'float32'), np.arange(4),
                                     batch_size=2)
    assert isinstance(flow, NumpyArrayIterator) and len(flow) == 2


def test_set_random_seed_repeats_the_initial_weights():
    weights = []
    for _ in range(2):
        utils.set_random_seed(7)
        weights.append(keras.Sequential([layers.Dense(3, input_shape=(2,))]).get_weights()[0])
    np.testing.assert_array_equal(*weights)


def test_activations_get_and_serialize_as_in_keras():
    assert keras.activations.get('relu') is keras.activations.relu
    assert keras.activations.serialize(keras.activations.relu) == 'relu'
    assert keras.activations.deserialize('tanh') is keras.activations.tanh
    assert keras.activations.get(None) is keras.activations.linear


def test_regularizers_and_initializers_deserialize():
    reg = keras.regularizers.deserialize({'class_name': 'L2', 'config': {'l2': 0.5}})
    assert isinstance(reg, keras.regularizers.L2) and reg.l2 == 0.5
    init = initializers.deserialize({'class_name': 'Constant', 'config': {'value': 3.0}})
    assert float(init((1,))[0]) == 3.0


def test_backend_is_sparse_and_reset_uids():
    assert backend.is_sparse(np.zeros(3)) is False
    backend.reset_uids()
    assert layers.Dense(1).name == 'dense'


def test_losses_as_metrics_give_kerass_values():
    y_true = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    p = np.array([[0.2, 0.7], [0.6, 0.3], [0.9, 0.99]], 'float32')
    bce = -np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p), axis=-1)
    metric = metrics.BinaryCrossentropy()
    metric.update_state(y_true[:2], p[:2])
    metric.update_state(y_true[2:], p[2:])
    assert metric.result() == pytest.approx(bce.mean(), rel=1e-5)
    logits = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]], 'float32')
    log_softmax = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    ids = np.array([2, 1])
    sparse = metrics.SparseCategoricalCrossentropy(from_logits=True)
    assert sparse(ids, logits) == pytest.approx(-log_softmax[[0, 1], ids].mean(), rel=1e-5)
    categorical = metrics.CategoricalCrossentropy(from_logits=True)
    assert categorical(np.eye(3)[ids], logits) == pytest.approx(sparse.result(), rel=1e-6)
    signs = np.array([[1.0, 0.0]])
    scores = np.array([[0.3, -2.0]], 'float32')
    margins = np.maximum(1 - np.array([[1.0, -1.0]]) * scores, 0)
    assert metrics.Hinge()(signs, scores) == pytest.approx(margins.mean(), rel=1e-6)
    assert metrics.SquaredHinge()(signs, scores) == pytest.approx((margins ** 2).mean(), rel=1e-6)
    q = np.array([[0.5, 0.5]])
    kl = metrics.KLDivergence()
    assert kl.name == 'kullback_leibler_divergence'
    assert kl(np.array([[0.9, 0.1]]), q) == pytest.approx(
        0.9 * np.log(0.9 / 0.5) + 0.1 * np.log(0.1 / 0.5), rel=1e-5)
    for fn in (metrics.kld, metrics.KLD, metrics.kullback_leibler_divergence,
               metrics.kl_divergence):
        assert fn is losses.kl_divergence
    assert metrics.binary_crossentropy is losses.binary_crossentropy
    assert metrics.categorical_crossentropy is losses.categorical_crossentropy
    assert metrics.sparse_categorical_crossentropy is losses.sparse_categorical_crossentropy
    assert metrics.hinge is losses.hinge and metrics.squared_hinge is losses.squared_hinge


def test_accuracy_and_root_mean_squared_error():
    exact = metrics.Accuracy()
    assert exact([[1], [2], [3], [4]], [[0], [2], [3], [4]]) == pytest.approx(0.75)
    rmse = metrics.RootMeanSquaredError()
    rmse.update_state(np.array([[0.0, 0.0]]), np.array([[1.0, 3.0]]))
    rmse.update_state(np.array([[0.0, 0.0]]), np.array([[2.0, 0.0]]))
    assert rmse.result() == pytest.approx(np.sqrt((1 + 9 + 4 + 0) / 4))


def test_a_loss_named_as_a_metric_reports_the_loss():
    x = np.linspace(-1, 1, 16, dtype='float32').reshape(8, 2)
    y = (x.sum(axis=1) > 0).astype('float32')
    model = keras.Sequential([layers.Dense(1, activation='sigmoid', input_shape=(2,))])
    model.compile('sgd', 'binary_crossentropy', metrics=['binary_crossentropy'])
    loss, metric = model.evaluate(x, y, verbose=0)
    assert metric == pytest.approx(loss, rel=1e-5)
