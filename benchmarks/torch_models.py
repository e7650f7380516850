"""PyTorch twins of the networks in minicnn.recipes.zoo, for the timings to compare with.

Each twin has the same layers, sizes and dropout as its minicnn original,
written for NCHW images. Keras's 'same' padding of a 3x3 kernel at stride 1
is PyTorch's ``padding=1`` (k // 2 zeros on every side); 'valid' is 0. The
final softmax is left out, as ``cross_entropy`` takes logits: minicnn fuses
softmax into the loss in the same way. The flattened features come out in
another order (C, H, W instead of H, W, C), which changes which weight
meets which feature but not the amount of work.
"""
import torch
from torch import nn


def dense_mlp(classes=10):
    """Seed 000: Dense 1024, 512, 256, 128, 64 with tanh on 3072 pixels."""
    widths = (3072, 1024, 512, 256, 128, 64)
    layers = []
    for n_in, n_out in zip(widths, widths[1:]):
        layers += [nn.Linear(n_in, n_out), nn.Tanh()]
    return nn.Sequential(*layers, nn.Linear(widths[-1], classes))


def cnn_seed001(classes=10):
    """Seed 001: two 5x5 convolutions with max pooling on 28x28 gray images."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 4 * 4, classes))


def cnn_seed002(classes=10):
    """Seed 002: pairs of 3x3 convolutions ('same', 'valid') of 32, 64, 64 filters,
    each pair followed by max pooling and dropout; Dense 512."""
    layers, channels = [], 3
    for filters in (32, 64, 64):
        layers += [nn.Conv2d(channels, filters, 3, padding=1), nn.ReLU(),
                   nn.Conv2d(filters, filters, 3), nn.ReLU(),
                   nn.MaxPool2d(2), nn.Dropout(0.25)]
        channels = filters
    # 32x32 -> 30 -> 15 -> 13 -> 6 -> 4 -> 2
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(64 * 2 * 2, 512), nn.ReLU(),
                         nn.Dropout(0.5), nn.Linear(512, classes))


def cnn_seed004(classes=10):
    """Seed 004: convolutions of 32, 64, 128, 128 filters, three max poolings, Dense 1024."""
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(),          # 32x32
        nn.Conv2d(32, 64, 3), nn.ReLU(),                    # 30x30
        nn.MaxPool2d(2), nn.Dropout(0.25),                  # 15x15
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(),        # 15x15
        nn.MaxPool2d(2),                                    # 7x7
        nn.Conv2d(128, 128, 3), nn.ReLU(),                  # 5x5
        nn.MaxPool2d(2), nn.Dropout(0.25),                  # 2x2
        nn.Flatten(),
        nn.Linear(128 * 2 * 2, 1024), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(1024, classes))


TWINS = {'mlp': dense_mlp, 'cnn-seed001': cnn_seed001,
         'cnn-seed002': cnn_seed002, 'cnn-seed004': cnn_seed004}


def optimizer_like(optimizer, params):
    """The PyTorch optimizer with the settings of a minicnn one.

    minicnn follows Keras, whose epsilons sit elsewhere in the formulas
    (inside RMSprop's square root; added to Adam's uncorrected sqrt(v)):
    the numbers differ a little, the work per step does not. Nor does
    Keras's time-based learning-rate decay, left out here: it costs one
    division per step.
    """
    kind = type(optimizer).__name__
    if kind == 'SGD':
        return torch.optim.SGD(params, lr=optimizer.learning_rate, momentum=optimizer.momentum,
                               nesterov=optimizer.nesterov)
    if kind == 'RMSprop':
        return torch.optim.RMSprop(params, lr=optimizer.learning_rate, alpha=optimizer.rho,
                                   eps=optimizer.epsilon, momentum=optimizer.momentum,
                                   centered=optimizer.centered)
    if kind == 'Adam':
        return torch.optim.Adam(params, lr=optimizer.learning_rate,
                                betas=(optimizer.beta_1, optimizer.beta_2),
                                eps=optimizer.epsilon, amsgrad=optimizer.amsgrad)
    raise ValueError(f'optimizer_like: no PyTorch twin for {kind}')


def train_step(model, optimizer, x, y):
    """Forward, backward and one update, as minicnn.training.train_step; y holds class ids."""
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss
