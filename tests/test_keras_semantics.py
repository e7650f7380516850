"""Keras programs one step past the tutorials, written as a Keras user would
write them, each checking the value Keras gives. One test (or a few) per
item of the "no silent wrong results" issue, numbered as there."""
import json
import math
import signal
import warnings

import numpy as np
import pytest

from minicnn import devices, gradcheck, utils
from minicnn import functional as F
from minicnn.callbacks import Callback, EarlyStopping, LambdaCallback, ModelCheckpoint
from minicnn.initializers import GlorotUniform
from minicnn.layers import Conv2D, Dense, Flatten, MaxPooling2D
from minicnn.models import Sequential, load_model
from minicnn.optimizers import SGD, Adam
from minicnn.recipes import experiment

from synthetic import plus_or_cross


def small_cnn(classes=2):
    return Sequential([
        Conv2D(4, 3, padding='same', activation='relu', input_shape=(10, 10, 1)),
        MaxPooling2D(), Flatten(), Dense(classes, activation='softmax')])


def compiled(model, optimizer=None):
    model.compile(optimizer or Adam(learning_rate=0.01), 'sparse_categorical_crossentropy',
                  ['accuracy'])
    return model


def per_sample_cross_entropy(model, x, y):
    p = model.predict(x).astype(np.float64)
    return -np.log(p[np.arange(len(y)), y])


# 1. get_weights returns copies; set_weights copies in -------------------------

def test_set_weights_of_saved_weights_puts_the_model_back():
    x, y = plus_or_cross(64)
    model = compiled(small_cnn())
    before = model.predict(x)
    saved = model.get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    assert not np.allclose(model.predict(x), before)
    model.set_weights(saved)
    np.testing.assert_array_equal(model.predict(x), before)


def test_a_twin_made_with_set_weights_does_not_share_storage():
    x, y = plus_or_cross(64)
    model, twin = compiled(small_cnn()), small_cnn()
    twin.set_weights(model.get_weights())
    twin_before = twin.predict(x)
    model.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(twin.predict(x), twin_before)


def test_layers_have_get_and_set_weights():
    model = small_cnn()
    conv = model.layers[0]
    kernel, bias = conv.get_weights()
    assert kernel.shape == (3, 3, 1, 4) and bias.shape == (4,)
    kernel[...] = 0  # a copy: the layer is unchanged
    assert np.abs(conv.kernel.data).sum() > 0
    conv.set_weights([np.ones((3, 3, 1, 4)), np.full(4, 2.0)])
    np.testing.assert_array_equal(conv.bias.data, 2.0)
    with pytest.raises(ValueError, match=r"conv2d.*kernel' has shape \(3, 3, 1, 4\).*\(3, 3\)"):
        conv.set_weights([np.ones((3, 3)), np.ones(4)])


def test_early_stopping_restores_the_weights_of_the_best_epoch():
    x, y = plus_or_cross(64)
    x_val, y_val = plus_or_cross(32, seed=1)
    model = compiled(small_cnn())

    # From epoch 2 on, a learning rate far too large makes every step worse,
    # so the best epoch is 0 or 1, and training changes the weights after it.
    def too_fast_from_epoch_2(epoch, logs=None):
        model.optimizer.learning_rate = 1.0 if epoch >= 2 else 0.01
    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=10, verbose=0, validation_data=(x_val, y_val),
                        callbacks=[LambdaCallback(on_epoch_begin=too_fast_from_epoch_2), stopper])
    val_losses = history.history['val_loss']
    assert int(np.argmin(val_losses)) < len(val_losses) - 1
    restored_loss, _ = model.evaluate(x_val, y_val, verbose=0)
    np.testing.assert_allclose(restored_loss, min(val_losses), rtol=1e-5)


# 2. EarlyStopping stops when wait reaches patience ----------------------------

def test_early_stopping_stops_after_patience_epochs_without_improvement():
    x, y = plus_or_cross(32)
    model = compiled(small_cnn(), SGD(learning_rate=0.0))  # the loss never improves
    history = model.fit(x, y, epochs=10, verbose=0,
                        callbacks=[EarlyStopping(monitor='loss', patience=2)])
    assert len(history.history['loss']) == 3  # epoch 0, then 2 epochs without improvement


# 3. class_weight and sample_weight weight each sample's loss ------------------

def test_sample_weight_weights_the_reported_loss():
    x, y = plus_or_cross(40)
    w = np.linspace(0.0, 2.0, 40)
    model = compiled(small_cnn(), SGD(learning_rate=0.0))
    expected = (w * per_sample_cross_entropy(model, x, y)).mean()  # Keras: sum(w l) / N
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0, sample_weight=w)
    np.testing.assert_allclose(history.history['loss'][0], expected, rtol=1e-5)
    loss, _ = model.evaluate(x, y, sample_weight=w, verbose=0)
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    unweighted, _ = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(unweighted, per_sample_cross_entropy(model, x, y).mean(), rtol=1e-5)


def test_sample_weights_change_training_and_class_weight_is_weights_by_class():
    x, y = plus_or_cross(48)
    class_weight = {0: 3.0, 1: 0.5}
    runs = {}
    for kind, kwargs in [('plain', {}), ('class', {'class_weight': class_weight}),
                         ('sample', {'sample_weight': np.where(y == 0, 3.0, 0.5)})]:
        utils.set_seed(4)
        model = compiled(small_cnn())
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, **kwargs)
        runs[kind] = model.get_weights(), history.history['loss']
    for a, b in zip(runs['class'][0], runs['sample'][0]):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(runs['class'][1], runs['sample'][1], rtol=1e-6)
    assert not np.allclose(runs['plain'][0][0], runs['class'][0][0])


def test_class_weight_with_one_hot_labels_and_unlisted_classes():
    x, y = plus_or_cross(24)
    model = compiled(small_cnn(), SGD(learning_rate=0.0))
    model.compile(SGD(learning_rate=0.0), 'categorical_crossentropy')
    expected = (np.where(y == 1, 4.0, 1.0) * per_sample_cross_entropy(model, x, y)).mean()
    history = model.fit(x, utils.to_categorical(y, 2), epochs=1, verbose=0,
                        class_weight={1: 4.0})  # class 0 is not listed: weight 1, as Keras
    np.testing.assert_allclose(history.history['loss'][0], expected, rtol=1e-5)


def test_class_weight_and_sample_weight_together_is_an_error():
    x, y = plus_or_cross(8)
    with pytest.raises(ValueError, match='class_weight or sample_weight, not both'):
        compiled(small_cnn()).fit(x, y, class_weight={0: 1.0}, sample_weight=np.ones(8),
                                  verbose=0)
    with pytest.raises(ValueError, match=r'sample_weight must hold one weight per sample, '
                                         r'shape \(8,\), got shape \(7,\)'):
        compiled(small_cnn()).fit(x, y, sample_weight=np.ones(7), verbose=0)


def test_validation_data_with_sample_weights():
    x, y = plus_or_cross(16)
    w = np.linspace(0.5, 1.5, 16)
    model = compiled(small_cnn(), SGD(learning_rate=0.0))
    expected = (w * per_sample_cross_entropy(model, x, y)).mean()
    history = model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y, w))
    np.testing.assert_allclose(history.history['val_loss'][0], expected, rtol=1e-5)


# 4. unknown keyword arguments are errors ---------------------------------------

@pytest.mark.parametrize('call, message', [
    (lambda m, x, y: m.fit(x, y, epoch=5), "fit() got an unknown keyword argument 'epoch'; "
                                           "did you mean 'epochs'?"),
    (lambda m, x, y: m.evaluate(x, y, batchsize=4), "did you mean 'batch_size'?"),
    (lambda m, x, y: m.predict(x, batch=4), "predict() got an unknown keyword argument 'batch'"),
    (lambda m, x, y: m.compile('adam', 'mse', metric=['accuracy']), "did you mean 'metrics'?"),
    (lambda m, x, y: Conv2D(8, 3, activaton='relu'),
     "Conv2D() got an unknown keyword argument 'activaton'; did you mean 'activation'?"),
    (lambda m, x, y: MaxPooling2D(pool=2), "MaxPooling2D() got an unknown keyword argument 'pool'"),
    (lambda m, x, y: Dense(3, kernel_regularizer='l2', kernel_constraint='max_norm'),
     "'kernel_constraint', a Keras argument that minicnn does not implement"),
    (lambda m, x, y: Dense(3, kernel_regulariser='l2'), "did you mean 'kernel_regularizer'?"),
    (lambda m, x, y: Adam(learning_rat=0.1), "Adam() got an unknown keyword argument "
                                             "'learning_rat'; did you mean 'learning_rate'?"),
    (lambda m, x, y: SGD(momentun=0.9), "did you mean 'momentum'?"),
    (lambda m, x, y: EarlyStopping(patiense=3), "did you mean 'patience'?"),
    (lambda m, x, y: ModelCheckpoint('m.minicnn', save_best=True), "did you mean 'save_best_only'?"),
    (lambda m, x, y: LambdaCallback(on_epoch_ends=print), "did you mean 'on_epoch_end'?"),
    (lambda m, x, y: GlorotUniform(sed=1), "GlorotUniform() got an unknown keyword argument "
                                           "'sed'; did you mean 'seed'?"),
    (lambda m, x, y: Sequential(layer=[]), "did you mean 'layers'?"),
])
def test_an_unknown_keyword_names_itself_and_its_function(call, message):
    x, y = plus_or_cross(8)
    with pytest.raises(TypeError, match=message.replace('(', r'\(').replace(')', r'\)')
                       .replace('?', r'\?')):
        call(compiled(small_cnn()), x, y)


def test_keras_loader_arguments_that_cannot_change_a_result_are_accepted():
    x, y = plus_or_cross(16)
    model = compiled(small_cnn())
    model.fit(x, y, epochs=1, verbose=0, workers=4, use_multiprocessing=True, max_queue_size=3)
    model.evaluate(x, y, verbose=0, workers=2)
    model.predict(x, workers=2)


# 5. data sets, Sequences and generators ----------------------------------------

class BatchCounter(Callback):
    def on_train_begin(self, logs=None):
        self.per_epoch = []

    def on_epoch_begin(self, epoch, logs=None):
        self.per_epoch.append(0)

    def on_batch_end(self, batch, logs=None):
        self.per_epoch[-1] += 1


class ReIterable:
    """Like a tf.data.Dataset or a PyTorch DataLoader: each iter() is a new pass."""

    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size = x, y, batch_size

    def __iter__(self):
        for start in range(0, len(self.x), self.batch_size):
            yield self.x[start:start + self.batch_size], self.y[start:start + self.batch_size]


def test_a_re_iterable_data_set_is_passed_over_every_epoch():
    x, y = plus_or_cross(32)
    counter = BatchCounter()
    history = compiled(small_cnn()).fit(ReIterable(x, y, 8), epochs=3, verbose=0,
                                        callbacks=[counter])
    assert counter.per_epoch == [4, 4, 4]
    assert all(loss > 0.01 for loss in history.history['loss'])


def test_a_generator_that_runs_dry_says_so_and_stops():
    x, y = plus_or_cross(32)
    batches = ((x[i:i + 8], y[i:i + 8]) for i in range(0, 32, 8))  # 4 batches, once
    with pytest.warns(RuntimeWarning, match='ran out of data after 1 of 3 batches in epoch 2'):
        history = compiled(small_cnn()).fit(batches, steps_per_epoch=3, epochs=5, verbose=0)
    assert len(history.history['loss']) == 1


def test_an_epoch_without_batches_is_an_error():
    x, y = plus_or_cross(8)
    with pytest.raises(ValueError, match='x gave no batches in epoch 1'):
        compiled(small_cnn()).fit(ReIterable(x[:0], y[:0], 8), epochs=1, verbose=0)


class Batches(utils.Sequence):
    """A keras.utils.Sequence: __len__ and __getitem__, and on_epoch_end."""

    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.requested, self.epochs_ended = [], 0

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, i):
        self.requested.append(i)
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[s], self.y[s]

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_a_sequence_gives_every_batch_each_epoch_in_shuffled_order():
    x, y = plus_or_cross(40)
    seq = Batches(x, y, 8)
    compiled(small_cnn()).fit(seq, epochs=2, verbose=0)
    assert sorted(seq.requested[:5]) == sorted(seq.requested[5:]) == [0, 1, 2, 3, 4]
    assert seq.requested[:5] != [0, 1, 2, 3, 4] or seq.requested[5:] != [0, 1, 2, 3, 4]
    assert seq.epochs_ended == 2
    seq.requested = []
    compiled(small_cnn()).fit(seq, epochs=1, verbose=0, shuffle=False)
    assert seq.requested == [0, 1, 2, 3, 4]


def test_generator_batches_may_carry_sample_weights():
    x, y = plus_or_cross(16)
    w = np.linspace(0.0, 1.0, 16)
    model = compiled(small_cnn(), SGD(learning_rate=0.0))
    expected = (w * per_sample_cross_entropy(model, x, y)).mean()
    history = model.fit(iter([(x[:8], y[:8], w[:8]), (x[8:], y[8:], w[8:])]), steps_per_epoch=2,
                        epochs=1, verbose=0)
    np.testing.assert_allclose(history.history['loss'][0], expected, rtol=1e-5)


# 6. steps_per_epoch with arrays -------------------------------------------------

def test_steps_per_epoch_limits_the_batches_of_array_inputs():
    x, y = plus_or_cross(64)
    counter = BatchCounter()
    seen = []
    compiled(small_cnn()).fit(x, y, batch_size=8, steps_per_epoch=2, epochs=3, verbose=0,
                              shuffle=False, callbacks=[counter, LambdaCallback(
                                  on_batch_begin=lambda batch, logs=None: seen.append(batch))])
    assert counter.per_epoch == [2, 2, 2]
    assert len(seen) == 6


# 7. input_shape and output_shape in Keras form -----------------------------------

def test_dense_takes_keras_input_dim():
    assert Sequential([Dense(3, input_dim=5)]).input_shape == (None, 5)


def test_model_and_layer_shapes_have_the_batch_axis():
    model = Sequential([Conv2D(4, 3, input_shape=(8, 8, 3)), Flatten(), Dense(5)])
    assert model.input_shape == (None, 8, 8, 3)
    assert model.output_shape == (None, 5)
    assert model.layers[0].input_shape == (None, 8, 8, 3)
    assert model.layers[0].output_shape == (None, 6, 6, 4)
    assert model.layers[1].output_shape == (None, 144)
    with pytest.raises(AttributeError, match="'dense_.*' has no input shape yet"):
        Dense(3).input_shape


# 9. metric aliases in checkpoint file names ---------------------------------------

def test_model_checkpoint_file_name_with_the_old_accuracy_alias(tmp_path):
    x, y = plus_or_cross(32)
    model = compiled(small_cnn())
    history = model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y), callbacks=[
        ModelCheckpoint(str(tmp_path / 'w-{epoch:02d}-{val_acc:.2f}.npz'),
                        save_weights_only=True)])
    assert [p.name for p in tmp_path.iterdir()] == \
        [f"w-01-{history.history['val_accuracy'][0]:.2f}.npz"]


# 10. optimizer slots belong to their parameter --------------------------------------

def same_shape_mlp():
    """Three layers whose weights all have the same shapes, so that a slot given to
    the wrong parameter would fit it without any error."""
    return Sequential([Dense(4, activation='tanh', input_shape=(4,)),
                       Dense(4, activation='tanh'), Dense(4, activation='softmax')])


def test_a_layer_unfrozen_after_training_starts_with_fresh_adam_moments():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 4)), rng.integers(0, 4, 16)
    model = same_shape_mlp()
    model.compile(Adam(learning_rate=0.01, epsilon=1e-12), 'sparse_categorical_crossentropy')
    model.layers[0].trainable = False
    model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    model.layers[0].trainable = True
    before = model.layers[0].get_weights()[0]
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    step = model.layers[0].get_weights()[0] - before
    # With zero moments Adam's first step for a parameter is, per element,
    # lr * sqrt(1 - b2^t) / (1 - b1^t) * (1 - b1) / sqrt(1 - b2) * sign(g), t = 4.
    t = 4
    size = 0.01 * math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t) * 0.1 / math.sqrt(0.001)
    np.testing.assert_allclose(np.abs(step), size, rtol=1e-3)


def test_moments_survive_freezing_and_save_and_load(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 4)), rng.integers(0, 4, 16)
    model = same_shape_mlp()
    model.compile(Adam(learning_rate=0.01), 'sparse_categorical_crossentropy')
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    model.layers[0].trainable = False
    model.save(tmp_path / 'frozen.minicnn')
    twin = load_model(tmp_path / 'frozen.minicnn')
    twin.layers[0].trainable = False
    for m in (model, twin):
        m.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
        m.layers[0].trainable = True
        m.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)


# 11. softmax cross-entropy: the exact gradient of what it computes ----------------------

@pytest.mark.parametrize('rows', [
    np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]),        # multi-hot and all zero
    np.array([[0.5, 0.2, 0.1], [2.0, 0.0, 1.0]]),        # sums other than 1
])
def test_softmax_cross_entropy_gradient_for_rows_not_summing_to_one(rows):
    z = np.random.default_rng(2).standard_normal((2, 3))
    assert gradcheck(lambda z: F.softmax_cross_entropy(z, rows), z)
    w = np.array([0.3, 2.0])
    assert gradcheck(lambda z: F.softmax_cross_entropy(z, rows, sample_weight=w), z)


# 12. Ctrl-C keeps the epoch-end checkpoint; resuming is the uninterrupted run -------------

def press_ctrl_c_at(epoch, batch):
    """A callback that presses Ctrl-C (sends SIGINT to this process) mid-epoch."""
    def at_batch(b, logs):
        if callback.model.epochs_done == epoch and b == batch:
            signal.raise_signal(signal.SIGINT)
    callback = LambdaCallback(on_batch_end=at_batch)
    return callback


def test_resume_after_ctrl_c_is_bit_identical_to_an_uninterrupted_run(
        tiny_data, tmp_path, monkeypatch):
    monkeypatch.setenv('MINICNN_DATA', str(tiny_data))
    monkeypatch.setenv('MINICNN_HOME', str(tmp_path / 'cache'))
    monkeypatch.setenv('MPLBACKEND', 'Agg')
    utils.set_seed(5)
    experiment.train('mlp', tmp_path / 'straight', epochs=3, batch_size=8, verbose=0)

    recipe = experiment.zoo.get('mlp')
    interrupted = experiment.zoo.Recipe(**{**vars(recipe), 'callbacks':
                                           lambda: [press_ctrl_c_at(epoch=1, batch=2)]})
    monkeypatch.setitem(experiment.zoo.RECIPES, 'mlp', interrupted)
    utils.set_seed(5)
    _, metrics = experiment.train('mlp', tmp_path / 'stopped', epochs=3, batch_size=8, verbose=0)
    assert metrics is None
    assert load_model(tmp_path / 'stopped' / 'checkpoint.minicnn').epochs_done == 1
    monkeypatch.setitem(experiment.zoo.RECIPES, 'mlp', recipe)
    experiment.resume(tmp_path / 'stopped', verbose=0)

    straight = load_model(tmp_path / 'straight' / 'checkpoint.minicnn')
    resumed = load_model(tmp_path / 'stopped' / 'checkpoint.minicnn')
    assert resumed.epochs_done == straight.epochs_done == 3
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
    done = [json.loads((tmp_path / run / 'metrics.json').read_text())['history']['loss']
            for run in ('straight', 'stopped')]
    assert done[0] == done[1]


def test_ctrl_c_in_the_first_epoch_leaves_a_checkpoint_to_resume_from(
        tiny_data, tmp_path, monkeypatch):
    monkeypatch.setenv('MINICNN_DATA', str(tiny_data))
    monkeypatch.setenv('MINICNN_HOME', str(tmp_path / 'cache'))
    recipe = experiment.zoo.get('mlp')
    monkeypatch.setitem(experiment.zoo.RECIPES, 'mlp', experiment.zoo.Recipe(
        **{**vars(recipe), 'callbacks': lambda: [press_ctrl_c_at(epoch=0, batch=1)]}))
    _, metrics = experiment.train('mlp', tmp_path / 'run', epochs=2, batch_size=8, verbose=0)
    assert metrics is None
    assert load_model(tmp_path / 'run' / 'checkpoint.minicnn').epochs_done == 0


# 13. set_seed seeds the GPU generator, even when CuPy comes later ------------------------

class NumPyPosingAsCuPy:
    """Enough of a cupy module for the generator code: its random is NumPy's."""
    random = np.random


def test_set_seed_before_cupy_is_loaded_still_seeds_the_gpu_generator(monkeypatch):
    monkeypatch.setitem(devices._state, 'rng', {})
    utils.set_seed(9)
    monkeypatch.setitem(devices._state, 'cupy', NumPyPosingAsCuPy)  # "import cupy" now
    np.testing.assert_array_equal(devices.rng('gpu').random(3),
                                  np.random.default_rng(9).random(3))


def test_a_checkpoint_fixes_the_gpu_generator_of_the_next_epochs(monkeypatch, tmp_path):
    monkeypatch.setitem(devices._state, 'rng', {})
    monkeypatch.setitem(devices._state, 'cupy', NumPyPosingAsCuPy)
    x, y = plus_or_cross(16)
    utils.set_seed(2)
    model = compiled(small_cnn())
    devices.rng('gpu')  # in use, as it is on the GPU
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / 'one.minicnn')
    model.fit(x, y, epochs=2, initial_epoch=1, verbose=0)
    straight = devices.rng('gpu').random(4)
    resumed = load_model(tmp_path / 'one.minicnn')
    resumed.fit(x, y, epochs=2, initial_epoch=1, verbose=0)
    np.testing.assert_array_equal(devices.rng('gpu').random(4), straight)


def test_an_augmenting_iterator_made_before_set_seed_follows_it():
    from minicnn.preprocessing.image import ImageDataGenerator
    x = np.random.default_rng(0).random((8, 6, 6, 1)).astype(np.float32)
    flow = ImageDataGenerator(width_shift_range=2, horizontal_flip=True).flow(x, batch_size=8)
    utils.set_seed(1)
    first = next(flow)
    flow = ImageDataGenerator(width_shift_range=2, horizontal_flip=True).flow(x, batch_size=8)
    utils.set_seed(1)
    np.testing.assert_array_equal(next(flow), first)


# 14. no zip file under an HDF5 name --------------------------------------------------------

@pytest.mark.parametrize('call', ['save_weights', 'load_weights'])
def test_weights_alone_under_a_keras_3_file_name_are_refused(tmp_path, call):
    model = compiled(small_cnn())
    with pytest.raises(ValueError, match=r'Keras 3 \.keras name, a file of a whole model: '
                                         r'model\.save and minicnn\.models\.load_model'):
        getattr(model, call)(tmp_path / 'model.keras')
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize('call', ['save', 'save_weights'])
@pytest.mark.parametrize('name', ['model.h5', 'model.hdf5'])
def test_an_hdf5_file_name_gets_a_real_hdf5_file(tmp_path, call, name):
    h5py = pytest.importorskip('h5py')
    model = compiled(small_cnn())
    getattr(model, call)(tmp_path / name)
    assert h5py.is_hdf5(tmp_path / name)
    assert [p.name for p in tmp_path.iterdir()] == [name]


# 15. CuPy arrays are taken as they are -------------------------------------------------------

@pytest.mark.gpu
def test_fit_evaluate_predict_take_cupy_arrays():
    try:
        devices.set_device('gpu')
    except RuntimeError as err:
        pytest.skip(str(err))
    try:
        cp = devices.cupy()
        x, y = plus_or_cross(32)
        xg, yg = cp.asarray(x), cp.asarray(y)
        model = compiled(small_cnn())
        model.fit(xg, yg, epochs=1, verbose=0, sample_weight=cp.ones(32))
        assert isinstance(model.predict(xg), np.ndarray)
        loss, accuracy = model.evaluate(xg, yg, verbose=0)
        np.testing.assert_allclose(loss, model.evaluate(x, y, verbose=0)[0], rtol=1e-5)
    finally:
        devices.set_device('cpu')


def test_no_warning_escapes_an_ordinary_fit():
    x, y = plus_or_cross(16)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        compiled(small_cnn()).fit(x, y, epochs=2, verbose=0, validation_split=0.25)
