"""Exercise 11: batch normalization while training, forward and backward (tour chapter 8).

Run ``minicnn workbook check batchnorm DIR``.

The features are x's last axis (the channels C of NHWC images, or the
columns of (N, C) rows); every statistic is per feature, over the M = x.size / C
values that share it (M = N*H*W for images).
"""
import numpy as np


def batchnorm_forward(x, gamma, beta, epsilon):
    """Standardize each feature by the batch's statistics, then scale and shift:

        mean = (1/M) sum x          var = (1/M) sum (x - mean)^2     (biased)
        xhat = (x - mean) / sqrt(var + epsilon)
        y    = gamma * xhat + beta

    x (..., C); gamma, beta (C,) -> (y, mean, var): y x's shape, mean and var (C,).
    """
    raise NotImplementedError


def batchnorm_backward(dy, x, gamma, epsilon):
    """The gradients of batchnorm_forward's y, given dy = dL/dy (x's shape):

        dbeta  = sum dy             dgamma = sum dy * xhat            (C,) each
        dx     = gamma / (M sqrt(var + epsilon)) * (M dy - dbeta - xhat * dgamma)

    (sums over the M values of each feature). The two subtracted terms are the
    mean's and the variance's share: they too depend on x.

    Returns (dx, dgamma, dbeta).
    """
    raise NotImplementedError
