import numpy as np


def conv2d_forward(x, kernel, bias, strides, pad):
    top, bottom, left, right = pad
    x_pad = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    kh, kw, c, f = kernel.shape
    (sh, sw) = strides
    oh = (x_pad.shape[1] - kh) // sh + 1
    ow = (x_pad.shape[2] - kw) // sw + 1
    y = np.zeros((x.shape[0], oh, ow, f), dtype=x.dtype) + bias
    for i in range(kh):
        for j in range(kw):
            # the pixel at offset (i, j) of every window, times that tap of every filter
            y += x_pad[:, i:i + sh * oh:sh, j:j + sw * ow:sw, :] @ kernel[i, j]
    return y
