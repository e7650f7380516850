"""Activation functions, elementwise or along one axis; shapes are unchanged.

Each is a Function; beside its formula is its derivative, what backward
multiplies gy by (y is the output, s the sigmoid, Phi and phi the standard
normal's CDF and density):

    relu(x)          = max(x, 0)                       1 where x > 0, else 0
    relu(x, negative_slope=a, max_value=m, threshold=t), Keras's options:
                     = x              for t < x < m     1
                       m              for x >= m        0
                       a * (x - t)    for x <= t        a
    leaky_relu(x)    = relu(x, negative_slope=0.2)
    relu6(x)         = relu(x, max_value=6)
    elu(x)           = x if x > 0 else alpha (e^x - 1)   1, else y + alpha
    selu(x)          = scale * elu(x, alpha)             scale, else scale (elu + alpha)
                       alpha = 1.67326..., scale = 1.05070... (Klambauer et al. 2017)
    gelu(x)          = x Phi(x) = x/2 (1 + erf(x/sqrt(2)))       Phi(x) + x phi(x)
    gelu(x, approximate=True)
                     = x/2 (1 + t),  t = tanh(u),  u = sqrt(2/pi) (x + 0.044715 x^3)
                                     (1 + t)/2 + x/2 (1 - t^2) du/dx
    silu(x) = swish  = x s(x)                            s(x) (1 + x (1 - s(x)))
    softplus(x)      = log(1 + e^x)                      s(x)
    softsign(x)      = x / (1 + |x|)                     1 / (1 + |x|)^2
    hard_sigmoid(x)  = relu6(x + 3) / 6                  1/6 where -3 < x < 3, else 0
    exponential(x)   = e^x                               y (the tensor operator Exp)
    tanh(x)                                              1 - y^2
    sigmoid(x)       = 1 / (1 + e^-x)                    y (1 - y)
    softmax(x)_i     = e^{x_i} / sum_j e^{x_j}           dx = y * (gy - sum(gy * y))
    log_softmax(x)_i = x_i - log sum_j e^{x_j}           dx = gy - softmax(x) * sum(gy)
    prelu(x, alpha)  = x if x > 0 else alpha * x         1, else alpha;
                                                         d/dalpha = 0, else x

At a kink the derivative is the one of the side the condition names.
Softmax subtracts the row maximum first: the result is the same and exp
never overflows.

Where Keras 2 and Keras 3 differ, minicnn follows Keras 3:

* hard_sigmoid is Keras 3's relu6(x + 3) / 6, slope 1/6 on (-3, 3). Keras 2's
  was max(0, min(1, 0.2 x + 0.5)), slope 0.2 on (-2.5, 2.5).
* leaky_relu's default slope is 0.2, as keras.activations.leaky_relu in
  Keras 3 (Keras 2 had no such function). The LeakyReLU *layer* defaults
  to 0.3 in both: ``alpha=0.3`` in Keras 2, ``negative_slope=0.3`` in Keras 3.
* gelu defaults to the exact erf form (approximate=False), in both.
"""
import math

from minicnn import kernels
from minicnn.autograd import Function
from minicnn.devices import get_array_module
from minicnn.functional.basic import Exp, sum_to_shape


class ReLU(Function):
    """max(x, 0); its gradient passes where the output is positive.

    ``in_place=True`` writes the output over the input, as PyTorch's
    ``ReLU(inplace=True)``: for an input nothing else will read (a layer's
    own pre-activation), one buffer the size of the output is saved.
    """

    def __init__(self, in_place=False):
        self.in_place = in_place

    def forward(self, x):
        # The output is kept, not a mask: the next layer holds it anyway.
        self.y = kernels.for_array(x).relu(x, out=x if self.in_place else None)
        return self.y

    def backward(self, gy):
        return (kernels.for_array(gy).relu_backward(gy, self.y),)


def writable_in_place(t):
    """Whether a function may write its output over tensor ``t``'s array
    without changing any gradient: ``t`` was made by a Function (it is not
    data or a weight), owns its buffer (it is not a view of another
    tensor's), and its creator did not keep it for its backward (a
    convolution keeps its input, an ELU its output). The caller knows the
    rest: that nothing else reads ``t``."""
    creator = t.creator
    return creator is not None and t.data.base is None and \
        all(kept is not t.data for kept in vars(creator).values())


class GeneralizedReLU(Function):
    """relu with Keras's options: a slope below the threshold, a ceiling above.

    The plain max(x, 0) is ``ReLU``, which has fast kernels of its own.
    """

    def __init__(self, negative_slope=0.0, max_value=None, threshold=0.0):
        self.negative_slope, self.max_value, self.threshold = negative_slope, max_value, threshold

    def forward(self, x):
        xp = get_array_module(x)
        self.x = x
        y = xp.where(x > self.threshold, x, self.negative_slope * (x - self.threshold))
        return y if self.max_value is None else xp.minimum(y, self.max_value)

    def backward(self, gy):
        xp = get_array_module(gy)
        slope = xp.where(self.x > self.threshold, 1.0, self.negative_slope)
        if self.max_value is not None:
            slope = xp.where(self.x >= self.max_value, 0.0, slope)
        return (gy * slope.astype(gy.dtype),)


class ELU(Function):
    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def forward(self, x):
        xp = get_array_module(x)
        self.x = x
        # expm1 of the negative part only: e^x of a large x would overflow in the unused branch.
        self.y = xp.where(x > 0, x, self.alpha * xp.expm1(xp.minimum(x, 0)))
        return self.y

    def backward(self, gy):
        return (get_array_module(gy).where(self.x > 0, gy, gy * (self.y + self.alpha)),)


class SELU(ELU):
    """scale * elu(x, alpha), with the constants that keep activations at mean 0, variance 1."""
    ALPHA = 1.6732632423543772848170429916717
    SCALE = 1.0507009873554804934193349852946

    def __init__(self):
        super().__init__(self.ALPHA)

    def forward(self, x):
        return self.SCALE * super().forward(x)

    def backward(self, gy):
        return (self.SCALE * super().backward(gy)[0],)


class GELU(Function):
    """x Phi(x), exact (erf) or, with approximate=True, its tanh approximation."""
    SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
    CUBIC = 0.044715

    def __init__(self, approximate=False):
        self.approximate = approximate

    def forward(self, x):
        xp = get_array_module(x)
        self.x = x
        if self.approximate:
            self.t = xp.tanh(self.SQRT_2_OVER_PI * (x + self.CUBIC * x ** 3))
            return 0.5 * x * (1 + self.t)
        y, self.cdf = kernels.for_array(x).gelu(x)             # x Phi(x), and Phi(x)
        return y

    def backward(self, gy):
        x = self.x
        if self.approximate:
            du_dx = self.SQRT_2_OVER_PI * (1 + 3 * self.CUBIC * x ** 2)
            return (gy * (0.5 * (1 + self.t) + 0.5 * x * (1 - self.t ** 2) * du_dx),)
        return (kernels.for_array(gy).gelu_backward(gy, x, self.cdf),)    # gy (Phi + x phi)


def sigmoid_array(x):
    """1 / (1 + e^-x) of an array, in the tanh form: exact, and it never
    overflows, unlike 1 / (1 + exp(-x)) for x << 0."""
    return 0.5 * get_array_module(x).tanh(0.5 * x) + 0.5


class Sigmoid(Function):
    def forward(self, x):
        self.y = sigmoid_array(x)
        return self.y

    def backward(self, gy):
        return (gy * self.y * (1 - self.y),)


class SiLU(Function):
    """x s(x), also called swish."""

    def forward(self, x):
        self.x, self.s = x, sigmoid_array(x)
        return x * self.s

    def backward(self, gy):
        return (gy * self.s * (1 + self.x * (1 - self.s)),)


class Softplus(Function):
    def forward(self, x):
        self.x = x
        return get_array_module(x).logaddexp(x, 0)   # log(e^x + e^0) without overflow

    def backward(self, gy):
        return (gy * sigmoid_array(self.x),)


class Softsign(Function):
    def forward(self, x):
        self.denominator = 1 + get_array_module(x).abs(x)
        return x / self.denominator

    def backward(self, gy):
        return (gy / self.denominator ** 2,)


class HardSigmoid(Function):
    """Keras 3's relu6(x + 3) / 6 (see the module docstring for Keras 2's)."""

    def forward(self, x):
        self.x = x
        return get_array_module(x).clip(x / 6 + 0.5, 0, 1)

    def backward(self, gy):
        inside = (self.x > -3) & (self.x < 3)
        return (get_array_module(gy).where(inside, gy / 6, 0),)


class Tanh(Function):
    def forward(self, x):
        self.y = get_array_module(x).tanh(x)
        return self.y

    def backward(self, gy):
        return (gy * (1 - self.y * self.y),)


def log_softmax_array(x, axis=-1):
    """log softmax of an array, stable for any magnitude."""
    xp = get_array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


class Softmax(Function):
    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        self.y = get_array_module(x).exp(log_softmax_array(x, self.axis))
        return self.y

    def backward(self, gy):
        return (self.y * (gy - (gy * self.y).sum(axis=self.axis, keepdims=True)),)


class LogSoftmax(Function):
    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        self.y = log_softmax_array(x, self.axis)
        return self.y

    def backward(self, gy):
        softmax = get_array_module(gy).exp(self.y)
        return (gy - softmax * gy.sum(axis=self.axis, keepdims=True),)


class PReLU(Function):
    """x where x > 0, else alpha * x, with alpha a weight that broadcasts against x."""

    def forward(self, x, alpha):
        self.x, self.alpha = x, alpha
        return get_array_module(x).where(x > 0, x, alpha * x)

    def backward(self, gy):
        xp = get_array_module(gy)
        positive = self.x > 0
        g_alpha = sum_to_shape(xp.where(positive, 0, gy * self.x), self.alpha.shape)
        return xp.where(positive, gy, gy * self.alpha), g_alpha


# -- The functions, with Keras's signatures (keras.activations.*).

def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    if negative_slope == 0 and max_value is None and threshold == 0:
        return ReLU()(x)
    return GeneralizedReLU(negative_slope, max_value, threshold)(x)


def leaky_relu(x, negative_slope=0.2):
    return GeneralizedReLU(negative_slope=negative_slope)(x)


def relu6(x):
    return GeneralizedReLU(max_value=6.0)(x)


def elu(x, alpha=1.0):
    return ELU(alpha)(x)


def selu(x):
    return SELU()(x)


def gelu(x, approximate=False):
    return GELU(approximate)(x)


def silu(x):
    return SiLU()(x)


swish = silu


def softplus(x):
    return Softplus()(x)


def softsign(x):
    return Softsign()(x)


def hard_sigmoid(x):
    return HardSigmoid()(x)


def exponential(x):
    return Exp()(x)


def tanh(x):
    return Tanh()(x)


def sigmoid(x):
    return Sigmoid()(x)


def softmax(x, axis=-1):
    return Softmax(axis)(x)


def log_softmax(x, axis=-1):
    return LogSoftmax(axis)(x)


def prelu(x, alpha):
    return PReLU()(x, alpha)


def linear(x):
    """The identity, Keras's 'linear' activation."""
    return x
