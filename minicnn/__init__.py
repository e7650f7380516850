"""minicnn: a convolutional network framework written from scratch to be read.

Follow one training step from the top down:

    minicnn.models.Sequential   compile / fit / evaluate / predict / summary / save
    minicnn.training            the loop: batches, forward, loss, backward, step
    minicnn.layers              Conv2D, MaxPooling2D, Dense, ...: own their weights
    minicnn.functional          conv2d, pooling, dense, activations, losses, dropout:
                                forward and backward side by side
    minicnn.kernels             im2col, col2im, pooling: NumPy reference, Numba, CUDA
    minicnn.autograd            Tensor, Function, backward in topological order
    minicnn.optimizers          SGD, RMSprop, Adam

Around them: backend (NumPy or CuPy), initializers, losses, metrics,
callbacks, saving, datasets, preprocessing.image, viz, zoo (the tutorials'
networks), gradcheck, cli.
"""
__version__ = '0.1.0'

import os  # noqa: E402

# A training step hands the CPU back and forth, dozens of times, between
# Numba's threads (im2col, pooling) and OpenBLAS's (matrix products). Each
# pool by default keeps its threads spinning for a while after its work,
# and on few cores they steal them from the other pool: measured 25% of a
# step on 2 cores. These ask both to sleep at once; they must be set before
# OpenMP and OpenBLAS start, so before NumPy is imported, and a value the
# user set is kept.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
os.environ.setdefault('OPENBLAS_THREAD_TIMEOUT', '1')

from minicnn import functional  # noqa: E402  (attaches the Tensor operators)
from minicnn.autograd import Tensor, no_grad  # noqa: E402
from minicnn.backend import get_array_module, get_device, set_device  # noqa: E402
from minicnn.gradcheck import GradcheckError, gradcheck  # noqa: E402
from minicnn import (callbacks, datasets, initializers, layers, losses, metrics,  # noqa: E402
                     models, optimizers, preprocessing, utils)

__all__ = ['Tensor', 'no_grad', 'functional', 'gradcheck', 'GradcheckError', 'set_device',
           'get_device', 'get_array_module', 'callbacks', 'datasets', 'initializers', 'layers',
           'losses', 'metrics', 'models', 'optimizers', 'preprocessing', 'utils']
