import numpy as np


def conv2d_backward(dy, x, kernel, strides, pad):
    top, bottom, left, right = pad
    x_pad = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    dx_pad = np.zeros_like(x_pad)
    kh, kw, c, f = kernel.shape
    (sh, sw) = strides
    n, oh, ow, _ = dy.shape
    dkernel = np.zeros_like(kernel)
    dy_rows = dy.reshape(-1, f)
    for i in range(kh):
        for j in range(kw):
            patch = x_pad[:, i:i + sh * oh:sh, j:j + sw * ow:sw, :]
            dkernel[i, j] = patch.reshape(-1, c).T @ dy_rows
            dx_pad[:, i:i + sh * oh:sh, j:j + sw * ow:sw, :] += dy @ kernel[i, j].T
    dx = dx_pad[:, top:top + x.shape[1], left:left + x.shape[2], :]
    return dx, dkernel, dy.sum(axis=(0, 1, 2))
