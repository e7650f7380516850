"""Noise for regularization, applied while training only (the identity otherwise).

    spatial_dropout2d  y[n, i, j, c] = x[n, i, j, c] * keep[n, c] / (1 - rate),
                       keep ~ Bernoulli(1 - rate), one draw per image and channel
    gaussian_dropout   y = x * m,  m ~ Normal(1, rate / (1 - rate)), one draw per element
    gaussian_noise     y = x + e,  e ~ Normal(0, stddev^2)

The multiplicative ones have dx = gy * (the same draw); the additive one dx = gy.

Spatial dropout drops whole feature maps: neighbouring pixels of one map are
strongly correlated, so zeroing single pixels (plain dropout) takes little
information away from a convolutional network (Tompson et al., 2015).
Gaussian dropout keeps the mean of x and the variance that dropout of the
same rate gives (Srivastava et al., 2014). Random numbers come from the
seedable generator of x's device.
"""
from minicnn import devices
from minicnn.arguments import number
from minicnn.autograd import Function, as_tensor
from minicnn.functional.geometry import check_rank


class TimesNoise(Function):
    """y = x * noise, with noise drawn once and broadcast against x;  dx = gy * noise."""

    def __init__(self, noise):
        self.noise = noise

    def forward(self, x):
        return x * self.noise

    def backward(self, gy):
        return (gy * self.noise,)


def _generator(x):
    return devices.rng(devices.device_of(x.data))


def check_rate(where, rate):
    """``rate`` as a float, when it is a number in [0, 1)."""
    return number(where, 'rate', rate, 'in [0, 1)', lambda rate: 0 <= rate < 1)


def check_stddev(where, stddev):
    """``stddev`` as a float, when it is a finite number >= 0."""
    return number(where, 'stddev', stddev, 'non-negative',
                  lambda stddev: 0 <= stddev < float('inf'))


def spatial_dropout2d(x, rate, training=True):
    """Zero whole channels of each image with probability ``rate``, rescale the rest:
    (N, H, W, C) -> the same shape."""
    check_rate('spatial_dropout2d', rate)
    x = as_tensor(x)
    check_rank('spatial_dropout2d', 'x', x, 4, '(N, H, W, C)')
    if not training or rate == 0:
        return x
    n, _, _, c = x.shape
    keep = _generator(x).random((n, 1, 1, c), dtype=x.dtype) >= rate
    return TimesNoise(keep.astype(x.dtype) / (1 - rate))(x)


def gaussian_dropout(x, rate, training=True):
    """Multiply each element by Normal(1, rate / (1 - rate)) noise; any shape."""
    check_rate('gaussian_dropout', rate)
    x = as_tensor(x)
    if not training or rate == 0:
        return x
    stddev = (rate / (1 - rate)) ** 0.5
    return TimesNoise(1 + stddev * _generator(x).standard_normal(x.shape, dtype=x.dtype))(x)


def gaussian_noise(x, stddev, training=True):
    """Add Normal(0, stddev^2) noise to each element; any shape."""
    check_stddev('gaussian_noise', stddev)
    x = as_tensor(x)
    if not training or stddev == 0:
        return x
    return x + stddev * _generator(x).standard_normal(x.shape, dtype=x.dtype)
