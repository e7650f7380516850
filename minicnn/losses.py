"""Keras loss names, as ``compile(loss=...)`` takes them.

Each Loss maps ``(y_true, y_pred, sample_weight=None) -> scalar Tensor``:
Keras's "sum over batch size" reduction of the per-sample losses l_n,

    L = 1/N sum_n w_n l_n          (w_n = 1 without sample weights)

When the model ends in softmax, ``minicnn.training.loss_and_outputs``
computes a cross-entropy from the logits instead, with softmax fused into
it (``functional.softmax_cross_entropy``): exact and finite.
"""
from minicnn import functional as F
from minicnn.autograd import Tensor

# Keras clips probabilities to [eps, 1 - eps] before the log.
_EPSILON = 1e-7


class Loss:
    name = None

    def __call__(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError


def weighted_mean(per_sample, sample_weight):
    """1/N sum_n w_n l_n for an (N,) Tensor of per-sample losses."""
    if sample_weight is None:
        return per_sample.mean()
    w = F.loss_functions.check_sample_weight(sample_weight, per_sample.shape[0], 'loss')
    return (per_sample * Tensor(w.astype(per_sample.dtype))).sum() / per_sample.shape[0]


class CrossEntropy(Loss):
    """-mean_n sum_k t[n, k] log p[n, k], with p the model's probabilities."""

    def __init__(self, name):
        self.name = name

    def __call__(self, y_true, y_pred, sample_weight=None):
        rows = Tensor(F.loss_functions.target_rows(y_true, y_pred.shape, self.name).astype(y_pred.dtype))
        log_p = (y_pred * (1 - 2 * _EPSILON) + _EPSILON).log()
        return weighted_mean(-(rows * log_p).sum(axis=1), sample_weight)


class MeanSquaredError(Loss):
    name = 'mean_squared_error'

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_true = y_true.reshape(y_pred.shape) if y_true.size == y_pred.size else y_true
        return F.mean_squared_error(y_pred, y_true.astype(y_pred.dtype), sample_weight)


LOSSES = {
    'categorical_crossentropy': lambda: CrossEntropy('categorical_crossentropy'),
    'sparse_categorical_crossentropy': lambda: CrossEntropy('sparse_categorical_crossentropy'),
    'mse': MeanSquaredError,
    'mean_squared_error': MeanSquaredError,
}


def get(identifier):
    """A Loss for a Keras name or a Loss instance."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in LOSSES:
        return LOSSES[identifier.lower()]()
    raise ValueError(f'unknown loss {identifier!r}; valid names: {sorted(LOSSES)}')
