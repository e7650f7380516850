"""Exercise 5: the 2-D convolution, backward (tour chapter 2).

Run ``minicnn workbook check conv2d_backward DIR``.

The forward (exercise 4) is a sum of products:

    y[n, r, s, f] = bias[f] + sum_{i, j, c} x_pad[n, r*sh + i, s*sw + j, c] * kernel[i, j, c, f]

Each product sends dy[n, r, s, f] times its other factor back to each factor.
"""
import numpy as np


def conv2d_backward(dy, x, kernel, strides, pad):
    """The three gradients of conv2d_forward, given dy = dL/dy (N, OH, OW, F):

        dkernel[i, j, c, f] = sum_{n, r, s} x_pad[n, r*sh + i, s*sw + j, c] * dy[n, r, s, f]
        dbias[f]            = sum_{n, r, s} dy[n, r, s, f]
        dx_pad[n, r*sh + i, s*sw + j, c] += kernel[i, j, c, f] * dy[n, r, s, f]
                                            (over every r, s, i, j, f; windows overlap)

    and dx is dx_pad without its padding. x (N, H, W, C); kernel (kh, kw, C, F);
    strides (sh, sw); pad (top, bottom, left, right).

    Returns (dx, dkernel, dbias): (N, H, W, C), (kh, kw, C, F), (F,).
    A loop over the kh*kw offsets (i, j), with whole-array products inside,
    is learner-sized and fast enough to train with.
    """
    raise NotImplementedError
