"""The tensor operators: arithmetic, matmul, reductions, reshaping, exp and log.

Each is a ``Function`` whose ``backward`` multiplies the incoming gradient
``gy`` by the local derivative. Binary operators broadcast like NumPy, so
their backward sums each gradient back to its input's shape
(``sum_to_shape``). ``Tensor``'s operator methods (``a + b``, ``a @ b``,
``t.sum()``, ...) in minicnn/autograd.py each call one of these.
"""
from minicnn.autograd import Function
from minicnn.devices import get_array_module


def sum_to_shape(g, shape):
    """Sum a broadcast gradient back to ``shape`` (the reverse of broadcasting)."""
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g


class _Binary(Function):
    """A broadcasting binary op: backward returns the unreduced gradients."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return self.compute(a, b)

    def backward(self, gy):
        ga, gb = self.gradients(gy)
        return (None if ga is None else sum_to_shape(ga, self.shapes[0]),
                None if gb is None else sum_to_shape(gb, self.shapes[1]))


class Add(_Binary):
    """y = a + b;  da = gy, db = gy."""
    def compute(self, a, b):
        return a + b

    def gradients(self, gy):
        return gy, gy


class Sub(_Binary):
    """y = a - b;  da = gy, db = -gy."""
    def compute(self, a, b):
        return a - b

    def gradients(self, gy):
        return gy, -gy


class Mul(_Binary):
    """y = a * b;  da = gy * b, db = gy * a."""
    def compute(self, a, b):
        self.a, self.b = a, b
        return a * b

    def gradients(self, gy):
        return gy * self.b, gy * self.a


class Div(_Binary):
    """y = a / b;  da = gy / b, db = -gy * a / b**2."""
    def compute(self, a, b):
        self.a, self.b = a, b
        return a / b

    def gradients(self, gy):
        ga = gy / self.b
        return ga, -ga * self.a / self.b


class Pow(_Binary):
    """y = a ** b;  da = gy * b * a**(b-1), db = gy * y * log(a)."""
    def compute(self, a, b):
        self.a, self.b = a, b
        self.y = a ** b
        return self.y

    def gradients(self, gy):
        xp = get_array_module(self.a)
        ga = gy * self.b * self.a ** (self.b - 1)
        # log(a) only exists for a > 0; elsewhere the exponent is taken as constant.
        log_a = xp.log(xp.where(self.a > 0, self.a, 1))
        return ga, gy * self.y * log_a


class MatMul(Function):
    """y = a @ b for 2-D a (N, K) and b (K, M);  da = gy @ b.T, db = a.T @ gy."""

    def forward(self, a, b):
        if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
            raise ValueError(f'matmul: need (N, K) @ (K, M), got {a.shape} @ {b.shape}')
        self.a, self.b = a, b
        return a @ b

    def backward(self, gy):
        return gy @ self.b.T, self.a.T @ gy


class Neg(Function):
    """y = -x;  dx = -gy."""
    def forward(self, x):
        return -x

    def backward(self, gy):
        return (-gy,)


class Exp(Function):
    """y = exp(x);  dx = gy * y."""
    def forward(self, x):
        self.y = get_array_module(x).exp(x)
        return self.y

    def backward(self, gy):
        return (gy * self.y,)


class Log(Function):
    """y = log(x);  dx = gy / x."""
    def forward(self, x):
        self.x = x
        return get_array_module(x).log(x)

    def backward(self, gy):
        return (gy / self.x,)


def _expand_reduced(g, x_shape, axis, keepdims):
    """Reinsert the axes a reduction removed, so g broadcasts against x."""
    if axis is None or keepdims:
        return g if keepdims else g.reshape((1,) * len(x_shape))
    axes = (axis,) if isinstance(axis, int) else axis
    axes = sorted(a % len(x_shape) for a in axes)
    for a in axes:
        g = get_array_module(g).expand_dims(g, a)
    return g


class Sum(Function):
    """y = sum of x over axis;  dx = gy broadcast back over the summed axes."""

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.x_shape = x.shape
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        g = _expand_reduced(gy, self.x_shape, self.axis, self.keepdims)
        return (get_array_module(gy).broadcast_to(g, self.x_shape).copy(),)


class Max(Function):
    """y = max of x over axis;  dx = gy where x equals the max, shared among ties."""

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.x = x
        self.y = x.max(axis=self.axis, keepdims=True)
        return self.y if self.keepdims else x.max(axis=self.axis, keepdims=False)

    def backward(self, gy):
        is_max = self.x == self.y
        ties = is_max.sum(axis=self.axis, keepdims=True)
        g = _expand_reduced(gy, self.x.shape, self.axis, self.keepdims)
        return (is_max * (g / ties),)


class Reshape(Function):
    """y = x viewed with a new shape;  dx = gy reshaped back."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.x_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, gy):
        return (gy.reshape(self.x_shape),)


class Transpose(Function):
    """y = x with axes permuted;  dx = gy with the inverse permutation."""

    def __init__(self, axes=None):
        self.axes = axes

    def forward(self, x):
        self.axes = self.axes or tuple(reversed(range(x.ndim)))
        return x.transpose(self.axes)

    def backward(self, gy):
        inverse = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inverse[a] = i
        return (gy.transpose(inverse),)


class GetItem(Function):
    """y = x[index];  dx = zeros with gy added at the indexed places."""

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.x_shape, self.dtype = x.shape, x.dtype
        return x[self.index]

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(self.x_shape, dtype=self.dtype)
        xp.add.at(gx, self.index, gy)  # add.at: repeated indices accumulate
        return (gx,)


def mean(x, axis=None, keepdims=False):
    """Average over axis: the sum divided by the number of elements summed."""
    total = Sum(axis, keepdims)(x)
    return total * (total.size / x.size)


def reshape(x, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return Reshape(shape)(x)


def transpose(x, *axes):
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    return Transpose(axes or None)(x)
