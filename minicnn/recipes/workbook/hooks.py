"""A learner's functions inside a real network: Functions, layers and optimizers
that call them where minicnn's own would run.

Nothing of minicnn is patched. Each piece is a subclass written as a user
of minicnn writes one: a ``Function`` with its ``forward`` and ``backward``
(which here call the learner's), a Keras layer whose ``forward`` calls such a
Function (the method every layer writes), an optimizer whose ``update`` calls
the learner's step (the method every rule writes). ``with_workbook`` then
rebuilds a network layer by layer, as Keras's ``clone_model`` with a
``clone_function`` would, putting these layers where the learner's exercises
apply and keeping the weights.

The learner's functions take and give NumPy arrays; their results are cast
to the dtype of the arrays they were given (float32 in a network).
"""
import types

import numpy as np

from minicnn import devices
from minicnn.autograd import Function, as_tensor
from minicnn.functional.conv import Im2colConvolution
from minicnn.functional.geometry import window_geometry
from minicnn.layers import BatchNormalization, Conv2D, Dense, Dropout, MaxPooling2D
from minicnn.models import Sequential
from minicnn.optimizers import SGD, Adam
from minicnn.recipes.workbook import adapters, solutions
from minicnn.recipes.workbook.catalog import EXERCISES


class Workbook:
    """The functions a run calls: the learner's for the ``chosen`` exercises (a dict
    of exercise name -> the learner's loaded module), minicnn's for the others."""

    def __init__(self, chosen):
        self.chosen = tuple(name for name in EXERCISES if name in chosen)
        functions = {}
        for name, exercise in EXERCISES.items():
            source = chosen.get(name, solutions)
            functions.update({p.name: getattr(source, p.name) for p in exercise.parts})
        self.code = types.SimpleNamespace(**functions)

    def uses(self, *exercises):
        """Whether the learner's code runs for any of these exercises."""
        return any(name in self.chosen for name in exercises)

    def relu(self, z):
        """The learner's ReLU on a Tensor: what a layer with activation='relu' applies."""
        return LearnerReLU(self.code)(z)

    def loss(self, logits, targets):
        """Mean softmax cross-entropy of logits (N, K) against target rows, a scalar Tensor."""
        if self.uses('softmax_cross_entropy'):
            return LearnerSoftmaxCrossEntropy(self.code)(logits, targets)
        return adapters.softmax_cross_entropy_on_logits(logits, targets)


def cast(result, dtype):
    return np.asarray(result, dtype=dtype)


def cast_all(results, dtype):
    return tuple(None if r is None else cast(r, dtype) for r in results)


# -- Functions ------------------------------------------------------------------


class LearnerReLU(Function):
    def __init__(self, code):
        self.code = code

    def forward(self, x):
        self.x = x
        return cast(self.code.relu_forward(x), x.dtype)

    def backward(self, gy):
        return (cast(self.code.relu_backward(gy, self.x), gy.dtype),)


class LearnerDense(Function):
    def __init__(self, code):
        self.code = code

    def forward(self, x, kernel, bias=None):
        self.x, self.kernel = x, kernel
        bias = np.zeros(kernel.shape[1], kernel.dtype) if bias is None else bias
        return cast(self.code.dense_forward(x, kernel, bias), x.dtype)

    def backward(self, gy):
        return cast_all(self.code.dense_backward(gy, self.x, self.kernel), gy.dtype)


class WorkbookConvolution(Im2colConvolution):
    """Im2colConvolution with the learner's im2col as its ``unfold``, and the
    learner's conv2d_forward and conv2d_backward in place of its own, for
    those the learner has written (minicnn's for the others)."""

    def __init__(self, workbook, strides, padding):
        super().__init__(strides, padding)
        self.workbook, self.code = workbook, workbook.code

    def unfold(self, x):
        return cast(self.code.im2col(x, self.kernel.shape[:2], self.strides, self.pad), x.dtype)

    def forward(self, x, kernel, bias=None):
        self.x = x
        if not self.workbook.uses('conv2d_forward'):
            return super().forward(x, kernel, bias)
        self.pad, _ = self.geometry(x.shape, kernel.shape)
        self.x_shape, self.kernel = x.shape, kernel
        bias = np.zeros(kernel.shape[3], kernel.dtype) if bias is None else bias
        return cast(self.code.conv2d_forward(x, kernel, bias, self.strides, self.pad), x.dtype)

    def backward(self, gy):
        if self.workbook.uses('conv2d_backward'):
            return cast_all(self.code.conv2d_backward(gy, self.x, self.kernel, self.strides,
                                                      self.pad), gy.dtype)
        if not hasattr(self, 'cols'):  # the learner's forward unfolded nothing
            self.cols = self.unfold(self.x)
        return super().backward(gy)


class LearnerMaxPool(Function):
    def __init__(self, code, window, strides, padding):
        self.code, self.window, self.strides, self.padding = code, window, strides, padding

    def forward(self, x):
        self.x = x
        self.pad, _ = window_geometry('max_pool2d', x.shape, self.window, self.strides,
                                      self.padding)
        return cast(self.code.max_pool_forward(x, self.window, self.strides, self.pad), x.dtype)

    def backward(self, gy):
        return (cast(self.code.max_pool_backward(gy, self.x, self.window, self.strides,
                                                 self.pad), gy.dtype),)


class LearnerDropout(Function):
    """The learner's dropout; while training, on the draws minicnn's InvertedDropout
    would make (so that both drop the same elements)."""

    def __init__(self, code, rate, training):
        self.code, self.rate, self.training = code, rate, training

    def forward(self, x):
        # as minicnn's: no draws where nothing is dropped (keeping the random streams in step)
        draws = self.training and self.rate > 0
        self.uniform = devices.rng(devices.device_of(x)).random(x.shape, dtype='float32') \
            if draws else np.ones(x.shape, 'float32')
        return cast(self.code.dropout_forward(x, self.rate, self.training, self.uniform), x.dtype)

    def backward(self, gy):
        if not self.training:
            return (gy,)
        return (cast(self.code.dropout_backward(gy, self.rate, self.uniform), gy.dtype),)


class LearnerBatchNorm(Function):
    def __init__(self, code, epsilon):
        self.code, self.epsilon = code, epsilon

    def forward(self, x, gamma, beta):
        self.x, self.gamma = x, gamma
        y, self.mean, self.variance = self.code.batchnorm_forward(x, gamma, beta, self.epsilon)
        self.mean, self.variance = cast(self.mean, x.dtype), cast(self.variance, x.dtype)
        return cast(y, x.dtype)

    def backward(self, gy):
        return cast_all(self.code.batchnorm_backward(gy, self.x, self.gamma, self.epsilon),
                        gy.dtype)


class LearnerSoftmaxCrossEntropy(Function):
    def __init__(self, code):
        self.code = code

    def forward(self, logits, targets):
        loss, self.dlogits = self.code.softmax_cross_entropy(logits, targets)
        return cast(loss, logits.dtype)

    def backward(self, gy):
        return gy * cast(self.dlogits, gy.dtype), None


# -- layers --------------------------------------------------------------------------
# Their names start with '_': they are no public layers, so that Layer.subclasses(),
# which rebuilds saved models by class name, leaves them out.


class _WorkbookConv2D(Conv2D):
    """Conv2D by WorkbookConvolution (no dilation, one group: what the exercises cover)."""
    workbook = None

    def forward(self, x, training):
        conv = WorkbookConvolution(self.workbook, self.strides, self.padding)
        return conv(x, self.kernel) if self.bias is None else conv(x, self.kernel, self.bias)


class _WorkbookDense(Dense):
    workbook = None

    def forward(self, x, training):
        inputs = (x, self.kernel) if self.bias is None else (x, self.kernel, self.bias)
        return LearnerDense(self.workbook.code)(*inputs)


class _WorkbookMaxPooling2D(MaxPooling2D):
    workbook = None

    def forward(self, x, training):
        return LearnerMaxPool(self.workbook.code, self.pool_size, self.strides, self.padding)(x)


class _WorkbookDropout(Dropout):
    workbook = None

    def forward(self, x, training):
        return LearnerDropout(self.workbook.code, self.rate, training)(x)


class _WorkbookBatchNormalization(BatchNormalization):
    """BatchNormalization whose training normalization is the learner's (features last)."""
    workbook = None

    def normalize_by_batch(self, x):
        xp = devices.get_array_module(x.data)
        features = x.shape[-1]
        gamma = self.gamma if self.gamma is not None else as_tensor(xp.ones(features, x.dtype))
        beta = self.beta if self.beta is not None else as_tensor(xp.zeros(features, x.dtype))
        norm = LearnerBatchNorm(self.workbook.code, self.epsilon)
        return norm(x, gamma, beta), norm.mean, norm.variance


# (minicnn's layer, the workbook's, the exercises that make the workbook's run the learner's code)
REPLACEMENTS = ((Conv2D, _WorkbookConv2D, ('im2col', 'conv2d_forward', 'conv2d_backward')),
                (Dense, _WorkbookDense, ('dense',)),
                (MaxPooling2D, _WorkbookMaxPooling2D, ('max_pool',)),
                (Dropout, _WorkbookDropout, ('dropout',)),
                (BatchNormalization, _WorkbookBatchNormalization, ('batchnorm',)))


def with_workbook(model, workbook):
    """A Sequential of ``model``'s layers, each rebuilt as its workbook twin (same
    config, same weights) where the learner's exercises apply to it; the other
    layers are ``model``'s own, so ``model`` should be a fresh one, not used again.
    Returns the model and a line per layer that runs the learner's code."""
    layers, report = [], []
    for original in model.layers:
        layer, exercises = workbook_layer(original, workbook)
        layers.append(layer)
        if exercises:
            report.append(f'{layer.name} ({type(original).__name__}): your '
                          + ', '.join(exercises))
    return Sequential(layers, name=model.name), report


def workbook_layer(layer, workbook):
    """(the layer to use, the learner's exercises it runs)."""
    used = []
    for original, twin, exercises in REPLACEMENTS:
        if type(layer) is original and workbook.uses(*exercises):
            check_supported(layer)
            config = layer.get_config()
            rebuilt = twin.from_config(config)
            rebuilt.workbook = workbook
            rebuilt.build(layer.sample_shape)
            rebuilt.set_weights(layer.get_weights())
            layer = rebuilt
            used += [name for name in exercises if workbook.uses(name)]
    if 'im2col' in used and workbook.uses('conv2d_forward') and workbook.uses('conv2d_backward'):
        used.remove('im2col')  # the learner's convolution, forward and back, unfolds nothing
    if layer.activation_name == 'relu' and workbook.uses('relu'):
        layer.activation = workbook.relu  # what Layer.__call__ applies after forward
        used.append('relu')
    return layer, used


def check_supported(layer):
    """The exercises cover plain convolutions and features-last batch norms."""
    if isinstance(layer, Conv2D) and (layer.dilation_rate != (1, 1) or layer.groups != 1):
        raise ValueError(f"workbook: layer '{layer.name}' has dilation_rate "
                         f"{layer.dilation_rate} and groups {layer.groups}; the exercises' "
                         f"convolution has neither")
    if isinstance(layer, BatchNormalization) and layer.axis not in (-1, len(layer.sample_shape)):
        raise ValueError(f"workbook: layer '{layer.name}' normalizes axis {layer.axis}; the "
                         f"exercise's batch norm normalizes the last axis")


# -- optimizers -----------------------------------------------------------------------


class WorkbookSGD(SGD):
    """SGD with momentum whose every update is the learner's sgd_momentum_step."""

    def __init__(self, workbook, learning_rate, momentum):
        if not momentum > 0:
            raise ValueError(f'WorkbookSGD: the exercise is SGD with momentum; got '
                             f'momentum={momentum!r}')
        super().__init__(learning_rate, momentum=momentum)
        self.code = workbook.code

    def update(self, p, g, slots, lr):
        v = slots['v']
        p[...], v[...] = self.code.sgd_momentum_step(p, g, v, lr, self.momentum)


class WorkbookAdam(Adam):
    """Adam whose every update is the learner's adam_step (t = the steps so far + 1)."""

    def __init__(self, workbook, learning_rate, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if self.amsgrad:
            raise ValueError('WorkbookAdam: the exercise is Adam without amsgrad')
        self.code = workbook.code

    def update(self, p, g, slots, lr):
        m, v = slots['m'], slots['v']
        p[...], m[...], v[...] = self.code.adam_step(p, g, m, v, self.iterations + 1, lr,
                                                     self.beta_1, self.beta_2, self.epsilon)
