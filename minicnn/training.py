"""The training loop behind Sequential.fit, evaluate and predict.

One training step, for a batch (x, y):

    logits = model(x, training=True)      forward, recording the graph
    loss = loss_fn(y, logits)             a scalar Tensor
    loss.backward()                       every weight's .grad
    optimizer.step(weights)               update the weights in place

Loss and accuracy are summed on the device and read back (which waits for
the GPU) only when the progress bar is redrawn or the epoch ends.
"""
import math
import time
import warnings

import numpy as np
from tqdm.auto import tqdm

from minicnn import backend, metrics
from minicnn.autograd import no_grad
from minicnn.callbacks import Callback, CallbackList, History
from minicnn.functional.losses import check_class_ids

SYNC_SECONDS = 0.5  # how often a GPU run reads its metrics back


# -- input checks ------------------------------------------------------------

def check_positive_int(name, value, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or \
            value < (0 if allow_zero else 1):
        kind = 'a non-negative' if allow_zero else 'a positive'
        raise ValueError(f'{name} must be {kind} integer, got {value!r}')


def check_arrays(model, x, y, where):
    """Check x and y before a long run, naming the argument that is wrong."""
    if y is None:
        raise ValueError(f'{where}: y is required when x is an array')
    if len(x) == 0:
        raise ValueError(f'{where}: x is empty (shape {np.shape(x)})')
    if len(x) != len(y):
        raise ValueError(f'{where}: x and y have different lengths ({len(x)} and {len(y)})')
    if model.built and tuple(x.shape[1:]) != model.input_shape:
        raise ValueError(f"{where}: layer '{model.layers[0].name}' expects inputs of shape "
                         f"{(None, *model.input_shape)}, got x of shape {x.shape}")
    if x.dtype.kind == 'f' and not np.isfinite(x).all():
        raise ValueError(f'{where}: x contains NaN or infinite values')
    y = np.asarray(y)
    if model.built and model.loss.fuses_softmax and (y.ndim == 1 or y.shape[1] == 1):
        check_class_ids(y.reshape(-1), model.output_shape[-1], where)


def check_input_scale(model, x, where):
    """Warn, once per model, when float inputs reach far beyond what it was trained on:
    the classic slip is pixels in 0..255 fed to a model trained on x / 255."""
    if x.dtype.kind != 'f':
        return
    largest = float(np.abs(x).max())
    trained = getattr(model, 'trained_input_max', None)
    if trained is not None and trained <= 1.5 and largest > 2 * trained + 1 \
            and not getattr(model, 'warned_input_scale', False):
        model.warned_input_scale = True
        warnings.warn(f'{where}: x holds values up to {largest:g}, but the model was trained '
                      f'on values up to {trained:g}; were the pixels divided by 255?', UserWarning)
    if where == 'fit':
        model.trained_input_max = max(largest, trained or 0.0)


def as_model_input(batch):
    """A batch of any numeric dtype as float32 on the active device."""
    xp = backend.current_module()
    return xp.asarray(backend.to_device(batch), dtype=np.float32)


def as_labels(batch):
    return backend.to_device(np.asarray(batch) if not hasattr(batch, 'shape') else batch)


# -- batches -----------------------------------------------------------------

def array_batches(x, y, batch_size, shuffle):
    """One epoch of (x, y) batches; the order drawn from minicnn's CPU generator."""
    order = backend.rng('cpu').permutation(len(x)) if shuffle else np.arange(len(x))
    for start in range(0, len(x), batch_size):
        idx = np.sort(order[start:start + batch_size]) if shuffle else order[start:start + batch_size]
        yield x[idx], y[idx]


def generator_batches(iterator, steps):
    for _ in range(steps):
        try:
            yield next(iterator)
        except StopIteration:  # the generator ran out before steps_per_epoch
            return


def epoch_source(x, y, batch_size, shuffle, steps_per_epoch, where):
    """(make_batches, steps): a function giving one epoch's batches, and their count."""
    if hasattr(x, 'shape'):
        steps = steps_per_epoch or math.ceil(len(x) / batch_size)
        return (lambda: array_batches(x, y, batch_size, shuffle)), steps
    if steps_per_epoch is None:
        if not hasattr(x, '__len__'):
            raise ValueError(f'{where}: steps_per_epoch is required for a generator without len()')
        steps_per_epoch = len(x)
    iterator = iter(x)
    return (lambda: generator_batches(iterator, steps_per_epoch)), steps_per_epoch


def split_validation(x, y, validation_split, validation_data):
    """Keras takes the validation part from the end of x, y before shuffling."""
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError('fit: validation_data must be a tuple (x_val, y_val)')
        return x, y, validation_data
    if not validation_split:
        return x, y, None
    if not 0 < validation_split < 1 or not hasattr(x, 'shape'):
        raise ValueError(f'fit: validation_split must be in (0, 1) and needs array inputs, '
                         f'got {validation_split!r}')
    cut = int(len(x) * (1 - validation_split))
    return x[:cut], y[:cut], (x[cut:], y[cut:])


# -- running sums of loss and accuracy ---------------------------------------

class RunningMetrics:
    """Sums of loss and correct predictions, kept on the device until read."""

    def __init__(self, metric):
        self.metric = metric
        self.loss_sum = self.correct = 0.0
        self.seen = 0
        self.batch_losses = []  # device scalars since the last read, for NaN detection

    def add(self, loss, y_true, y_pred):
        n = len(y_pred)
        self.loss_sum = self.loss_sum + loss * n
        if self.metric:
            self.correct = self.correct + metrics.correct_count(y_true, y_pred)
        self.seen += n
        self.batch_losses.append(loss)

    def first_bad_batch(self):
        """How many batches ago (1 = the last) a loss first was NaN or infinite, or None."""
        losses = [float(v) for v in self.batch_losses]
        self.batch_losses = []
        bad = [i for i, v in enumerate(losses) if not math.isfinite(v)]
        return len(losses) - bad[0] if bad else None

    def logs(self, prefix=''):
        logs = {prefix + 'loss': float(self.loss_sum) / max(self.seen, 1)}
        if self.metric:
            logs[prefix + self.metric] = float(self.correct) / max(self.seen, 1)
        return logs


# -- steps ------------------------------------------------------------------

def loss_and_predictions(model, x, y, training):
    """The loss and the model's outputs (logits when softmax is fused into the loss)."""
    if model.loss.fuses_softmax and model.ends_in_softmax:
        logits = model(x, training=training, logits=True)
        return model.loss.from_logits(y, logits), logits
    y_pred = model(x, training=training)
    return model.loss(y, y_pred), y_pred


def train_step(model, x, y):
    """Forward, backward and one optimizer update; returns (loss, outputs) arrays."""
    weights = model.trainable_weights
    for w in weights:
        w.grad = None
    loss, y_pred = loss_and_predictions(model, x, y, training=True)
    loss.backward()
    model.optimizer.step(weights)
    return loss.data, y_pred.data


def _overrides(callback, hook):
    return getattr(type(callback), hook) is not getattr(Callback, hook) or hook in vars(callback)


def _require_compiled(model, where):
    if model.optimizer is None or model.loss is None:
        raise RuntimeError(f'{where}: compile the model first, e.g. '
                           f"model.compile(optimizer='adam', loss='categorical_crossentropy')")


# -- fit / evaluate / predict --------------------------------------------------

def fit(model, x, y=None, batch_size=32, epochs=1, verbose=1, callbacks=None,
        validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0,
        steps_per_epoch=None):
    _require_compiled(model, 'fit')
    check_positive_int('fit: batch_size', batch_size)
    check_positive_int('fit: epochs', epochs, allow_zero=True)
    check_positive_int('fit: initial_epoch', initial_epoch, allow_zero=True)
    x, y, validation = split_validation(x, y, validation_split, validation_data)
    if hasattr(x, 'shape'):
        check_arrays(model, x, y, 'fit')
        check_input_scale(model, x, 'fit')
    if validation is not None:  # before the first epoch, not after it
        check_arrays(model, *validation, 'fit: validation_data')
    make_batches, steps = epoch_source(x, y, batch_size, shuffle, steps_per_epoch, 'fit')
    history = model.history = History()
    cbs = CallbackList([history, *(callbacks or [])], model,
                       {'epochs': epochs, 'steps': steps, 'verbose': verbose})
    batch_logs_wanted = any(_overrides(c, 'on_batch_end') for c in cbs.callbacks)
    model.stop_training = False
    cbs.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        cbs.on_epoch_begin(epoch)
        logs = run_epoch(model, make_batches(), steps, epoch, epochs, verbose, cbs,
                         batch_logs_wanted)
        if logs is None:  # stopped mid-epoch: epoch-end callbacks see complete epochs only
            break
        if validation is not None:
            with no_grad():
                logs.update(evaluation_metrics(model, *validation, batch_size).logs('val_'))
        model.epochs_done = epoch + 1
        if verbose == 2:
            print(f'Epoch {epoch + 1}/{epochs} - ' + ' - '.join(f'{k}: {v:.4f}' for k, v in logs.items()))
        cbs.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    cbs.on_train_end()
    return history


def run_epoch(model, batches, steps, epoch, epochs, verbose, cbs, batch_logs_wanted):
    """Train one epoch; returns its logs, or None when it stopped early (a NaN or
    infinite loss, or ``model.stop_training`` set by a callback or Ctrl-C)."""
    running = RunningMetrics(model.metric)
    on_gpu = backend.get_device() == 'gpu'
    bar = tqdm(total=steps, desc=f'Epoch {epoch + 1}/{epochs}', unit='batch',
               disable=verbose != 1, leave=True, dynamic_ncols=True)
    start = last_sync = time.perf_counter()
    for batch, (xb, yb) in enumerate(batches):
        cbs.on_batch_begin(batch)
        yb = as_labels(yb)
        loss, y_pred = train_step(model, as_model_input(xb), yb)
        running.add(loss, yb, y_pred)
        bar.update(1)
        now = time.perf_counter()
        # On the CPU reading a number is free; on the GPU it waits, so do it rarely.
        if not on_gpu or now - last_sync > SYNC_SECONDS or batch == steps - 1 or batch_logs_wanted:
            last_sync = now
            bad = running.first_bad_batch()
            if bad is not None:
                bar.close()
                warnings.warn(f'fit: the loss became NaN or infinite at epoch {epoch + 1}, '
                              f'batch {batch + 2 - bad}; training stopped', RuntimeWarning)
                model.stop_training = True
                return None
            logs = running.logs()
            bar.set_postfix({**{k: f'{v:.4f}' for k, v in logs.items()},
                             'img/s': f'{running.seen / (now - start):.0f}'}, refresh=False)
            if batch_logs_wanted:
                cbs.on_batch_end(batch, logs)
        if model.stop_training and batch < steps - 1:
            bar.close()
            return None
    bar.close()
    return running.logs()


def evaluation_metrics(model, x, y, batch_size):
    """Loss and accuracy sums over checked arrays x, y, in batches."""
    running = RunningMetrics(model.metric)
    for xb, yb in array_batches(x, y, batch_size, shuffle=False):
        yb = as_labels(yb)
        loss, y_pred = loss_and_predictions(model, as_model_input(xb), yb, training=False)
        running.add(loss.data, yb, y_pred.data)
    return running


def evaluate(model, x, y=None, batch_size=32, verbose=1):
    _require_compiled(model, 'evaluate')
    check_positive_int('evaluate: batch_size', batch_size)
    check_arrays(model, x, y, 'evaluate')
    check_input_scale(model, np.asarray(x), 'evaluate')
    with no_grad():
        logs = evaluation_metrics(model, x, y, batch_size).logs()
    if verbose:
        print(' - '.join(f'{k}: {v:.4f}' for k, v in logs.items()))
    values = list(logs.values())
    return values if len(values) > 1 else values[0]


def predict(model, x, batch_size=32):
    check_positive_int('predict: batch_size', batch_size)
    check_input_scale(model, np.asarray(x), 'predict')
    outputs = []
    with no_grad():
        for start in range(0, len(x), batch_size):
            outputs.append(model(as_model_input(x[start:start + batch_size])).numpy())
    return np.concatenate(outputs) if outputs else np.zeros((0, *model.output_shape), np.float32)
