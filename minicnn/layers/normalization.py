"""BatchNormalization: standardise each feature, then scale and shift it (Ioffe & Szegedy, 2015)."""
import math

from minicnn import functional as F
from minicnn import initializers
from minicnn.arguments import argument_error, is_int, number
from minicnn.layers.base import Layer


class BatchNormalization(Layer):
    """Normalizes each feature along ``axis`` (the channels of NHWC images by
    default); see minicnn.functional.normalization for the math.

    Training (``fit``, or a call with ``training=True``) uses each batch's own
    mean and variance, and moves the moving statistics toward them:

        moving = momentum * moving + (1 - momentum) * batch statistic

    with the biased batch variance, as Keras 3 and tf.keras on 2-D inputs do
    (tf.keras's fused kernel for 4-D inputs uses the unbiased one). Inference
    (``predict``, ``evaluate``, a plain call) uses the moving statistics, and
    so does a layer that is not trainable, as in Keras: a frozen network
    keeps its statistics while the layers after it are fine-tuned.

    Weights, in Keras's order: gamma (C,) unless ``scale=False``, beta (C,)
    unless ``center=False``, moving_mean (C,) and moving_variance (C,). The
    last two are non-trainable: no gradient reaches them and no optimizer
    changes them, yet they are in ``get_weights()`` and in saved files.

    ``beta_lr_multiplier`` (not in Keras) asks the optimizer to take steps
    that many times larger for beta: the fast CIFAR-10 recipes train the
    BatchNorm biases with a 64x learning rate.
    """
    gamma = beta = moving_mean = moving_variance = None  # made by build

    def __init__(self, axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True,
                 beta_initializer='zeros', gamma_initializer='ones',
                 moving_mean_initializer='zeros', moving_variance_initializer='ones',
                 beta_lr_multiplier=1.0, **kwargs):
        super().__init__(**kwargs)
        where = 'BatchNormalization'
        if not is_int(axis):
            raise argument_error(where, 'axis', 'an int', axis)
        self.axis = int(axis)
        self.momentum = number(where, 'momentum', momentum, 'in [0, 1)', lambda m: 0 <= m < 1)
        self.epsilon = number(where, 'epsilon', epsilon, 'positive', lambda e: 0 < e < math.inf)
        self.beta_lr_multiplier = number(where, 'beta_lr_multiplier', beta_lr_multiplier,
                                         'positive', lambda m: 0 < m < math.inf)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer

    def build(self, input_shape):
        rank = len(input_shape) + 1  # Keras counts the batch axis in axis
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(f"layer '{self.name}': axis {self.axis} is not a feature axis of "
                             f"inputs of shape {(None, *input_shape)}")
        features = (input_shape[self.axis % rank - 1],)
        if self.scale:
            self.gamma = self.add_weight('gamma', features, initializer=self.gamma_initializer)
        if self.center:
            self.beta = self.add_weight('beta', features, initializer=self.beta_initializer)
            self.beta.lr_multiplier = self.beta_lr_multiplier
        # The statistics are weights that never train: forward updates them.
        self.moving_mean = self.add_weight('moving_mean', features, trainable=False,
                                           initializer=self.moving_mean_initializer)
        self.moving_variance = self.add_weight('moving_variance', features, trainable=False,
                                               initializer=self.moving_variance_initializer)
        super().build(input_shape)

    def forward(self, x, training):
        if not (training and self.trainable):
            return F.batch_norm(x, self.gamma, self.beta, self.moving_mean, self.moving_variance,
                                self.epsilon, self.axis)
        y, mean, variance = self.normalize_by_batch(x)
        for moving, batch in ((self.moving_mean, mean), (self.moving_variance, variance)):
            moving.data[...] = self.momentum * moving.data + (1 - self.momentum) * batch
        return y

    def normalize_by_batch(self, x):
        """Training's normalization: (y, batch mean, batch variance), y a Tensor of x's
        shape normalized by x's own statistics, those (C,) arrays (which forward
        folds into the moving averages). A subclass may compute it another way
        (the workbook's layer calls the learner's function)."""
        return F.batch_norm_train(x, self.gamma, self.beta, self.epsilon, self.axis)

    def get_config(self):
        return {**super().get_config(), 'axis': self.axis, 'momentum': self.momentum,
                'epsilon': self.epsilon, 'center': self.center, 'scale': self.scale,
                'beta_initializer': initializers.serialize(self.beta_initializer),
                'gamma_initializer': initializers.serialize(self.gamma_initializer),
                'moving_mean_initializer': initializers.serialize(self.moving_mean_initializer),
                'moving_variance_initializer':
                    initializers.serialize(self.moving_variance_initializer),
                'beta_lr_multiplier': self.beta_lr_multiplier}
