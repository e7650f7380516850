"""The naive versions: each layer's math as plain Python loops over NumPy arrays.

These are the slowest and most obvious way to write convolution, pooling,
a dense layer and softmax cross-entropy (CS231n's "naive" layers). Read
them first; every fast function in ``minicnn.functional`` says which of
these it must equal, and the tests check that it does, forward and backward.

Shapes are Keras's: images NHWC ``(N, H, W, C)``, conv kernels HWIO
``(kh, kw, C, F)``. ``padding`` is 'valid', 'same' or an int, as in
``minicnn.functional``; strides are pairs ``(sh, sw)``.
"""
import math

import numpy as np

from minicnn.functional.geometry import padding_amounts


def pad_images(x, window, strides, padding, value=0.0):
    """x with its border of padding: (N, H, W, C) -> (N, H + top + bottom, W + left + right, C),
    and the amounts (top, left)."""
    n, h, w, c = x.shape
    top, bottom = padding_amounts(h, window[0], strides[0], padding)
    left, right = padding_amounts(w, window[1], strides[1], padding)
    padded = np.full((n, h + top + bottom, w + left + right, c), value, dtype=np.float64)
    padded[:, top:top + h, left:left + w] = x
    return padded, (top, left)


def out_size(padded_size, window, stride):
    return (padded_size - window) // stride + 1


def conv2d(x, kernel, bias, strides, padding):
    """y[n, i, j, f] = b[f] + sum_{p, q, c} x_pad[n, i*sh + p, j*sw + q, c] * K[p, q, c, f]

    x (N, H, W, C), kernel (kh, kw, C, F), bias (F,) or None -> y (N, OH, OW, F).
    """
    n, _, _, c = x.shape
    kh, kw, _, f = kernel.shape
    xp, _ = pad_images(x, (kh, kw), strides, padding)
    oh, ow = out_size(xp.shape[1], kh, strides[0]), out_size(xp.shape[2], kw, strides[1])
    y = np.zeros((n, oh, ow, f))
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for o in range(f):
                    total = 0.0 if bias is None else bias[o]
                    for p in range(kh):
                        for q in range(kw):
                            for ch in range(c):
                                total += xp[b, i * strides[0] + p, j * strides[1] + q, ch] \
                                    * kernel[p, q, ch, o]
                    y[b, i, j, o] = total
    return y


def conv2d_backward(gy, x, kernel, strides, padding):
    """The gradients of conv2d, by the same loops: every product x * K in the
    forward sum sends gy back to both of its factors.

    gy (N, OH, OW, F) -> dx (N, H, W, C), dkernel (kh, kw, C, F), dbias (F,).
    """
    n, h, w, c = x.shape
    kh, kw, _, f = kernel.shape
    xp, (top, left) = pad_images(x, (kh, kw), strides, padding)
    gxp, gk = np.zeros_like(xp), np.zeros(kernel.shape)
    for b in range(n):
        for i in range(gy.shape[1]):
            for j in range(gy.shape[2]):
                for o in range(f):
                    for p in range(kh):
                        for q in range(kw):
                            r, s = i * strides[0] + p, j * strides[1] + q
                            for ch in range(c):
                                gk[p, q, ch, o] += xp[b, r, s, ch] * gy[b, i, j, o]
                                gxp[b, r, s, ch] += kernel[p, q, ch, o] * gy[b, i, j, o]
    return gxp[:, top:top + h, left:left + w], gk, gy.sum(axis=(0, 1, 2))


def pool2d(x, window, strides, padding, kind):
    """Max or mean of every window, over the pixels inside the image (Keras's
    'same' padding is never the maximum and never counted in the mean).

    x (N, H, W, C) -> y (N, OH, OW, C); kind 'max' or 'avg'.
    """
    n, h, w, c = x.shape
    top, bottom = padding_amounts(h, window[0], strides[0], padding)
    left, right = padding_amounts(w, window[1], strides[1], padding)
    oh, ow = out_size(h + top + bottom, window[0], strides[0]), \
        out_size(w + left + right, window[1], strides[1])
    y = np.zeros((n, oh, ow, c))
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    values = [x[b, r, s, ch] for r, s in window_pixels(i, j, window, strides,
                                                                        (top, left), (h, w))]
                    y[b, i, j, ch] = max(values) if kind == 'max' else sum(values) / len(values)
    return y


def window_pixels(i, j, window, strides, pad_before, size):
    """The (row, column) of every in-image pixel of output (i, j)'s window."""
    for p in range(window[0]):
        for q in range(window[1]):
            r, s = i * strides[0] + p - pad_before[0], j * strides[1] + q - pad_before[1]
            if 0 <= r < size[0] and 0 <= s < size[1]:
                yield r, s


def max_pool2d_backward(gy, x, window, strides, padding):
    """Each output's gradient goes to the first maximum of its window.

    gy (N, OH, OW, C) -> dx (N, H, W, C).
    """
    n, h, w, c = x.shape
    top, _ = padding_amounts(h, window[0], strides[0], padding)
    left, _ = padding_amounts(w, window[1], strides[1], padding)
    gx = np.zeros(x.shape)
    for b in range(n):
        for i in range(gy.shape[1]):
            for j in range(gy.shape[2]):
                for ch in range(c):
                    pixels = list(window_pixels(i, j, window, strides, (top, left), (h, w)))
                    r, s = max(pixels, key=lambda rs: x[b, rs[0], rs[1], ch])
                    gx[b, r, s, ch] += gy[b, i, j, ch]
    return gx


def dense(x, kernel, bias):
    """y[n, o] = b[o] + sum_i x[n, i] * W[i, o]: x (N, in), kernel (in, out) -> (N, out)."""
    n, units = x.shape[0], kernel.shape[1]
    y = np.zeros((n, units))
    for b in range(n):
        for o in range(units):
            y[b, o] = (0.0 if bias is None else bias[o]) + \
                sum(x[b, i] * kernel[i, o] for i in range(kernel.shape[0]))
    return y


def softmax_cross_entropy(logits, targets):
    """L = -1/N sum_n sum_k t[n, k] log softmax(z[n])[k], one row at a time.

    logits (N, K), targets (N, K) rows -> a float. The largest logit is
    subtracted before exp, which changes nothing but keeps exp finite.
    """
    total = 0.0
    for z, t in zip(logits, targets):
        top = max(z)
        log_sum = top + math.log(sum(math.exp(v - top) for v in z))
        total -= sum(tk * (zk - log_sum) for zk, tk in zip(z, t))
    return total / len(logits)
