"""Inverted dropout.

While training, each element is kept with probability 1 - rate and scaled
by 1 / (1 - rate), so the expected output equals the input and nothing
needs rescaling at test time:

    y = x * mask / (1 - rate),  mask ~ Bernoulli(1 - rate);   dx = gy * mask / (1 - rate)

When not training it is the identity.
"""
from minicnn import devices
from minicnn.autograd import Function, as_tensor


def kept_and_scaled(values, mask, rate):
    """values * mask / (1 - rate): the kept elements scaled up, the others zero."""
    out = values * (1 / (1 - rate))
    out *= mask
    return out


class InvertedDropout(Function):
    def __init__(self, rate):
        self.rate = rate

    def forward(self, x):
        # float32 draws: half the random bits of the default float64, same decisions to 2^-24
        draws = devices.rng(devices.device_of(x)).random(x.shape, dtype='float32')
        # An element is kept where its draw is at least rate: probability 1 - rate.
        # The mask is kept as booleans, a quarter of a float32 mask's memory.
        self.mask = draws >= self.rate
        return kept_and_scaled(x, self.mask, self.rate)

    def backward(self, gy):
        return (kept_and_scaled(gy, self.mask, self.rate),)


def dropout(x, rate, training=True):
    """Zero each element with probability ``rate`` and rescale the rest (see above)."""
    if not 0 <= rate < 1:
        raise ValueError(f'dropout: rate must be in [0, 1), got {rate}')
    if not training or rate == 0:
        return as_tensor(x)
    return InvertedDropout(rate)(x)
