"""Noise layers, active while training only: SpatialDropout2D, GaussianDropout, GaussianNoise."""
from minicnn import functional as F
from minicnn.functional.noise import check_rate, check_stddev
from minicnn.layers.base import Layer
from minicnn.layers.reshaping import require_rank


class _RateDropout(Layer):
    """A dropout of rate ``rate`` in [0, 1), applied by ``dropout_function``."""
    dropout_function = None

    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate(type(self).__name__, rate)

    def forward(self, x, training):
        return type(self).dropout_function(x, self.rate, training)

    def get_config(self):
        return {**super().get_config(), 'rate': self.rate}


class SpatialDropout2D(_RateDropout):
    """Zeroes whole channels of each image with probability ``rate`` while training
    (the same mask over H and W) and rescales the rest by 1 / (1 - rate)."""
    dropout_function = F.spatial_dropout2d

    def build(self, input_shape):
        require_rank(self, input_shape, 3, '(None, H, W, C)')
        super().build(input_shape)


class GaussianDropout(_RateDropout):
    """Multiplies each input by Normal(1, rate / (1 - rate)) noise while training."""
    dropout_function = F.gaussian_dropout


class GaussianNoise(Layer):
    """Adds Normal(0, stddev^2) noise to each input while training."""

    def __init__(self, stddev, **kwargs):
        super().__init__(**kwargs)
        self.stddev = check_stddev('GaussianNoise', stddev)

    def forward(self, x, training):
        return F.gaussian_noise(x, self.stddev, training)

    def get_config(self):
        return {**super().get_config(), 'stddev': self.stddev}
