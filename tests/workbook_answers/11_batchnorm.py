import numpy as np


def batchnorm_forward(x, gamma, beta, epsilon):
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axis=axes)
    var = ((x - mean) ** 2).mean(axis=axes)
    xhat = (x - mean) / np.sqrt(var + epsilon)
    return gamma * xhat + beta, mean, var


def batchnorm_backward(dy, x, gamma, epsilon):
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    mean = x.mean(axis=axes)
    std = np.sqrt(((x - mean) ** 2).mean(axis=axes) + epsilon)
    xhat = (x - mean) / std
    dbeta = dy.sum(axis=axes)
    dgamma = (dy * xhat).sum(axis=axes)
    dx = gamma / (m * std) * (m * dy - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta
