"""Training with the learner's code: the same network twice from the same
start, once calling the learner's functions and once minicnn's own, on the
same batches with the same dropout draws; the two loss curves drawn together.

When the learner's code is right the curves lie on each other (they differ by
float32 rounding: minicnn's fast kernels add in another order). A wrong
gradient that the checker somehow let through shows as curves that part.

Which network: the exercises that appear in the seed-004 CNN (``zoo.cnn_seed004``)
train it with its tutorial's optimizer, Adam; 'sgd_momentum' trains it with
SGD and momentum instead, and 'batchnorm' trains the fast recipe's network
(``zoo.fast_cnn`` at its 'short' widths, with Keras's batch norm), the one with
batch norms, also with SGD and momentum. Both start from their initializers,
not from the recipe's data-dependent whitening.
"""
import textwrap
import time
from dataclasses import dataclass

import numpy as np

from minicnn import devices
from minicnn.recipes import zoo
from minicnn.autograd import Tensor
from minicnn.datasets import cifar10
from minicnn.fileio import atomic_write
from minicnn.optimizers import SGD
from minicnn.recipes.workbook.hooks import Workbook, WorkbookAdam, WorkbookSGD, with_workbook

SGD_SETTINGS = {'learning_rate': 0.01, 'momentum': 0.9}


@dataclass
class Setup:
    """A network and the optimizer it trains with, for minicnn and for the learner."""
    name: str
    build: object
    optimizer: object          # () -> minicnn's optimizer
    learner_optimizer: object  # workbook -> the learner's, or minicnn's where not an exercise
    uses: tuple                # the exercises whose functions this network calls


def seed004_adam(workbook):
    # The tutorial's Adam(lr=0.0001, decay=1e-6), as the zoo's recipe makes it
    settings = {'learning_rate': 1e-4, 'decay': 1e-6}
    if workbook.uses('adam'):
        return WorkbookAdam(workbook, **settings)
    return zoo.get('cnn-seed004').optimizer()


def momentum_sgd(workbook):
    return WorkbookSGD(workbook, **SGD_SETTINGS) if workbook.uses('sgd_momentum') \
        else SGD(**SGD_SETTINGS)


SEED004_EXERCISES = ('relu', 'dense', 'im2col', 'conv2d_forward', 'conv2d_backward', 'max_pool',
                     'softmax_cross_entropy', 'dropout')
SETUPS = {
    'cnn-seed004': Setup('cnn-seed004', zoo.cnn_seed004, zoo.get('cnn-seed004').optimizer,
                         seed004_adam, SEED004_EXERCISES + ('adam',)),
    'cnn-seed004, SGD': Setup('cnn-seed004 with SGD and momentum', zoo.cnn_seed004,
                              lambda: SGD(**SGD_SETTINGS), momentum_sgd,
                              SEED004_EXERCISES + ('sgd_momentum',)),
    'fast_cnn': Setup('fast_cnn (the fast recipe\'s network, short widths)',
                      lambda: zoo.fast_cnn(widths=zoo.FAST_BUDGETS['short']['widths'],
                                           batchnorm='keras'),
                      lambda: SGD(**SGD_SETTINGS), momentum_sgd,
                      ('batchnorm', 'softmax_cross_entropy', 'sgd_momentum', 'im2col',
                       'conv2d_forward', 'conv2d_backward', 'dense')),
}


def setup_for(exercises):
    """The setup that trains with these exercises: seed-004 with Adam, unless the
    only exercise is one it has no place for."""
    if tuple(exercises) == ('batchnorm',):
        return SETUPS['fast_cnn']
    if tuple(exercises) == ('sgd_momentum',):
        return SETUPS['cnn-seed004, SGD']
    return SETUPS['cnn-seed004']


def cifar10_batches(steps, batch_size, seed):
    """``steps`` batches of CIFAR-10 training images in [0, 1] and one-hot rows,
    in a seeded random order (MINICNN_DATA says where the data set is)."""
    (x, y), _ = cifar10.load_data()
    needed = steps * batch_size
    if needed > len(x):
        raise ValueError(f'workbook train: {steps} steps of {batch_size} images need {needed} '
                         f'training images; the data set has {len(x)}')
    order = np.random.default_rng(seed).permutation(len(x))[:needed]
    images, labels = zoo.scale_unit(x[order]), np.eye(10, dtype=np.float32)[y[order].reshape(-1)]
    return [(images[i:i + batch_size], labels[i:i + batch_size])
            for i in range(0, needed, batch_size)]


class Run:
    """One of the two trainings: a model, its optimizer, its loss function, its own
    random stream (the dropout draws), and the losses so far."""

    def __init__(self, model, optimizer, loss, seed):
        self.model, self.optimizer, self.loss = model, optimizer, loss
        devices.set_seed(seed)
        self.random_state = devices.rng_state()
        self.losses, self.seconds = [], []

    def step(self, x, y):
        """One training step on a batch: forward, loss, backward, update."""
        start = time.perf_counter()
        devices.set_rng_state(self.random_state)
        loss = self.loss(self.model.logits(Tensor(x), training=True), Tensor(y))
        weights = self.model.trainable_weights
        for w in weights:
            w.grad = None
        loss.backward()
        self.optimizer.step(weights)
        self.random_state = devices.rng_state()
        self.losses.append(float(loss.item()))
        self.seconds.append(time.perf_counter() - start)


def train_side_by_side(modules, out, steps=50, batch_size=32, seed=0, batches=None, setup=None,
                       say=print):
    """Train ``setup`` (by default ``setup_for`` the learner's ``modules``, a dict of
    exercise name -> loaded file) twice, with the learner's functions and with
    minicnn's, on ``batches`` (by default ``steps`` CIFAR-10 batches), and draw
    both loss curves into ``out`` (a PNG). Returns (learner's losses, minicnn's)."""
    setup = setup or setup_for(modules)
    used = exercises_used(modules, setup, say)
    batches = batches if batches is not None else cifar10_batches(steps, batch_size, seed)
    runs = same_start(setup, Workbook({name: modules[name] for name in used}), seed, say)
    warm_up(setup, *batches[0])
    for i, (x, y) in enumerate(batches):
        for run in runs.values():
            run.step(x, y)
        if i == 0:
            say(estimate(runs, len(batches)))
        elif (i + 1) % max(1, len(batches) // 10) == 0 or i + 1 == len(batches):
            say(f'step {i + 1}/{len(batches)}: loss {runs["yours"].losses[-1]:.4f} yours, '
                f'{runs["minicnn"].losses[-1]:.4f} minicnn\'s')
    draw(runs, out, f'{setup.name}, {len(batches)} steps of {len(batches[0][0])} images: '
                    f'your {", ".join(used)}')
    return runs['yours'].losses, runs['minicnn'].losses


def exercises_used(modules, setup, say):
    """The learner's exercises that run in ``setup``; says which do not, and why."""
    used = [name for name in modules if name in setup.uses]
    unused = [name for name in modules if name not in setup.uses]
    if {'im2col', 'conv2d_forward', 'conv2d_backward'} <= set(used):
        used.remove('im2col')
        say('your conv2d_forward and conv2d_backward do the whole convolution, so your im2col '
            'is not called: train im2col by name to see it at work')
    if not used:
        raise ValueError(f'workbook train: {setup.name} uses none of {sorted(modules)}')
    if unused:
        say(f'{setup.name} has no place for your {", ".join(unused)}: '
            f'train {"it" if len(unused) == 1 else "each"} by name')
    return used


def same_start(setup, workbook, seed, say):
    """The two runs, the learner's and minicnn's: the same weights, the same random stream."""
    devices.set_seed(seed)
    theirs = setup.build()
    yours, report = with_workbook(setup.build(), workbook)
    yours.set_weights(theirs.get_weights())
    if workbook.uses('softmax_cross_entropy'):
        report.append('the loss: your softmax_cross_entropy')
    report += [f'the optimizer: your {name} step' for name in ('adam', 'sgd_momentum')
               if workbook.uses(name)]
    say(f'{setup.name}: your code runs in\n  ' + '\n  '.join(report))
    return {'yours': Run(yours, setup.learner_optimizer(workbook), workbook.loss, seed),
            'minicnn': Run(theirs, setup.optimizer(), Workbook({}).loss, seed)}


def warm_up(setup, x, y):
    """One untimed step of minicnn's network on two images, on a throwaway copy: it
    loads (or, the first time, compiles) minicnn's kernels, which the timed first
    step would otherwise count."""
    Run(setup.build(), setup.optimizer(), Workbook({}).loss, seed=0).step(x[:2], y[:2])


def estimate(runs, steps):
    """How long the rest will take, from the first step of each run."""
    yours, theirs = runs['yours'].seconds[0], runs['minicnn'].seconds[0]
    rest = (steps - 1) * (yours + theirs)
    duration = f'{rest / 60:.1f} min' if rest >= 60 else f'{rest:.0f} s'
    others = 'step' if steps == 2 else f'{steps - 1} steps'
    return (f'one step took {yours:.2f} s with your code and {theirs:.2f} s with minicnn\'s: '
            f'the other {others} of both will take about {duration}')


def draw(runs, out, title):
    """Both loss curves, minicnn's wide and pale, the learner's dashed over it, and
    below them their difference, into a PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    yours, theirs = np.array(runs['yours'].losses), np.array(runs['minicnn'].losses)
    steps = np.arange(1, len(theirs) + 1)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5), sharex=True,
                                      gridspec_kw={'height_ratios': [3, 1]})
    top.plot(steps, theirs, lw=4, alpha=0.45, label='minicnn\'s functions')
    top.plot(steps, yours, '--', lw=1.5, color='black', label='your functions')
    top.set(ylabel='training loss')
    top.set_title(textwrap.fill(title, 90), fontsize=8)
    top.legend()
    bottom.plot(steps, yours - theirs, color='black', lw=1)
    bottom.axhline(0, color='grey', lw=0.5)
    bottom.set(xlabel='step', ylabel='yours - minicnn\'s')
    fig.tight_layout()
    with atomic_write(out) as f:
        fig.savefig(f, format='png', dpi=100)
    plt.close(fig)
