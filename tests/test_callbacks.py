"""Callbacks: each against Keras's rule, and as a Keras program uses them around fit
(the numbers of Keras's own callback tests where it has them)."""
import csv
import math
import os

import numpy as np
import pytest

from minicnn import callbacks as callbacks_module
from minicnn import metrics, utils
from minicnn.callbacks import (BackupAndRestore, Callback, CSVLogger, EarlyStopping, History,
                               LambdaCallback, LearningRateScheduler, ModelCheckpoint,
                               ProgbarLogger, ReduceLROnPlateau, TerminateOnNaN)
from minicnn.layers import Dense
from minicnn.models import Sequential
from minicnn.optimizers import SGD, Adam
from minicnn.optimizers.schedules import PolynomialDecay


class FakeModel:
    def __init__(self):
        self.stop_training = False
        self.weights = [np.zeros(2)]
        self.compiled_metrics = []

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [w.copy() for w in weights]


def run_epochs(callback, values, monitor='val_loss', model=None):
    """Feed a sequence of monitored values; returns the epochs that ran."""
    model = model or FakeModel()
    callback.set_model(model)
    callback.on_train_begin()
    ran = []
    for epoch, value in enumerate(values):
        model.weights = [np.full(2, float(epoch))]
        callback.on_epoch_end(epoch, {monitor: value})
        ran.append(epoch)
        if model.stop_training:
            break
    callback.on_train_end()
    return ran, model


def test_early_stopping_stops_once_patience_epochs_did_not_improve():
    # Keras: epochs 2 and 3 do not improve on 0.9, so wait reaches patience=2 at epoch 3
    ran, _ = run_epochs(EarlyStopping(patience=2), [1.0, 0.9, 0.95, 0.91, 0.92, 0.5])
    assert ran == [0, 1, 2, 3]


def test_early_stopping_min_delta_and_max_mode():
    ran, _ = run_epochs(EarlyStopping(monitor='val_accuracy', min_delta=0.05, patience=0),
                        [0.5, 0.6, 0.63], monitor='val_accuracy')
    assert ran == [0, 1, 2]  # 0.63 is an improvement of less than 0.05


def test_early_stopping_restores_the_best_epoch():
    stopper = EarlyStopping(patience=1, restore_best_weights=True)
    _, model = run_epochs(stopper, [3.0, 1.0, 2.0, 2.5, 0.1])
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])  # epoch 1 was best


def test_early_stopping_without_restore_keeps_the_last_weights():
    _, model = run_epochs(EarlyStopping(patience=0), [1.0, 2.0])
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])


def test_early_stopping_bad_mode():
    with pytest.raises(ValueError, match="mode must be"):
        EarlyStopping(mode='up')


def test_history_records_logs_and_aliases():
    history = History()
    history.on_epoch_end(0, {'loss': 1.0, 'accuracy': 0.5, 'val_accuracy': 0.4})
    history.on_epoch_end(1, {'loss': 0.5, 'accuracy': 0.7, 'val_accuracy': 0.6})
    assert history.history['loss'] == [1.0, 0.5]
    assert history.history['acc'] == [0.5, 0.7] and history.history['val_acc'] == [0.4, 0.6]
    assert 'acc' in history.history and 'val_loss' not in history.history


def test_terminate_on_nan():
    model = FakeModel()
    callback = TerminateOnNaN()
    callback.set_model(model)
    callback.on_batch_end(0, {'loss': 1.0})
    assert not model.stop_training
    callback.on_batch_end(1, {'loss': float('nan')})
    assert model.stop_training


def test_lambda_callback_hooks_and_unknown_names():
    calls = []
    callback = LambdaCallback(on_epoch_begin=lambda epoch, logs=None: calls.append(epoch))
    callback.on_epoch_begin(3)
    callback.on_epoch_end(3)  # not given: the default does nothing
    assert calls == [3]
    with pytest.raises(TypeError, match='on_step_end'):
        LambdaCallback(on_step_end=print)
    assert isinstance(callback, Callback)


# -- the callbacks a Keras program uses around fit --------------------------------------


def keras_test_data(seed=0):
    """Like keras's test_utils.get_test_data: 10 training and 10 test samples of 3
    features, two classes as one-hot rows."""
    rng = np.random.default_rng(seed)
    x, x_val = rng.standard_normal((10, 3)), rng.standard_normal((10, 3))
    y, y_val = np.eye(2)[rng.integers(0, 2, 10)], np.eye(2)[rng.integers(0, 2, 10)]
    return x.astype('f4'), y, x_val.astype('f4'), y_val


def plateau_model(optimizer=None):
    model = Sequential([Dense(5, input_shape=(3,)), Dense(2)])
    model.compile(optimizer=optimizer or Adam(0.1), loss='mse')
    return model


@pytest.mark.parametrize('settings, epochs, expected', [
    ({}, 2, 0.01),                                  # keras: test_reduces_lr_with_model_fit
    ({'min_lr': 0.005, 'min_delta': 10}, 4, 0.005),  # test_honors_min_lr
    ({'cooldown': 2}, 4, 0.001),                     # test_cooldown: epochs 1 and 3
])
def test_reduce_lr_on_plateau_as_keras_tests_it(settings, epochs, expected):
    x, y, x_val, y_val = keras_test_data()
    model = plateau_model()
    reduce_lr = ReduceLROnPlateau(**{'patience': 1, 'factor': 0.1, 'monitor': 'val_loss',
                                     'min_delta': 100, **settings})
    history = model.fit(x, y, validation_data=(x_val, y_val), callbacks=[reduce_lr],
                        epochs=epochs, verbose=0)
    assert model.optimizer.learning_rate == pytest.approx(expected)
    # each epoch logs the rate it trained with, before any reduction at its end (Keras)
    rates = history.history['learning_rate']
    assert len(rates) == epochs and rates[0] == 0.1 and rates[-1] >= expected


def test_reduce_lr_on_plateau_prints_and_resets_and_refuses_a_schedule(capsys):
    x, y, x_val, y_val = keras_test_data()
    model = plateau_model()
    reduce_lr = ReduceLROnPlateau(patience=1, factor=0.1, min_delta=100, verbose=1)
    model.fit(x, y, validation_data=(x_val, y_val), callbacks=[reduce_lr], epochs=2, verbose=0)
    assert 'Epoch 2: ReduceLROnPlateau reducing learning rate to 0.01' in capsys.readouterr().out
    reduce_lr.best, reduce_lr.wait, reduce_lr.cooldown_counter = 0.5, 3, 2
    reduce_lr.on_train_begin()
    assert (reduce_lr.best, reduce_lr.wait, reduce_lr.cooldown_counter) == (None, 0, 0)
    scheduled = plateau_model(Adam(PolynomialDecay(initial_learning_rate=0.1, decay_steps=10)))
    with pytest.raises(TypeError, match='follows a schedule'):
        scheduled.fit(x, y, validation_data=(x_val, y_val), callbacks=[
            ReduceLROnPlateau(patience=1, factor=0.1, min_delta=100)], epochs=2, verbose=0)


def test_reduce_lr_on_plateau_arguments():
    with pytest.raises(ValueError, match=r'factor must be in \[0, 1\), got factor=1.0'):
        ReduceLROnPlateau(factor=1.0)
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max', got mode='up'"):
        ReduceLROnPlateau(mode='up')
    with pytest.raises(TypeError, match="did you mean 'cooldown'"):
        ReduceLROnPlateau(cooldwn=2)


def test_mode_auto_follows_the_direction_of_the_compiled_metric():
    model = plateau_model()
    model.compile(SGD(), 'mse', metrics=['auc', 'mae'])
    watched = [ReduceLROnPlateau(monitor=m) for m in ('val_auc', 'mae', 'val_loss', 'val_acc')]
    for callback in watched:
        callback.set_model(model)
    assert [c.sign for c in watched] == [1, -1, -1, 1]


def test_learning_rate_scheduler_keras_documented_example():
    def scheduler(epoch, lr):
        return lr if epoch < 10 else lr * math.exp(-0.1)
    model = Sequential([Dense(10)])
    model.compile(SGD(), loss='mse')
    assert round(model.optimizer.learning_rate, 5) == 0.01
    # Keras's example feeds np.arange(100), whose loss soon overflows; minicnn stops a run
    # whose loss is NaN (Keras goes on), so the inputs are scaled: the rates are the same.
    history = model.fit(np.arange(100).reshape(5, 20) / 100, np.zeros((5, 10)), epochs=15,
                        callbacks=[LearningRateScheduler(scheduler)], verbose=0)
    assert round(model.optimizer.learning_rate, 5) == 0.00607
    assert history.history['learning_rate'][9:11] == pytest.approx([0.01, 0.01 * math.exp(-0.1)])


def test_learning_rate_scheduler_of_the_epoch_alone_and_its_checks(capsys):
    model = plateau_model(SGD(0.5))
    x, y, _, _ = keras_test_data()
    model.fit(x, y, epochs=3, verbose=0,
              callbacks=[LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1), verbose=1)])
    assert model.optimizer.learning_rate == pytest.approx(0.1 / 3)
    printed = capsys.readouterr().out
    assert 'Epoch 3: LearningRateScheduler setting learning rate to 0.0333' in printed
    with pytest.raises(ValueError, match="the schedule must return a float, got 'fast'"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[LearningRateScheduler(lambda epoch, lr: 'fast')])


def read_csv(path, separator=','):
    with open(path, newline='') as f:
        return list(csv.reader(f, delimiter=separator))


def test_csv_logger_writes_keras_s_columns(tmp_path):
    x, y, x_val, y_val = keras_test_data()
    model = plateau_model()
    model.compile(SGD(0.01), 'mse', metrics=['mae'])
    path = tmp_path / 'log.csv'
    history = model.fit(x, y, epochs=2, verbose=0, validation_data=(x_val, y_val),
                        callbacks=[CSVLogger(path)])
    rows = read_csv(path)
    assert rows[0] == ['epoch', 'loss', 'mae', 'val_loss', 'val_mae']
    assert [r[0] for r in rows[1:]] == ['0', '1']
    assert float(rows[2][3]) == history.history['val_loss'][1]
    model.fit(x, y, epochs=1, verbose=0, callbacks=[CSVLogger(path, separator=';', append=True)])
    rows = read_csv(path, ';')
    assert len(rows) == 4 and rows[3][3:] == ['NA', 'NA']  # no header again; no validation now


def test_csv_logger_without_validation_adds_val_columns_as_keras(tmp_path):
    x, y, _, _ = keras_test_data()
    plateau_model().fit(x, y, epochs=1, verbose=0, callbacks=[CSVLogger(tmp_path / 'log.csv')])
    rows = read_csv(tmp_path / 'log.csv')
    assert rows[0] == ['epoch', 'loss', 'val_loss'] and rows[1][2] == 'NA'


class FailAt(Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError('Interrupting!')


def test_csv_logger_keeps_every_finished_epoch_when_training_fails(tmp_path):
    x, y, _, _ = keras_test_data()
    path = tmp_path / 'log.csv'
    logger = CSVLogger(path)
    with pytest.raises(RuntimeError, match='Interrupting'):
        plateau_model().fit(x, y, epochs=5, verbose=0, callbacks=[logger, FailAt(2)])
    assert not logger.file.closed  # as after a crash: nothing closed the file
    assert [r[0] for r in read_csv(path)] == ['epoch', '0', '1']


def resumable_model():
    utils.set_seed(3)
    model = Sequential([Dense(4, activation='tanh', input_shape=(3,)), Dense(2)])
    model.compile(Adam(0.05), 'mse')
    return model


def test_backup_and_restore_resumes_as_keras_and_as_if_never_stopped(tmp_path):
    x, y, _, _ = keras_test_data()
    straight = resumable_model()
    straight.fit(x, y, epochs=10, batch_size=3, verbose=0)
    expected = straight.get_weights()

    backup = BackupAndRestore(backup_dir=tmp_path / 'backup')
    model = resumable_model()
    with pytest.raises(RuntimeError, match='Interrupting'):
        model.fit(x, y, epochs=10, batch_size=3, verbose=0, callbacks=[backup, FailAt(4)])
    assert os.listdir(tmp_path / 'backup') == ['latest.minicnn']
    model = resumable_model()  # a new process would rebuild the model: fresh weights
    history = model.fit(x, y, epochs=10, batch_size=3, verbose=0, callbacks=[backup])
    # Only 6 more epochs are run, since the first training stopped at zero-indexed epoch 4.
    assert len(history.history['loss']) == 6 and history.epoch == [4, 5, 6, 7, 8, 9]
    for a, b in zip(model.get_weights(), expected):
        np.testing.assert_array_equal(a, b)
    assert not (tmp_path / 'backup').exists()  # deleted once training ended


def test_backup_and_restore_keeps_the_backup_after_ctrl_c_or_when_asked(tmp_path):
    x, y, _, _ = keras_test_data()
    model = resumable_model()

    def ctrl_c(epoch, logs):
        if epoch == 1:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=5, verbose=0, callbacks=[BackupAndRestore(tmp_path / 'a'),
                                                        LambdaCallback(on_epoch_end=ctrl_c)])
    assert (tmp_path / 'a' / 'latest.minicnn').exists()
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[BackupAndRestore(tmp_path / 'b', delete_checkpoint=False)])
    assert (tmp_path / 'b' / 'latest.minicnn').exists()
    with pytest.raises(ValueError, match="backup_dir must name a folder, got backup_dir=''"):
        BackupAndRestore('')
    with pytest.raises(TypeError, match="'save_freq', a Keras argument that minicnn does not"):
        BackupAndRestore(tmp_path, save_freq=10)


def test_backup_and_restore_brings_back_a_reduced_learning_rate(tmp_path):
    x, y, x_val, y_val = keras_test_data()
    model = plateau_model(SGD(0.1))
    reduce_lr = ReduceLROnPlateau(patience=1, factor=0.5, min_delta=100)
    with pytest.raises(RuntimeError):
        model.fit(x, y, validation_data=(x_val, y_val), epochs=5, verbose=0,
                  callbacks=[reduce_lr, BackupAndRestore(tmp_path), FailAt(3)])
    assert model.optimizer.learning_rate == pytest.approx(0.025)
    fresh = plateau_model(SGD(0.1))
    fresh.fit(x, y, epochs=3, verbose=0, callbacks=[BackupAndRestore(tmp_path)])
    assert fresh.optimizer.learning_rate == pytest.approx(0.025)


def test_progbar_logger_is_accepted_and_the_bar_follows_verbose(capsys):
    x, y, _, _ = keras_test_data()
    plateau_model().fit(x, y, epochs=1, verbose=0, callbacks=[ProgbarLogger()])
    assert capsys.readouterr() == ('', '')
    plateau_model().fit(x, y, epochs=1, verbose=2, callbacks=[ProgbarLogger()])
    assert capsys.readouterr().out.count('Epoch 1/1') == 1


def test_a_name_keras_lacks_too_is_an_attribute_error():
    with pytest.raises(AttributeError):
        callbacks_module.NoSuchCallback


def test_history_records_what_later_callbacks_add_to_the_logs():
    history = History()
    logs = {'loss': 1.0}
    history.on_epoch_end(0, logs)
    logs['learning_rate'] = 0.1  # a callback after History, in the same epoch
    assert history.history == {'loss': [1.0], 'learning_rate': [0.1]}


def test_model_checkpoint_best_only_follows_the_metric_direction(tmp_path):
    x, y, x_val, y_val = keras_test_data()
    model = plateau_model()
    model.compile(SGD(0.0), 'mse', metrics=[metrics.AUC(name='auc')])
    checkpoint = ModelCheckpoint(tmp_path / 'best.npz', monitor='val_auc', save_best_only=True,
                                 save_weights_only=True)
    model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0, callbacks=[checkpoint])
    assert checkpoint.sign == 1 and checkpoint.best is not None
