"""Keras loss names, as ``compile(loss=...)`` takes them.

Each Loss maps ``(y_true, y_pred) -> scalar Tensor``, the mean over the batch.
The cross-entropies, when the model ends in softmax, are computed from the
logits instead (``from_logits``): softmax and log fused, exact and finite.
"""
from minicnn import functional as F
from minicnn.autograd import Tensor

# Keras clips probabilities to [eps, 1 - eps] before the log.
_EPSILON = 1e-7


class Loss:
    name = None
    fuses_softmax = False

    def __call__(self, y_true, y_pred):
        raise NotImplementedError


class CrossEntropy(Loss):
    """-mean_n sum_k t[n, k] log p[n, k], with p the model's probabilities."""
    fuses_softmax = True

    def __init__(self, name):
        self.name = name

    def __call__(self, y_true, y_pred):
        rows = Tensor(F.losses.target_rows(y_true, y_pred.shape, self.name).astype(y_pred.dtype))
        log_p = (y_pred * (1 - 2 * _EPSILON) + _EPSILON).log()
        return -(rows * log_p).sum() / y_pred.shape[0]

    def from_logits(self, y_true, logits):
        return F.softmax_cross_entropy(logits, y_true)


class MeanSquaredError(Loss):
    name = 'mean_squared_error'

    def __call__(self, y_true, y_pred):
        y_true = y_true.reshape(y_pred.shape) if y_true.size == y_pred.size else y_true
        return F.mean_squared_error(y_pred, y_true.astype(y_pred.dtype))


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
