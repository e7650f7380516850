"""Exercise 6: max pooling, forward and backward (tour chapter 3).

Run ``minicnn workbook check max_pool DIR``.

A (ph, pw) window moves by strides (sh, sw) over x padded by pad = (top,
bottom, left, right); the padding is -inf, so it is never a window's maximum.
OH = (H + top + bottom - ph) // sh + 1, and so OW.
"""
import numpy as np


def max_pool_forward(x, window, strides, pad):
    """y[n, r, s, c] = max_{i, j} x_pad[n, r*sh + i, s*sw + j, c]

    x (N, H, W, C); window (ph, pw); strides (sh, sw); pad (top, bottom, left,
    right) -> y (N, OH, OW, C).
    """
    raise NotImplementedError


def max_pool_backward(dy, x, window, strides, pad):
    """Each dy[n, r, s, c] goes to the pixel of x that was its window's maximum
    (the first one, in row-major order (i, j), if several are equal); windows
    that overlap add up. dy (N, OH, OW, C), the other arguments as in the
    forward -> dx (N, H, W, C).
    """
    raise NotImplementedError
