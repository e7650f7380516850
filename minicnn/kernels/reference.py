"""Plain array versions of the memory-bound kernels: the reference twins.

Each window function loops in Python over the ``kh * kw`` offsets (i, j)
of the window; for one offset, the pixels it reads at every output
position form one strided slice of the padded input (``_offset_view``), so
the rest is whole-array arithmetic and works unchanged on NumPy and CuPy.
ReLU and its gradient are one array call each; erf, which NumPy lacks, is
Python's ``math.erf`` on each element, and GELU and its gradient are a few
array expressions around it. The Numba (``numba_cpu``)
and CUDA (``cupy_gpu``) versions have the same signatures and must give the
same results.

Shapes: ``x`` is NHWC ``(N, H, W, C)``; ``window = (kh, kw)``,
``strides = (sh, sw)``, ``pad = (top, bottom, left, right)``; outputs are
``(N, OH, OW, ...)`` with ``OH = (H + top + bottom - kh) // sh + 1``.

im2col and col2im also take ``dilation = (dh, dw)`` (atrous convolution):
offset (i, j) of a window then reads the pixel ``(i * dh, j * dw)`` from
the window's first, so a kh-row window spans ``(kh - 1) * dh + 1`` rows and
``OH = (H + top + bottom - (kh - 1) * dh - 1) // sh + 1``. Pooling windows
are never dilated.
"""
import math

import numpy as np

from minicnn import devices
from minicnn.devices import get_array_module


def output_size(x_shape, window, strides, pad, dilation=(1, 1)):
    """(OH, OW) of a (possibly dilated) window sliding over a padded NHWC input."""
    _, h, w, _ = x_shape
    top, bottom, left, right = pad
    (kh, kw), (dh, dw) = window, dilation
    return ((h + top + bottom - (kh - 1) * dh - 1) // strides[0] + 1,
            (w + left + right - (kw - 1) * dw - 1) // strides[1] + 1)


def _pad(x, pad, value=0.0):
    top, bottom, left, right = pad
    xp = get_array_module(x)
    return xp.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)


def _unpad(x_padded, pad):
    top, bottom, left, right = pad
    h, w = x_padded.shape[1] - bottom, x_padded.shape[2] - right
    return x_padded[:, top:h, left:w, :]


def _offset_view(x_padded, i, j, strides, out_hw):
    """Pixel (i, j) of every window: x_padded[n, i + sh*r, j + sw*s, c] for each
    output position (r, s), an (N, OH, OW, C) view. A view, so it can be added into."""
    (sh, sw), (oh, ow) = strides, out_hw
    return x_padded[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :]


def im2col(x, window, strides, pad, dilation=(1, 1)):
    """Unfold every window of x: (N, H, W, C) -> (N, OH, OW, kh, kw, C).

    cols[n, r, s, i, j, c] = x_pad[n, r*sh + i*dh, s*sw + j*dw, c]. Reshaped
    to (N*OH*OW, kh*kw*C) it meets an HWIO kernel reshaped to (kh*kw*C, F)
    in one matrix product.
    """
    xp = get_array_module(x)
    (kh, kw), (dh, dw) = window, dilation
    out_hw = output_size(x.shape, window, strides, pad, dilation)
    x_padded = _pad(x, pad)
    cols = xp.empty((x.shape[0], *out_hw, kh, kw, x.shape[3]), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, i, j, :] = _offset_view(x_padded, i * dh, j * dw, strides, out_hw)
    return cols


def _zeros_padded(x_shape, pad, dtype, xp):
    n, h, w, c = x_shape
    top, bottom, left, right = pad
    return xp.zeros((n, h + top + bottom, w + left + right, c), dtype=dtype)


def col2im(cols, x_shape, window, strides, pad, dilation=(1, 1)):
    """Fold windows back, summing overlaps: (N, OH, OW, kh, kw, C) -> x_shape.

    The adjoint of im2col: each pixel receives the sum of the entries that
    im2col copied from it.
    """
    xp = get_array_module(cols)
    (kh, kw), (dh, dw), out_hw = window, dilation, cols.shape[1:3]
    g_padded = _zeros_padded(x_shape, pad, cols.dtype, xp)
    for i in range(kh):
        for j in range(kw):
            _offset_view(g_padded, i * dh, j * dw, strides, out_hw)[...] += cols[:, :, :, i, j, :]
    return _unpad(g_padded, pad)


# One slice of a batch whose slices the cores share: the references use the
# calling thread only anyway.
im2col_serial, col2im_serial = im2col, col2im


def max_pool(x, window, strides, pad):
    """Window maxima and where they are: (N, H, W, C) -> y, argmax, both (N, OH, OW, C).

    ``argmax`` holds ``i * kw + j`` for the offset (i, j) of the first maximum
    in each window. Padding is -inf, so it is never the maximum.
    """
    xp = get_array_module(x)
    (kh, kw), out_hw = window, output_size(x.shape, window, strides, pad)
    x_padded = _pad(x, pad, value=-xp.inf)
    y = xp.full((x.shape[0], *out_hw, x.shape[3]), -xp.inf, dtype=x.dtype)
    argmax = xp.zeros(y.shape, dtype=xp.int32)
    for i in range(kh):
        for j in range(kw):
            candidate = _offset_view(x_padded, i, j, strides, out_hw)
            better = candidate > y  # strictly: the first maximum wins ties
            y = xp.where(better, candidate, y)
            argmax = xp.where(better, i * kw + j, argmax)
    return y, argmax


def max_pool_backward(gy, argmax, x_shape, window, strides, pad):
    """Route each output gradient to its window's maximum: -> (N, H, W, C)."""
    xp = get_array_module(gy)
    (kh, kw), out_hw = window, gy.shape[1:3]
    g_padded = _zeros_padded(x_shape, pad, gy.dtype, xp)
    for i in range(kh):
        for j in range(kw):
            _offset_view(g_padded, i, j, strides, out_hw)[...] += \
                xp.where(argmax == i * kw + j, gy, 0)
    return _unpad(g_padded, pad)


def window_counts(x_shape, window, strides, pad, xp):
    """How many real (not padding) pixels each window covers: (1, OH, OW, 1)."""
    (kh, kw), out_hw = window, output_size(x_shape, window, strides, pad)
    ones_padded = _pad(xp.ones((1, x_shape[1], x_shape[2], 1), dtype=xp.float32), pad)
    counts = xp.zeros((1, *out_hw, 1), dtype=xp.float32)
    for i in range(kh):
        for j in range(kw):
            counts += _offset_view(ones_padded, i, j, strides, out_hw)
    return counts


def avg_pool(x, window, strides, pad):
    """Window means over the pixels inside the image: (N, H, W, C) -> (N, OH, OW, C)."""
    xp = get_array_module(x)
    (kh, kw), out_hw = window, output_size(x.shape, window, strides, pad)
    x_padded = _pad(x, pad)
    total = xp.zeros((x.shape[0], *out_hw, x.shape[3]), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            total += _offset_view(x_padded, i, j, strides, out_hw)
    return total / window_counts(x.shape, window, strides, pad, xp).astype(x.dtype)


def avg_pool_backward(gy, x_shape, window, strides, pad):
    """Spread each output gradient evenly over its window's pixels: -> (N, H, W, C)."""
    xp = get_array_module(gy)
    (kh, kw), out_hw = window, gy.shape[1:3]
    share = gy / window_counts(x_shape, window, strides, pad, xp).astype(gy.dtype)
    g_padded = _zeros_padded(x_shape, pad, gy.dtype, xp)
    for i in range(kh):
        for j in range(kw):
            _offset_view(g_padded, i, j, strides, out_hw)[...] += share
    return _unpad(g_padded, pad)


def relu(x, out=None):
    """max(x, 0), elementwise; into ``out`` if given (``out=x``: in place)."""
    return get_array_module(x).maximum(x, 0, out=out)


def relu_backward(gy, y):
    """The gradient passes where the output y = relu(x) is positive."""
    return get_array_module(gy).where(y > 0, gy, 0)


def erf(x):
    """The error function erf(x) = 2/sqrt(pi) * integral_0^x e^(-t^2) dt, elementwise.

    NumPy has none, so this is Python's ``math.erf`` on every element: slow
    and surely right. A CuPy array makes the round trip through the CPU.
    """
    values = np.vectorize(math.erf, otypes=[x.dtype])(devices.to_numpy(x))
    return get_array_module(x).asarray(values)


def gelu(x):
    """(y, cdf): y = x Phi(x) and Phi(x) = (1 + erf(x / sqrt 2)) / 2, the standard
    normal CDF, which the gradient needs again, elementwise."""
    cdf = 0.5 * (1 + erf(x / math.sqrt(2)))
    return x * cdf, cdf


def gelu_backward(gy, x, cdf):
    """gy (Phi(x) + x phi(x)), phi(x) = e^(-x^2 / 2) / sqrt(2 pi) the normal density."""
    return gy * (cdf + x * get_array_module(x).exp(-0.5 * x * x) / math.sqrt(2 * math.pi))


# The per-operation twins this kernel set runs (see kernels/__init__.py): the
# references in array calls, with no compiled optimizer pass (the rules' own
# array formulas run) and the slices of a batch in order, in the calling thread.
from minicnn.kernels import batchnorm_reference as batchnorm  # noqa: E402
from minicnn.kernels import winograd_reference as winograd  # noqa: E402

optimizer = None


def parallel_threads():
    return 1
