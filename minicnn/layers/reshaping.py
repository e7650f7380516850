"""Layers that rearrange values and learn nothing: ZeroPadding2D, Cropping2D,
UpSampling2D, Reshape, Permute and RepeatVector."""
import math

from minicnn import functional as F
from minicnn.arguments import argument_error, check_positive_int, is_int, positive_int_pair
from minicnn.functional.reshaping import border, check_interpolation
from minicnn.layers.base import Layer


def require_rank(layer, input_shape, rank, expected):
    """Raise, naming the layer and both shapes, unless samples have ``rank`` axes."""
    if len(input_shape) != rank:
        raise ValueError(f"layer '{layer.name}' expects inputs {expected}, got input shape "
                         f"{(None, *input_shape)}")


class ImageLayer(Layer):
    """A layer of NHWC images: its inputs must have the sample shape (H, W, C)."""

    def build(self, input_shape):
        require_rank(self, input_shape, 3, '(None, H, W, C)')
        super().build(input_shape)


class ZeroPadding2D(ImageLayer):
    """Zeros around each image: (N, H, W, C) -> (N, top + H + bottom, left + W + right, C).

    padding: an int (every side), (rows, columns) (each split evenly) or
    ((top, bottom), (left, right)).
    """

    def __init__(self, padding=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.padding = border(padding, 'ZeroPadding2D: padding')

    def forward(self, x, training):
        return F.zero_pad2d(x, self.padding)

    def compute_output_shape(self, input_shape):
        (top, bottom), (left, right) = self.padding
        h, w, c = input_shape
        return (top + h + bottom, left + w + right, c)

    def get_config(self):
        return {**super().get_config(), 'padding': [list(p) for p in self.padding]}


class Cropping2D(ImageLayer):
    """A border cut off each image: (N, H, W, C) -> (N, H - top - bottom, W - left - right, C).

    cropping: as ZeroPadding2D's padding.
    """

    def __init__(self, cropping=((0, 0), (0, 0)), **kwargs):
        super().__init__(**kwargs)
        self.cropping = border(cropping, 'Cropping2D: cropping')

    def build(self, input_shape):
        super().build(input_shape)
        if min(self.compute_output_shape(input_shape)[:2]) < 1:
            raise ValueError(f"layer '{self.name}': cropping {self.cropping} leaves nothing of "
                             f"inputs of shape {(None, *input_shape)}")

    def forward(self, x, training):
        return F.crop2d(x, self.cropping)

    def compute_output_shape(self, input_shape):
        (top, bottom), (left, right) = self.cropping
        h, w, c = input_shape
        return (h - top - bottom, w - left - right, c)

    def get_config(self):
        return {**super().get_config(), 'cropping': [list(p) for p in self.cropping]}


class UpSampling2D(ImageLayer):
    """Each image enlarged by integer factors: (N, H, W, C) -> (N, H * sh, W * sw, C).

    interpolation 'nearest' repeats each pixel; 'bilinear' blends the nearest
    four, as ``tf.image.resize`` does (see minicnn.functional.reshaping).
    """

    def __init__(self, size=(2, 2), interpolation='nearest', **kwargs):
        super().__init__(**kwargs)
        self.size = positive_int_pair('UpSampling2D', 'size', size)
        check_interpolation('UpSampling2D', interpolation)
        self.interpolation = interpolation

    def forward(self, x, training):
        return F.upsample2d(x, self.size, self.interpolation)

    def compute_output_shape(self, input_shape):
        h, w, c = input_shape
        return (h * self.size[0], w * self.size[1], c)

    def get_config(self):
        return {**super().get_config(), 'size': list(self.size),
                'interpolation': self.interpolation}


class Reshape(Layer):
    """Each sample given a new shape of as many values: (N, *in) -> (N, *target_shape).

    One entry of target_shape may be -1: it takes whatever size is left.
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if not (isinstance(target_shape, (tuple, list))
                and all(is_int(d) and (d > 0 or d == -1) for d in target_shape)
                and list(target_shape).count(-1) <= 1):
            raise argument_error('Reshape', 'target_shape',
                                 'a tuple of positive ints with at most one -1', target_shape)
        self.target_shape = tuple(int(d) for d in target_shape)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # raises if the sizes do not fit
        super().build(input_shape)

    def forward(self, x, training):
        return F.reshape(x, (x.shape[0], *self.compute_output_shape(self.sample_shape)))

    def compute_output_shape(self, input_shape):
        size, known = math.prod(input_shape), math.prod(d for d in self.target_shape if d != -1)
        fits = size % known == 0 if -1 in self.target_shape else size == known
        if not fits:
            raise ValueError(f"layer '{self.name}' cannot reshape inputs of shape "
                             f"{(None, *input_shape)} ({size} values each) to "
                             f"{(None, *self.target_shape)}")
        return tuple(size // known if d == -1 else d for d in self.target_shape)

    def get_config(self):
        return {**super().get_config(), 'target_shape': list(self.target_shape)}


class Permute(Layer):
    """The axes of each sample reordered: dims (1-based, as in Keras) says where
    each output axis comes from; Permute((2, 1)) swaps the two axes of (N, a, b)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        if not (isinstance(dims, (tuple, list)) and all(is_int(d) for d in dims)
                and sorted(dims) == list(range(1, len(dims) + 1))):
            raise argument_error('Permute', 'dims', 'a permutation of 1, ..., rank (the batch '
                                 'axis 0 stays first)', dims)
        self.dims = tuple(int(d) for d in dims)

    def build(self, input_shape):
        require_rank(self, input_shape, len(self.dims),
                     f'of rank {len(self.dims) + 1} for dims {self.dims}')
        super().build(input_shape)

    def forward(self, x, training):
        return F.transpose(x, (0, *self.dims))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[d - 1] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), 'dims': list(self.dims)}


class RepeatVector(Layer):
    """Each input vector repeated n times: (N, F) -> (N, n, F)."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = check_positive_int('RepeatVector', 'n', n)

    def build(self, input_shape):
        require_rank(self, input_shape, 1, '(None, features)')
        super().build(input_shape)

    def forward(self, x, training):
        return F.repeat_vector(x, self.n)

    def compute_output_shape(self, input_shape):
        return (self.n, *input_shape)

    def get_config(self):
        return {**super().get_config(), 'n': self.n}
