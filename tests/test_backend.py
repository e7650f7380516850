"""Keras's backend module, used as Keras programs use it: ``from minicnn import backend as K``."""
import numpy as np
import pytest

from minicnn import backend as K
from minicnn import layers, losses, metrics, optimizers
from minicnn.missing import MissingFeatureError
from minicnn.models import Sequential


@pytest.fixture
def restore_epsilon():
    saved = K.epsilon()
    yield
    K.set_epsilon(saved)


def tiny_model(learning_rate):
    model = Sequential([layers.Dense(3, activation='softmax', input_shape=(4,))])
    model.set_weights([np.full((4, 3), 0.1, 'float32'), np.zeros(3, 'float32')])
    model.compile(optimizers.SGD(learning_rate=learning_rate), 'sparse_categorical_crossentropy')
    return model


def one_step(model):
    x = np.arange(8, dtype='float32').reshape(2, 4) / 8
    model.fit(x, np.array([0, 2]), batch_size=2, epochs=1, verbose=0, shuffle=False)
    return model.get_weights()


def test_image_data_format_is_channels_last_and_channels_first_is_refused():
    assert K.image_data_format() == 'channels_last'
    K.set_image_data_format('channels_last')
    with pytest.raises(MissingFeatureError, match='channels_first'):
        K.set_image_data_format('channels_first')
    with pytest.raises(ValueError, match="'nhwc'"):
        K.set_image_data_format('nhwc')


def test_a_keras_program_branching_on_the_data_format_builds_channels_last():
    img_rows, img_cols = 28, 28
    x = np.zeros((5, img_rows, img_cols), 'float32')
    if K.image_data_format() == 'channels_first':
        x = x.reshape(x.shape[0], 1, img_rows, img_cols)
    else:
        x = x.reshape(x.shape[0], img_rows, img_cols, 1)
    assert x.shape == (5, 28, 28, 1)


def test_int_shape_of_symbolic_and_concrete_tensors():
    inputs = layers.Input(shape=(28, 28, 1))
    x = layers.Conv2D(8, 3)(inputs)
    assert K.int_shape(inputs) == (None, 28, 28, 1)
    assert K.int_shape(x) == (None, 26, 26, 8)
    assert K.ndim(x) == 4 and K.dtype(x) == 'float32'
    assert K.int_shape(np.zeros((2, 3))) == (2, 3)
    assert K.is_keras_tensor(x)
    dense = layers.Dense(2)
    dense(np.zeros((1, 3), 'float32'))
    assert not K.is_keras_tensor(dense.kernel)
    with pytest.raises(ValueError, match='ndarray'):
        K.is_keras_tensor(np.zeros(3))


def test_epsilon_is_what_crossentropy_clips_to(restore_epsilon):
    y_true, y_pred = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]], 'float32')
    assert K.epsilon() == 1e-7
    K.set_epsilon(1e-3)
    assert K.epsilon() == 1e-3
    loss = losses.categorical_crossentropy(y_true, y_pred)
    assert float(loss.data[0]) == pytest.approx(-np.log(1e-3), rel=1e-5)
    assert metrics.AUC(num_thresholds=3).thresholds[0] == pytest.approx(-1e-3)
    with pytest.raises(ValueError, match='epsilon'):
        K.set_epsilon(0)


def test_floatx_is_float32_and_other_types_are_refused():
    assert K.floatx() == 'float32'
    K.set_floatx('float32')
    with pytest.raises(MissingFeatureError, match='float64'):
        K.set_floatx('float64')
    with pytest.raises(ValueError, match="'float33'"):
        K.set_floatx('float33')
    assert K.cast_to_floatx([1, 2]).dtype == np.float32


def test_set_value_of_the_learning_rate_takes_effect_in_the_next_step():
    reference = one_step(tiny_model(learning_rate=0.1))
    model = tiny_model(learning_rate=0.5)
    K.set_value(model.optimizer.lr, 0.1)
    assert K.get_value(model.optimizer.learning_rate) == pytest.approx(0.1)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.1)
    for got, want in zip(one_step(model), reference):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    # After training has begun too: a rate of zero leaves the weights as they are.
    K.set_value(model.optimizer.learning_rate, 0.0)
    before = model.get_weights()
    for got, want in zip(one_step(model), before):
        np.testing.assert_array_equal(got, want)


def test_a_learning_rate_read_earlier_still_assigns_and_reads_the_optimizer():
    model = tiny_model(learning_rate=0.5)
    lr = model.optimizer.lr
    lr.assign(0.25)
    assert K.get_value(lr) == 0.25 and model.optimizer.learning_rate == 0.25
    model.optimizer.learning_rate = 0.125
    assert float(lr.numpy()) == 0.125


def test_set_value_of_a_schedules_rate_is_refused():
    schedule = optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    model = tiny_model(learning_rate=schedule)
    with pytest.raises(TypeError, match='schedule'):
        K.set_value(model.optimizer.lr, 0.01)


def test_set_value_of_a_plain_number_is_refused():
    with pytest.raises(TypeError, match='nothing would hold'):
        K.set_value(0.5, 0.01)


def test_get_value_and_set_value_of_weights():
    model = tiny_model(learning_rate=0.1)
    kernel = model.layers[0].kernel
    value = K.get_value(kernel)
    value[...] = 7  # a copy: the model keeps its weights
    assert np.all(model.get_weights()[0] == np.float32(0.1))
    K.batch_set_value([(kernel, np.ones((4, 3)))])
    assert np.all(K.batch_get_value([kernel])[0] == 1)
    with pytest.raises(ValueError, match=r'\(4, 3\).*\(3, 4\)'):
        K.set_value(kernel, np.ones((3, 4)))


def test_count_params_of_each_weight_sums_to_the_models():
    model = Sequential([layers.Conv2D(4, 3, input_shape=(8, 8, 2)), layers.Flatten(),
                        layers.Dense(5)])
    total = sum(K.count_params(w) for w in model.trainable_weights)
    assert total == model.count_params() == (3 * 3 * 2 * 4 + 4) + (6 * 6 * 4 * 5 + 5)


def test_clear_session_restarts_layer_names():
    layers.Dense(2)
    K.clear_session()
    assert layers.Dense(2).name == 'dense'
    assert layers.Dense(2).name == 'dense_1'
    assert K.get_uid('dense') == 3


def test_a_learning_phase_scope_is_refused_by_name():
    with pytest.raises(MissingFeatureError, match='learning_phase_scope'):
        K.learning_phase_scope(1)


def test_tensor_functions_minicnn_lacks_are_refused_at_use_not_at_import():
    from minicnn.backend import conv2d  # noqa: F401  (imports fine)
    with pytest.raises(MissingFeatureError, match=r'keras\.backend\.conv2d.*minicnn\.backend\.symbolic'):
        K.conv2d(np.ones((1, 3, 3, 1)), np.ones((2, 2, 1, 1)))
    assert K.backend() == 'minicnn'
