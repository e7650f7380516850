"""Callbacks: code that ``fit`` calls at the start and end of training, of each
epoch and of each batch, with the current ``logs`` dict (Keras semantics).

    History              each epoch's logs (fit returns it)
    EarlyStopping        stop when a monitored value stops improving
    ModelCheckpoint      save the model (or its weights) after each epoch
    ReduceLROnPlateau    lower the learning rate when a monitored value stops improving
    LearningRateScheduler  set the learning rate at each epoch's start: schedule(epoch, lr)
    CSVLogger            one CSV row of logs per epoch
    BackupAndRestore     back up each epoch; a new fit after a crash resumes from the backup
    TensorBoard          TensorBoard's event files: scalars, histograms, the model
    EpochTimer, TerminateOnNaN, LambdaCallback, ProgbarLogger

The callbacks that watch a value (``monitor``) share MonitorCallback's
notion of improvement.
"""
import csv
import inspect
import numbers
import os
import time
import warnings

import numpy as np

from minicnn import devices, missing, saving
from minicnn.interchange import tensorboard as events
from minicnn.arguments import check_positive_int, keywords_checked, reject_unknown


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
    """Calls one hook on every callback in order (Keras's signature: the
    callbacks, the model, and fit's settings as keywords, ``epochs=``, ...)."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        for name, value in (('add_history', add_history), ('add_progbar', add_progbar)):
            if value:
                raise TypeError(f'CallbackList: {name}=True is a Keras argument that minicnn '
                                f'does not implement; put the callback in the list yourself')
        self.callbacks = list(callbacks or [])
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
    """Records each epoch's logs: ``history['loss'][epoch]``; ``fit`` returns it.

    It keeps each epoch's logs dict itself, the one every callback is given,
    and reads the values when ``history`` is asked for: what later callbacks
    add to the logs ('learning_rate' from ReduceLROnPlateau) is recorded too,
    as in Keras, where History is the last callback. (fit calls it first, so
    that the callbacks after it, a checkpoint, see this epoch in the history.)
    """

    def __init__(self):
        super().__init__()
        self.epoch = []
        self.epoch_logs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        self.epoch_logs.append({} if logs is None else logs)

    @property
    def history(self):
        """{key: [its value at each epoch that logged it]}."""
        history = MetricNames()
        for logs in self.epoch_logs:
            for key, value in logs.items():
                history.setdefault(key, []).append(value)
        return history


def _monitored(logs, monitor):
    logs = MetricNames(logs or {})
    if monitor not in logs:
        warnings.warn(f'monitor {monitor!r} is not in the logs (available: {sorted(logs)})')
        return None
    return logs[monitor]


MODES = ('auto', 'min', 'max')


def improvement_sign(monitor, mode, model=None):
    """+1 when a larger value of ``monitor`` is better, -1 when smaller is.

    mode 'auto' reads it from the name, as Keras does: a loss ('loss',
    'val_loss') is better smaller; a metric the model (if known yet) was
    compiled with follows its ``direction`` (accuracy, precision, AUC up; MSE
    down); any other name is better larger if it holds 'acc' (tf.keras's
    rule), else smaller.
    """
    if mode != 'auto':
        return 1 if mode == 'max' else -1
    name = monitor[len('val_'):] if monitor.startswith('val_') else monitor
    metrics = () if model is None else model.compiled_metrics
    directions = {m.name: m.direction for m in metrics}
    if name != 'loss' and name in directions:
        return 1 if directions[name] == 'up' else -1
    return 1 if 'acc' in name else -1


class MonitorCallback(Callback):
    """A callback watching one value of the epoch logs, ``monitor``.

    ``improves(value, reference)``: value beats the reference (None: there is
    none yet) by more than min_delta, in the direction that ``mode`` sets
    ('min', 'max', or 'auto': see ``improvement_sign``, resolved once the
    callback knows its model).
    """

    def __init__(self, monitor, mode, min_delta=0):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"{type(self).__name__}: mode must be 'auto', 'min' or 'max', "
                             f"got mode={mode!r}")
        self.monitor, self.mode, self.min_delta = monitor, mode, abs(min_delta)
        self.sign = improvement_sign(monitor, mode)

    def set_model(self, model):
        super().set_model(model)
        self.sign = improvement_sign(self.monitor, self.mode, model)

    def improves(self, value, reference):
        return reference is None or self.sign * (value - reference) > self.min_delta


class EarlyStopping(MonitorCallback):
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
        super().__init__(monitor, mode, min_delta)
        self.patience, self.verbose = patience, verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch, self.best_weights = 0, 0, 0, None
        self.best = None

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


class ModelCheckpoint(MonitorCallback):
    """Save the model after each epoch to ``filepath``, which may hold placeholders
    such as ``'ckpt-{epoch:02d}-{val_loss:.2f}.minicnn'`` (epoch counts from 1).

    save_best_only: only when ``monitor`` improved on the best so far.
    save_weights_only: ``save_weights`` (.npz of arrays) instead of the whole model.
    """

    @keywords_checked
    def __init__(self, filepath, monitor='val_loss', verbose=0, save_best_only=False,
                 save_weights_only=False, mode='auto'):
        super().__init__(monitor, mode)
        self.filepath, self.verbose = str(filepath), verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.best = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            value = _monitored(logs, self.monitor)
            if value is None or not self.improves(value, self.best):
                return
            self.best = value
        # MetricNames: {val_acc} in a file name finds val_accuracy, as monitor does
        path = self.file_name(logs, epoch)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        if self.verbose:
            print(f'Epoch {epoch + 1}: saved the model to {path}')

    def file_name(self, logs, epoch):
        """filepath with its placeholders filled from the logs; a KeyError (as Keras)
        names a placeholder the logs lack."""
        try:
            return self.filepath.format_map(MetricNames(logs, epoch=epoch + 1))
        except KeyError as err:
            key = err.args[0]
            hint = '; the val_ values need validation data in fit' \
                if str(key).startswith('val_') else ''
            raise KeyError(f'ModelCheckpoint: filepath {self.filepath!r} asks for {key!r}, '
                           f'which the logs of epoch {epoch + 1} lack (they hold '
                           f'{sorted(logs)}){hint}') from None


def log_learning_rate(model, logs):
    """Put the optimizer's learning rate into the epoch logs (and so into the history)."""
    if logs is not None:
        logs['learning_rate'] = float(model.optimizer.learning_rate)


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved
    by more than ``min_delta`` for ``patience`` epochs, as Keras does::

        no improvement for patience epochs:   lr = max(lr * factor, min_lr)

    (only while lr > min_lr); then ``cooldown`` epochs pass before epochs
    without improvement count again. Each epoch's logs get 'learning_rate'.
    """

    @keywords_checked
    def __init__(self, monitor='val_loss', factor=0.1, patience=10, verbose=0, mode='auto',
                 min_delta=1e-4, cooldown=0, min_lr=0.0):
        super().__init__(monitor, mode, min_delta)
        if not 0 <= factor < 1:
            raise ValueError(f'ReduceLROnPlateau: factor must be in [0, 1), got factor={factor!r}')
        self.factor, self.patience, self.verbose = factor, patience, verbose
        self.cooldown, self.min_lr = cooldown, min_lr

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        log_learning_rate(self.model, logs)
        value = _monitored(logs, self.monitor)
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.improves(value, self.best):
            self.best, self.wait = value, 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience and self.reduce(epoch):
                self.cooldown_counter, self.wait = self.cooldown, 0

    def reduce(self, epoch):
        """Lower the rate, if it is above min_lr (compared in float32, as Keras does)."""
        optimizer = self.model.optimizer
        old = float(optimizer.learning_rate)
        if not old > np.float32(self.min_lr):
            return False
        optimizer.learning_rate = max(old * self.factor, self.min_lr)
        if self.verbose:
            print(f'\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to '
                  f'{optimizer.learning_rate}.')
        return True


class LearningRateScheduler(Callback):
    """At each epoch's start set the learning rate to ``schedule(epoch, lr)``
    (epoch from 0, lr the current rate; a schedule of one argument gets the
    epoch alone, Keras's old form). Each epoch's logs get 'learning_rate'."""

    @keywords_checked
    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f'LearningRateScheduler: schedule must be a function '
                            f'schedule(epoch, lr), got {schedule!r}')
        self.schedule, self.verbose = schedule, verbose
        self.takes_lr = takes_two_arguments(schedule)

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        lr = self.schedule(epoch, float(optimizer.learning_rate)) if self.takes_lr \
            else self.schedule(epoch)
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
            raise ValueError(f'LearningRateScheduler: the schedule must return a float, got '
                             f'{lr!r} for epoch {epoch}')
        optimizer.learning_rate = float(lr)
        if self.verbose:
            print(f'\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.')

    def on_epoch_end(self, epoch, logs=None):
        log_learning_rate(self.model, logs)


def takes_two_arguments(fn):
    try:
        inspect.signature(fn).bind(0, 0.0)
    except TypeError:
        return False
    return True


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file, as Keras does: the column
    'epoch' (from 0), then the log keys in sorted order (without validation
    the val_ columns are added anyway and read NA).

    Each row is flushed to the disk as soon as it is written, so a run that
    fails keeps every finished epoch. append=True continues an existing file
    (resuming a run), writing the header only if the file is empty.
    """

    @keywords_checked
    def __init__(self, filename, separator=',', append=False):
        super().__init__()
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self.file = self.writer = self.keys = None

    def on_train_begin(self, logs=None):
        self.close()
        has_header = self.append and os.path.exists(self.filename) and \
            os.path.getsize(self.filename) > 0
        self.write_header = not has_header
        self.file = open(self.filename, 'a' if self.append else 'w', newline='')
        self.writer = self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if not any(k.startswith('val_') for k in self.keys):
                self.keys += [f'val_{k}' for k in self.keys]
        if self.writer is None:
            self.writer = csv.DictWriter(self.file, fieldnames=['epoch', *self.keys],
                                         delimiter=self.separator)
            if self.write_header:
                self.writer.writeheader()
        self.writer.writerow({'epoch': epoch, **{k: csv_value(logs.get(k, 'NA'))
                                                 for k in self.keys}})
        self.file.flush()
        os.fsync(self.file.fileno())

    def on_train_end(self, logs=None):
        self.close()

    def close(self):
        if self.file is not None and not self.file.closed:
            self.file.close()


def csv_value(value):
    """A log value for a CSV cell; several values (one per threshold) as Keras writes them."""
    if isinstance(value, str) or np.ndim(value) == 0:
        return value
    return f'"[{", ".join(map(str, np.ravel(value)))}]"'


class BackupAndRestore(Callback):
    """Back up the training state at each epoch's end; resume from it when fit
    starts again, as Keras does.

    Each epoch's end saves the model with ``model.save`` (weights, optimizer
    state, epochs done, random generator) to ``backup_dir/latest.minicnn``,
    replacing the previous backup atomically. If training stops before its
    end (an exception, a killed process, Ctrl-C), the
    next ``fit`` with this callback restores the weights, the optimizer
    (slots, step count, learning rate) and the random generator from the
    backup and continues with the epoch after the last one backed up: the
    run goes on as if it had not stopped. When training ends, the backup is
    deleted (delete_checkpoint=False keeps it), and backup_dir if that
    leaves it empty. The model must be the one that was backed up.
    """
    FILE_NAME = 'latest.minicnn'

    @keywords_checked
    def __init__(self, backup_dir, delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError(f'BackupAndRestore: backup_dir must name a folder, '
                             f'got backup_dir={backup_dir!r}')
        self.backup_dir = os.fspath(backup_dir)
        self.path = os.path.join(self.backup_dir, self.FILE_NAME)
        self.delete_checkpoint = delete_checkpoint
        self.restored_epoch = None  # where fit resumes (see training.fit), or None

    def on_train_begin(self, logs=None):
        self.restored_epoch = None
        if os.path.exists(self.path):
            self.restore()

    def restore(self):
        self.restored_epoch = saving.restore_training_state(self.model, self.path)

    def on_epoch_end(self, epoch, logs=None):
        self.model.save(self.path)

    def on_train_end(self, logs=None):
        # Reached only when fit ends: an exception (Ctrl-C's KeyboardInterrupt
        # too) skips it, and the backup stays to resume from.
        if not self.delete_checkpoint or not os.path.exists(self.path):
            return
        os.remove(self.path)
        if not os.listdir(self.backup_dir):
            os.rmdir(self.backup_dir)


class TensorBoard(Callback):
    """Write what training does as TensorBoard event files (Keras 2's callback);
    ``tensorboard --logdir log_dir`` shows them.

    Folders, one event file each, made when first written to:
        log_dir/train        'epoch_<name>' for each training value of the
                             epoch logs, step = epoch (from 0); with
                             ``update_freq`` 'batch' or N, 'batch_<name>' of
                             the running values every N batches, step = the
                             batch count of this fit (from 1); with
                             ``histogram_freq`` N, every N epochs (epoch % N
                             == 0) a histogram of each weight,
                             '<layer>/<weight>_0/histogram' (and its pictures
                             with ``write_images``); with ``write_graph``
                             the model's Keras JSON under the tag 'keras',
                             which the Graphs tab draws.
        log_dir/validation   'epoch_<name>' for each 'val_<name>' of the logs,
                             and 'evaluation_<name>_vs_iterations' at step =
                             the optimizer's step count (iterations).
    A learning rate that follows a schedule is logged as 'epoch_learning_rate';
    write_steps_per_second adds 'epoch_steps_per_second' (and per batch
    'batch_steps_per_second' when batches are logged).

    Keras's profiler (profile_batch) and embedding projector
    (embeddings_freq, embeddings_metadata) are TensorFlow's: anything but
    their off values is refused. Writing needs the package tensorboard
    (not TensorFlow).
    """

    @keywords_checked
    def __init__(self, log_dir='logs', histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq='epoch', profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = _count('histogram_freq', histogram_freq, smallest=0)
        self.update_freq = 1 if update_freq == 'batch' else update_freq
        if update_freq != 'epoch':
            _count('update_freq', self.update_freq, smallest=1, words="'batch', 'epoch' or ")
        for name, value, off, tool in (
                ('profile_batch', profile_batch, 0, 'profiler (minicnn.tools.profiler times the layers)'),
                ('embeddings_freq', embeddings_freq, 0, 'embedding projector'),
                ('embeddings_metadata', embeddings_metadata, None, 'embedding projector')):
            if value != off:
                raise ValueError(f"TensorBoard: {name}={value!r} asks for TensorFlow's {tool}, "
                                 f"which minicnn does not have; leave {name} at {off!r}")
        self.write_graph, self.write_images = write_graph, write_images
        self.write_steps_per_second = write_steps_per_second
        events.require_writer('TensorBoard')
        self.writers = {}
        if self.update_freq != 'epoch':
            # set on the object, so that fit computes batch logs only when they are written
            self.on_batch_begin, self.on_batch_end = self._batch_begin, self._log_batch

    def writer(self, folder):
        """The event file writer of log_dir/folder, made at its first use."""
        if folder not in self.writers:
            self.writers[folder] = events.EventWriter(os.path.join(self.log_dir, folder))
        return self.writers[folder]

    def on_train_begin(self, logs=None):
        self.close()
        self.first_iteration = self.model.optimizer.iterations
        if self.write_graph:
            from minicnn.interchange import keras_config  # here: it imports minicnn.models
            self.writer('train').add_summary(
                events.keras_model('keras', keras_config.layer_to_keras(self.model)), 0)

    def train_step(self):
        """Keras's step of the batch values: the batches this fit has trained, from 1."""
        return self.model.optimizer.iterations - self.first_iteration

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start, self.epoch_first_step = time.perf_counter(), self.train_step()

    def _batch_begin(self, batch, logs=None):
        self.batch_start = time.perf_counter()

    def _log_batch(self, batch, logs=None):
        step = self.train_step()
        if step % self.update_freq:
            return
        values = dict(logs or {})
        if self.write_steps_per_second:
            values['steps_per_second'] = 1 / max(time.perf_counter() - self.batch_start, 1e-9)
        writer = self.writer('train')
        for name, value in values.items():
            writer.add_summary(events.scalar(f'batch_{name}', value), step)

    def on_epoch_end(self, epoch, logs=None):
        train = {k: v for k, v in (logs or {}).items() if not k.startswith('val_')}
        validation = {k[len('val_'):]: v for k, v in (logs or {}).items() if k.startswith('val_')}
        if self.model.optimizer is not None and self.model.optimizer.schedule is not None:
            train['learning_rate'] = self.model.optimizer.learning_rate
        if self.write_steps_per_second:
            train['steps_per_second'] = (self.train_step() - self.epoch_first_step) / \
                max(time.perf_counter() - self.epoch_start, 1e-9)
        for name, value in train.items():
            self.writer('train').add_summary(events.scalar(f'epoch_{name}', value), epoch)
        for name, value in validation.items():
            writer = self.writer('validation')
            writer.add_summary(events.scalar(f'epoch_{name}', value), epoch)
            writer.add_summary(events.scalar(f'evaluation_{name}_vs_iterations', value),
                               self.model.optimizer.iterations)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self.log_weights(epoch)
        for writer in self.writers.values():
            writer.flush()  # so that TensorBoard, reading as it goes, sees the epoch

    def log_weights(self, epoch):
        writer = self.writer('train')
        for layer in self.model.layers:
            for weight in layer.weights:
                # TensorFlow names a variable's value '<name>:0', and tags may not hold ':'
                tag, values = f'{weight.name}_0', devices.to_numpy(weight.data)
                writer.add_summary(events.histogram(f'{tag}/histogram', values), epoch)
                if self.write_images:
                    for summary in events.images(f'{tag}/image',
                                                 events.weight_pictures(values)):
                        writer.add_summary(summary, epoch)

    def on_train_end(self, logs=None):
        self.close()

    def close(self):
        for writer in self.writers.values():
            writer.close()
        self.writers = {}


def _count(name, value, smallest, words=''):
    """``value`` if it is a whole number >= smallest, else a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < smallest:
        raise ValueError(f'TensorBoard: {name} must be {words}a whole number >= {smallest}, '
                         f'got {name}={value!r}')
    return int(value)


class ProgbarLogger(Callback):
    """Accepted for Keras programs that list it; it adds nothing, because fit draws
    its progress itself, as Keras's ProgbarLogger would for the same ``verbose``:
    verbose=1 a bar per epoch (loss, metrics, images per second), verbose=2 one
    line per epoch, verbose=0 nothing."""

    @keywords_checked
    def __init__(self):
        super().__init__()


class EpochTimer(Callback):
    """Seconds each epoch took, validation included: ``timer.seconds[epoch]``."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


class Lookahead(Callback):
    """Lookahead (Zhang, Lucas, Hinton & Ba, 2019), in the form airbench uses:
    a slow copy of the weights that the trained ("fast") weights are pulled
    back to every ``every`` steps,

        slow <- decay * slow + (1 - decay) * fast        fast <- slow

    and at the end of training the model keeps the slow weights. Every weight
    takes part, BatchNormalization's moving statistics too. ``decay`` is a
    number or a function of the fraction of training done, p in [0, 1]; the
    default, 0.95^5 p^3, is airbench's: no pull early on, when the weights
    must travel, and a growing one towards the end, where averaging the last
    steps' weights smooths out the noise of the large learning rate.

    The fraction done is steps / total_steps, total_steps being fit's steps
    per epoch times its epochs, or ``total_steps`` when given: for a run whose
    last epoch stops short (the fast recipe's 9.9 epochs, see
    preprocessing.augment.AugmentedBatches' steps).
    """

    def __init__(self, every=5, decay=lambda progress: 0.95 ** 5 * progress ** 3,
                 total_steps=None):
        super().__init__()
        if not isinstance(every, int) or every < 1:
            raise ValueError(f'Lookahead: every must be a positive int, got {every!r}')
        if total_steps is not None:
            check_positive_int('Lookahead', 'total_steps', total_steps)
        self.every, self.decay = every, decay if callable(decay) else (lambda progress: decay)
        self.given_total_steps = total_steps

    def on_train_begin(self, logs=None):
        if not self.params.get('steps'):
            raise ValueError('Lookahead: the decay follows the fraction of training done, so '
                             'fit needs a known number of steps per epoch (give arrays, a '
                             'Sequence or steps_per_epoch)')
        self.total_steps = self.given_total_steps or self.params['steps'] * self.params['epochs']
        self.slow = self.snapshot()

    def snapshot(self):
        """Copies of the weights; None while the model is unbuilt (its first step builds it)."""
        weights = self.model.weights
        return [w.data.copy() for w in weights] if weights else None

    def on_epoch_begin(self, epoch, logs=None):
        self.steps = epoch * self.params['steps']  # so that a run resumed at initial_epoch agrees

    def on_batch_end(self, batch, logs=None):
        self.steps += 1
        if self.slow is None:
            self.slow = self.snapshot()
        if self.steps % self.every == 0:
            decay = self.decay(min(self.steps / self.total_steps, 1.0))
            for slow, w in zip(self.slow, self.model.weights):
                slow += (1 - decay) * (w.data - slow)
                w.data[...] = slow

    def on_train_end(self, logs=None):
        for slow, w in zip(self.slow, self.model.weights):
            w.data[...] = slow


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


missing.install(globals(), 'callbacks')
