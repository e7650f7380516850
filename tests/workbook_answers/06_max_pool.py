import numpy as np


def _padded(x, pad):
    top, bottom, left, right = pad
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=-np.inf)


def max_pool_forward(x, window, strides, pad):
    x_pad = _padded(x, pad)
    (ph, pw), (sh, sw) = window, strides
    oh = (x_pad.shape[1] - ph) // sh + 1
    ow = (x_pad.shape[2] - pw) // sw + 1
    y = np.full((x.shape[0], oh, ow, x.shape[3]), -np.inf, dtype=x.dtype)
    for i in range(ph):
        for j in range(pw):
            y = np.maximum(y, x_pad[:, i:i + sh * oh:sh, j:j + sw * ow:sw, :])
    return y


def max_pool_backward(dy, x, window, strides, pad):
    x_pad = _padded(x, pad)
    dx_pad = np.zeros(x_pad.shape, dtype=dy.dtype)
    (ph, pw), (sh, sw) = window, strides
    _, oh, ow, _ = dy.shape
    y = max_pool_forward(x, window, strides, pad)
    routed = np.zeros(dy.shape, dtype=bool)  # whether a window's dy has found its maximum
    for i in range(ph):
        for j in range(pw):
            here = (x_pad[:, i:i + sh * oh:sh, j:j + sw * ow:sw, :] == y) & ~routed
            dx_pad[:, i:i + sh * oh:sh, j:j + sw * ow:sw, :] += here * dy
            routed |= here
    top, _, left, _ = pad
    return dx_pad[:, top:top + x.shape[1], left:left + x.shape[2], :]
