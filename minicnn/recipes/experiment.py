"""Train a tutorial's network end to end: load the data, build and compile
the model, fit it with the tutorial's settings, evaluate it, and write
``metrics.json`` and the training curves into an output folder.

The ``minicnn train`` command and the examples call ``train``.
"""
import contextlib
import json
import math
import os
import platform
import signal

import numpy as np

from minicnn import devices, datasets, models, saving, viz
from minicnn.arguments import check_positive_int
from minicnn.recipes import zoo
from minicnn.callbacks import Callback, EpochTimer
from minicnn.fileio import atomic_write
from minicnn.preprocessing.image import ImageDataGenerator
from minicnn.utils import to_categorical

CLASSES = 10


class RunCheckpoint(Callback):
    """After every epoch, save the whole model and the run's full history
    (epochs of earlier, resumed sessions included) to ``path``.

    Only complete epochs are ever saved (and the untrained model when a new
    run starts), so resuming repeats an interrupted epoch from exactly the
    state it started in: the same shuffle, the same weights, the same draws.
    """

    def __init__(self, path, earlier_history):
        super().__init__()
        self.path, self.earlier = path, earlier_history

    def history(self):
        new = self.model.history.history if self.model.history else {}
        return {k: self.earlier.get(k, []) + new.get(k, []) for k in {*self.earlier, *new}}

    def save(self):
        saving.save_model(self.model, self.path, epoch=self.model.epochs_done,
                          history=self.history())

    def on_train_begin(self, logs=None):
        if not os.path.exists(self.path):  # a Ctrl-C in the first epoch can then resume
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        self.save()


@contextlib.contextmanager
def stop_on_ctrl_c(model):
    """The first Ctrl-C asks fit to stop after the current batch; a second one
    interrupts at once. Yields a list that is non-empty once Ctrl-C was pressed."""
    pressed = []  # what the caller reads: whether Ctrl-C stopped the run

    def request_stop(signum, frame):
        print('\nCtrl-C: stopping after this batch (press again to abort at once)')
        model.stop_training = True
        pressed.append(True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    previous = signal.signal(signal.SIGINT, request_stop)
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


def load(dataset, subset=None):
    """(x_train, y_train), (x_test, y_test) of a data set; the first ``subset`` training images."""
    if subset is not None:
        check_positive_int('load', 'subset', subset)
    (x_train, y_train), test = getattr(datasets, dataset).load_data()
    if subset is not None:
        x_train, y_train = x_train[:subset], y_train[:subset]
    return (x_train, y_train), test


def training_batches(x, y, batch_size, augment):
    """The arrays themselves, or the seed 002 augmentation: shifts of 0.1 and flips."""
    if not augment:
        return {'x': x, 'y': y, 'batch_size': batch_size}
    generator = ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1,
                                   horizontal_flip=True)
    return {'x': generator.flow(x, y, batch_size=batch_size),
            'steps_per_epoch': math.ceil(len(x) / batch_size)}


def write_json(path, data):
    with atomic_write(path, 'w') as f:
        json.dump(data, f, indent=2)


def train(name, out, epochs=None, batch_size=None, subset=None, device=None, augment=False,
          verbose=1):
    """Train recipe ``name`` (see minicnn.recipes.zoo) from scratch; writes into ``out``.

    Returns (model, metrics); metrics are also written to out/metrics.json.
    """
    recipe = zoo.get(name)
    for option, value in (('epochs', epochs), ('batch_size', batch_size), ('subset', subset)):
        if value is not None:
            check_positive_int('train', option, value)
    run = {'name': name, 'epochs': recipe.epochs if epochs is None else epochs,
           'batch_size': recipe.batch_size if batch_size is None else batch_size,
           'subset': subset, 'augment': augment}
    os.makedirs(out, exist_ok=True)
    write_json(f'{out}/run.json', run)
    if device:
        devices.set_device(device)
    return _fit_and_report(run, out, None, {}, verbose)


def resume(out, device=None, verbose=1):
    """Continue the run in ``out`` from its last checkpoint (see ``train``)."""
    for name in ('run.json', 'checkpoint.minicnn'):
        if not os.path.isfile(f'{out}/{name}'):
            raise FileNotFoundError(f'resume: {out}/{name} is missing; is {out} the --out '
                                    f'folder of an earlier minicnn train?')
    with open(f'{out}/run.json') as f:
        run = json.load(f)
    if device:
        devices.set_device(device)
    checkpoint = f'{out}/checkpoint.minicnn'
    return _fit_and_report(run, out, models.load_model(checkpoint),
                           saving.saved_history(checkpoint), verbose)


def _fit_and_report(run, out, model, earlier_history, verbose):
    """Train ``model`` (None: a fresh one) on the run's data; ``earlier_history``
    is that of the sessions before (a resumed run's, from its checkpoint)."""
    recipe = zoo.get(run['name'])
    (x_train, y_train), (x_test, y_test) = load(recipe.dataset, run['subset'])
    x_train, x_test = recipe.preprocess(x_train), recipe.preprocess(x_test)
    y_train, y_test = to_categorical(y_train, CLASSES), to_categorical(y_test, CLASSES)
    if model is None:
        model = recipe.build(input_shape=x_train.shape[1:])
        model.compile(optimizer=recipe.optimizer(), loss=recipe.loss, metrics=['accuracy'])
    checkpoint = RunCheckpoint(f'{out}/checkpoint.minicnn', earlier_history)
    timer = EpochTimer()
    with stop_on_ctrl_c(model) as ctrl_c:
        model.fit(**training_batches(x_train, y_train, run['batch_size'], run['augment']),
                  epochs=run['epochs'], initial_epoch=model.epochs_done, verbose=verbose,
                  validation_data=(x_test, y_test),
                  callbacks=[*recipe.callbacks(), timer, checkpoint])
    if ctrl_c:
        print(f'Stopped during epoch {model.epochs_done + 1}; {out}/checkpoint.minicnn holds the '
              f'{model.epochs_done} complete epochs; continue with: minicnn train --resume {out}')
        return model, None
    return model, report(model, run, out, recipe, checkpoint.history(), timer, (x_test, y_test))


def report(model, run, out, recipe, history, timer, test_data):
    """Evaluate on the test set; write metrics.json and the training curves."""
    about = {'model': run['name'], 'dataset': recipe.dataset,
             'train_images': 'all' if run['subset'] is None else run['subset'], 'batch_size': run['batch_size'],
             'augment': run['augment'], 'tutorial_reported': recipe.reported}
    return write_results(out, model, history, timer, test_data, run['batch_size'],
                         f"{run['name']} on {recipe.dataset}", about)


def write_results(out, model, history, timer, test_data, batch_size, title, about=None):
    """Evaluate ``model`` on ``test_data``; write ``out/metrics.json`` (the
    figures below, the ``about`` entries and the history) and ``out/curves.png``.

    ``history`` is a History's dict of per-epoch lists, ``timer`` an EpochTimer.
    The ``minicnn train`` runs and the examples both report through this.
    """
    test_loss, test_accuracy = model.evaluate(*test_data, batch_size=batch_size, verbose=0)
    metrics = {
        **(about or {}), 'device': devices.get_device(), 'epochs': model.epochs_done,
        'train_loss': history['loss'][-1] if history.get('loss') else None,
        'train_accuracy': history['accuracy'][-1] if history.get('accuracy') else None,
        'test_loss': test_loss, 'test_accuracy': test_accuracy,
        'seconds_per_epoch': float(np.median(timer.seconds)) if timer.seconds else None,
        'history': dict(history), 'machine': platform.processor() or platform.machine(),
    }
    write_json(f'{out}/metrics.json', metrics)
    if history.get('loss'):
        viz.plot_history(history, path=f'{out}/curves.png', title=title)
    return metrics
