"""Pooling layers: MaxPooling2D and AveragePooling2D (no weights)."""
from minicnn import functional as F
from minicnn.arguments import positive_int_pair, window_padding
from minicnn.functional.geometry import window_geometry
from minicnn.layers.base import Layer


class _Pooling2D(Layer):
    pool_function = None

    def __init__(self, pool_size=(2, 2), strides=None, padding='valid', **kwargs):
        super().__init__(**kwargs)
        where = type(self).__name__
        self.pool_size = positive_int_pair(where, 'pool_size', pool_size)
        self.strides = (self.pool_size if strides is None
                        else positive_int_pair(where, 'strides', strides))
        self.padding = window_padding(where, padding)

    def forward(self, x, training):
        return type(self).pool_function(x, self.pool_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape):
        _, (oh, ow) = window_geometry(self.name, (None, *input_shape), self.pool_size,
                                      self.strides, self.padding)
        return (oh, ow, input_shape[2])

    def get_config(self):
        return {**super().get_config(), 'pool_size': list(self.pool_size),
                'strides': list(self.strides), 'padding': self.padding}


class MaxPooling2D(_Pooling2D):
    """Largest value of each window: (N, H, W, C) -> (N, OH, OW, C)."""
    pool_function = F.max_pool2d


class AveragePooling2D(_Pooling2D):
    """Mean of each window: (N, H, W, C) -> (N, OH, OW, C)."""
    pool_function = F.avg_pool2d


MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
