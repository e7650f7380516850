"""Loss functions: scalar tensors averaged over the batch.

softmax_cross_entropy fuses softmax and cross-entropy. For logits z (N, K)
and target rows t (N, K) (one-hot or probabilities):

    L = -1/N * sum_n sum_k t[n, k] * log_softmax(z)[n, k]
    dL/dz = (softmax(z) - t) / N

The fused gradient is exact and bounded, while log(softmax(z)) computed in
two steps gives log(0) = -inf for large logits.
"""
import numpy as np

from minicnn.autograd import Function
from minicnn.backend import get_array_module
from minicnn.functional.activations import log_softmax_array


def check_class_ids(ids, classes, fn_name):
    """Class ids must be whole numbers in [0, classes)."""
    if ids.dtype.kind == 'f' and (ids != np.round(ids)).any():
        raise ValueError(f'{fn_name}: class ids must be whole numbers')
    if ids.size and (ids.min() < 0 or ids.max() >= classes):
        raise ValueError(f'{fn_name}: class ids must lie in [0, {classes}), '
                         f'got values from {int(ids.min())} to {int(ids.max())}')


def target_rows(labels, logits_shape, fn_name='softmax_cross_entropy'):
    """Labels as (N, K) rows: class ids (N,) or (N, 1) become one-hot rows."""
    n, k = logits_shape
    xp = get_array_module(labels)
    if labels.ndim == 2 and labels.shape[1] == k and k > 1:
        if labels.shape[0] != n:
            raise ValueError(f'{fn_name}: labels shape {labels.shape} does not match '
                             f'logits shape {logits_shape}')
        return labels
    ids = labels.reshape(-1) if labels.ndim == 2 and labels.shape[1] == 1 else labels
    if ids.ndim != 1 or ids.shape[0] != n:
        raise ValueError(f'{fn_name}: labels must be class ids (N,) or (N, 1), or rows (N, {k}); '
                         f'got shape {labels.shape} for logits shape {logits_shape}')
    if xp is np:  # checking GPU labels would wait for the GPU; fit checks them before the copy
        check_class_ids(ids, k, fn_name)
    ids = ids.astype(xp.int64)
    rows = xp.zeros(logits_shape, dtype=labels.dtype if labels.dtype.kind == 'f' else xp.float32)
    rows[xp.arange(n), ids] = 1
    return rows


class SoftmaxCrossEntropy(Function):
    def forward(self, logits, labels):
        if logits.ndim != 2:
            raise ValueError(f'softmax_cross_entropy: logits must be (N, classes), got {logits.shape}')
        self.targets = target_rows(labels, logits.shape).astype(logits.dtype)
        self.log_p = log_softmax_array(logits)
        n = logits.shape[0]
        return -(self.targets * self.log_p).sum() / n

    def backward(self, gy):
        n = self.log_p.shape[0]
        softmax = get_array_module(gy).exp(self.log_p)
        return gy * (softmax - self.targets) / n, None


class MeanSquaredError(Function):
    """L = mean((y_pred - y_true)**2);  dL/dy_pred = 2 (y_pred - y_true) / size."""

    def forward(self, y_pred, y_true):
        if y_pred.shape != y_true.shape:
            raise ValueError(f'mean_squared_error: y_pred shape {y_pred.shape} differs '
                             f'from y_true shape {y_true.shape}')
        self.diff = y_pred - y_true
        return (self.diff * self.diff).mean()

    def backward(self, gy):
        g = gy * 2 * self.diff / self.diff.size
        return g, -g


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against labels.

    logits (N, K); labels class ids (N,) or (N, 1), or one-hot/probability
    rows (N, K). Returns a scalar tensor. Finite even for logits of +-1e4.
    """
    return SoftmaxCrossEntropy()(logits, labels)


def mean_squared_error(y_pred, y_true):
    """Mean of the squared differences over all elements; a scalar tensor."""
    return MeanSquaredError()(y_pred, y_true)
