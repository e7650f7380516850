"""Whole training steps of the tutorial networks: forward, backward, one update.

minicnn builds each model as its recipe in ``minicnn.recipes.zoo`` does, with the
recipe's optimizer and categorical cross-entropy, and runs
``minicnn.training.train_step`` (what ``fit`` does per batch) on one-hot
labels, as the tutorials feed Keras. PyTorch runs the model's twin from
``torch_models`` (on its impl's device) with the same optimizer settings on class ids. Both train
in float32 on the same batch of random pixels in [0, 1), with dropout
active, and a step is timed from the call until the update is done.
"""
import functools

import numpy as np

from benchmarks import report, timing
from minicnn import devices, training
from minicnn.recipes import zoo

CLASSES = 10
TRAINING_IMAGES = {'cifar10': 50_000, 'fashion_mnist': 60_000}  # one epoch


def random_batch(model_name, batch):
    """(images, class ids): a batch in a zoo model's input shape, e.g. (batch, 32, 32, 3)."""
    rng = np.random.default_rng(0)
    input_shape = zoo.get(model_name).build().sample_shape
    return (rng.random((batch, *input_shape), dtype=np.float32),
            rng.integers(0, CLASSES, batch))


def minicnn_trainer(impl, model_name, x, ids):
    """(step, x, y): a function doing one minicnn training step on (x, y), and the batch
    on impl's device."""
    recipe = zoo.get(model_name)
    impl.activate()  # the weights are made on impl's device
    model = recipe.build()
    model.compile(optimizer=recipe.optimizer(), loss=recipe.loss)
    one_hot = np.eye(CLASSES, dtype=np.float32)[ids]
    return (functools.partial(training.train_step, model),
            devices.to_device(x, impl.device), devices.to_device(one_hot, impl.device))


def torch_trainer(impl, model_name, x, ids):
    """(step, x, y): the same for PyTorch's twin of the model (in training mode)."""
    from benchmarks import torch_models  # PyTorch is optional, and slow to import
    model = torch_models.TWINS[model_name]().to(impl.device)
    optimizer = torch_models.optimizer_like(zoo.get(model_name).optimizer(), model.parameters())
    images = timing.nchw(x) if x.ndim == 4 else x
    return (functools.partial(torch_models.train_step, model, optimizer),
            impl.tensor(images), impl.tensor(ids))


TRAINERS = {'minicnn': minicnn_trainer, 'torch': torch_trainer}


def trainer(impl, model_name, x, ids):
    """(step, x, y) for impl, from a random_batch: ``step(x, y)`` trains one step."""
    return TRAINERS[impl.framework](impl, model_name, x, ids)


def step_runner(impl, model_name, x, ids):
    """A function that times one training step with impl."""
    step, x, y = trainer(impl, model_name, x, ids)

    def run():
        impl.activate()
        start = impl.clock()
        step(x, y)
        return (impl.clock() - start,)
    return run


def run(impls, models, batch, warmup, repeats):
    """Time a training step of every model with every impl; a list of rows
    {'model', 'impl', 'ms_per_step', 'images_per_s', 'seconds_per_epoch', 'vs_torch'}."""
    rows = []
    for model_name in models:
        report.progress(f'steps: {model_name}')
        x, ids = random_batch(model_name, batch)
        medians = timing.round_robin({impl.name: step_runner(impl, model_name, x, ids)
                                      for impl in impls}, warmup, repeats)
        torch_seconds = medians.get('torch', (None,))[0]
        epoch_images = TRAINING_IMAGES[zoo.get(model_name).dataset]
        for impl in impls:
            (seconds,) = medians[impl.name]
            rows.append({
                'model': model_name, 'impl': impl.name,
                'ms_per_step': 1e3 * seconds,
                'images_per_s': batch / seconds,
                'seconds_per_epoch': epoch_images / batch * seconds,
                'vs_torch': report.ratio(seconds, torch_seconds),
            })
    return rows
