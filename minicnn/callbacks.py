"""Callbacks: code that ``fit`` calls at the start and end of training, of each
epoch and of each batch, with the current ``logs`` dict (Keras semantics)."""
import math
import warnings

import numpy as np


class Callback:
    """Override any hook; ``self.model`` is the model being trained."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass


class CallbackList:
    """Calls one hook on every callback in order."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for c in self.callbacks:
            c.set_model(model)
            c.set_params(params)

    def __getattr__(self, hook):
        def call_all(*args, **kwargs):
            for c in self.callbacks:
                getattr(c, hook)(*args, **kwargs)
        return call_all


class MetricNames(dict):
    """The history dict; also answers to the old Keras names 'acc' and 'val_acc'."""
    ALIASES = {'acc': 'accuracy', 'val_acc': 'val_accuracy',
               'accuracy': 'acc', 'val_accuracy': 'val_acc'}

    def __missing__(self, key):
        if key in self.ALIASES and self.ALIASES[key] in self:
            return self[self.ALIASES[key]]
        raise KeyError(key)

    def __contains__(self, key):
        return dict.__contains__(self, key) or dict.__contains__(self, self.ALIASES.get(key))


class History(Callback):
    """Records each epoch's logs: ``history['loss'][epoch]``; ``fit`` returns it."""

    def __init__(self):
        super().__init__()
        self.epoch = []
        self.history = MetricNames()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


def _monitored(logs, monitor):
    logs = MetricNames(logs or {})
    if monitor not in logs:
        warnings.warn(f'monitor {monitor!r} is not in the logs (available: {sorted(logs)})')
        return None
    return logs[monitor]


def improvement_sign(monitor, mode):
    """+1 when a larger value of ``monitor`` is better, -1 when smaller is."""
    if mode not in ('auto', 'min', 'max'):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == 'auto':
        return 1 if 'acc' in monitor else -1
    return 1 if mode == 'max' else -1


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs;
    optionally put back the weights of the best epoch."""

    def __init__(self, monitor='val_loss', min_delta=0, patience=0, verbose=0, mode='auto',
                 baseline=None, restore_best_weights=False):
        super().__init__()
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.sign = improvement_sign(monitor, mode)
        self.min_delta = abs(min_delta)
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_weights = 0, 0, None
        self.best = self.baseline if self.baseline is not None else -self.sign * math.inf

    def on_epoch_end(self, epoch, logs=None):
        value = _monitored(logs, self.monitor)
        if value is None:
            return
        if self.sign * (value - self.best) > self.min_delta:
            self.best, self.wait = value, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                self.model.set_weights(self.best_weights)
            if self.verbose:
                print(f'Epoch {epoch + 1}: early stopping')


class ModelCheckpoint(Callback):
    """Save the model after each epoch to ``filepath``, which may hold placeholders
    such as ``'ckpt-{epoch:02d}-{val_loss:.2f}.minicnn'`` (epoch counts from 1).

    save_best_only: only when ``monitor`` improved on the best so far.
    save_weights_only: ``save_weights`` (.npz of arrays) instead of the whole model.
    """

    def __init__(self, filepath, monitor='val_loss', verbose=0, save_best_only=False,
                 save_weights_only=False, mode='auto'):
        super().__init__()
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.sign = improvement_sign(monitor, mode)
        self.best = -self.sign * math.inf

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            value = _monitored(logs, self.monitor)
            if value is None or not self.sign * (value - self.best) > 0:
                return
            self.best = value
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        if self.verbose:
            print(f'Epoch {epoch + 1}: saved the model to {path}')


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get('loss')
        if loss is not None and not np.isfinite(loss):
            print(f'Batch {batch}: invalid loss {loss}, terminating training')
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda e, logs: ...)``."""

    HOOKS = ('on_train_begin', 'on_train_end', 'on_epoch_begin', 'on_epoch_end',
             'on_batch_begin', 'on_batch_end')

    def __init__(self, **hooks):
        super().__init__()
        unknown = set(hooks) - set(self.HOOKS)
        if unknown:
            raise TypeError(f'LambdaCallback: unknown hooks {sorted(unknown)}; valid: {self.HOOKS}')
        for name, fn in hooks.items():
            setattr(self, name, fn)
