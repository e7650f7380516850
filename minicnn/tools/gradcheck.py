"""Numerical gradient checking: does backward agree with finite differences?

For a function f of tensors, reduce its output to a scalar with fixed random
weights w, s(x) = sum(f(x) * w), and compare the autograd gradient ds/dx with
central differences, element by element:

    ds/dx[i] ~ (s(x + eps e_i) - s(x - eps e_i)) / (2 eps)

Everything runs in float64, where eps = 1e-6 leaves an error near 1e-10.
"""
import numpy as np

from minicnn.autograd import Tensor, no_grad
from minicnn.devices import get_array_module, to_numpy


class GradcheckError(AssertionError):
    pass


def _scalar(f, arrays, weights):
    out = f(*[Tensor(a) for a in arrays])
    return float((out.data * weights).sum())


def gradcheck(f, *inputs, eps=1e-6, rtol=1e-5, atol=1e-7, seed=0):
    """Check f's gradient with respect to every input; return True or raise.

    ``inputs`` are arrays or Tensors (converted to float64). On a mismatch,
    GradcheckError names the input, the worst element's index and both values.
    """
    arrays = [(x.data if isinstance(x, Tensor) else x) for x in inputs]
    xp = get_array_module(*arrays)
    # C-ordered copies: the user's arrays are never touched, and reshape(-1)
    # below is a view (of a sliced or transposed array it would be a copy,
    # and perturbing it would change nothing).
    arrays = [xp.array(a, dtype=xp.float64, order='C') for a in arrays]
    tensors = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = f(*tensors)
    weights = xp.asarray(np.random.default_rng(seed).standard_normal(out.shape))
    (out * Tensor(weights)).sum().backward()
    with no_grad():
        for k, (a, t) in enumerate(zip(arrays, tensors)):
            analytic = xp.zeros_like(a) if t.grad is None else t.grad
            numeric = _numeric_gradient(f, arrays, k, weights, eps)
            _compare(k, a.shape, analytic, numeric, rtol, atol)
    return True


def _numeric_gradient(f, arrays, k, weights, eps):
    x = arrays[k]
    grad = np.zeros(x.shape)
    flat = x.reshape(-1)  # a view: changing flat changes arrays[k]
    for i in range(flat.size):
        original = float(flat[i])
        flat[i] = original + eps
        up = _scalar(f, arrays, weights)
        flat[i] = original - eps
        down = _scalar(f, arrays, weights)
        flat[i] = original
        grad.reshape(-1)[i] = (up - down) / (2 * eps)
    return grad


def _compare(k, shape, analytic, numeric, rtol, atol):
    analytic = to_numpy(analytic)
    error = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    if (error > 0).any() or not np.isfinite(analytic).all():
        worst = np.unravel_index(np.nanargmax(np.where(np.isfinite(error), error, np.inf)), shape)
        raise GradcheckError(
            f'gradcheck: input {k} (shape {shape}): at index {worst} autograd gives '
            f'{analytic[worst]:.10g}, finite differences give {numeric[worst]:.10g}')
