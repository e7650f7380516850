"""Callbacks: code that ``fit`` calls at the start and end of training, of each
epoch and of each batch, with the current ``logs`` dict (Keras semantics)."""
import math
import time
import warnings

import numpy as np

from minicnn.arguments import keywords_checked, reject_unknown


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
        # As in Keras every hook gets its logs (an empty dict when there are
        # none yet), so LambdaCallback(on_epoch_begin=lambda epoch, logs: ...) works.
        arity = 1 if hook in ('on_train_begin', 'on_train_end') else 2

        def call_all(*args):
            args = args + ({},) * (arity - len(args))
            for c in self.callbacks:
                getattr(c, hook)(*args)
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
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for
    ``patience`` epochs in a row (Keras's rule: stop once ``wait >= patience``).

    baseline: an epoch counts as progress only if it also beats this value.
    restore_best_weights: when training ends, put back the weights of the
    best epoch (copies taken at that epoch).
    start_from_epoch: epochs to wait before watching at all (a warm-up).
    """

    @keywords_checked
    def __init__(self, monitor='val_loss', min_delta=0, patience=0, verbose=0, mode='auto',
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.sign = improvement_sign(monitor, mode)
        self.min_delta = abs(min_delta)
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch, self.best_weights = 0, 0, 0, None
        self.best = -self.sign * math.inf

    def improves(self, value, reference):
        return self.sign * (value - reference) > self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        value = _monitored(logs, self.monitor)
        if value is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # so that some epoch is restored even if none ever improves
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self.improves(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self.improves(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.verbose:
                print(f'Epoch {epoch + 1}: early stopping')

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f'Restoring the weights of the best epoch, {self.best_epoch + 1}')
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model after each epoch to ``filepath``, which may hold placeholders
    such as ``'ckpt-{epoch:02d}-{val_loss:.2f}.minicnn'`` (epoch counts from 1).

    save_best_only: only when ``monitor`` improved on the best so far.
    save_weights_only: ``save_weights`` (.npz of arrays) instead of the whole model.
    """

    @keywords_checked
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
        # MetricNames: {val_acc} in a file name finds val_accuracy, as monitor does
        path = self.filepath.format_map(MetricNames(logs, epoch=epoch + 1))
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        if self.verbose:
            print(f'Epoch {epoch + 1}: saved the model to {path}')


class EpochTimer(Callback):
    """Seconds each epoch took, validation included: ``timer.seconds[epoch]``."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


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
        reject_unknown('LambdaCallback', set(hooks) - set(self.HOOKS), self.HOOKS)
        for name, fn in hooks.items():
            setattr(self, name, fn)
