"""The training loop behind Model.fit, evaluate and predict.

One training step (``train_step``), for a batch (x, y) with optional
per-sample weights w:

    outputs = model(x, training=True)     forward, recording the graph
    loss = model.loss(y, outputs, w)      a scalar Tensor, 1/N sum_n w_n l_n
         + sum(model.losses)              the regularizers' penalties (Keras adds them)
    loss.backward()                       every weight's .grad
    optimizer.step(weights)               update the trainable weights in place,
                                          only when the loss is finite

When the model ends in softmax (or sigmoid) and the loss is a categorical
(or binary) cross-entropy, the loss is computed from the logits, the
activation fused into it (``loss_and_outputs``, the one place that decides
it); the outputs are then the activation of the logits, for the metrics.

The loss (penalties included, in fit and evaluate alike, as in Keras) and
the compiled metrics are summed on the device and read back (which waits
for the GPU) only when the progress bar is redrawn or the epoch ends
(``RunningMetrics``). The loss itself is read at every step, before the
optimizer's: a NaN or infinite loss must not reach the weights.
"""
import dataclasses
import math
import os
import time
import warnings
import weakref

import numpy as np
from tqdm.auto import tqdm

from minicnn import activations, devices, losses
from minicnn.arguments import check_positive_int
from minicnn.autograd import no_grad
from minicnn.training import inputs_outputs
from minicnn.training.batches import (ArrayBatches, batch_source, is_array, is_arrays, num_samples,
                             rows, split_validation, unpack_batch)
from minicnn.callbacks import BackupAndRestore, Callback, CallbackList, History
from minicnn.functional.loss_functions import check_class_ids

SYNC_SECONDS = 0.5  # how often a GPU run reads its metrics back


# -- input checks ------------------------------------------------------------

def check_arrays(model, x, y, where):
    """Check x and y before a long run, naming the argument that is wrong."""
    check_not_file_name(where, 'x', x)
    check_not_file_name(where, 'y', y)
    if isinstance(x, list) or isinstance(y, list):
        return check_array_lists(model, x, y, where)
    if y is None:
        raise ValueError(f'{where}: y is required when x is an array')
    if not is_array(x):
        raise TypeError(f'{where}: x must be an array (NumPy, or CuPy on the GPU), got '
                        f'{type(x).__name__}')
    if len(x) == 0:
        raise ValueError(f'{where}: x is empty (shape {x.shape})')
    if len(x) != len(y):
        raise ValueError(f'{where}: x and y have different lengths ({len(x)} and {len(y)})')
    if model.built and tuple(x.shape[1:]) != model.input_shape[1:]:
        raise ValueError(f"{where}: layer '{model.layers[0].name}' expects inputs of shape "
                         f"{model.input_shape}, got x of shape {x.shape}")
    y = y if is_array(y) else np.asarray(y)
    for name, array in (('x', x), ('y', y)):
        check_values(where, name, array)
    if model.built and fuses_softmax(model) and (y.ndim == 1 or y.shape[1] == 1):
        check_class_ids(devices.to_numpy(y).reshape(-1), model.output_shape[-1], where)


def check_not_file_name(where, name, value):
    """Refuse a file name given for the data: fit, evaluate and predict take arrays."""
    if isinstance(value, (str, bytes, os.PathLike)):
        raise TypeError(f'{where}: {name} must be an array, got the {type(value).__name__} '
                        f'{value!r}; to use a file, load it first (np.load, or '
                        f'minicnn.datasets / image_dataset_from_directory for images)')


def check_values(where, name, array):
    """Refuse non-numbers, NaN and infinities in an input or target array."""
    check_numeric(where, name, array)
    if array.dtype.kind in 'fc' and not bool(devices.get_array_module(array).isfinite(
            array).all()):
        raise ValueError(f'{where}: {name} contains NaN or infinite values')


def check_numeric(where, name, array):
    """Refuse string (or object) labels and inputs: the losses need numbers."""
    if array.dtype.kind not in 'biufc':
        first = array.reshape(-1)[0].item() if array.size else None
        raise TypeError(f'{where}: {name} must hold numbers, got an array of dtype {array.dtype}'
                        f' (first value {first!r}); turn class names into class ids first, '
                        f'e.g. with np.unique(labels, return_inverse=True)')


def check_array_lists(model, x, y, where):
    """check_arrays for a model of several inputs or outputs (lists in the model's
    order, see minicnn/training/inputs_outputs.py), naming the input or output that is wrong."""
    if y is None:
        raise ValueError(f'{where}: y is required when x is arrays')
    xs, ys = (x if isinstance(x, list) else [x]), (y if isinstance(y, list) else [y])
    # a subclassed model's call may take a list; it has no Input placeholders to check
    names = model.input_names or list(range(len(xs)))
    shapes = [t.shape for t in model.inputs] if model.inputs else [None] * len(xs)
    for name, shape, array in zip(names, shapes, xs):
        if not is_array(array):
            raise TypeError(f'{where}: x for the input {name!r} must be an array (NumPy, or '
                            f'CuPy on the GPU), got {type(array).__name__}')
        if len(array) == 0:
            raise ValueError(f'{where}: x for the input {name!r} is empty (shape {array.shape})')
        if shape is not None and tuple(array.shape[1:]) != shape[1:]:
            raise ValueError(f'{where}: the input {name!r} expects arrays of shape '
                             f'{shape}, got x of shape {array.shape}')
        check_values(where, f'x for the input {name!r}', array)
    for name, array in zip(model.output_names, ys):
        check_values(where, f'y for the output {name!r}',
                     array if is_array(array) else np.asarray(array))
    inputs_outputs.check_lengths([*inputs_outputs.labelled('x', xs, names),
                            *inputs_outputs.labelled('y', ys, model.output_names)], where)


# Per model, what check_input_scale has seen: the largest |x| fit was given and
# whether it has warned. Kept here, by the code that writes it; weak keys let a
# model go when the program drops it.
_input_scales = weakref.WeakKeyDictionary()


def check_input_scale(model, x, where):
    """Warn, once per model, when float inputs reach far beyond what it was trained on:
    the classic slip is pixels in 0..255 fed to a model trained on x / 255."""
    if isinstance(x, list) or x.dtype.kind != 'f':  # several inputs: their scales differ
        return
    largest = float(devices.get_array_module(x).abs(x).max())
    seen = _input_scales.setdefault(model, {'trained_max': None, 'warned': False})
    trained = seen['trained_max']
    if trained is not None and trained <= 1.5 and largest > 2 * trained + 1 \
            and not seen['warned']:
        seen['warned'] = True
        warnings.warn(f'{where}: x holds values up to {largest:g}, but the model was trained '
                      f'on values up to {trained:g}; were the pixels divided by 255?', UserWarning)
    if where == 'fit':
        seen['trained_max'] = max(largest, trained or 0.0)


def as_model_input(batch):
    """A batch of any numeric dtype as float32 on the active device (a list of
    them for several inputs)."""
    if isinstance(batch, list):
        return [as_model_input(b) for b in batch]
    xp = devices.current_module()
    return xp.asarray(devices.to_device(batch), dtype=np.float32)


def as_labels(batch):
    if isinstance(batch, list):
        return [None if b is None else as_labels(b) for b in batch]
    return devices.to_device(np.asarray(batch) if not hasattr(batch, 'shape') else batch)


# -- sample and class weights --------------------------------------------------

def checked_sample_weights(w, n, where):
    """fit's (or evaluate's) sample_weight as a float32 (N,) array, checked; None stays
    None; a list (one per output) is checked array by array."""
    if w is None:
        return None
    if isinstance(w, list):
        return [checked_sample_weights(wk, n, where) for wk in w]
    xp = devices.get_array_module(w)
    w = xp.asarray(w, dtype=np.float32)
    if w.ndim == 2 and w.shape[1] == 1:
        w = w.reshape(-1)
    if w.shape != (n,):
        raise ValueError(f'{where}: sample_weight must hold one weight per sample, shape ({n},), '
                         f'got shape {w.shape}')
    if not bool(xp.isfinite(w).all()):
        raise ValueError(f'{where}: sample_weight contains NaN or infinite values')
    return w


def class_weight_table(class_weight, classes):
    """An array t with t[k] = class_weight[k], and 1 for the classes not listed (Keras)."""
    if not isinstance(class_weight, dict) or not all(
            isinstance(k, (int, np.integer)) and k >= 0 for k in class_weight):
        raise ValueError('fit: class_weight must be a dict {class id: weight} with '
                         f'non-negative integer class ids, got {class_weight!r}')
    table = np.ones(max(classes, max(class_weight, default=0) + 1, 2), dtype=np.float32)
    for k, v in class_weight.items():
        table[k] = v
    return table


def one_output_width(model, where):
    """The width of the model's one output, which class_weight's classes index."""
    if isinstance(model.loss, inputs_outputs.TotalLoss):
        raise ValueError(f'{where}: class_weight takes a model of one output, as in Keras 2; '
                         f'weight the samples of each output with sample_weight instead')
    return model.output_shape[-1]


def class_weights_of(labels, table):
    """w_n = table[class of sample n], the class the arg-max of a row or the id."""
    xp = devices.get_array_module(labels)
    ids = labels.argmax(axis=-1) if labels.ndim == 2 and labels.shape[1] > 1 \
        else xp.rint(labels.reshape(-1))
    return xp.asarray(table)[ids.astype(xp.int64)]


# -- running sums of the loss and the metrics ----------------------------------

class RunningMetrics:
    """The loss summed over the batches (each weighted by its size, as Keras's
    loss tracker does) and the compiled metrics' states, kept on the device
    until read. The metrics are reset here: an epoch (or an evaluation)
    starts from nothing, and training and validation take turns with them.

    With several outputs, each output's loss L_k is summed too (logged as
    '<output>_loss'), and each metric sees its own output's y and outputs.
    """

    def __init__(self, slots, loss=None):
        """slots: the model's ``metric_slots``, (metric, output index or None, weighted);
        loss: the model's loss, whose parts are logged if it has several."""
        self.slots = slots
        for m, _, _ in self.slots:
            m.reset_state()
        self.total_loss = loss
        self.part_names = inputs_outputs.part_names(loss)
        self.part_sums = [0.0] * len(self.part_names)
        self.loss_sum = 0.0
        self.seen = 0

    def add(self, loss, y_true, y_pred, sample_weight=None):
        n = len(y_pred[0] if isinstance(y_pred, list) else y_pred)
        self.loss_sum = self.loss_sum + loss * n
        self.part_sums = [s + part * n for s, part in zip(self.part_sums, self.total_loss.parts)
                          ] if self.part_names else []
        for m, k, weighted in self.slots:  # compile(metrics=...) unweighted, as in Keras
            m.update_state(output_part(y_true, k), output_part(y_pred, k),
                           output_part(sample_weight, k) if weighted else None)
        self.seen += n

    def logs(self, prefix=''):
        """{'loss': ..., each output's loss, then each metric by its name}, prefix
        'val_' for validation."""
        seen = max(self.seen, 1)
        logs = {prefix + 'loss': float(self.loss_sum) / seen}
        logs.update({prefix + name: float(s) / seen
                     for name, s in zip(self.part_names, self.part_sums)})
        logs.update({prefix + m.name: m.result() for m, _, _ in self.slots})
        return logs


def output_part(values, k):
    """The values of output k (all of them for a model of one output, k None)."""
    return values if k is None or values is None else values[k]


def data_of(outputs):
    """The arrays of an output Tensor, or of a list of them (several outputs)."""
    return [t.data for t in outputs] if isinstance(outputs, list) else outputs.data


# -- steps ------------------------------------------------------------------

def fused_activation(model):
    """The activation that ends the model when the loss takes its logits instead
    ('softmax' for a categorical cross-entropy, 'sigmoid' for the binary one), else None.

    A loss with from_logits=True takes the model's outputs as logits: nothing to fuse.
    """
    loss = model.loss
    if isinstance(loss, losses.CrossEntropy) and not loss.from_logits and \
            loss.activation == model.activation_name:
        return loss.activation
    return None


def fuses_softmax(model):
    """Whether a final softmax is fused into a categorical cross-entropy (whose
    labels are then class ids or rows of the softmax's width)."""
    return fused_activation(model) == 'softmax'


def with_penalties(model, loss):
    """loss + every penalty of ``model.losses`` (weight and activity regularizers)."""
    for penalty in model.losses:
        loss = loss + penalty
    return loss


def loss_and_outputs(model, x, y, sample_weight, training):
    """The loss, penalties included, and the model's outputs.

    This is the one place where softmax (or sigmoid) meets cross-entropy.
    Computed apart, log(softmax(z)) is log(0) = -inf for a large logit gap;
    fused, the loss is exact and finite and its gradient is simply
    (p - t) / N. So when ``fused_activation`` says so, run the model up to
    its logits and let the loss take them (``CrossEntropy.on_logits``:
    ``softmax_cross_entropy`` or ``sigmoid_binary_cross_entropy``); the
    outputs returned are the activation of the logits, computed without a
    graph, for the metrics.
    """
    activation = fused_activation(model)
    if activation:
        logits = model.logits(x, training)
        loss = model.loss.on_logits(y, logits, sample_weight)
        with no_grad():
            outputs = activations.get(activation)(logits)
    else:
        outputs = model(x, training)
        if isinstance(outputs, list) and not isinstance(model.loss, inputs_outputs.TotalLoss):
            raise NotImplementedError(
                f"model '{model.name}' returns a list of {len(outputs)} outputs, but minicnn "
                f"compiled it for one: a subclassed model trains with one output, and a model "
                f"of one output takes it alone, Model(inputs, output), not in a list; for "
                f"several outputs build a functional Model(inputs, [output, ...])")
        loss = model.loss(y, outputs, sample_weight)
    return with_penalties(model, loss), outputs


def train_step(model, x, y, sample_weight=None):
    """Forward, backward and one optimizer update; returns (loss, outputs) arrays.

    A NaN or infinite loss skips the backward pass and the update (the check
    comes first, then the step): the weights stay as they were before the
    bad batch, and the caller, which sees the loss, stops training.
    """
    loss, outputs = loss_and_outputs(model, x, y, sample_weight, training=True)
    if not math.isfinite(float(loss.data)):  # reading it waits for the GPU: the price of safety
        return loss.data, outputs.data
    weights = model.trainable_weights  # after the forward pass, which builds an unbuilt model
    for w in weights:
        w.zero_grad()  # backward adds into .grad: last step's must not count
    loss.backward()
    model.optimizer.step(weights)
    return loss.data, data_of(outputs)


def _overrides(callback, hook):
    return getattr(type(callback), hook) is not getattr(Callback, hook) or hook in vars(callback)


def _require_compiled(model, where):
    if model.optimizer is None or model.loss is None:
        raise RuntimeError(f'{where}: compile the model first, e.g. '
                           f"model.compile(optimizer='adam', loss='categorical_crossentropy')")


def check_verbose(where, verbose):
    if verbose == 'auto':
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"{where}: verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    return verbose


# -- fit / evaluate / predict --------------------------------------------------

def fit(model, x, y=None, batch_size=32, epochs=1, verbose=1, callbacks=None,
        validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
        sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None):
    _require_compiled(model, 'fit')
    check_not_file_name('fit', 'x', x)
    check_not_file_name('fit', 'y', y)
    check_positive_int('fit', 'batch_size', batch_size)
    check_positive_int('fit', 'epochs', epochs, allow_zero=True)
    check_positive_int('fit', 'initial_epoch', initial_epoch, allow_zero=True)
    if steps_per_epoch is not None:
        check_positive_int('fit', 'steps_per_epoch', steps_per_epoch)
    verbose = check_verbose('fit', verbose)
    if class_weight is not None and sample_weight is not None:
        raise ValueError('fit: give class_weight or sample_weight, not both (as in Keras)')
    x, y, sample_weight = inputs_outputs.arranged(model, x, y, sample_weight, 'fit')
    x, y, sample_weight, validation = split_validation(x, y, sample_weight, validation_split,
                                                       validation_data)
    if is_arrays(x):
        check_arrays(model, x, y, 'fit')
        check_input_scale(model, x, 'fit')
        sample_weight = checked_sample_weights(sample_weight, num_samples(x), 'fit')
    validation = validation_source(model, validation, batch_size, validation_steps)
    source = batch_source(x, y, sample_weight, batch_size, shuffle, steps_per_epoch, 'fit')
    class_weights = None if class_weight is None else \
        class_weight_table(class_weight, one_output_width(model, 'fit'))
    history = model.history = History()
    cbs = CallbackList([history, *(callbacks or [])], model=model,
                       epochs=epochs, steps=source.steps, verbose=verbose)
    run = Run(source, class_weights, epochs, verbose, cbs,
              batch_logs_wanted=any(_overrides(c, 'on_batch_end') for c in cbs.callbacks))
    model.stop_training = False
    cbs.on_train_begin()
    for epoch in range(resumed_epoch(cbs.callbacks, initial_epoch), epochs):
        devices.reseed_gpu_from_cpu()
        cbs.on_epoch_begin(epoch)
        logs = run_epoch(model, run, epoch)
        if logs is None:  # stopped mid-epoch: epoch-end callbacks see complete epochs only
            break
        if validation is not None:
            with no_grad():
                logs.update(evaluation_metrics(model, validation).logs('val_'))
        model.epochs_done = epoch + 1
        # verbose=2 prints the epoch's line; verbose=1 adds the validation figures
        # that its progress bar, closed before validation, could not show.
        shown = logs if verbose == 2 else {k: v for k, v in logs.items()
                                           if verbose == 1 and k.startswith('val_')}
        if shown:
            print(f'Epoch {epoch + 1}/{epochs} - ' +
                  ' - '.join(f'{k}: {format_value(v)}' for k, v in shown.items()))
        cbs.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    cbs.on_train_end()
    return history


def resumed_epoch(callbacks, initial_epoch):
    """The first epoch to run: the one after the last that a BackupAndRestore
    restored at the start of training (Keras resumes there), else initial_epoch."""
    restored = [c.restored_epoch for c in callbacks
                if isinstance(c, BackupAndRestore) and c.restored_epoch is not None]
    return restored[0] if restored else initial_epoch


def prepare_batch(model, batch, class_weights, where):
    """A batch (x, y, w) from a source: inputs on the device, labels and weights checked;
    with class weights, w_n = class_weights[class of sample n]. The data of several
    inputs or outputs (lists or dicts by name) comes in the model's order."""
    xb, yb, wb = inputs_outputs.arranged(model, *unpack_batch(batch, where), where)
    yb = as_labels(yb)
    if class_weights is not None:
        if wb is not None:
            raise ValueError(f'{where}: the batches carry sample weights and class_weight is '
                             f'given; use one of them (as in Keras)')
        wb = class_weights_of(yb, class_weights)
    # the loss checks the weights' shape; their values were checked in fit for arrays
    return as_model_input(xb), yb, None if wb is None else as_labels(wb)


@dataclasses.dataclass
class Run:
    """What every epoch of one fit shares."""
    source: object            # the batch source (minicnn/training/batches.py)
    class_weights: object     # class_weight_table's array, or None
    epochs: int
    verbose: int
    callbacks: CallbackList
    batch_logs_wanted: bool   # whether a callback reads each batch's logs


def run_epoch(model, run, epoch):
    """Train one epoch; returns its logs, or None when it stopped early (a NaN or
    infinite loss, ``model.stop_training`` set by a callback or Ctrl-C, or a
    stream of batches that ran dry)."""
    running = RunningMetrics(model.metric_slots, model.loss)
    on_gpu = devices.get_device() == 'gpu'
    source, cbs, batch_logs_wanted = run.source, run.callbacks, run.batch_logs_wanted
    steps = source.steps
    bar = tqdm(total=steps, desc=f'Epoch {epoch + 1}/{run.epochs}', unit='batch',
               disable=run.verbose != 1, leave=True, dynamic_ncols=True)
    start = last_sync = time.perf_counter()
    batches_done = 0
    for batch, data in enumerate(source.epoch()):
        cbs.on_batch_begin(batch)
        xb, yb, wb = prepare_batch(model, data, run.class_weights, 'fit')
        loss, outputs = train_step(model, xb, yb, wb)
        if not math.isfinite(float(loss)):  # train_step did not step (TerminateOnNaN's stop)
            bar.close()
            warnings.warn(f'fit: the loss became NaN or infinite at epoch {epoch + 1}, '
                          f'batch {batch + 1}; training stopped, the weights as they were '
                          f'before that batch', RuntimeWarning)
            model.stop_training = True
            return None
        running.add(loss, yb, outputs, wb)
        batches_done += 1
        bar.update(1)
        now = time.perf_counter()
        # On the CPU reading the metrics is free; on the GPU it waits, so do it rarely.
        if not on_gpu or now - last_sync > SYNC_SECONDS or batch == (steps or 0) - 1 \
                or batch_logs_wanted:
            last_sync = now
            logs = running.logs()
            bar.set_postfix({**{k: format_value(v) for k, v in logs.items()},
                             'img/s': f'{running.seen / (now - start):.0f}'}, refresh=False)
            if batch_logs_wanted:
                cbs.on_batch_end(batch, logs)
        if model.stop_training and batch != (steps or 0) - 1:
            bar.close()
            return None
    bar.close()
    if batches_done == 0:
        raise ValueError(f'fit: x gave no batches in epoch {epoch + 1}'
                         + (' (a generator or iterator that is used up?)'
                            if source.continuing else ''))
    if source.continuing and steps is not None and batches_done < steps:
        warnings.warn(f'fit: the input ran out of data after {batches_done} of {steps} batches '
                      f'in epoch {epoch + 1}; training stopped. A generator must yield at least '
                      f'steps_per_epoch * epochs batches.', RuntimeWarning)
        model.stop_training = True
        return None
    return running.logs()


def validation_source(model, validation, batch_size, validation_steps):
    """The batch source of fit's validation data, checked before the first epoch:
    arrays (x, y[, sample_weight]), or a generator, Sequence or data set."""
    if validation is None:
        return None
    where = 'fit: validation_data'
    if isinstance(validation, tuple) and len(validation) == 3:  # arrays, see split_validation
        x, y, w = inputs_outputs.arranged(model, *validation, where)
        check_arrays(model, x, y, where)
        return ArrayBatches(x, y, checked_sample_weights(w, num_samples(x), where), batch_size,
                            shuffle=False)
    if validation_steps is not None:
        check_positive_int('fit', 'validation_steps', validation_steps)
    return batch_source(validation, None, None, batch_size, False, validation_steps, where)


def evaluation_metrics(model, source):
    """The loss and metrics over one epoch of a batch source."""
    running = RunningMetrics(model.metric_slots, model.loss)
    for batch in source.epoch():
        xb, yb, wb = prepare_batch(model, batch, None, 'evaluate')
        loss, outputs = loss_and_outputs(model, xb, yb, wb, training=False)
        running.add(loss.data, yb, data_of(outputs), wb)
    if running.seen == 0:
        raise ValueError('evaluate: the validation data gave no batches')
    return running


def evaluate(model, x, y=None, batch_size=32, verbose=1, sample_weight=None, return_dict=False):
    """[loss, *metrics] in ``model.metrics_names`` order (the loss alone without
    metrics), or with return_dict {name: value}, as Keras's evaluate."""
    _require_compiled(model, 'evaluate')
    check_positive_int('evaluate', 'batch_size', batch_size)
    verbose = check_verbose('evaluate', verbose)
    x, y, sample_weight = inputs_outputs.arranged(model, x, y, sample_weight, 'evaluate')
    check_arrays(model, x, y, 'evaluate')
    check_input_scale(model, x, 'evaluate')
    sample_weight = checked_sample_weights(sample_weight, num_samples(x), 'evaluate')
    source = ArrayBatches(x, y, sample_weight, batch_size, shuffle=False)
    with no_grad():
        logs = evaluation_metrics(model, source).logs()
    if verbose:
        print(' - '.join(f'{k}: {format_value(v)}' for k, v in logs.items()))
    return keras_result(logs, return_dict)


def keras_result(logs, return_dict):
    """What Keras returns: the logs dict, or its values as a list (one value alone)."""
    if return_dict:
        return logs
    values = list(logs.values())
    return values if len(values) > 1 else values[0]


def on_batch(model, x, y, sample_weight, class_weight, reset_metrics, return_dict, train,
             where):
    """train_on_batch / test_on_batch: one step on one batch, its loss and metrics."""
    _require_compiled(model, where)
    if not reset_metrics:
        raise NotImplementedError(f'{where}: reset_metrics=False (metrics accumulated across '
                                  f'calls) is not implemented; each call reports its own batch')
    if class_weight is not None and sample_weight is not None:
        raise ValueError(f'{where}: give class_weight or sample_weight, not both (as in Keras)')
    table = None if class_weight is None else \
        class_weight_table(class_weight, one_output_width(model, where))
    x, y, sample_weight = inputs_outputs.arranged(model, x, y, sample_weight, where)
    check_arrays(model, x, y, where)
    xb, yb, wb = prepare_batch(model, (x, y, checked_sample_weights(sample_weight,
                                                                    num_samples(x), where)),
                               table, where)
    if train:
        loss, outputs = train_step(model, xb, yb, wb)
    else:
        with no_grad():
            loss, outputs = loss_and_outputs(model, xb, yb, wb, training=False)
            loss, outputs = loss.data, data_of(outputs)
    running = RunningMetrics(model.metric_slots, model.loss)
    running.add(loss, yb, outputs, wb)
    return keras_result(running.logs(), return_dict)


def format_value(value):
    """A log value for printing: 4 decimals (each, for one value per threshold)."""
    if np.ndim(value) == 0:
        return f'{value:.4f}'
    return np.array2string(np.asarray(value), precision=4)


def predict(model, x, batch_size=32, verbose=0):
    check_positive_int('predict', 'batch_size', batch_size)
    check_verbose('predict', verbose)
    check_not_file_name('predict', 'x', x)
    x = inputs_outputs.arranged(model, x, None, None, 'predict')[0]
    if not is_arrays(x):
        raise TypeError(f'predict: x must be an array (NumPy, or CuPy on the GPU), or a list '
                        f'or dict of them for several inputs, got {type(x).__name__}')
    for array in x if isinstance(x, list) else [x]:
        check_numeric('predict', 'x', array)
    inputs_outputs.check_lengths(inputs_outputs.labelled('x', x, model.input_names), 'predict')
    check_input_scale(model, x, 'predict')
    batches = []
    with no_grad():
        for start in range(0, num_samples(x), batch_size):
            out = model(as_model_input(rows(x, start, start + batch_size)))
            batches.append([t.numpy() for t in out] if isinstance(out, list) else [out.numpy()])
    if not batches:  # no samples: empty arrays of the outputs' shapes
        shapes = model.output_shape
        several = isinstance(shapes, list)
        return inputs_outputs.unwrap([np.zeros((0, *s[1:]), np.float32)
                                for s in (shapes if several else [shapes])], not several)
    return inputs_outputs.unwrap([np.concatenate(parts) for parts in zip(*batches)],
                           not isinstance(out, list))
