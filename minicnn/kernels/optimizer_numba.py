"""The update rules of SGD, RMSprop and Adam as compiled one-pass loops (Numba):
the fast twins of each rule's ``reference_update`` in ``minicnn.optimizers``.

A rule written with array operators makes one pass over memory per operator
and a temporary array for most of them. RMSprop's reference,

    s[...] = rho * s + (1 - rho) * g * g
    p -= lr * g / sqrt(s + eps)

reads or writes about twenty parameter-sized arrays; for the seed-000
network's 3.1M float32 parameters (12 MB an array, beyond the caches) that
was about 20 ms a step. Each kernel here visits every element once: it
reads p, g and the slots, and writes p and the slots, nothing else, with the
elements shared among the cores (``prange``).

The arithmetic is the reference's, operator by operator and in its order, in
the parameter's dtype: the wrappers turn each hyperparameter into a scalar
of that dtype first, as NumPy does when a Python float meets a float32
array, and Numba contracts no multiply-add into an FMA unless told to
(fastmath), so each value rounds as in the reference. The tests check that
the two agree to float32 rounding.

Arrays are updated in place through flat views, so p and its slots must be
C-contiguous (``accepts`` says whether they are; the reference takes the
others). Each kernel is compiled once per dtype and cached on disk.
"""
import numpy as np
from numba import njit, prange


def accepts(p, g, slots):
    """Whether these kernels can update p: NumPy arrays of one float dtype, with p
    and its slots C-contiguous (g is copied if it is not)."""
    arrays = (p, g, *slots)
    return (all(type(a) is np.ndarray and a.dtype == p.dtype for a in arrays)
            and p.dtype.kind == 'f' and all(a.flags.c_contiguous for a in (p, *slots)))


def _flat(a):
    """a as a 1-D array: a view of a C-contiguous array, else a contiguous copy."""
    return np.ascontiguousarray(a).reshape(-1)


def _scalars(p, *values):
    """Python floats as scalars of p's dtype, what NumPy turns them into against p."""
    return [p.dtype.type(value) for value in values]


# ---------------------------------------------------------------- SGD

@njit(parallel=True, cache=True)
def _sgd_kernel(p, g, lr):
    """p -= lr * g."""
    for k in prange(p.size):
        p[k] -= lr * g[k]


@njit(parallel=True, cache=True)
def _momentum_kernel(p, g, v, lr, momentum, nesterov):
    """v = momentum * v - lr * g;  p += v  (nesterov: p += momentum * v - lr * g)."""
    for k in prange(p.size):
        v[k] = momentum * v[k] - lr * g[k]
        p[k] += momentum * v[k] - lr * g[k] if nesterov else v[k]


def sgd(p, g, v, lr, momentum, nesterov):
    """SGD's step; v (p's shape) is the velocity, None without momentum."""
    if v is None:
        _sgd_kernel(_flat(p), _flat(g), *_scalars(p, lr))
    else:
        _momentum_kernel(_flat(p), _flat(g), _flat(v), *_scalars(p, lr, momentum), nesterov)


# ---------------------------------------------------------------- RMSprop

@njit(parallel=True, cache=True)
def _rmsprop_kernel(p, g, s, m, v, lr, rho, one_minus_rho, eps, momentum, centered,
                    with_momentum):
    """s = rho s + (1 - rho) g^2;  centered: m = rho m + (1 - rho) g;
    step = lr g / sqrt(s + eps)  (centered: sqrt(s - m^2 + eps));
    p -= step  (with momentum: v = momentum v + step; p -= v).
    m and v are unused (and may be empty) without centered and with_momentum."""
    for k in prange(p.size):
        s[k] = rho * s[k] + one_minus_rho * g[k] * g[k]
        mean_square = s[k]
        if centered:
            m[k] = rho * m[k] + one_minus_rho * g[k]
            mean_square = s[k] - m[k] * m[k]
        step = lr * g[k] / np.sqrt(mean_square + eps)
        if with_momentum:
            v[k] = momentum * v[k] + step
            step = v[k]
        p[k] -= step


def rmsprop(p, g, s, m, v, lr, rho, epsilon, momentum):
    """RMSprop's step; m (centered) and v (momentum) are None when the rule keeps none."""
    unused = np.empty(0, p.dtype)
    _rmsprop_kernel(_flat(p), _flat(g), _flat(s),
                    unused if m is None else _flat(m), unused if v is None else _flat(v),
                    *_scalars(p, lr, rho, 1 - rho, epsilon, momentum),
                    m is not None, v is not None)


# ---------------------------------------------------------------- Adam

@njit(parallel=True, cache=True)
def _adam_kernel(p, g, m, v, vhat, lr_t, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2,
                 eps, amsgrad):
    """m = beta_1 m + (1 - beta_1) g;  v = beta_2 v + (1 - beta_2) g^2;
    amsgrad: vhat = max(vhat, v), used in place of v;  p -= lr_t m / (sqrt(v) + eps).
    vhat is unused (and may be empty) without amsgrad."""
    for k in prange(p.size):
        m[k] = beta_1 * m[k] + one_minus_beta_1 * g[k]
        v[k] = beta_2 * v[k] + one_minus_beta_2 * g[k] * g[k]
        second_moment = v[k]
        if amsgrad:
            vhat[k] = np.maximum(vhat[k], v[k])
            second_moment = vhat[k]
        p[k] -= lr_t * m[k] / (np.sqrt(second_moment) + eps)


def adam(p, g, m, v, vhat, lr_t, beta_1, beta_2, epsilon):
    """Adam's step at the bias-corrected rate lr_t; vhat is None without amsgrad."""
    _adam_kernel(_flat(p), _flat(g), _flat(m), _flat(v),
                 np.empty(0, p.dtype) if vhat is None else _flat(vhat),
                 *_scalars(p, lr_t, beta_1, 1 - beta_1, beta_2, 1 - beta_2, epsilon),
                 vhat is not None)
