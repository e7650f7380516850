"""Conv2D: a bank of learned filters slid over NHWC images."""
from minicnn import functional as F
from minicnn.functional.geometry import pair, window_geometry
from minicnn.layers.base import WeightedLayer


class Conv2D(WeightedLayer):
    """``filters`` kernels of ``kernel_size``; weights kernel (kh, kw, in, filters), bias (filters,).

    (N, H, W, in) -> (N, OH, OW, filters); see minicnn.functional.conv.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding='valid', activation=None,
                 use_bias=True, kernel_initializer='glorot_uniform', bias_initializer='zeros',
                 **kwargs):
        super().__init__(activation, use_bias, kernel_initializer, bias_initializer, **kwargs)
        if not isinstance(filters, int) or filters < 1:
            raise ValueError(f"Conv2D: filters must be a positive int, got {filters!r}")
        self.filters = filters
        self.kernel_size = pair(kernel_size, 'Conv2D: kernel_size')
        self.strides = pair(strides, 'Conv2D: strides')
        self.padding = padding.lower() if isinstance(padding, str) else padding

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"layer '{self.name}' expects images (H, W, C), got input shape "
                             f"{(None, *input_shape)}")
        self.build_weights((*self.kernel_size, input_shape[2], self.filters), self.filters)
        super().build(input_shape)

    def forward(self, x, training):
        return F.conv2d(x, self.kernel, self.bias, self.strides, self.padding)

    def compute_output_shape(self, input_shape):
        _, (oh, ow) = window_geometry(self.name, (None, *input_shape), self.kernel_size,
                                      self.strides, self.padding)
        return (oh, ow, self.filters)

    def get_config(self):
        return {**super().get_config(), 'filters': self.filters,
                'kernel_size': list(self.kernel_size), 'strides': list(self.strides),
                'padding': self.padding}
