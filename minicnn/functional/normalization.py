"""Batch normalization: each feature standardised, then scaled and shifted.

x has its features along ``axis``: the channels C of NHWC images (axis -1),
or the columns of (N, features) rows. Every statistic is per feature, over
the M = x.size / C values that share it (M = N*H*W for images):

    mean = (1/M) sum x          var = (1/M) sum (x - mean)^2     (biased, as Keras)
    xhat = (x - mean) / sqrt(var + eps)
    y    = gamma * xhat + beta                                   y has x's shape

In training the mean and var are the batch's own, so they depend on x, and
the gradient flows through them too (Ioffe & Szegedy, 2015):

    dbeta = sum dy              dgamma = sum dy * xhat
    dx    = gamma / (M sqrt(var + eps)) * (M dy - sum dy - xhat * sum dy * xhat)

The two subtracted sums are what the batch statistics take back: shifting
every x of a feature moves its mean, not y; scaling them moves its var.

At inference the mean and var are given (the moving averages), so y is an
affine map of x, and the statistics are inputs like any other:

    dx = dy * gamma / sqrt(var + eps)       dgamma, dbeta as above
    dmean = -sum dx                         dvar = -1/2 sum dy * gamma * xhat / (var + eps)

gamma, beta, mean and var all have shape (C,); no gamma is gamma = 1 and no
beta is beta = 0, held fixed.

The Functions lay x out as a matrix (M, C), one column per feature (a view
for NHWC, where the features are the last axis), and hand the passes over
it to minicnn.kernels: batchnorm_reference says each step in array calls,
batchnorm_numba does it in one compiled pass (the default on the CPU).
"""
from minicnn import kernels
from minicnn.autograd import Function, as_tensor
from minicnn.devices import get_array_module


def _kernels(x):
    """x's kernel set's BatchNorm passes: the Numba twins where minicnn's CPU
    kernels are Numba's, else the references."""
    return kernels.for_array(x).batchnorm


class _PerFeature(Function):
    """What both normalizations share: arrays of x's layout seen as (M, C)
    columns, one per feature, and the normalization itself."""

    def __init__(self, epsilon, axis):
        self.epsilon, self.axis = epsilon, axis

    def as_columns(self, x, *vectors):
        """x as (M, C) columns; checks the (C,) vectors against its features."""
        self.moved_shape = get_array_module(x).moveaxis(x, self.axis, -1).shape
        features = self.moved_shape[-1]
        for name, v in zip(('gamma', 'beta', 'mean', 'variance'), vectors):
            if v.shape != (features,):
                raise ValueError(f'batch_norm: {name} must have shape ({features},), one value '
                                 f'per feature of x along axis {self.axis}, got {v.shape} '
                                 f'(x shape {x.shape})')
        self.kernels = _kernels(x)
        return self.columns_of(x)

    def columns_of(self, a):
        """An array of x's layout as (M, C): a view when the features are the last axis."""
        return get_array_module(a).moveaxis(a, self.axis, -1).reshape(-1, self.moved_shape[-1])

    def in_x_layout(self, columns):
        """(M, C) columns back in the layout of x."""
        return get_array_module(columns).moveaxis(columns.reshape(self.moved_shape), -1, self.axis)

    def normalize(self, x, gamma, beta, mean, variance):
        self.x, self.gamma, self.mean, self.variance = x, gamma, mean, variance
        self.inv_std = 1 / get_array_module(x).sqrt(variance + self.epsilon)
        return self.in_x_layout(self.kernels.normalize(x, mean, self.inv_std, gamma, beta))


class BatchStatisticsNorm(_PerFeature):
    """Training: normalize by the batch's mean and variance (kept as .mean, .variance)."""

    def forward(self, x, gamma, beta):
        x = self.as_columns(x, gamma, beta)
        return self.normalize(x, gamma, beta, *self.kernels.column_statistics(x))

    def backward(self, gy):
        gy = self.columns_of(gy)
        dbeta, dgamma = self.kernels.gradient_sums(gy, self.x, self.mean, self.inv_std)
        gx = self.in_x_layout(self.kernels.input_gradient(
            gy, self.x, self.mean, self.inv_std, self.gamma, dbeta, dgamma)) \
            if self.needs_grad[0] else None
        return gx, dgamma, dbeta


class GivenStatisticsNorm(_PerFeature):
    """Inference: normalize by a given mean and variance (the moving averages)."""

    def forward(self, x, gamma, beta, mean, variance):
        return self.normalize(self.as_columns(x, gamma, beta, mean, variance),
                              gamma, beta, mean, variance)

    def backward(self, gy):
        gy = self.columns_of(gy)
        dbeta, dgamma = self.kernels.gradient_sums(gy, self.x, self.mean, self.inv_std)
        gx = gy * (self.gamma * self.inv_std)
        dmean = -gx.sum(axis=0) if self.needs_grad[3] else None
        dvariance = -0.5 * self.gamma * dgamma / (self.variance + self.epsilon)
        return self.in_x_layout(gx), dgamma, dbeta, dmean, dvariance


def _fixed_if_none(x, gamma, beta, axis):
    """gamma = 1 and beta = 0 as constants where the layer has none (scale or
    center off): the constants want no gradient, so backward computes none."""
    x = as_tensor(x)
    xp = get_array_module(x.data)
    features = x.shape[axis]
    return (xp.ones(features, x.dtype) if gamma is None else gamma,
            xp.zeros(features, x.dtype) if beta is None else beta)


def batch_norm(x, gamma, beta, mean, variance, epsilon=1e-3, axis=-1):
    """gamma * (x - mean) / sqrt(variance + epsilon) + beta per feature along axis
    (inference): x any shape, the others (C,) or gamma/beta None -> y of x's shape."""
    gamma, beta = _fixed_if_none(x, gamma, beta, axis)
    return GivenStatisticsNorm(epsilon, axis)(x, gamma, beta, mean, variance)


def batch_norm_train(x, gamma, beta, epsilon=1e-3, axis=-1):
    """Normalize x by its own per-feature statistics (training); returns
    (y, batch_mean, batch_variance): y a Tensor of x's shape, the statistics
    (C,) arrays, for the caller's moving averages."""
    gamma, beta = _fixed_if_none(x, gamma, beta, axis)
    norm = BatchStatisticsNorm(epsilon, axis)
    y = norm(x, gamma, beta)
    return y, norm.mean, norm.variance
