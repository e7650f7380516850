"""Batch normalization's memory-bound steps as plain array calls: the reference twins
of ``batchnorm_numba`` (same functions, same signatures, same results).

Every feature is one column of ``x`` (M, C), its M values down the column
(minicnn.functional.normalization lays any input out so); statistics are
(C,) vectors. Each function is the formula of its docstring in whole-array
NumPy (or CuPy) calls, one pass over the data per call, which is why this
version is slow: the Numba twin does each function in one or two passes.
"""


def column_statistics(x):
    """mean = (1/M) sum x,  variance = (1/M) sum (x - mean)^2, per column: (M, C) -> (C,), (C,)."""
    mean = x.mean(axis=0)
    centered = x - mean
    return mean, (centered * centered).mean(axis=0)


def normalize(x, mean, inv_std, gamma, beta):
    """y = (x - mean) * inv_std * gamma + beta, per column: (M, C) -> (M, C)."""
    return (x - mean) * (inv_std * gamma) + beta


def gradient_sums(gy, x, mean, inv_std):
    """(sum gy, sum gy * xhat) per column, xhat = (x - mean) * inv_std: the gradients
    of beta and gamma, and the two sums the input gradient subtracts."""
    xhat = (x - mean) * inv_std
    return gy.sum(axis=0), (gy * xhat).sum(axis=0)


def input_gradient(gy, x, mean, inv_std, gamma, sum_gy, sum_gy_xhat):
    """dx = gamma * inv_std / M * (M gy - sum gy - xhat * sum gy * xhat), per column."""
    m = x.shape[0]
    xhat = (x - mean) * inv_std
    return (gamma * inv_std / m) * (m * gy - sum_gy - xhat * sum_gy_xhat)
