"""Keras losses: functions, classes and names, as ``compile(loss=...)`` takes them.

A loss *function* maps labels y_true and outputs y_pred (N, ..., K) to one
value per sample (N, ...), K the last axis; eps = backend.epsilon(), 1e-7 unless set:

    categorical_crossentropy    -sum_k t_k log p_k            p = y_pred / sum_k y_pred_k
    sparse_categorical_...      the same, t the one-hot row of a class id
    binary_crossentropy         mean_k -(t log p + (1 - t) log(1 - p))
    mean_squared_error  (mse)   mean_k (y_pred - t)^2
    mean_absolute_error (mae)   mean_k |y_pred - t|
    huber                       mean_k h_delta(y_pred - t)     (functional.HuberError)
    hinge                       mean_k max(1 - t y_pred, 0)    (labels 0/1 become -1/1)
    squared_hinge               mean_k max(1 - t y_pred, 0)^2
    kl_divergence       (kld)   sum_k t log(t / p)             (t and p clipped to [eps, 1])

Probabilities are clipped to [eps, 1 - eps] before a log, as Keras does.
``label_smoothing`` s replaces the targets by t (1 - s) + s / K
(categorical) or t (1 - s) + s / 2 (binary). With ``from_logits=True`` a
cross-entropy takes y_pred as logits: log_softmax(z), or the fused sigmoid
form of functional.sigmoid_binary_cross_entropy.

A loss *class* (CategoricalCrossentropy, Huber(delta=2.0), ...) holds the
arguments and reduces the per-sample values l_n with Keras's "sum over
batch size", sample weights w_n defaulting to 1:

    L = 1/N sum_n w_n l_n            (a scalar Tensor; N counts every value of l)

When the model ends in softmax (or sigmoid) and the loss is a categorical
(or binary) cross-entropy, ``minicnn.training.loss_and_outputs`` computes
the loss from the logits instead (``CrossEntropy.on_logits``): exact and finite.
"""
import functools

import numpy as np

from minicnn import backend, missing
from minicnn import functional as F
from minicnn.arguments import keywords_checked
from minicnn.autograd import Tensor, as_tensor, is_grad_enabled
from minicnn.devices import get_array_module
from minicnn.functional import loss_functions
from minicnn.layers.base import snake_case
from minicnn.backend.symbolic import Expression, Symbolic

# -- the per-sample functions --------------------------------------------------

def per_sample(function):
    """A per-sample loss function that also takes symbolic tensors, as Keras's
    do: given one, it writes the Expression of itself, shaped as it reduces
    the last axis (``K.mean(binary_crossentropy(K.flatten(x), K.flatten(decoded)))``).
    The loss is differentiated by y_pred only: y_true is taken as labels."""
    @functools.wraps(function)
    def loss(y_true, y_pred, *args, **kwargs):
        def compute(t, p):
            if isinstance(t, Tensor) and t.requires_grad and is_grad_enabled():
                raise missing.MissingFeatureError(
                    f'losses.{function.__name__}: y_true is computed from trainable weights, '
                    f'but minicnn\'s losses take y_true as constant labels and would give it '
                    f'no gradient; write this loss with minicnn.backend functions instead')
            return function(t, p, *args, **kwargs)
        if isinstance(y_true, Symbolic) or isinstance(y_pred, Symbolic):
            shape = per_sample_shape(backend.int_shape(y_true), backend.int_shape(y_pred))
            return Expression(function.__name__, compute, [y_true, y_pred], shape)
        return compute(y_true, y_pred)
    return loss


def per_sample_shape(true_shape, pred_shape):
    """The shape of a per-sample loss: the aligned shape (as
    ``squeeze_or_expand_to_same_rank`` aligns) without its last axis."""
    low, high = sorted((tuple(true_shape), tuple(pred_shape)), key=len)
    squeezed = len(high) == len(low) + 1 and high[-1] == 1 and len(low) > 1
    return (low if squeezed else high)[:-1]


def labels_array(y):
    """Labels (or weights) as an array: lists become NumPy arrays, Tensors give their data."""
    if isinstance(y, Tensor):
        return y.data
    return y if hasattr(y, 'shape') else np.asarray(y)


def squeeze_or_expand_to_same_rank(x1, x2):
    """Keras's alignment of two arrays (or Tensors) whose ranks differ by one
    trailing axis of size 1: (N,) against (N, 1) becomes (N, 1) against
    (N, 1), and (N, H, 1) against (N, H) drops the 1."""
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        return (x1, x2.reshape((*x2.shape, 1))) if x2.ndim == 1 else (x1.reshape(x1.shape[:-1]), x2)
    if x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        return (x1.reshape((*x1.shape, 1)), x2) if x1.ndim == 1 else (x1, x2.reshape(x2.shape[:-1]))
    return x1, x2


def aligned(y_true, y_pred, where):
    """(targets, outputs): y_true as an array of y_pred's dtype and shape, y_pred a Tensor."""
    y_pred = as_tensor(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(labels_array(y_true), y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f'{where}: y_true shape {y_true.shape} does not match y_pred shape '
                         f'{y_pred.shape}')
    return y_true.astype(y_pred.dtype), y_pred


def class_rows(y_true, y_pred, label_smoothing, where):
    """y_true as (N, K) target rows of y_pred's dtype (class ids become one-hot rows),
    smoothed as Keras does: t (1 - s) + s / K."""
    if y_pred.ndim == 2 and y_pred.shape[1] == 1:  # Keras only warns, and the loss is then 0
        raise ValueError(f'{where}: y_pred has one column, shape {y_pred.shape}; a categorical '
                         f'cross-entropy needs (N, classes) with classes > 1. For one sigmoid '
                         f'output use binary_crossentropy')
    rows = loss_functions.target_rows(labels_array(y_true), y_pred.shape, where)
    rows = rows.astype(y_pred.dtype)
    if label_smoothing:
        rows = rows * (1 - label_smoothing) + label_smoothing / rows.shape[-1]
    return rows


def clipped_log(p):
    """log p, p first clipped to [eps, 1 - eps] as Keras does (eps = backend.epsilon())."""
    eps = backend.epsilon()
    return loss_functions.clip(p, eps, 1 - eps).log()


@per_sample
def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    """-sum_k t_k log p_k for each sample: y_pred (N, K) probabilities (normalized to sum
    1, as Keras does) or, from_logits, logits; y_true one-hot rows (or class ids)."""
    y_pred = as_tensor(y_pred)
    rows = class_rows(y_true, y_pred, label_smoothing, 'categorical_crossentropy')
    log_p = F.log_softmax(y_pred) if from_logits else \
        clipped_log(y_pred / y_pred.sum(axis=-1, keepdims=True))
    return -(rows * log_p).sum(axis=-1)


@per_sample
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """categorical_crossentropy with y_true class ids (N,) or (N, 1)."""
    return categorical_crossentropy(y_true, y_pred, from_logits)


def binary_targets(y_true, y_pred, label_smoothing):
    """(targets, outputs) aligned, the targets smoothed as Keras does: t (1 - s) + s / 2."""
    targets, y_pred = aligned(y_true, y_pred, 'binary_crossentropy')
    return targets * (1 - label_smoothing) + 0.5 * label_smoothing, y_pred


@per_sample
def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    """mean_k -(t log p + (1 - t) log(1 - p)) for each sample: y_pred probabilities
    of "yes" or, from_logits, logits; y_true 0/1 labels (or probabilities)."""
    t, y_pred = binary_targets(y_true, y_pred, label_smoothing)
    if from_logits:
        return loss_functions.SigmoidBinaryCrossEntropy()(y_pred, t).mean(axis=-1)
    return -(t * clipped_log(y_pred) + (1 - t) * clipped_log(1 - y_pred)).mean(axis=-1)


@per_sample
def mean_squared_error(y_true, y_pred):
    """mean_k (y_pred - y_true)^2 for each sample."""
    y_true, y_pred = aligned(y_true, y_pred, 'mean_squared_error')
    error = y_pred - y_true
    return (error * error).mean(axis=-1)


@per_sample
def mean_absolute_error(y_true, y_pred):
    """mean_k |y_pred - y_true| for each sample."""
    y_true, y_pred = aligned(y_true, y_pred, 'mean_absolute_error')
    return loss_functions.absolute_error(y_true, y_pred).mean(axis=-1)


@per_sample
def huber(y_true, y_pred, delta=1.0):
    """mean_k of the Huber function of y_pred - y_true (functional.HuberError) for each sample."""
    y_true, y_pred = aligned(y_true, y_pred, 'huber')
    return loss_functions.huber_error(y_true, y_pred, delta).mean(axis=-1)


def plus_minus_one(y_true, y_pred, where):
    """Hinge labels: 0/1 labels become -1/1, as Keras converts them; -1/1 stay."""
    t, y_pred = aligned(y_true, y_pred, where)
    is_binary = ((t == 0) | (t == 1)).all()  # stays on the device: no wait for the GPU
    return get_array_module(t).where(is_binary, 2 * t - 1, t), y_pred


@per_sample
def hinge(y_true, y_pred):
    """mean_k max(1 - t y_pred, 0) for each sample, t in {-1, 1}."""
    t, y_pred = plus_minus_one(y_true, y_pred, 'hinge')
    return F.relu(1 - t * y_pred).mean(axis=-1)


@per_sample
def squared_hinge(y_true, y_pred):
    """mean_k max(1 - t y_pred, 0)^2 for each sample, t in {-1, 1}."""
    t, y_pred = plus_minus_one(y_true, y_pred, 'squared_hinge')
    margin = F.relu(1 - t * y_pred)
    return (margin * margin).mean(axis=-1)


@per_sample
def kl_divergence(y_true, y_pred):
    """sum_k t log(t / p) for each sample, t and p clipped to [eps, 1]."""
    t, y_pred = aligned(y_true, y_pred, 'kl_divergence')
    xp, eps = get_array_module(t), backend.epsilon()
    t = xp.clip(t, eps, 1)
    log_ratio = xp.log(t) - loss_functions.clip(y_pred, eps, 1).log()
    return (t * log_ratio).sum(axis=-1)


# -- the classes -------------------------------------------------------------------

class Loss:
    """Keras's Loss: ``loss(y_true, y_pred, sample_weight=None)`` is the scalar
    Tensor 1/N sum_n w_n l_n of the per-sample values l = ``call(y_true, y_pred)``."""

    @keywords_checked
    def __init__(self, name=None):
        self.name = name or snake_case(type(self).__name__)

    def __call__(self, y_true, y_pred, sample_weight=None):
        weights = None if sample_weight is None else labels_array(sample_weight)
        return loss_functions.weighted_mean(self.call(y_true, y_pred), weights)

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self):
        return {'name': self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A Loss from a per-sample function ``fn(y_true, y_pred, **kwargs)``
    (how ``compile(loss=my_function)`` takes a function)."""

    def __init__(self, fn, name=None, **kwargs):
        super().__init__(name or fn.__name__)
        self.fn, self.fn_kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self):
        return {**super().get_config(), **self.fn_kwargs}


def check_fraction(where, name, value):
    if not 0 <= value <= 1:
        raise ValueError(f'{where}: {name} must be in [0, 1], got {value!r}')
    return float(value)


class CrossEntropy(Loss):
    """A cross-entropy of probabilities or, with ``from_logits``, of logits.

    ``activation`` names the activation whose logits ``on_logits`` takes:
    'softmax' for the categorical ones, 'sigmoid' for the binary one.
    """
    activation = None

    def __init__(self, from_logits, label_smoothing, name):
        super().__init__(name)
        self.from_logits = bool(from_logits)
        self.label_smoothing = check_fraction(type(self).__name__, 'label_smoothing',
                                              label_smoothing)

    def __call__(self, y_true, y_pred, sample_weight=None):
        if self.from_logits:  # one fused, exact step rather than the per-sample function
            weights = None if sample_weight is None else labels_array(sample_weight)
            return self.on_logits(y_true, as_tensor(y_pred), weights)
        return super().__call__(y_true, y_pred, sample_weight)

    def on_logits(self, y_true, logits, sample_weight=None):
        """The loss of activation(logits), computed from the logits in one exact step."""
        raise NotImplementedError

    def get_config(self):
        return {**super().get_config(), 'from_logits': self.from_logits,
                'label_smoothing': self.label_smoothing}


class CategoricalCrossentropy(CrossEntropy):
    """categorical_crossentropy reduced; y_true one-hot rows (N, K) (or class ids)."""
    activation = 'softmax'

    @keywords_checked
    def __init__(self, from_logits=False, label_smoothing=0.0, name='categorical_crossentropy'):
        super().__init__(from_logits, label_smoothing, name)

    def call(self, y_true, y_pred):
        return categorical_crossentropy(y_true, y_pred, self.from_logits, self.label_smoothing)

    def on_logits(self, y_true, logits, sample_weight=None):
        """functional.softmax_cross_entropy of the (smoothed) target rows."""
        rows = class_rows(y_true, logits, self.label_smoothing, self.name)
        return F.softmax_cross_entropy(logits, rows, sample_weight)


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """categorical_crossentropy reduced, y_true class ids (N,) or (N, 1)."""

    @keywords_checked
    def __init__(self, from_logits=False, name='sparse_categorical_crossentropy'):
        super().__init__(from_logits, 0.0, name)

    def get_config(self):
        return {'name': self.name, 'from_logits': self.from_logits}


class BinaryCrossentropy(CrossEntropy):
    """binary_crossentropy reduced; y_true 0/1 labels of the outputs' shape
    ((N,) is taken for (N, 1))."""
    activation = 'sigmoid'

    @keywords_checked
    def __init__(self, from_logits=False, label_smoothing=0.0, name='binary_crossentropy'):
        super().__init__(from_logits, label_smoothing, name)

    def call(self, y_true, y_pred):
        return binary_crossentropy(y_true, y_pred, self.from_logits, self.label_smoothing)

    def on_logits(self, y_true, logits, sample_weight=None):
        """functional.sigmoid_binary_cross_entropy of the (smoothed) targets."""
        targets, logits = binary_targets(y_true, logits, self.label_smoothing)
        return loss_functions.sigmoid_binary_cross_entropy(logits, targets, sample_weight)


class MeanSquaredError(LossFunctionWrapper):
    @keywords_checked
    def __init__(self, name='mean_squared_error'):
        super().__init__(mean_squared_error, name)


class MeanAbsoluteError(LossFunctionWrapper):
    @keywords_checked
    def __init__(self, name='mean_absolute_error'):
        super().__init__(mean_absolute_error, name)


class Huber(LossFunctionWrapper):
    """huber reduced; delta > 0 is where the loss turns from quadratic to linear."""

    @keywords_checked
    def __init__(self, delta=1.0, name='huber_loss'):
        if not delta > 0:
            raise ValueError(f'Huber: delta must be positive, got {delta!r}')
        super().__init__(huber, name, delta=float(delta))


class Hinge(LossFunctionWrapper):
    @keywords_checked
    def __init__(self, name='hinge'):
        super().__init__(hinge, name)


class SquaredHinge(LossFunctionWrapper):
    @keywords_checked
    def __init__(self, name='squared_hinge'):
        super().__init__(squared_hinge, name)


class KLDivergence(LossFunctionWrapper):
    @keywords_checked
    def __init__(self, name='kl_divergence'):
        super().__init__(kl_divergence, name)


# -- names ------------------------------------------------------------------------

CLASSES = {cls.__name__: cls for cls in (
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, MeanSquaredError,
    MeanAbsoluteError, Huber, Hinge, SquaredHinge, KLDivergence)}

# Keras's function names and their short aliases, each meaning its class with defaults.
FUNCTION_NAMES = {
    'binary_crossentropy': BinaryCrossentropy, 'bce': BinaryCrossentropy,
    'categorical_crossentropy': CategoricalCrossentropy,
    'sparse_categorical_crossentropy': SparseCategoricalCrossentropy,
    'mean_squared_error': MeanSquaredError, 'mse': MeanSquaredError,
    'mean_absolute_error': MeanAbsoluteError, 'mae': MeanAbsoluteError,
    'huber': Huber, 'hinge': Hinge, 'squared_hinge': SquaredHinge,
    'kl_divergence': KLDivergence, 'kld': KLDivergence,
    'kullback_leibler_divergence': KLDivergence,
}
LOSSES = {**FUNCTION_NAMES, **CLASSES}
_BY_LOWER_CASE = {name.lower(): cls for name, cls in LOSSES.items()}


def get(identifier):
    """A Loss for a Keras name ('mse', 'BinaryCrossentropy', in any case), a Loss
    (returned as is), a Loss class, a function f(y_true, y_pred) of per-sample
    values, or ``serialize``'s dict."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict) and identifier.get('class_name') in CLASSES:
        return CLASSES[identifier['class_name']].from_config(identifier.get('config', {}))
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str) and identifier.lower() in _BY_LOWER_CASE:
        return _BY_LOWER_CASE[identifier.lower()]()
    if callable(identifier) and not isinstance(identifier, type):
        return LossFunctionWrapper(identifier)
    raise ValueError(f'unknown loss {identifier!r}; valid names: {sorted(LOSSES)}')


def serialize(loss):
    """What ``get`` rebuilds ``loss`` from: {'class_name', 'config'}, or the name
    of the function a LossFunctionWrapper wraps."""
    if type(loss) is LossFunctionWrapper:
        return loss.fn.__name__
    return {'class_name': type(loss).__name__, 'config': loss.get_config()}

# Keras's short names of the per-sample functions.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
kld = KLD = kullback_leibler_divergence = kl_divergence


def deserialize(identifier):
    """``serialize``'s inverse, as in Keras: a function's name ('mse',
    'categorical_crossentropy') gives the per-sample function, anything else
    what ``get`` gives (serialize's dict: the Loss object)."""
    if isinstance(identifier, str) and identifier in FUNCTION_NAMES and identifier in globals():
        return globals()[identifier]
    return get(identifier)


missing.install(globals(), 'losses')
