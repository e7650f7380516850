"""The runs: the wing of minicnn that uses the framework rather than being it.

    zoo           the tutorials' networks and how each was trained (Recipe),
                  and the fast recipe's network and presets
    fast_recipe   airbench94's CIFAR-10 training, trick by trick
    experiment    train a recipe into a folder: metrics.json, curves, a checkpoint
    cli           the ``minicnn`` command (also ``python -m minicnn``)

The core (autograd, functional, kernels, layers, models, training, ...)
imports nothing from here; tests/test_house.py checks it.
"""
