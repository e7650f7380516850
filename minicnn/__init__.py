"""minicnn: a convolutional network framework written from scratch to be read.

Read it in this order, following one training step from the top down:

    minicnn.models              Model (a graph of layer calls) and Sequential:
                                compile / fit / evaluate / predict / summary;
                                models.subclassing: class Net(Model) with call()
    minicnn.training            the loop: forward, loss, backward, step, metrics;
                                training.batches: where the batches come from (arrays,
                                Sequences, data sets); training.inputs_outputs: several
                                inputs and outputs, data by name, a loss per output
    minicnn.layers              Conv2D, BatchNormalization, Dense, ...: own their weights
    minicnn.functional          conv2d, pooling, dense, normalization, activations,
                                losses, dropout: forward and backward side by side
    minicnn.kernels             im2col, col2im, pooling: NumPy reference, Numba, CUDA,
                                one kernel set per array (kernels.for_array(x))
    minicnn.autograd            Tensor, Function, backward in topological order
    minicnn.optimizers          SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam;
                                learning-rate schedules in minicnn.optimizers.schedules

Beside them, the instruments: minicnn.tools (naive: every layer as plain
loops; gradcheck; profiler) and minicnn.viz (plots, the autograd graph,
saliency and Grad-CAM). Around them: devices (NumPy or CuPy), initializers,
losses, metrics, regularizers, callbacks, saving (files, the one seam
between models and the formats of interchange: Keras HDF5, ONNX),
applications (VGG16), datasets, preprocessing. The runs have a wing of
their own, minicnn.recipes: the tutorials' networks (zoo), airbench94's
fast recipe, the experiment runner and the ``minicnn`` command.
"""
__version__ = '0.1.0'

# First, before anything below imports NumPy, which loads OpenBLAS: importing
# the kernels tells the thread pools how to wait (see minicnn/kernels/threads.py).
from minicnn import kernels  # noqa: E402,F401

from minicnn import functional  # noqa: E402  (attaches the Tensor operators)
from minicnn.autograd import Tensor, no_grad  # noqa: E402
from minicnn.devices import get_array_module, get_device, set_device  # noqa: E402
from minicnn.tools.gradcheck import GradcheckError, gradcheck  # noqa: E402
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
