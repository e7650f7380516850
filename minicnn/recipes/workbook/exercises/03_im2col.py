"""Exercise 3: im2col, every window of an image copied out (tour chapter 2).

Run ``minicnn workbook check im2col DIR``.

Images are NHWC: x (N, H, W, C). A window of (kh, kw) pixels slides over x
padded with zeros: ``pad = (top, bottom, left, right)`` rows and columns, and
moves ``strides = (sh, sw)`` pixels at a time. It fits

    OH = (H + top + bottom - kh) // sh + 1      times down,
    OW = (W + left + right - kw) // sw + 1      times across.
"""
import numpy as np


def im2col(x, window, strides, pad):
    """cols[n, r, s, i, j, c] = x_pad[n, r*sh + i, s*sw + j, c]

    x (N, H, W, C); window (kh, kw); strides (sh, sw); pad (top, bottom,
    left, right) -> cols (N, OH, OW, kh, kw, C), window (r, s)'s pixels.

    Pad first (np.pad). Then a loop over the kh*kw offsets (i, j) is enough:
    for one offset, the pixels at every window form one strided slice of
    x_pad, rows i, i + sh, ... and columns j, j + sw, ... (OH rows, OW columns).
    """
    raise NotImplementedError
