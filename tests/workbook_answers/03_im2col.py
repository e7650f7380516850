import numpy as np


def im2col(x, window, strides, pad):
    top, bottom, left, right = pad
    x_pad = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    (kh, kw), (sh, sw) = window, strides
    oh = (x_pad.shape[1] - kh) // sh + 1
    ow = (x_pad.shape[2] - kw) // sw + 1
    cols = np.zeros((x.shape[0], oh, ow, kh, kw, x.shape[3]), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, i, j, :] = x_pad[:, i:i + sh * oh:sh, j:j + sw * ow:sw, :]
    return cols
