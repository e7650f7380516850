"""minicnn: a convolutional network framework written from scratch to be read.

Follow one training step from the top down:

    minicnn.models              Model (a graph of layer calls) and Sequential:
                                compile / fit / evaluate / predict / summary / save
    minicnn.training            the loop: batches, forward, loss, backward, step
    minicnn.layers              Conv2D, BatchNormalization, Dense, ...: own their weights
    minicnn.functional          conv2d, pooling, dense, normalization, activations,
                                losses, dropout: forward and backward side by side
    minicnn.kernels             im2col, col2im, pooling: NumPy reference, Numba, CUDA
    minicnn.autograd            Tensor, Function, backward in topological order
    minicnn.optimizers          SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam;
                                learning-rate schedules in minicnn.optimizers.schedules

Beside them: naive (every layer as plain loops), gradcheck, viz (curves,
kernels, the autograd graph, saliency, Grad-CAM), profiler. Around them:
devices (NumPy or CuPy), threads, initializers, losses, metrics,
regularizers, callbacks, saving, interchange (Keras HDF5, ONNX),
applications (VGG16), datasets, preprocessing, zoo (the tutorials'
networks and the fast recipe's), fast_recipe (airbench94's training, trick
by trick), experiment and cli (``minicnn train``).
"""
__version__ = '0.1.0'

from minicnn import threads  # noqa: E402

# Before anything below imports NumPy, which loads OpenBLAS: the thread pools
# read how to wait when they are loaded (see minicnn/threads.py).
threads.configure()

from minicnn import functional  # noqa: E402  (attaches the Tensor operators)
from minicnn.autograd import Tensor, no_grad  # noqa: E402
from minicnn.devices import get_array_module, get_device, set_device  # noqa: E402
from minicnn.gradcheck import GradcheckError, gradcheck  # noqa: E402
from minicnn import (activations, applications, backend, callbacks, constraints,  # noqa: E402
                     datasets, initializers, layers, losses, metrics, missing, models, optimizers,
                     preprocessing, regularizers, utils)
from minicnn.layers import Input  # noqa: E402  (tf.keras style: keras.Sequential, keras.Input)
from minicnn.models import Model, Sequential  # noqa: E402

__all__ = ['Tensor', 'no_grad', 'functional', 'gradcheck', 'GradcheckError', 'set_device',
           'get_device', 'get_array_module', 'Sequential', 'Model', 'Input', 'activations',
           'applications', 'backend', 'callbacks', 'constraints', 'datasets', 'initializers',
           'layers', 'losses', 'metrics', 'models', 'optimizers', 'preprocessing',
           'regularizers', 'utils']

missing.install(globals(), 'keras')
