"""The convolution layers, banks of learned filters slid over NHWC images.

    Conv2D           kernel (kh, kw, C / groups, filters), bias (filters,)
    Conv2DTranspose  kernel (kh, kw, filters, C), bias (filters,)
    DepthwiseConv2D  depthwise_kernel (kh, kw, C, depth_multiplier), bias (C * depth_multiplier,)
    SeparableConv2D  depthwise_kernel (kh, kw, C, depth_multiplier),
                     pointwise_kernel (1, 1, C * depth_multiplier, filters), bias (filters,)

Weights are listed in that order, Keras's. The math is in
minicnn.functional.conv and minicnn.functional.conv_variants.
"""
from minicnn import functional as F
from minicnn import initializers
from minicnn.arguments import check_positive_int, positive_int_pair, window_padding
from minicnn.functional.conv import dilated_window
from minicnn.functional.conv_variants import check_output_padding, transposed_geometry
from minicnn.functional.geometry import window_geometry
from minicnn.layers.base import Layer, WeightedLayer


class _SlidingWindow:
    """What the convolution layers share: the window's arguments, checked as
    Keras checks them, and images as input."""

    def set_window(self, kernel_size, strides, padding, dilation_rate):
        where = type(self).__name__
        self.kernel_size = positive_int_pair(where, 'kernel_size', kernel_size)
        self.strides = positive_int_pair(where, 'strides', strides)
        self.dilation_rate = positive_int_pair(where, 'dilation_rate', dilation_rate)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:  # Keras's rule and words
            raise ValueError(f'{where}: `strides > 1` not supported in conjunction with '
                             f'`dilation_rate > 1`. Received: strides={self.strides} and '
                             f'dilation_rate={self.dilation_rate}')
        self.padding = window_padding(where, padding)

    def image_channels(self, input_shape):
        """C of (H, W, C) inputs; any other shape is an error naming the layer."""
        if len(input_shape) != 3:
            raise ValueError(f"layer '{self.name}' expects images (None, H, W, C), got input "
                             f"shape {(None, *input_shape)}")
        return input_shape[2]

    def output_hw(self, input_shape):
        """(OH, OW) of the windows over (H, W, C) inputs."""
        window = dilated_window(self.kernel_size, self.dilation_rate)
        _, out_hw = window_geometry(self.name, (None, *input_shape), window, self.strides,
                                    self.padding)
        return out_hw

    def window_config(self):
        return {'kernel_size': list(self.kernel_size), 'strides': list(self.strides),
                'padding': self.padding, 'dilation_rate': list(self.dilation_rate)}


class Conv2D(_SlidingWindow, WeightedLayer):
    """``filters`` kernels of ``kernel_size``: (N, H, W, C) -> (N, OH, OW, filters).

    dilation_rate spreads the kernel's taps apart; groups splits the channels
    into groups convolved separately (see minicnn.functional.conv).
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding='valid', dilation_rate=(1, 1),
                 groups=1, activation=None, use_bias=True, kernel_initializer='glorot_uniform',
                 bias_initializer='zeros', **kwargs):
        super().__init__(activation, use_bias, kernel_initializer, bias_initializer, **kwargs)
        self.filters = check_positive_int('Conv2D', 'filters', filters)
        self.groups = check_positive_int('Conv2D', 'groups', groups)
        if filters % groups:
            raise ValueError(f'Conv2D: filters must be divisible by groups, got filters={filters} '
                             f'and groups={groups}')
        self.set_window(kernel_size, strides, padding, dilation_rate)

    def build(self, input_shape):
        channels = self.image_channels(input_shape)
        if channels % self.groups:
            raise ValueError(f"layer '{self.name}': the input's {channels} channels must be "
                             f"divisible by groups={self.groups}, got input shape "
                             f"{(None, *input_shape)}")
        self.build_weights((*self.kernel_size, channels // self.groups, self.filters), self.filters)
        super().build(input_shape)

    def forward(self, x, training):
        return F.conv2d(x, self.kernel, self.bias, self.strides, self.padding, self.dilation_rate,
                        self.groups)

    def compute_output_shape(self, input_shape):
        return (*self.output_hw(input_shape), self.filters)

    def get_config(self):
        return {**super().get_config(), 'filters': self.filters, **self.window_config(),
                'groups': self.groups}


class Conv2DTranspose(_SlidingWindow, WeightedLayer):
    """The transposed convolution, which upsamples by its strides:
    (N, H, W, C) -> (N, OH, OW, filters), OH as Keras's deconv_output_length.

    Its forward is a Conv2D's backward and its backward a Conv2D's forward
    (see minicnn.functional.conv_variants).
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding='valid', output_padding=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True,
                 kernel_initializer='glorot_uniform', bias_initializer='zeros', **kwargs):
        super().__init__(activation, use_bias, kernel_initializer, bias_initializer, **kwargs)
        self.filters = check_positive_int('Conv2DTranspose', 'filters', filters)
        self.set_window(kernel_size, strides, padding, dilation_rate)
        if self.padding not in ('valid', 'same'):
            raise ValueError(f"Conv2DTranspose: padding must be 'valid' or 'same', got {padding!r}")
        self.output_padding = check_output_padding('Conv2DTranspose', output_padding, self.strides)

    def build(self, input_shape):
        channels = self.image_channels(input_shape)
        self.build_weights((*self.kernel_size, self.filters, channels), self.filters)
        super().build(input_shape)

    def forward(self, x, training):
        return F.conv2d_transpose(x, self.kernel, self.bias, self.strides, self.padding,
                                  self.output_padding, self.dilation_rate)

    def compute_output_shape(self, input_shape):
        kernel_shape = (*self.kernel_size, self.filters, self.image_channels(input_shape))
        y_shape, _ = transposed_geometry((None, *input_shape), kernel_shape, self.strides,
                                         self.padding, self.output_padding, self.dilation_rate)
        return y_shape[1:]

    def get_config(self):
        output_padding = None if self.output_padding is None else list(self.output_padding)
        return {**super().get_config(), 'filters': self.filters, **self.window_config(),
                'output_padding': output_padding}


class _DepthwiseLayer(_SlidingWindow, Layer):
    """The base of DepthwiseConv2D and SeparableConv2D: a depthwise kernel
    (kh, kw, C, depth_multiplier) and a bias."""

    def __init__(self, kernel_size, strides, padding, depth_multiplier, dilation_rate, activation,
                 use_bias, depthwise_initializer, bias_initializer, **kwargs):
        super().__init__(activation=activation, **kwargs)
        self.set_window(kernel_size, strides, padding, dilation_rate)
        self.depth_multiplier = check_positive_int(type(self).__name__, 'depth_multiplier',
                                             depth_multiplier)
        self.use_bias = use_bias
        self.depthwise_initializer, self.bias_initializer = depthwise_initializer, bias_initializer
        self.depthwise_kernel = self.bias = None

    def build_depthwise_kernel(self, input_shape):
        """Add the depthwise kernel; return how many channels it outputs, C * depth_multiplier."""
        channels = self.image_channels(input_shape)
        self.depthwise_kernel = self.add_weight(
            'depthwise_kernel', (*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.depthwise_initializer)
        return channels * self.depth_multiplier

    def build_bias(self, units):
        if self.use_bias:
            self.bias = self.add_weight('bias', (units,), initializer=self.bias_initializer)

    def get_config(self):
        return {**super().get_config(), **self.window_config(),
                'depth_multiplier': self.depth_multiplier, 'activation': self.activation_name,
                'use_bias': self.use_bias,
                'depthwise_initializer': initializers.serialize(self.depthwise_initializer),
                'bias_initializer': initializers.serialize(self.bias_initializer)}


class DepthwiseConv2D(_DepthwiseLayer):
    """Every channel convolved with its own depth_multiplier filters, channels unmixed:
    (N, H, W, C) -> (N, OH, OW, C * depth_multiplier)."""

    def __init__(self, kernel_size, strides=(1, 1), padding='valid', depth_multiplier=1,
                 dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer='glorot_uniform', bias_initializer='zeros', **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, dilation_rate,
                         activation, use_bias, depthwise_initializer, bias_initializer, **kwargs)

    def build(self, input_shape):
        self.build_bias(self.build_depthwise_kernel(input_shape))
        super().build(input_shape)

    def forward(self, x, training):
        return F.depthwise_conv2d(x, self.depthwise_kernel, self.bias, self.strides, self.padding,
                                  self.dilation_rate)

    def compute_output_shape(self, input_shape):
        channels = self.image_channels(input_shape) * self.depth_multiplier
        return (*self.output_hw(input_shape), channels)


class SeparableConv2D(_DepthwiseLayer):
    """A DepthwiseConv2D, then a 1x1 convolution that mixes the channels:
    (N, H, W, C) -> (N, OH, OW, filters), with far fewer weights than a Conv2D."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding='valid', dilation_rate=(1, 1),
                 depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer='glorot_uniform', pointwise_initializer='glorot_uniform',
                 bias_initializer='zeros', **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, dilation_rate,
                         activation, use_bias, depthwise_initializer, bias_initializer, **kwargs)
        self.filters = check_positive_int('SeparableConv2D', 'filters', filters)
        self.pointwise_initializer = pointwise_initializer
        self.pointwise_kernel = None

    def build(self, input_shape):
        depthwise_channels = self.build_depthwise_kernel(input_shape)
        self.pointwise_kernel = self.add_weight('pointwise_kernel',
                                                (1, 1, depthwise_channels, self.filters),
                                                initializer=self.pointwise_initializer)
        self.build_bias(self.filters)
        super().build(input_shape)

    def forward(self, x, training):
        return F.separable_conv2d(x, self.depthwise_kernel, self.pointwise_kernel, self.bias,
                                  self.strides, self.padding, self.dilation_rate)

    def compute_output_shape(self, input_shape):
        return (*self.output_hw(input_shape), self.filters)

    def get_config(self):
        return {**super().get_config(), 'filters': self.filters,
                'pointwise_initializer': initializers.serialize(self.pointwise_initializer)}
