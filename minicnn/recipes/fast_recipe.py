"""Fast CIFAR-10 training: airbench94's recipe, built from minicnn's parts.

Keller Jordan's airbench94 (github.com/KellerJordan/cifar10-airbench) reaches
94.0% mean test accuracy in 9.9 epochs, about 0.36 PFLOP. Each trick is
one readable piece of minicnn; its ablations (airbench's README, measured
on an A100, the epochs each change saves on the way to 94%) and where to read
it are:

    trick                        epochs to 94%     in minicnn
    standard init, Nesterov SGD      35.0          optimizers.SGD(nesterov=True)
    + whitened first layer           21.0          initializers.patch_whitening
    + dirac (identity) init          18.0          initializers.Dirac
    + 64x learning rate for BN biases 13.5         BatchNormalization(beta_lr_multiplier=64)
    + lookahead                      12.0          callbacks.Lookahead
    + six-view test-time augment.    10.8          preprocessing.augment.predict_with_tta
    + alternating flip                9.9          preprocessing.augment.AlternatingFlip

and one that saves time, not epochs: the whitening layer's bias trains for
the first 30% of the epochs only (airbench: 3), after which nothing before
the first block needs a gradient and its backward is skipped (FreezeAfter).

and throughout: BatchNorm without scale, momentum 0.6 (PyTorch's 0.4),
epsilon 1e-12; GELU; label smoothing 0.2 (losses.CategoricalCrossentropy);
random 2-pixel translations with reflect padding (augment.random_crops); the
learning rate warmed up from 0.2x to 1x over the first 23% of the steps, then
decayed linearly to 0.07x (schedules.PiecewiseLinearDecay); decoupled weight
decay; batches of 1024 (the 'full' budget; the shorter ones take 256). The
network is ``zoo.fast_cnn``.

airbench sums its loss over a batch; minicnn's losses are means, so the
learning rate here is airbench's times the batch size. Its hyperparameters
are written per 1024 examples, divided by Nesterov's step gain (see
LR_PER_1024 and WEIGHT_DECAY below).

The 'full' budget takes airbench94's steps exactly: 9.9 epochs of
floor(50,000 / 1024) = 48 whole batches (each epoch's last 848 shuffled
images left out), ceil(9.9 * 48) = 476 steps, the tenth epoch stopping after
its 44th batch (augment.total_steps); the schedule and the lookahead run on
those 476 steps. The other budgets train whole epochs and keep each epoch's
last, smaller batch (their README figures were measured so); for whole
epochs airbench's count is the same, only the remainder differs.
Test-time augmentation averages the logits of the views, as airbench does.

``train(...)`` runs the recipe; ``without=`` drops tricks by name (TRICKS)
for the ablation table in the README. ``minicnn train fast`` and
examples/cifar10_fast.py call it.
"""
import math
import os

import numpy as np

from minicnn import devices, datasets, viz
from minicnn.arguments import check_positive_int, number
from minicnn.callbacks import Callback, EpochTimer, Lookahead
from minicnn.recipes.experiment import write_json, write_results
from minicnn.initializers import patch_whitening
from minicnn.losses import CategoricalCrossentropy
from minicnn.optimizers import SGD
from minicnn.optimizers.schedules import PiecewiseLinearDecay
from minicnn.preprocessing.augment import AugmentedBatches, predict_with_tta
from minicnn.utils import to_categorical
from minicnn.recipes.zoo import FAST_BUDGETS as BUDGETS, FAST_TRICKS as TRICKS, fast_cnn

# airbench94's hyperparameters, per 1024 examples (a batch of B takes B/1024 of each step):
MOMENTUM = 0.85
# airbench divides its rates by Nesterov's step gain 1 + 1/(1 - momentum), so that
# a step is as large as the gradient whatever the momentum:
NESTEROV_GAIN = 1 + 1 / (1 - MOMENTUM)
LR_PER_1024 = 11.5 / NESTEROV_GAIN   # lr 11.5 per 1024 summed examples
# airbench's weight decay, 0.0153 per 1024 examples over the same gain, enters its
# gradient, where momentum makes each step take 1/(1 - momentum) times the decay;
# minicnn's SGD decays decoupled, lr * weight_decay * w a step, hence:
WEIGHT_DECAY = 0.0153 / NESTEROV_GAIN / (1 - MOMENTUM) / LR_PER_1024
WARMUP, START, END = 0.23, 0.2, 0.07  # fraction of steps; lr multipliers at 0 and at the end
LABEL_SMOOTHING = 0.2
WHITENING_IMAGES = 5000
WHITENING_BIAS_EPOCHS = 0.3  # the fraction of the epochs in which the whitening bias trains


def channel_statistics(x):
    """Per-channel mean and standard deviation of uint8 images (N, H, W, C), in
    [0, 1] units; summed in float64 a thousand images at a time, so that no
    float64 copy of the whole data set is made."""
    sums, squares = np.zeros(x.shape[-1]), np.zeros(x.shape[-1])
    for start in range(0, len(x), 1000):
        part = x[start:start + 1000].astype(np.float64) / 255
        sums += part.sum(axis=(0, 1, 2))
        squares += (part * part).sum(axis=(0, 1, 2))
    count = x.size / x.shape[-1]
    mean = sums / count
    return mean, np.sqrt(squares / count - mean * mean)


def normalizer(mean, std):
    """uint8 images -> float32 (x / 255 - mean) / std, per channel."""
    scale = (1 / (255 * std)).astype(np.float32)
    shift = (-mean / std).astype(np.float32)
    return lambda images: images.astype(np.float32) * scale + shift


def optimizer(steps, batch_size):
    """Nesterov SGD with airbench's schedule over ``steps`` steps: warm-up from
    START * lr to lr at step int(WARMUP * steps), then linear decay to END * lr
    at step ``steps``. Step k (from 0) takes the rate at k, so the end is
    reached as the last step (k = steps - 1) is taken, as in airbench, whose
    LambdaLR gives step k its schedule[k]."""
    lr = LR_PER_1024 * batch_size / 1024
    warmup = int(WARMUP * steps)
    schedule = PiecewiseLinearDecay([0, warmup, steps], [START * lr, lr, END * lr])
    return SGD(schedule, momentum=MOMENTUM, nesterov=True, weight_decay=WEIGHT_DECAY)


def whiten_first_layer(model, images, verbose=0):
    """Set the 'whiten' layer's kernel to the patch whitening of ``images``
    (see initializers.patch_whitening) and freeze it; its bias still trains."""
    layer = model.get_layer('whiten')
    kernel = patch_whitening(images, patch_size=layer.kernel_size[0], verbose=verbose)
    layer.set_weights([kernel, np.zeros(kernel.shape[-1], np.float32)])
    layer.kernel.requires_grad = False
    return kernel


class FreezeAfter(Callback):
    """Train ``weights`` for the first ``epochs`` epochs only, then freeze them."""

    def __init__(self, weights, epochs):
        super().__init__()
        self.weights, self.epochs = weights, epochs

    def on_epoch_begin(self, epoch, logs=None):
        for w in self.weights:
            w.requires_grad = epoch < self.epochs


def step_memory_estimate(model, batch_size):
    """Bytes one training step needs, roughly: every layer's output is kept for
    backward and gets a gradient of the same size, and a convolution's
    workspace is about as large again, so three float32 copies of all the
    activations of a batch."""
    shape, elements = model.sample_shape, 0
    for layer in model.layers:
        shape = layer.compute_output_shape(shape)
        elements += int(np.prod(shape))
    return 3 * 4 * elements * batch_size


def available_memory():
    """Bytes of memory the system can still give (Linux's MemAvailable); None if unknown."""
    try:
        with open('/proc/meminfo') as f:
            fields = dict(line.split(':', 1) for line in f)
        return int(fields['MemAvailable'].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None


def check_memory(model, batch_size, available=None):
    """Raise MemoryError, naming the batch size and the estimate, if one
    training step would not fit in the memory left (the system's memory: on
    the GPU, CuPy's own out-of-memory error speaks instead)."""
    if devices.get_device() != 'cpu' and available is None:
        return
    needed = step_memory_estimate(model, batch_size)
    available = available_memory() if available is None else available
    if available is not None and needed > available:
        fits = max(1, int(batch_size * available / needed))
        raise MemoryError(
            f'batch_size={batch_size} needs about {needed / 2**30:.1f} GiB for one training step '
            f'(3 float32 copies of every activation) but {available / 2**30:.1f} GiB is '
            f'available; try --batch-size {fits} or less')


def check_tricks(names):
    """Raise ValueError naming any name that is not one of TRICKS."""
    unknown = set(names) - set(TRICKS)
    if unknown:
        raise ValueError(f'fast recipe: unknown tricks in without: {sorted(unknown)}; '
                         f'choose from {list(TRICKS)}')


def train(out, data=None, budget='short', widths=None, epochs=None, batch_size=None,
          without=(), seed=0, verbose=1):
    """Train ``fast_cnn`` with the recipe; write into ``out``.

    data: ((x_train, y_train), (x_test, y_test)), uint8 images and integer
    labels as ``datasets.cifar10.load_data()`` gives them (the default).
    budget: a BUDGETS preset; widths, epochs and batch_size override it
    (epochs may be a fraction: see augment.AugmentedBatches; the preset says
    whether each epoch's last, smaller batch is dropped).
    without: names from TRICKS to leave out ('tta' only changes the evaluation;
    'batchnorm' means Keras's BatchNormalization defaults; 'alternating_flip'
    means a fresh random flip each epoch).
    Returns (model, metrics); the metrics, also written to out/metrics.json,
    hold the test accuracy with and without test-time augmentation, the
    seconds per epoch, the optimizer steps taken and the history.
    """
    check_tricks(without)
    if budget not in BUDGETS:
        raise ValueError(f'fast_recipe.train: budget must be one of {sorted(BUDGETS)}, '
                         f'got {budget!r}')
    preset = BUDGETS[budget]
    widths = tuple(preset['widths'] if widths is None else widths)
    epochs = preset['epochs'] if epochs is None else epochs
    number('fast_recipe.train', 'epochs', epochs, 'a positive number',
           ok=lambda value: 0 < value < math.inf)
    batch_size = check_positive_int('fast_recipe.train', 'batch_size',
                                    preset['batch_size'] if batch_size is None else batch_size)
    check_positive_int('fast_recipe.train', 'seed', seed, allow_zero=True)
    os.makedirs(out, exist_ok=True)
    devices.set_seed(seed)

    (x_train, y_train), (x_test, y_test) = datasets.cifar10.load_data() if data is None else data
    normalize = normalizer(*channel_statistics(x_train))
    y_train, y_test = to_categorical(y_train, 10), to_categorical(y_test, 10)
    x_test = normalize(x_test)

    model = fast_cnn(widths=widths, dirac='dirac' not in without,
                     batchnorm='keras' if 'batchnorm' in without else 'fast')
    check_memory(model, batch_size)
    if 'whitening' not in without:
        kernel = whiten_first_layer(model, normalize(x_train[:WHITENING_IMAGES]), verbose)
        viz.plot_kernels(kernel, path=f'{out}/whitening_filters.png',
                         title='whitening filters (PCA of 2x2 patches) and their negatives')

    batches = AugmentedBatches(x_train, y_train, batch_size, translate=2,
                               flip='random' if 'alternating_flip' in without else 'alternating',
                               preprocess=normalize, seed=seed,
                               drop_remainder=preset['drop_remainder'], epochs=epochs)
    smoothing = 0.0 if 'label_smoothing' in without else LABEL_SMOOTHING
    model.compile(optimizer=optimizer(batches.steps, batch_size),
                  loss=CategoricalCrossentropy(label_smoothing=smoothing), metrics=['accuracy'])
    timer = EpochTimer()
    callbacks = [timer] + ([] if 'lookahead' in without else [Lookahead(total_steps=batches.steps)])
    if 'whitening' not in without:
        callbacks.append(FreezeAfter([model.get_layer('whiten').bias],
                                     round(WHITENING_BIAS_EPOCHS * epochs)))
    history = model.fit(batches, epochs=batches.epochs_to_run, validation_data=(x_test, y_test),
                        callbacks=callbacks, verbose=verbose)

    about = {'recipe': 'fast', 'budget': budget, 'widths': list(widths), 'batch_size': batch_size,
             'budget_epochs': epochs, 'steps': model.optimizer.iterations,
             'train_images': len(x_train), 'without': sorted(without), 'seed': seed}
    metrics = write_results(out, model, history.history, timer, (x_test, y_test), batch_size,
                            f'fast recipe, widths {widths}, on CIFAR-10', about)
    if 'tta' not in without:
        predictions = predict_with_tta(model, x_test, verbose=verbose)
        metrics['tta_test_accuracy'] = float(np.mean(predictions.argmax(1) == y_test.argmax(1)))
        write_json(f'{out}/metrics.json', metrics)
    return model, metrics
