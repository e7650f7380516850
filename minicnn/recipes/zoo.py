"""The networks of the seed tutorials, written as a Keras user would write them,
and the fast recipe's network (``fast_cnn``; minicnn.recipes.fast_recipe trains it).

Each ``Recipe`` holds a model builder and the tutorial's training settings
(data set, input scaling, optimizer, batch size, epochs, callbacks), so that
the examples, the ``minicnn train`` command and the benchmarks all train the
same thing.
"""
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from minicnn.callbacks import EarlyStopping
from minicnn.initializers import Dirac, VarianceScaling
from minicnn.layers import (Activation, BatchNormalization, Conv2D, Dense, Dropout, Flatten,
                            Input, MaxPool2D, MaxPooling2D, Rescaling)
from minicnn.models import Sequential
from minicnn.optimizers import SGD, Adam, RMSprop


def dense_mlp(input_shape=(3072,), classes=10):
    """Seed 000: five tanh layers, 1024 down to 64, on flattened CIFAR-10 pixels."""
    return Sequential([
        Dense(1024, activation='tanh', input_shape=input_shape),
        Dense(512, activation='tanh'),
        Dense(256, activation='tanh'),
        Dense(128, activation='tanh'),
        Dense(64, activation='tanh'),
        Dense(classes, activation='softmax'),
    ])


def cnn_seed001(input_shape=(28, 28, 1), classes=10):
    """Seed 001: two 5x5 convolutions with max pooling, then softmax."""
    return Sequential([
        Conv2D(32, (5, 5), activation='relu', input_shape=input_shape),
        MaxPooling2D((2, 2)),
        Conv2D(64, (5, 5), activation='relu'),
        MaxPooling2D((2, 2)),
        Flatten(),
        Dense(classes, activation='softmax'),
    ])


def cnn_seed002(input_shape=(32, 32, 3), classes=10):
    """Seed 002: three pairs of 3x3 convolutions ('same' then 'valid'), each
    followed by max pooling and dropout, then Dense 512."""
    model = Sequential()
    for i, filters in enumerate((32, 64, 64)):
        first = dict(input_shape=input_shape) if i == 0 else {}
        model.add(Conv2D(filters, (3, 3), padding='same', activation='relu', **first))
        model.add(Conv2D(filters, (3, 3), activation='relu'))
        model.add(MaxPooling2D(pool_size=(2, 2)))
        model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(512, activation='relu'))
    model.add(Dropout(0.5))
    model.add(Dense(classes, activation='softmax'))
    return model


def cnn_seed004(input_shape=(32, 32, 3), classes=10):
    """Seed 004: four convolutions (32, 64, 128, 128) with Activation layers,
    three max poolings, Dense 1024."""
    return Sequential([
        Conv2D(32, (3, 3), padding='same', input_shape=input_shape), Activation('relu'),
        Conv2D(64, (3, 3)), Activation('relu'),
        MaxPool2D(pool_size=(2, 2)), Dropout(0.25),
        Conv2D(128, (3, 3), padding='same'), Activation('relu'),
        MaxPool2D(pool_size=(2, 2)),
        Conv2D(128, (3, 3)), Activation('relu'),
        MaxPool2D(pool_size=(2, 2)), Dropout(0.25),
        Flatten(),
        Dense(1024), Activation('relu'), Dropout(0.5),
        Dense(classes), Activation('softmax'),
    ])


# PyTorch's default for conv and linear weights, U(-1/sqrt(fan_in), 1/sqrt(fan_in)):
# airbench's learning rates were tuned with weights of this size.
TORCH_DEFAULT = VarianceScaling(1 / 3, 'fan_in', 'uniform')


def fast_cnn(input_shape=(32, 32, 3), classes=10, widths=(64, 256, 256), dirac=True,
             batchnorm='fast'):
    """airbench94's network (Keller Jordan): a 2x2 whitening convolution to 24
    channels (its kernel set from the data by the recipe, then frozen), three
    blocks of [conv 3x3, max-pool 2, BatchNorm, GELU, conv 3x3, BatchNorm,
    GELU] of the given widths, a max-pool 3, and a bias-free Dense whose
    logits are scaled by 1/9. 32x32 -> 31 -> 15 -> 7 -> 3 -> 1.

    dirac: start each 3x3 conv as the identity on its first channels.
    batchnorm: 'fast' is airbench's (no scale, momentum 0.6, epsilon 1e-12,
    biases trained with 64x the learning rate); 'keras' is Keras's defaults.
    """
    if batchnorm not in ('fast', 'keras'):
        raise ValueError(f"fast_cnn: batchnorm must be 'fast' or 'keras', got {batchnorm!r}")
    norm = (dict(scale=False, momentum=0.6, epsilon=1e-12, beta_lr_multiplier=64.0)
            if batchnorm == 'fast' else {})
    kernels = Dirac(TORCH_DEFAULT) if dirac else TORCH_DEFAULT

    def conv(width):
        return Conv2D(width, 3, padding='same', use_bias=False, kernel_initializer=kernels)

    layers = [Input(input_shape), Conv2D(24, 2, activation='gelu', name='whiten')]
    for width in widths:
        layers += [conv(width), MaxPooling2D(2), BatchNormalization(**norm), Activation('gelu'),
                   conv(width), BatchNormalization(**norm), Activation('gelu')]
    return Sequential([*layers, MaxPooling2D(3), Flatten(),
                       Dense(classes, use_bias=False, kernel_initializer=TORCH_DEFAULT),
                       Rescaling(1 / 9), Activation('softmax')], name='fast_cnn')


# The fast recipe's presets, which minicnn.recipes.fast_recipe trains: 'short' is the
# README's main command (9 to 10.5 minutes with the install, on the 2-core VM);
# 'full' is airbench94, step for step: 9.9 epochs of 48 whole batches of 1024, the
# last 848 images of each shuffled epoch left out, ceil(9.9 * 48) = 476 steps.
# 'short' and 'narrow' keep every image each epoch (the last batch smaller), as
# their measured figures in the README were trained. And the tricks that
# ``fast_recipe.train(without=...)`` can leave out.
FAST_BUDGETS = {
    'short': {'widths': (64, 128, 128), 'epochs': 4, 'batch_size': 256, 'drop_remainder': False},
    'narrow': {'widths': (64, 128, 128), 'epochs': 11, 'batch_size': 1024,
               'drop_remainder': False},
    'full': {'widths': (64, 256, 256), 'epochs': 9.9, 'batch_size': 1024, 'drop_remainder': True},
}
FAST_TRICKS = ('whitening', 'dirac', 'batchnorm', 'label_smoothing', 'lookahead',
               'alternating_flip', 'tta')


def scale_unit(x):
    """uint8 pixels to [0, 1]."""
    return x.astype(np.float32) / 255


def scale_centered(x):
    """uint8 pixels to [-0.5, 0.5], flattened (seed 000's dense network)."""
    return (x.astype(np.float32) / 255 - 0.5).reshape(len(x), -1)


def add_channel_axis(x):
    """(N, 28, 28) grayscale to (N, 28, 28, 1) in [0, 1]."""
    return scale_unit(x)[..., None]


@dataclass(kw_only=True)
class Recipe:
    """A tutorial's model and how it was trained."""
    name: str
    build: Callable
    dataset: str
    preprocess: Callable
    optimizer: Callable
    batch_size: int
    epochs: int
    reported: str
    callbacks: Callable = field(default=lambda: [])
    loss: str = 'categorical_crossentropy'


RECIPES = {r.name: r for r in [
    Recipe(name='mlp', build=dense_mlp, dataset='cifar10', preprocess=scale_centered,
           optimizer=lambda: RMSprop(), batch_size=32, epochs=15,
           reported='about 47% test accuracy after 15 epochs (seed 000)'),
    Recipe(name='cnn-seed001', build=cnn_seed001, dataset='fashion_mnist',
           preprocess=add_channel_axis, optimizer=lambda: SGD(), batch_size=100, epochs=5,
           reported='no figure reported (seed 001 trains on MNIST)'),
    Recipe(name='cnn-seed002', build=cnn_seed002, dataset='cifar10', preprocess=scale_unit,
           optimizer=lambda: RMSprop(), batch_size=256, epochs=100,
           reported='training curves only (seed 002)'),
    Recipe(name='cnn-seed004', build=cnn_seed004, dataset='cifar10', preprocess=scale_unit,
           optimizer=lambda: Adam(lr=0.0001, decay=1e-6), batch_size=128, epochs=50,
           reported='about 77% test accuracy (seed 004)',
           callbacks=lambda: [EarlyStopping(min_delta=0.001, patience=3)]),
]}


def get(name):
    if name not in RECIPES:
        raise ValueError(f'unknown model {name!r}; choose one of {sorted(RECIPES)}')
    return RECIPES[name]
