import numpy as np
import pytest

import minicnn
from minicnn.callbacks import EarlyStopping, LambdaCallback
from minicnn.layers import Activation, Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from minicnn.models import Sequential
from minicnn.optimizers import SGD, Adam
from minicnn.utils import to_categorical

from synthetic import plus_or_cross


def tutorial_cnn(input_shape=(10, 10, 1), classes=2):
    """The tutorials' block structure: Conv, Conv, MaxPool, Dropout, Flatten, Dense, softmax."""
    return Sequential([
        Conv2D(8, (3, 3), padding='same', activation='relu', input_shape=input_shape),
        Conv2D(8, (3, 3), activation='relu'),
        MaxPooling2D(pool_size=(2, 2)),
        Dropout(0.25),
        Flatten(),
        Dense(16, activation='relu'),
        Dense(classes, activation='softmax'),
    ])


def test_summary_of_the_single_filter_convolution():
    lines = []
    model = Sequential(Conv2D(filters=1, kernel_size=(3, 3), input_shape=(302, 403, 1)))
    model.summary(print_fn=lines.append)
    text = lines[0]
    assert 'Model: "sequential' in text
    assert 'Layer (type)                 Output Shape              Param #' in text
    row = [line for line in text.splitlines() if '(Conv2D)' in line][0]
    assert row.startswith('conv2d') and '(None, 300, 401, 1)' in row and row.endswith('10')
    assert 'Total params: 10\nTrainable params: 10\nNon-trainable params: 0' in text


def test_summary_of_a_cnn_counts_every_layer():
    lines = []
    model = Sequential([
        Conv2D(32, (3, 3), padding='same', input_shape=(32, 32, 3)),
        Activation('relu'), MaxPooling2D(), Flatten(), Dense(10, activation='softmax')])
    model.summary(print_fn=lines.append)
    text = lines[0]
    expected_rows = [('(Conv2D)', '(None, 32, 32, 32)', 896), ('(Activation)', '(None, 32, 32, 32)', 0),
                     ('(MaxPooling2D)', '(None, 16, 16, 32)', 0), ('(Flatten)', '(None, 8192)', 0),
                     ('(Dense)', '(None, 10)', 81930)]
    for kind, shape, params in expected_rows:
        row = [line for line in text.splitlines() if kind in line][0]
        assert shape in row and row.split()[-1] == str(params)
    assert 'Total params: 82,826' in text
    assert model.count_params() == 82826


def test_layer_names_count_up_like_keras():
    model = Sequential([Dense(2, input_shape=(3,)), Dense(2), Dense(1)])
    names = [layer.name for layer in model.layers]
    base = names[0].split('_')[0]
    assert base == 'dense' and len(set(names)) == 3
    assert all(n.startswith('dense') for n in names)


def test_cnn_learns_what_a_linear_model_cannot():
    x, y = plus_or_cross(600, seed=0)
    x_test, y_test = plus_or_cross(300, seed=1)
    minicnn.utils.set_seed(0)
    cnn = tutorial_cnn()
    cnn.compile(optimizer=Adam(learning_rate=0.01), loss='sparse_categorical_crossentropy',
                metrics=['accuracy'])
    cnn.fit(x, y, batch_size=32, epochs=8, verbose=0)
    _, cnn_accuracy = cnn.evaluate(x_test, y_test, verbose=0)

    linear = Sequential([Flatten(input_shape=(10, 10, 1)), Dense(2, activation='softmax')])
    linear.compile(optimizer=Adam(learning_rate=0.01), loss='sparse_categorical_crossentropy',
                   metrics=['accuracy'])
    linear.fit(x, y, batch_size=32, epochs=8, verbose=0)
    _, linear_accuracy = linear.evaluate(x_test, y_test, verbose=0)
    assert cnn_accuracy > 0.9
    assert linear_accuracy < 0.75


def test_history_holds_keras_names_and_old_aliases():
    x, y = plus_or_cross(64)
    model = tutorial_cnn()
    model.compile('sgd', 'categorical_crossentropy', metrics=['acc'])
    history = model.fit(x, to_categorical(y, 2), epochs=2, verbose=0, validation_split=0.25)
    for key in ('loss', 'acc', 'accuracy', 'val_loss', 'val_acc', 'val_accuracy'):
        assert len(history.history[key]) == 2
    assert history.epoch == [0, 1]


def test_fit_accepts_a_generator_and_fit_generator_is_an_alias():
    x, y = plus_or_cross(64)

    def batches():
        while True:
            for i in range(0, 64, 16):
                yield x[i:i + 16], y[i:i + 16]
    model = tutorial_cnn()
    model.compile('adam', 'sparse_categorical_crossentropy', ['accuracy'])
    seen = []
    counter = LambdaCallback(on_batch_end=lambda batch, logs: seen.append(batch))
    model.fit_generator(batches(), steps_per_epoch=3, epochs=2, verbose=0, callbacks=[counter],
                        workers=4, use_multiprocessing=False)
    assert seen == [0, 1, 2, 0, 1, 2]


def test_inputs_of_any_numeric_dtype_are_cast_to_float32():
    x, y = plus_or_cross(32)
    model = tutorial_cnn()
    model.compile('sgd', 'sparse_categorical_crossentropy', ['accuracy'])
    model.fit((x * 100).astype(np.uint8), y, epochs=1, verbose=0)
    out = model.predict(x.astype(np.float64))
    assert out.dtype == np.float32 and out.shape == (32, 2)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_predict_and_evaluate_run_without_dropout_and_graph():
    x, y = plus_or_cross(32)
    model = Sequential([Flatten(input_shape=(10, 10, 1)), Dropout(0.5), Dense(2, activation='softmax')])
    model.compile('sgd', 'sparse_categorical_crossentropy')
    np.testing.assert_array_equal(model.predict(x), model.predict(x))  # no random dropout
    loss = model.evaluate(x, y, verbose=0)
    assert isinstance(loss, float)


def test_weights_saved_and_loaded_give_identical_predictions(tmp_path):
    x, y = plus_or_cross(32)
    model = tutorial_cnn()
    model.compile('adam', 'sparse_categorical_crossentropy')
    model.fit(x, y, epochs=1, verbose=0)
    model.save_weights(tmp_path / 'w.npz')
    other = tutorial_cnn()
    other.load_weights(tmp_path / 'w.npz')
    np.testing.assert_array_equal(model.predict(x), other.predict(x))
    assert [w.shape for w in other.get_weights()] == [w.shape for w in model.get_weights()]
    assert list(tmp_path.iterdir()) == [tmp_path / 'w.npz']


def test_get_weights_order_is_kernel_then_bias():
    model = Sequential([Conv2D(4, 3, input_shape=(8, 8, 2)), Flatten(), Dense(3)])
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(3, 3, 2, 4), (4,), (144, 3), (3,)]
    assert len(model.trainable_weights) == 4


def test_early_stopping_stops_on_a_plateau_and_restores_the_best_weights():
    x, y = plus_or_cross(64)
    model = tutorial_cnn()
    model.compile(SGD(learning_rate=0.0), 'sparse_categorical_crossentropy', ['accuracy'])
    snapshots = []

    # With a zero learning rate only this perturbation moves the weights, so
    # the loss varies from epoch to epoch and the best epoch is known.
    def perturb(epoch, logs):
        snapshots.append(model.get_weights())
        if model.stop_training:  # leave the restored weights alone
            return
        model.set_weights([w + 0.3 * (epoch + 1) for w in model.get_weights()])
    stopper = EarlyStopping(monitor='loss', patience=1, restore_best_weights=True)
    history = model.fit(x, y, epochs=20, verbose=0,
                        callbacks=[stopper, LambdaCallback(on_epoch_end=perturb)])
    losses = history.history['loss']
    assert len(losses) < 20
    best = int(np.argmin(losses))
    for restored, snapshot in zip(model.get_weights(), snapshots[best]):
        np.testing.assert_array_equal(restored, snapshot)


def test_the_fused_softmax_loss_equals_the_plain_one():
    x, y = plus_or_cross(16)
    model = tutorial_cnn()
    model.compile('sgd', 'sparse_categorical_crossentropy')
    fused = model.evaluate(x, y, verbose=0)
    probabilities = model.predict(x)
    direct = -np.log(probabilities[np.arange(16), y]).mean()
    np.testing.assert_allclose(fused, direct, rtol=1e-5)


@pytest.mark.parametrize('call,error,message', [
    (lambda m, x, y: m.fit(x, y, verbose=0), RuntimeError, 'compile'),
    (lambda m, x, y: m.evaluate(x, y, verbose=0), RuntimeError, 'compile'),
])
def test_fit_or_evaluate_before_compile(call, error, message):
    x, y = plus_or_cross(8)
    with pytest.raises(error, match=message):
        call(tutorial_cnn(), x, y)


@pytest.mark.parametrize('kwargs,message', [
    ({'y': np.zeros(7)}, r'x and y have different lengths \(8 and 7\)'),
    ({'x': np.zeros((8, 12, 12, 1))}, r"layer 'conv2d.*\(None, 10, 10, 1\).*\(8, 12, 12, 1\)"),
    ({'y': np.full(8, 5)}, r'class ids must lie in \[0, 2\).*5'),
    ({'batch_size': 0}, 'batch_size must be a positive int, got 0'),
    ({'epochs': -1}, 'epochs must be a non-negative int, got -1'),
    ({'epochs': 2.5}, 'epochs must be a non-negative int, got 2.5'),
    ({'x': np.zeros((0, 10, 10, 1)), 'y': np.zeros(0)}, 'x is empty'),
    ({'x': np.full((8, 10, 10, 1), np.nan)}, 'x contains NaN'),
])
def test_bad_fit_arguments_get_clear_errors(kwargs, message):
    x, y = plus_or_cross(8)
    args = {'x': x, 'y': y, 'verbose': 0, **kwargs}
    model = tutorial_cnn()
    model.compile('sgd', 'sparse_categorical_crossentropy')
    with pytest.raises(ValueError, match=message):
        model.fit(**args)


@pytest.mark.parametrize('compile_args,message', [
    ({'optimizer': 'adamm', 'loss': 'mse'}, r"unknown optimizer.*'adam'"),
    ({'optimizer': 'sgd', 'loss': 'hinge_loss'},
     r"unknown loss 'hinge_loss'.*'categorical_crossentropy'"),
    ({'optimizer': 'sgd', 'loss': 'mse', 'metrics': ['f1_score']},
     r"unknown metric 'f1_score'.*'accuracy'"),
])
def test_unknown_names_list_the_valid_ones(compile_args, message):
    with pytest.raises(ValueError, match=message):
        tutorial_cnn().compile(**compile_args)


def test_optimizer_names_in_any_case():
    model = tutorial_cnn()
    for name in ('SGD', 'RMSprop', 'Adam', 'rmsprop'):
        model.compile(name, 'mse')


@pytest.mark.filterwarnings('ignore:overflow encountered', 'ignore:invalid value encountered')
def test_a_nan_loss_stops_training_naming_epoch_and_batch():
    x, y = plus_or_cross(64)
    model = tutorial_cnn()
    model.compile(SGD(learning_rate=1e30), 'sparse_categorical_crossentropy')
    with pytest.warns(RuntimeWarning, match=r'epoch 1, batch \d+'):
        history = model.fit(x, y, batch_size=8, epochs=3, verbose=0)
    assert history.history.get('loss', []) == []


def test_mse_loss_trains_a_regression():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(SGD(learning_rate=0.1), 'mse')
    history = model.fit(x, y, epochs=30, verbose=0)
    assert history.history['loss'][-1] < 1e-3


def test_verbose_modes(capsys):
    x, y = plus_or_cross(32)
    model = tutorial_cnn()
    model.compile('sgd', 'sparse_categorical_crossentropy', ['accuracy'])
    model.fit(x, y, epochs=1, verbose=2)
    assert 'Epoch 1/1 - loss:' in capsys.readouterr().out
    model.fit(x, y, epochs=1, verbose=1)
    assert 'img/s' in capsys.readouterr().err
    model.fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr() == ('', '')


def test_a_model_built_at_first_call():
    model = Sequential()
    model.add(Dense(4, activation='tanh'))
    model.add(Dense(2))
    with pytest.raises(ValueError, match='not built'):
        model.summary()
    out = model(np.ones((3, 5)))
    assert out.shape == (3, 2) and model.input_shape == (None, 5)


def test_pixels_in_0_255_after_training_on_0_1_warn_once():
    x, y = plus_or_cross(32)
    x = np.clip(x, 0, 1)
    model = tutorial_cnn()
    model.compile('sgd', 'sparse_categorical_crossentropy')
    model.fit(x, y, epochs=1, verbose=0)
    with pytest.warns(UserWarning, match=r'predict: x holds values up to 255.*divided by 255'):
        model.predict(x * 255)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        model.evaluate(x * 255, y, verbose=0)  # said once already
        model.predict(x)


def test_validation_data_class_ids_are_checked_on_the_host():
    x, y = plus_or_cross(16)
    model = tutorial_cnn()
    model.compile('sgd', 'sparse_categorical_crossentropy')
    with pytest.raises(ValueError, match=r'fit: validation_data: class ids must lie in \[0, 2\)'):
        model.fit(x, y, epochs=1, verbose=0, validation_data=(x, np.full(16, 7)))
