"""Plain nested-loop versions of convolution and pooling, the slowest and
most obvious way to write them, for checking the real implementations."""
import numpy as np


def pad_amounts(size, window, stride, padding):
    if padding == 'valid':
        return 0, 0
    if padding == 'same':
        out = -(-size // stride)
        total = max((out - 1) * stride + window - size, 0)
        return total // 2, total - total // 2
    return padding, padding


def conv2d_loops(x, kernel, bias, strides, padding):
    n, h, w, c = x.shape
    kh, kw, _, f = kernel.shape
    top, bottom = pad_amounts(h, kh, strides[0], padding)
    left, right = pad_amounts(w, kw, strides[1], padding)
    xp = np.zeros((n, h + top + bottom, w + left + right, c))
    xp[:, top:top + h, left:left + w] = x
    oh = (h + top + bottom - kh) // strides[0] + 1
    ow = (w + left + right - kw) // strides[1] + 1
    y = np.zeros((n, oh, ow, f))
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for o in range(f):
                    total = bias[o] if bias is not None else 0.0
                    for p in range(kh):
                        for q in range(kw):
                            for ch in range(c):
                                total += xp[b, i * strides[0] + p, j * strides[1] + q, ch] * kernel[p, q, ch, o]
                    y[b, i, j, o] = total
    return y


def pool2d_loops(x, window, strides, padding, kind):
    n, h, w, c = x.shape
    top, bottom = pad_amounts(h, window[0], strides[0], padding)
    left, right = pad_amounts(w, window[1], strides[1], padding)
    oh = (h + top + bottom - window[0]) // strides[0] + 1
    ow = (w + left + right - window[1]) // strides[1] + 1
    y = np.zeros((n, oh, ow, c))
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    values = []
                    for p in range(window[0]):
                        for q in range(window[1]):
                            r, s = i * strides[0] + p - top, j * strides[1] + q - left
                            if 0 <= r < h and 0 <= s < w:
                                values.append(x[b, r, s, ch])
                    y[b, i, j, ch] = max(values) if kind == 'max' else sum(values) / len(values)
    return y
