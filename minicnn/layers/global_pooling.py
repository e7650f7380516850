"""GlobalAveragePooling2D and GlobalMaxPooling2D: one value per channel (no weights)."""
from minicnn import functional as F
from minicnn.layers.reshaping import ImageLayer


class _GlobalPooling2D(ImageLayer):
    pool_function = None

    def __init__(self, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.keepdims = bool(keepdims)

    def forward(self, x, training):
        return type(self).pool_function(x, self.keepdims)

    def compute_output_shape(self, input_shape):
        channels = input_shape[-1]
        return (1, 1, channels) if self.keepdims else (channels,)

    def get_config(self):
        return {**super().get_config(), 'keepdims': self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling2D):
    """Mean of each channel over the image: (N, H, W, C) -> (N, C), or (N, 1, 1, C) with keepdims."""
    pool_function = F.global_avg_pool2d


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Largest value of each channel: (N, H, W, C) -> (N, C), or (N, 1, 1, C) with keepdims."""
    pool_function = F.global_max_pool2d


GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
