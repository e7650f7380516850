"""Batch normalization's memory-bound steps as compiled CPU loops (Numba): the
fast twins of ``batchnorm_reference`` (same functions, signatures and results).

Batch normalization does almost no arithmetic per value, so its time is
the passes over memory. The reference spends one pass per array call (x - mean,
its square, the sum, ...); here each function reads its inputs once:

    column_statistics   1 pass    the sums of d and d^2, d = x - x[0]
    normalize           1 pass
    gradient_sums       1 pass    both sums at once
    input_gradient      1 pass    xhat recomputed on the fly, never stored

The sums run over blocks of rows, one block per thread (``prange``), each
into its own row of partial sums, added up at the end: no two threads write
the same place. Partial sums are float64, so a column of a million float32
values loses nothing to rounding. The statistics use the shifted data
d = x - x[0] (first row), whose variance is the same: the one-pass formula
sum d^2 / M - (sum d / M)^2 then does not cancel away its digits when the
mean is large against the spread, as it would on x itself.

Inputs are (M, C) arrays, made C-contiguous first; outputs have x's dtype.
"""
import numba
import numpy as np
from numba import njit, prange


def _row_blocks(m):
    """How many blocks of rows to split M rows into: one per thread, at most M."""
    return max(1, min(numba.get_num_threads(), m))


@njit(parallel=True, cache=True)
def _paired_sums_kernel(a, a_shift, b, b_shift, b_scale, blocks):
    """Per block of rows and per column: sum u and sum u * v, with u = a - a_shift and
    v = (b - b_shift) * b_scale -> (blocks, 2, C). Both passes of batch norm are these
    two sums: the statistics (a = b = x, shifted by x[0]) and the gradient sums
    (a = gy, b = x, v = xhat)."""
    m, c = a.shape
    step = (m + blocks - 1) // blocks
    partial = np.zeros((blocks, 2, c))
    for k in prange(blocks):
        for i in range(k * step, min(m, (k + 1) * step)):
            for j in range(c):
                u = a[i, j] - a_shift[j]
                partial[k, 0, j] += u
                partial[k, 1, j] += u * (b[i, j] - b_shift[j]) * b_scale[j]
    return partial


def _paired_sums(a, a_shift, b, b_shift, b_scale):
    """The two column sums of _paired_sums_kernel over all rows, as float64 (C,) vectors."""
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return _paired_sums_kernel(a, a_shift, b, b_shift, b_scale, _row_blocks(a.shape[0])).sum(axis=0)


@njit(parallel=True, cache=True)
def _normalize_kernel(x, mean, scale, beta, y):
    """y = (x - mean) * scale + beta, with scale = inv_std * gamma."""
    m, c = x.shape
    for i in prange(m):
        for j in range(c):
            y[i, j] = (x[i, j] - mean[j]) * scale[j] + beta[j]


@njit(parallel=True, cache=True)
def _input_gradient_kernel(gy, x, mean, inv_std, scale, mean_gy, mean_gy_xhat, gx):
    """gx = scale * (gy - mean_gy - xhat * mean_gy_xhat), the sums divided by M beforehand."""
    m, c = x.shape
    for i in prange(m):
        for j in range(c):
            xhat = (x[i, j] - mean[j]) * inv_std[j]
            gx[i, j] = scale[j] * (gy[i, j] - mean_gy[j] - xhat * mean_gy_xhat[j])


def column_statistics(x):
    """mean = (1/M) sum x,  variance = (1/M) sum (x - mean)^2, per column: (M, C) -> (C,), (C,)."""
    x = np.ascontiguousarray(x)
    shift = x[0].copy()
    sum_d, sum_d2 = _paired_sums(x, shift, x, shift, np.ones_like(shift)) / x.shape[0]
    variance = np.maximum(sum_d2 - sum_d * sum_d, 0)  # rounding must not make it negative
    return (shift + sum_d).astype(x.dtype), variance.astype(x.dtype)


def normalize(x, mean, inv_std, gamma, beta):
    """y = (x - mean) * inv_std * gamma + beta, per column: (M, C) -> (M, C)."""
    x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    _normalize_kernel(x, mean, inv_std * gamma, beta, y)
    return y


def gradient_sums(gy, x, mean, inv_std):
    """(sum gy, sum gy * xhat) per column, xhat = (x - mean) * inv_std."""
    sum_gy, sum_gy_xhat = _paired_sums(gy, np.zeros_like(mean), x, mean, inv_std)
    return sum_gy.astype(x.dtype), sum_gy_xhat.astype(x.dtype)


def input_gradient(gy, x, mean, inv_std, gamma, sum_gy, sum_gy_xhat):
    """dx = gamma * inv_std / M * (M gy - sum gy - xhat * sum gy * xhat), per column."""
    x = np.ascontiguousarray(x)
    m = x.shape[0]
    gx = np.empty_like(x)
    _input_gradient_kernel(np.ascontiguousarray(gy), x, mean, inv_std, gamma * inv_std,
                           sum_gy / m, sum_gy_xhat / m, gx)
    return gx
