"""Exercise 4: the 2-D convolution, forward (tour chapter 2).

Run ``minicnn workbook check conv2d_forward DIR``.

Kernels are HWIO, (kh, kw, C, F): F filters of kh x kw pixels over C
channels. As in Keras, the kernel is not flipped (a cross-correlation).
Sizes as in exercise 3: OH = (H + top + bottom - kh) // sh + 1, and so OW.
"""
import numpy as np


def conv2d_forward(x, kernel, bias, strides, pad):
    """y[n, r, s, f] = bias[f] + sum_{i, j, c} x_pad[n, r*sh + i, s*sw + j, c] * kernel[i, j, c, f]

    x (N, H, W, C); kernel (kh, kw, C, F); bias (F,); strides (sh, sw); pad
    (top, bottom, left, right) -> y (N, OH, OW, F).

    Plain loops over (r, s) with a sum over each window are fine; im2col (paste
    yours in) makes it one matrix product: cols (N*OH*OW, kh*kw*C) @ kernel
    reshaped to (kh*kw*C, F).
    """
    raise NotImplementedError
