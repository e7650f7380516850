import numpy as np
import pytest

from minicnn.callbacks import Callback, EarlyStopping, History, LambdaCallback, TerminateOnNaN


class FakeModel:
    def __init__(self):
        self.stop_training = False
        self.weights = [np.zeros(2)]

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
