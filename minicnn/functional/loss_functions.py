"""Loss functions: the Functions that losses are made of, and Keras's reduction.

softmax_cross_entropy fuses softmax and cross-entropy. For logits z (N, K)
and target rows t (N, K) (one-hot or probabilities):

    L = -1/N * sum_n sum_k t[n, k] * log_softmax(z)[n, k]
    dL/dz = (softmax(z) - t) / N          (for rows t that sum to 1)

sigmoid_binary_cross_entropy fuses sigmoid and binary cross-entropy, one
logit z per yes/no target t:

    l(z, t) = -t log sigmoid(z) - (1 - t) log(1 - sigmoid(z))
            = max(z, 0) - z t + log(1 + exp(-|z|))
    dl/dz = sigmoid(z) - t

Both are exact and finite for any logits, while log(softmax(z)) or
log(sigmoid(z)) computed in two steps gives log(0) = -inf for large ones.

``weighted_mean`` is Keras's "sum over batch size" reduction of per-sample
losses l (N, ...) with optional per-sample weights w (N,):

    L = sum(w_n l[n, ...]) / l.size
"""
import numpy as np

from minicnn.autograd import Function, Tensor
from minicnn.devices import get_array_module
from minicnn.functional.activation_functions import log_softmax_array


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
        # Rows and logits have the same shape, so arguments given in the other
        # order would pass unseen but for this: logits are signed, targets not.
        if xp is np and labels.size and labels.min() < 0:
            raise ValueError(f'{fn_name}: target rows must be non-negative, got a minimum of '
                             f'{float(labels.min()):g}; the order is {fn_name}(logits, labels)')
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


def check_sample_weight(sample_weight, n, fn_name):
    """Per-sample weights as an (N,) array; None stays None."""
    if sample_weight is None:
        return None
    w = sample_weight.reshape(-1) if sample_weight.ndim == 2 and sample_weight.shape[1] == 1 \
        else sample_weight
    if w.shape != (n,):
        raise ValueError(f'{fn_name}: sample_weight must have shape ({n},), one weight per '
                         f'sample, got shape {sample_weight.shape}')
    return w


def per_sample(weights, ndim):
    """(N,) weights shaped (N, 1, ...) to broadcast over a sample's ndim - 1 other axes."""
    return weights.reshape(-1, *[1] * (ndim - 1))


def weighted_mean(losses, sample_weight=None):
    """Keras's "sum over batch size": sum(w_n l[n, ...]) / l.size for a Tensor l of
    per-sample losses (N, ...) and optional weights w (N,) (or one number, which
    scales the mean), a scalar Tensor."""
    if sample_weight is None:
        return losses.mean()
    if np.ndim(sample_weight) == 0:
        return losses.mean() * float(sample_weight)
    w = check_sample_weight(sample_weight, losses.shape[0], 'loss')
    return (losses * Tensor(per_sample(w, losses.ndim).astype(losses.dtype))).sum() / losses.size


class SoftmaxCrossEntropy(Function):
    """Softmax and cross-entropy in one step, with optional per-sample weights w::

        L = -1/N sum_n w_n sum_k t[n, k] log_softmax(z)[n, k]
        dL/dz[n] = w_n (s_n softmax(z[n]) - t[n]) / N,    s_n = sum_k t[n, k]

    For one-hot or probability rows s_n = 1 and the gradient is the familiar
    w_n (p - t) / N; rows that sum to something else (multi-hot, all zero)
    get the exact gradient of the same formula. Without weights w_n = 1.
    """

    def __init__(self, sample_weight=None):
        self.sample_weight = sample_weight

    def forward(self, logits, labels):
        if logits.ndim != 2:
            raise ValueError(f'softmax_cross_entropy: logits must be (N, classes), got {logits.shape}')
        n = logits.shape[0]
        w = check_sample_weight(self.sample_weight, n, 'softmax_cross_entropy')
        self.weights = None if w is None else w.astype(logits.dtype)[:, None]   # (N, 1)
        self.targets = target_rows(labels, logits.shape).astype(logits.dtype)  # (N, K)
        self.log_p = log_softmax_array(logits)                                  # (N, K)
        per_sample_loss = -(self.targets * self.log_p)
        if self.weights is not None:
            per_sample_loss = per_sample_loss * self.weights
        return per_sample_loss.sum() / n

    def backward(self, gy):
        n = self.log_p.shape[0]
        softmax = get_array_module(gy).exp(self.log_p)
        g = softmax * self.targets.sum(axis=1, keepdims=True) - self.targets
        if self.weights is not None:
            g = g * self.weights
        return gy * g / n, None


class SigmoidBinaryCrossEntropy(Function):
    """Binary cross-entropy of sigmoid(z) against targets t, elementwise::

        l = max(z, 0) - z t + log(1 + exp(-|z|))       dl/dz = sigmoid(z) - t

    The first form, -t log s - (1 - t) log(1 - s) with s = sigmoid(z), is
    this one rearranged: exp never overflows and the log never sees 0, so a
    logit of 1e4 gives a finite loss and the gradient sigmoid(z) - t.
    """

    def forward(self, logits, targets):
        if logits.shape != targets.shape:
            raise ValueError(f'sigmoid_binary_cross_entropy: logits shape {logits.shape} '
                             f'differs from targets shape {targets.shape}')
        xp = get_array_module(logits)
        self.targets = targets
        self.sigmoid = 0.5 * xp.tanh(0.5 * logits) + 0.5
        return xp.maximum(logits, 0) - logits * targets + xp.log1p(xp.exp(-xp.abs(logits)))

    def backward(self, gy):
        return gy * (self.sigmoid - self.targets), None


class MeanSquaredErrorFunction(Function):
    """Mean of the squared differences, each sample's weighted by w_n (default 1)::

        L = 1/size sum_n w_n sum_j (y_pred[n, j] - y_true[n, j])**2
        dL/dy_pred = 2 w_n (y_pred - y_true) / size,     dL/dy_true = -dL/dy_pred

    With w = 1 this is mean((y_pred - y_true)**2); size counts every element.
    """

    def __init__(self, sample_weight=None):
        self.sample_weight = sample_weight

    def forward(self, y_pred, y_true):
        if y_pred.shape != y_true.shape:
            raise ValueError(f'mean_squared_error: y_pred shape {y_pred.shape} differs '
                             f'from y_true shape {y_true.shape}')
        w = check_sample_weight(self.sample_weight, y_pred.shape[0], 'mean_squared_error')
        # one weight per sample, broadcast over that sample's elements
        self.weights = 1 if w is None else per_sample(w.astype(y_pred.dtype), y_pred.ndim)
        self.diff = y_pred - y_true
        return (self.weights * self.diff * self.diff).sum() / self.diff.size

    def backward(self, gy):
        g = gy * 2 * self.weights * self.diff / self.diff.size
        return g, -g


class AbsoluteError(Function):
    """|y_pred - y_true|, elementwise;  d/dy_pred = sign(y_pred - y_true), d/dy_true = -that.

    At y_pred = y_true the gradient is 0 (the subgradient TensorFlow takes too)."""

    def forward(self, y_pred, y_true):
        xp = get_array_module(y_pred)
        self.sign = xp.sign(y_pred - y_true)
        return xp.abs(y_pred - y_true)

    def backward(self, gy):
        g = gy * self.sign
        return g, -g


class HuberError(Function):
    """The Huber function of d = y_pred - y_true, elementwise, for delta > 0::

        h(d) = d^2 / 2                      where |d| <= delta
             = delta |d| - delta^2 / 2      elsewhere
        dh/dd = clip(d, -delta, delta)

    Quadratic near 0, linear beyond delta: large errors pull with a force
    of at most delta, so outliers do not dominate the gradient.
    """

    def __init__(self, delta):
        self.delta = delta

    def forward(self, y_pred, y_true):
        xp = get_array_module(y_pred)
        d = y_pred - y_true
        self.slope = xp.clip(d, -self.delta, self.delta)
        return xp.where(xp.abs(d) <= self.delta, 0.5 * d * d,
                        self.delta * xp.abs(d) - 0.5 * self.delta ** 2)

    def backward(self, gy):
        g = gy * self.slope
        return g, -g


class Clip(Function):
    """y = clip(x, low, high);  dx = gy where low <= x <= high, else 0.

    Keras clips the probabilities it takes the log of to [eps, 1 - eps]."""

    def __init__(self, low, high):
        self.low, self.high = low, high

    def forward(self, x):
        self.inside = (x >= self.low) & (x <= self.high)
        return get_array_module(x).clip(x, self.low, self.high)

    def backward(self, gy):
        return (gy * self.inside,)


def softmax_cross_entropy(logits, labels, sample_weight=None):
    """Mean cross-entropy of softmax(logits) against labels.

    logits (N, K); labels class ids (N,) or (N, 1), or target rows (N, K)
    (one-hot, probabilities, or any non-negative weights); sample_weight an
    optional (N,) array scaling each sample's term. Returns a scalar tensor.
    Finite even for logits of +-1e4.
    """
    return SoftmaxCrossEntropy(sample_weight)(logits, labels)


def sigmoid_binary_cross_entropy(logits, targets, sample_weight=None):
    """Mean binary cross-entropy of sigmoid(logits) against targets in [0, 1] of
    the same shape, each sample's terms scaled by the optional (N,) sample_weight;
    a scalar tensor, finite even for logits of +-1e4."""
    return weighted_mean(SigmoidBinaryCrossEntropy()(logits, targets), sample_weight)


# The losses take (y_true, y_pred), Keras's order, as minicnn.losses does.

def mean_squared_error(y_true, y_pred, sample_weight=None):
    """Mean of the squared differences over all elements, each sample's terms
    scaled by the optional (N,) sample_weight; a scalar tensor."""
    return MeanSquaredErrorFunction(sample_weight)(y_pred, y_true)


def absolute_error(y_true, y_pred):
    """|y_pred - y_true| elementwise."""
    return AbsoluteError()(y_pred, y_true)


def huber_error(y_true, y_pred, delta):
    """The Huber function of y_pred - y_true, elementwise (see HuberError)."""
    return HuberError(delta)(y_pred, y_true)


def clip(x, low, high):
    return Clip(low, high)(x)
