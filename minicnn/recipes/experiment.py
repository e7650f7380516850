"""Train a tutorial's network end to end: load the data, build and compile
the model, fit it with the tutorial's settings, evaluate it, and write
``metrics.json`` and the training curves into an output folder.

The ``minicnn train`` command and the examples call ``train``.

A run folder holds ``run.json`` (the recipe's name and the run's settings),
``checkpoint.minicnn`` (the model after its last complete epoch) and, once
finished, ``metrics.json`` and ``curves.png``. A folder is either continued
(``resume``: the checkpoint must hold the network and optimizer of the
recipe that run.json names) or started afresh into (``train``: only an empty
folder, or with ``overwrite``); never a mix of two runs. A new run writes its
checkpoint first and its run.json next, so run.json never names a recipe
whose checkpoint the folder lacks.
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
# the files minicnn train writes (whitening_filters.png: the fast recipe's)
RUN_FILES = ('run.json', 'checkpoint.minicnn', 'metrics.json', 'curves.png',
             'whitening_filters.png')


class RunFolderError(ValueError):
    """A run folder that cannot be continued or started into as asked."""


class RunCheckpoint(Callback):
    """After every epoch, save the whole model and the run's full history
    (epochs of earlier, resumed sessions included) to ``path``.

    Only complete epochs are ever saved (and the untrained model when a new
    run starts), so resuming repeats an interrupted epoch from exactly the
    state it started in: the same shuffle, the same weights, the same draws.
    """

    def __init__(self, path, earlier_history, new_run=None):
        super().__init__()
        self.path, self.earlier, self.new_run = path, earlier_history, new_run

    def history(self):
        new = self.model.history.history if self.model.history else {}
        return {k: self.earlier.get(k, []) + new.get(k, []) for k in {*self.earlier, *new}}

    def save(self):
        saving.save_model(self.model, self.path, epoch=self.model.epochs_done,
                          history=self.history())

    def on_train_begin(self, logs=None):
        if self.new_run is not None:  # a Ctrl-C in the first epoch can then resume
            self.save()
            write_json(f'{os.path.dirname(self.path)}/run.json', self.new_run)

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
          verbose=1, overwrite=False):
    """Train recipe ``name`` (see minicnn.recipes.zoo) from scratch; writes into ``out``.

    A folder that holds an earlier run is refused, unless ``overwrite``:
    then that run's files are deleted first.
    Returns (model, metrics); metrics are also written to out/metrics.json.
    """
    recipe = zoo.get(name)
    for option, value in (('epochs', epochs), ('batch_size', batch_size), ('subset', subset)):
        if value is not None:
            check_positive_int('train', option, value)
    run = {'name': name, 'epochs': recipe.epochs if epochs is None else epochs,
           'batch_size': recipe.batch_size if batch_size is None else batch_size,
           'subset': subset, 'augment': augment}
    claim_folder(out, overwrite)
    if device:
        devices.set_device(device)
    return _fit_and_report(run, out, None, {}, verbose)


def claim_folder(out, overwrite):
    """Make ``out`` a folder for a new run: refuse one that holds an earlier
    run, unless ``overwrite``, which deletes that run's files."""
    found = [name for name in RUN_FILES if os.path.exists(f'{out}/{name}')]
    if found and not overwrite:
        resumable = f'continue it with --resume {out}, or ' if 'run.json' in found else ''
        raise RunFolderError(f'train: {out} holds an earlier run ({", ".join(found)}); '
                             f'{resumable}start over with --overwrite (which deletes its '
                             f'files), or choose another --out')
    for name in found:
        os.remove(f'{out}/{name}')
    os.makedirs(out, exist_ok=True)


def read_run(out):
    """The settings in ``out/run.json``, checked: a RunFolderError names a corrupt file."""
    path = f'{out}/run.json'
    try:
        with open(path) as f:
            run = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RunFolderError(f'resume: {path} is corrupt, not the JSON minicnn train '
                             f'writes ({err})') from err
    fields = {'name': str, 'epochs': int, 'batch_size': int, 'augment': bool}
    wrong = [k for k, kind in fields.items()
             if not isinstance(run, dict) or not isinstance(run.get(k), kind)]
    if not wrong and run.get('subset') is not None and not isinstance(run['subset'], int):
        wrong = ['subset']
    if wrong:
        raise RunFolderError(f'resume: {path} is corrupt: {", ".join(wrong)} missing or of the '
                             f'wrong type')
    if run['name'] not in zoo.RECIPES:
        raise RunFolderError(f'resume: {path} names {run["name"]!r}, which is none of the '
                             f'recipes {sorted(zoo.RECIPES)}')
    return run


def network_signature(model):
    """What a recipe fixes of a model: each layer's class and weight shapes,
    and the optimizer's class."""
    layers = [(type(layer).__name__, [tuple(w.shape) for w in layer.weights])
              for layer in model.layers]
    return layers, type(model.optimizer).__name__


def recipe_signature(recipe):
    model = recipe.build()
    model.compile(optimizer=recipe.optimizer(), loss=recipe.loss)
    return network_signature(model)


def check_checkpoint_recipe(run, expected, model, checkpoint):
    """Refuse a checkpoint that does not hold the network and optimizer of run.json's
    recipe, whose ``recipe_signature`` is ``expected``."""
    held = network_signature(model)
    if held == expected:
        return
    others = [name for name, recipe in zoo.RECIPES.items()
              if name != run['name'] and recipe_signature(recipe) == held]
    what = f"recipe {others[0]!r}'s network" if others else 'a network of none of the recipes'
    raise RunFolderError(
        f"resume: {os.path.dirname(checkpoint)}/run.json names the recipe {run['name']!r}, but "
        f"{checkpoint} holds {what} ({held[1]} optimizer); the folder mixes two runs. "
        f"Start over with: minicnn train {run['name']} --out {os.path.dirname(checkpoint)} "
        f"--overwrite")


def resume(out, device=None, verbose=1):
    """Continue the run in ``out`` from its last checkpoint (see ``train``)."""
    for name in ('run.json', 'checkpoint.minicnn'):
        if not os.path.isfile(f'{out}/{name}'):
            raise FileNotFoundError(f'resume: {out}/{name} is missing; is {out} the --out '
                                    f'folder of an earlier minicnn train?')
    run = read_run(out)
    if device:
        devices.set_device(device)
    checkpoint = f'{out}/checkpoint.minicnn'
    # built before load_model restores the random generator, whose draws it would take
    expected = recipe_signature(zoo.get(run['name']))
    model = models.load_model(checkpoint)
    check_checkpoint_recipe(run, expected, model, checkpoint)
    return _fit_and_report(run, out, model, saving.saved_history(checkpoint), verbose)


def _fit_and_report(run, out, model, earlier_history, verbose):
    """Train ``model`` (None: a fresh one) on the run's data; ``earlier_history``
    is that of the sessions before (a resumed run's, from its checkpoint)."""
    recipe = zoo.get(run['name'])
    (x_train, y_train), (x_test, y_test) = load(recipe.dataset, run['subset'])
    x_train, x_test = recipe.preprocess(x_train), recipe.preprocess(x_test)
    y_train, y_test = to_categorical(y_train, CLASSES), to_categorical(y_test, CLASSES)
    fresh = model is None
    if fresh:
        model = recipe.build(input_shape=x_train.shape[1:])
        model.compile(optimizer=recipe.optimizer(), loss=recipe.loss, metrics=['accuracy'])
    checkpoint = RunCheckpoint(f'{out}/checkpoint.minicnn', earlier_history,
                               new_run=run if fresh else None)
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
             'train_images': 'all' if run['subset'] is None else run['subset'],
             'batch_size': run['batch_size'],
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
