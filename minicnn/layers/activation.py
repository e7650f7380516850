"""Activation layers with arguments: ReLU, LeakyReLU, ELU, PReLU and Softmax.

An activation without arguments is ``Activation('gelu')`` or any layer's
``activation='gelu'``; these take the arguments Keras's layers take. PReLU
also has a weight, its learned slope. The math is in
minicnn/functional/activation_functions.py.
"""
import math

from minicnn import functional as F
from minicnn import initializers
from minicnn.arguments import argument_error, is_int, number
from minicnn.layers.base import Layer


def non_negative(where, name, value):
    return number(where, name, value, 'a number >= 0', lambda value: 0 <= value < math.inf)


class ReLU(Layer):
    """max_value if x >= max_value; x if threshold < x < max_value;
    negative_slope * (x - threshold) otherwise. With the defaults, max(x, 0)."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = None if max_value is None else non_negative('ReLU', 'max_value',
                                                                     max_value)
        self.negative_slope = non_negative('ReLU', 'negative_slope', negative_slope)
        self.threshold = non_negative('ReLU', 'threshold', threshold)

    def forward(self, x, training):
        return F.relu(x, self.negative_slope, self.max_value, self.threshold)

    def get_config(self):
        return {**super().get_config(), 'max_value': self.max_value,
                'negative_slope': self.negative_slope, 'threshold': self.threshold}


class LeakyReLU(Layer):
    """x if x >= 0, else alpha * x.

    ``alpha`` is Keras 2's name and default (0.3); Keras 3 calls the same
    number ``negative_slope``, also 0.3 (while keras.activations.leaky_relu
    defaults to 0.2). Either name is accepted, not both.
    """

    def __init__(self, alpha=0.3, negative_slope=None, **kwargs):
        super().__init__(**kwargs)
        if negative_slope is not None and alpha != 0.3:
            raise ValueError(f'LeakyReLU: give alpha (Keras 2) or negative_slope (Keras 3), not '
                             f'both; got alpha={alpha!r}, negative_slope={negative_slope!r}')
        name, slope = ('alpha', alpha) if negative_slope is None else ('negative_slope',
                                                                        negative_slope)
        self.alpha = non_negative('LeakyReLU', name, slope)

    def forward(self, x, training):
        return F.leaky_relu(x, self.alpha)

    def get_config(self):
        return {**super().get_config(), 'alpha': self.alpha}


class ELU(Layer):
    """x if x > 0, else alpha * (e^x - 1)."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = number('ELU', 'alpha', alpha, 'a finite number', math.isfinite)

    def forward(self, x, training):
        return F.elu(x, self.alpha)

    def get_config(self):
        return {**super().get_config(), 'alpha': self.alpha}


class PReLU(Layer):
    """x if x > 0, else alpha * x, with alpha learned: a weight of the input's
    shape (no batch axis), or of size 1 along ``shared_axes`` (numbered as
    Keras numbers them, 1 for the first axis after the batch), whose alphas
    are then shared. For conv features (H, W, C), ``shared_axes=[1, 2]``
    learns one alpha per channel.
    """

    def __init__(self, alpha_initializer='zeros', shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = alpha_initializer
        if shared_axes is not None and not isinstance(shared_axes, (list, tuple)):
            shared_axes = [shared_axes]  # Keras takes one axis as an int
        self.shared_axes = None if shared_axes is None else list(shared_axes)
        self.alpha = None

    def build(self, input_shape):
        alpha_shape = list(input_shape)
        for axis in self.shared_axes or []:
            if not isinstance(axis, int) or not 1 <= axis <= len(input_shape):
                raise ValueError(f"layer '{self.name}': shared_axes must be ints from 1 to "
                                 f"{len(input_shape)} for input shape {(None, *input_shape)}, "
                                 f"got shared_axes={self.shared_axes}")
            alpha_shape[axis - 1] = 1
        self.alpha = self.add_weight('alpha', alpha_shape, initializer=self.alpha_initializer)
        super().build(input_shape)

    def forward(self, x, training):
        return F.prelu(x, self.alpha)

    def get_config(self):
        return {**super().get_config(),
                'alpha_initializer': initializers.serialize(self.alpha_initializer),
                'shared_axes': self.shared_axes}


class Softmax(Layer):
    """softmax along ``axis`` (default the last).

    Along the last axis it is an identity layer with the activation
    'softmax', exactly as Activation('softmax'): a model that ends in it
    then hands its logits to a cross-entropy loss, which fuses the two
    (minicnn.training.loss_and_outputs).
    """

    def __init__(self, axis=-1, **kwargs):
        if not is_int(axis):
            raise argument_error('Softmax', 'axis', 'an int', axis)
        super().__init__(activation='softmax' if axis == -1 else None, **kwargs)
        self.axis = int(axis)

    def build(self, input_shape):
        rank = len(input_shape) + 1  # Keras counts the batch axis in axis
        if not -rank <= self.axis < rank:
            raise ValueError(f"layer '{self.name}': axis {self.axis} is not an axis of inputs "
                             f"of shape {(None, *input_shape)}")
        super().build(input_shape)

    def forward(self, x, training):
        return x if self.axis == -1 else F.softmax(x, self.axis)

    def get_config(self):
        return {**super().get_config(), 'axis': self.axis}
