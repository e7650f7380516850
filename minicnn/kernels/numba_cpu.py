"""The memory-bound kernels as compiled CPU loops (Numba): the fast twins of ``reference``.

Same functions, same signatures, same results as ``minicnn.kernels.reference``.
Each public function is a thin wrapper that allocates the output and calls a
``@njit(parallel=True)`` kernel, where the loops are spelled out. Every kernel
walks the same loop nest::

    for n in prange(N):                      # images, shared among the cores
        for oh, ow in output positions:      # one window each
            for i, j in the window's pixels inside the image:
                for c in range(C):           # contiguous in NHWC: in-order memory
                    ...

* ``prange`` hands whole images to the threads. The backward kernels add
  overlapping windows into the same pixels; as every pixel belongs to one
  image, no two threads ever write the same place. (Max pooling's gradient
  over windows that never overlap walks the input pixels instead: a gather.)
* im2col and col2im also come serial (``im2col_serial``, ``col2im_serial``):
  the same loops over one image (``_im2col_image``), the images in order on
  the calling thread, for a convolution that shares slices of its batch
  among the cores itself (``functional.conv.ChunkedConvolution``).
* Padding is never materialised: ``_inside`` clips each window to the image
  (im2col, which must also write the zeros, tests each pixel instead), and
  the outputs start at the value padding would give (0 for copies and sums,
  -inf for maxima).

Numba compiles a kernel the first time it sees a new dtype (float32, float64)
or memory layout, and keeps the machine code on disk (``cache=True``), so
later processes skip the compile. Inputs are made C-contiguous first, which
keeps it to one compiled version per dtype.
"""
import math

import numpy as np
from numba import njit, prange

from minicnn.kernels import threads
# output_size and window_counts are part of every kernel module's interface.
from minicnn.kernels.reference import output_size, window_counts

SQRT_HALF, INV_SQRT_2PI = math.sqrt(0.5), 1 / math.sqrt(2 * math.pi)

__all__ = ['output_size', 'window_counts', 'im2col', 'col2im', 'im2col_serial', 'col2im_serial',
           'max_pool', 'max_pool_backward',
           'avg_pool', 'avg_pool_backward', 'relu', 'relu_backward', 'erf', 'gelu',
           'gelu_backward', 'parallel_threads']


@njit(cache=True)
def _inside(start, k, size, step=1):
    """Offsets [lo, hi) of a k-wide window starting at ``start`` whose pixels
    ``start + i * step`` fall inside [0, size); step > 1 for a dilated window.

    ``start`` is the window's first pixel in image coordinates: negative when
    the window begins in the padding. A window lying wholly in the padding
    gets the empty range lo == hi, never hi < lo, so hi - lo counts its pixels.
    """
    lo = max(0, (step - 1 - start) // step)   # the first i with start + i*step >= 0
    return lo, max(lo, min(k, (size - start + step - 1) // step))


# ---------------------------------------------------------------- im2col / col2im

@njit(inline='always')
def _im2col_image(x, cols, n, sh, sw, top, left, dh, dw):
    """cols[n, oh, ow, i, j, c] = x[n, oh*sh - top + i*dh, ow*sw - left + j*dw, c], or 0
    in the padding, for image n.

    Every entry of cols is written, so it can start uninitialised: zero-filling
    it first would be one more pass over the largest array of a training step.
    """
    _, h_in, w_in, n_ch = x.shape
    _, oh_n, ow_n, kh, kw, _ = cols.shape
    for oh in range(oh_n):
        for ow in range(ow_n):
            for i in range(kh):
                h = oh * sh - top + i * dh
                for j in range(kw):
                    w = ow * sw - left + j * dw
                    if 0 <= h < h_in and 0 <= w < w_in:
                        for c in range(n_ch):
                            cols[n, oh, ow, i, j, c] = x[n, h, w, c]
                    else:
                        for c in range(n_ch):
                            cols[n, oh, ow, i, j, c] = 0


@njit(inline='always')
def _col2im_image(cols, x, n, sh, sw, top, left, dh, dw):
    """x[n, oh*sh - top + i*dh, ow*sw - left + j*dw, c] += cols[n, oh, ow, i, j, c], for
    image n: im2col run backwards; entries that fall in the padding are dropped."""
    _, h_in, w_in, n_ch = x.shape
    _, oh_n, ow_n, kh, kw, _ = cols.shape
    for oh in range(oh_n):
        h0 = oh * sh - top
        i_lo, i_hi = _inside(h0, kh, h_in, dh)
        for ow in range(ow_n):
            w0 = ow * sw - left
            j_lo, j_hi = _inside(w0, kw, w_in, dw)
            for i in range(i_lo, i_hi):
                for j in range(j_lo, j_hi):
                    for c in range(n_ch):
                        x[n, h0 + i * dh, w0 + j * dw, c] += cols[n, oh, ow, i, j, c]


@njit(parallel=True, cache=True)
def _im2col_kernel(x, cols, sh, sw, top, left, dh, dw):
    for n in prange(x.shape[0]):
        _im2col_image(x, cols, n, sh, sw, top, left, dh, dw)


@njit(parallel=True, cache=True)
def _col2im_kernel(cols, x, sh, sw, top, left, dh, dw):
    for n in prange(x.shape[0]):
        _col2im_image(cols, x, n, sh, sw, top, left, dh, dw)


# The same loops with the images in order on the calling thread, which they free
# (nogil): for a convolution that shares slices of its batch among the cores itself
# (``kernels.parallel.map_parts``), so that each slice stays on one core.
@njit(nogil=True, cache=True)
def _im2col_serial_kernel(x, cols, sh, sw, top, left, dh, dw):
    for n in range(x.shape[0]):
        _im2col_image(x, cols, n, sh, sw, top, left, dh, dw)


@njit(nogil=True, cache=True)
def _col2im_serial_kernel(cols, x, sh, sw, top, left, dh, dw):
    for n in range(x.shape[0]):
        _col2im_image(cols, x, n, sh, sw, top, left, dh, dw)


def im2col(x, window, strides, pad, dilation=(1, 1)):
    """Unfold every window of x: (N, H, W, C) -> (N, OH, OW, kh, kw, C); padding reads as 0."""
    return _unfold(_im2col_kernel, x, window, strides, pad, dilation)


def col2im(cols, x_shape, window, strides, pad, dilation=(1, 1)):
    """Fold windows back, summing overlaps: (N, OH, OW, kh, kw, C) -> x_shape."""
    return _fold(_col2im_kernel, cols, x_shape, strides, pad, dilation)


def im2col_serial(x, window, strides, pad, dilation=(1, 1)):
    """im2col on the calling thread only: one slice of a batch whose slices the cores share."""
    return _unfold(_im2col_serial_kernel, x, window, strides, pad, dilation)


def col2im_serial(cols, x_shape, window, strides, pad, dilation=(1, 1)):
    """col2im on the calling thread only: one slice of a batch whose slices the cores share."""
    return _fold(_col2im_serial_kernel, cols, x_shape, strides, pad, dilation)


def _unfold(kernel, x, window, strides, pad, dilation):
    x = np.ascontiguousarray(x)
    out_hw = output_size(x.shape, window, strides, pad, dilation)
    cols = np.empty((x.shape[0], *out_hw, *window, x.shape[3]), dtype=x.dtype)
    kernel(x, cols, *strides, pad[0], pad[2], *dilation)
    return cols


def _fold(kernel, cols, x_shape, strides, pad, dilation):
    x = np.zeros(tuple(x_shape), dtype=cols.dtype)
    kernel(np.ascontiguousarray(cols), x, *strides, pad[0], pad[2], *dilation)
    return x


# ---------------------------------------------------------------- max pooling

@njit(parallel=True, cache=True)
def _max_pool_kernel(x, y, argmax, kh, kw, sh, sw, top, left):
    """y = maximum of each window's in-image pixels, argmax = its flat offset i*kw + j.

    y starts at -inf, the value of padding, and the strict ``>`` keeps the
    first of equal maxima, as the reference does.
    """
    n_img, h_in, w_in, n_ch = x.shape
    _, oh_n, ow_n, _ = y.shape
    for n in prange(n_img):
        for oh in range(oh_n):
            h0 = oh * sh - top
            i_lo, i_hi = _inside(h0, kh, h_in)
            for ow in range(ow_n):
                w0 = ow * sw - left
                j_lo, j_hi = _inside(w0, kw, w_in)
                for i in range(i_lo, i_hi):
                    for j in range(j_lo, j_hi):
                        for c in range(n_ch):
                            value = x[n, h0 + i, w0 + j, c]
                            if value > y[n, oh, ow, c]:
                                y[n, oh, ow, c] = value
                                argmax[n, oh, ow, c] = i * kw + j


@njit(parallel=True, cache=True)
def _max_pool_backward_kernel(gy, argmax, gx, kw, sh, sw, top, left):
    """gx[n, h, w, c] += gy[n, oh, ow, c] where (h, w) is the maximum of window (oh, ow).

    Only one pixel per window gets gradient, so this visits outputs, not
    window pixels. A window wholly in the padding has no maximum in the image
    (its argmax 0 points into the padding) and passes nothing on.
    """
    n_img, h_in, w_in, n_ch = gx.shape
    _, oh_n, ow_n, _ = gy.shape
    for n in prange(n_img):
        for oh in range(oh_n):
            for ow in range(ow_n):
                for c in range(n_ch):
                    i, j = divmod(argmax[n, oh, ow, c], kw)
                    h, w = oh * sh - top + i, ow * sw - left + j
                    if 0 <= h < h_in and 0 <= w < w_in:
                        gx[n, h, w, c] += gy[n, oh, ow, c]


def max_pool(x, window, strides, pad):
    """Window maxima and where they are: (N, H, W, C) -> y, argmax, both (N, OH, OW, C).

    ``argmax`` holds the flat offset ``i * kw + j`` of the first maximum in
    each window. Padding is -inf, so it is never the maximum.
    """
    x = np.ascontiguousarray(x)
    out_shape = (x.shape[0], *output_size(x.shape, window, strides, pad), x.shape[3])
    y = np.full(out_shape, -np.inf, dtype=x.dtype)
    argmax = np.zeros(out_shape, dtype=np.int32)
    _max_pool_kernel(x, y, argmax, *window, *strides, pad[0], pad[2])
    return y, argmax


@njit(parallel=True, cache=True)
def _disjoint_max_pool_backward_kernel(gy, argmax, gx, kh, kw, sh, sw, top, left):
    """_max_pool_backward_kernel for windows that never overlap (strides >= window).

    Each pixel then lies in at most one window, so the scatter turns into a
    gather: every pixel asks which window holds it and takes that window's
    gradient if it is the maximum, else 0. Each pixel is written once, in
    memory order, and gx needs no zero-filling pass first.
    """
    n_img, h_in, w_in, n_ch = gx.shape
    _, oh_n, ow_n, _ = gy.shape
    for n in prange(n_img):
        for h in range(h_in):
            oh, i = divmod(h + top, sh)
            for w in range(w_in):
                ow, j = divmod(w + left, sw)
                if oh < oh_n and ow < ow_n and i < kh and j < kw:
                    offset = i * kw + j
                    for c in range(n_ch):
                        gx[n, h, w, c] = gy[n, oh, ow, c] if argmax[n, oh, ow, c] == offset else 0
                else:
                    for c in range(n_ch):
                        gx[n, h, w, c] = 0


def max_pool_backward(gy, argmax, x_shape, window, strides, pad):
    """Route each output gradient to its window's maximum: -> (N, H, W, C).
    Windows that never overlap (strides >= window, as in most pooling layers)
    take the gather kernel, which writes each pixel once."""
    gy, argmax = np.ascontiguousarray(gy), np.ascontiguousarray(argmax)
    if strides[0] >= window[0] and strides[1] >= window[1]:
        gx = np.empty(tuple(x_shape), dtype=gy.dtype)
        _disjoint_max_pool_backward_kernel(gy, argmax, gx, *window, *strides, pad[0], pad[2])
    else:
        gx = np.zeros(tuple(x_shape), dtype=gy.dtype)
        _max_pool_backward_kernel(gy, argmax, gx, window[1], *strides, pad[0], pad[2])
    return gx


# ---------------------------------------------------------------- average pooling

@njit(parallel=True, cache=True, error_model='numpy')
def _avg_pool_kernel(x, y, kh, kw, sh, sw, top, left):
    """y = sum of each window's in-image pixels / how many there are.

    error_model='numpy' makes a window wholly in the padding give 0/0 = nan,
    as in the reference, where Python's rules would raise ZeroDivisionError.
    """
    n_img, h_in, w_in, n_ch = x.shape
    _, oh_n, ow_n, _ = y.shape
    for n in prange(n_img):
        for oh in range(oh_n):
            h0 = oh * sh - top
            i_lo, i_hi = _inside(h0, kh, h_in)
            for ow in range(ow_n):
                w0 = ow * sw - left
                j_lo, j_hi = _inside(w0, kw, w_in)
                for i in range(i_lo, i_hi):
                    for j in range(j_lo, j_hi):
                        for c in range(n_ch):
                            y[n, oh, ow, c] += x[n, h0 + i, w0 + j, c]
                count = (i_hi - i_lo) * (j_hi - j_lo)
                for c in range(n_ch):
                    y[n, oh, ow, c] /= count


@njit(parallel=True, cache=True)
def _avg_pool_backward_kernel(gy, gx, kh, kw, sh, sw, top, left):
    """gx[n, oh*sh - top + i, ow*sw - left + j, c] += gy[n, oh, ow, c] / count of window (oh, ow).

    col2im of windows that hold the same share in every pixel. A window
    wholly in the padding has no pixel to share with, so nothing divides by 0.
    """
    n_img, h_in, w_in, n_ch = gx.shape
    _, oh_n, ow_n, _ = gy.shape
    for n in prange(n_img):
        for oh in range(oh_n):
            h0 = oh * sh - top
            i_lo, i_hi = _inside(h0, kh, h_in)
            for ow in range(ow_n):
                w0 = ow * sw - left
                j_lo, j_hi = _inside(w0, kw, w_in)
                count = (i_hi - i_lo) * (j_hi - j_lo)
                for i in range(i_lo, i_hi):
                    for j in range(j_lo, j_hi):
                        for c in range(n_ch):
                            gx[n, h0 + i, w0 + j, c] += gy[n, oh, ow, c] / count


def avg_pool(x, window, strides, pad):
    """Window means over the pixels inside the image: (N, H, W, C) -> (N, OH, OW, C)."""
    x = np.ascontiguousarray(x)
    y = np.zeros((x.shape[0], *output_size(x.shape, window, strides, pad), x.shape[3]),
                 dtype=x.dtype)
    _avg_pool_kernel(x, y, *window, *strides, pad[0], pad[2])
    return y


def avg_pool_backward(gy, x_shape, window, strides, pad):
    """Spread each output gradient evenly over its window's pixels: -> (N, H, W, C)."""
    gx = np.zeros(tuple(x_shape), dtype=gy.dtype)
    _avg_pool_backward_kernel(np.ascontiguousarray(gy), gx, *window, *strides, pad[0], pad[2])
    return gx


# ---------------------------------------------------------------- ReLU

@njit(parallel=True, cache=True)
def _relu_kernel(x, y):
    """y = max(x, 0), elementwise over flat arrays; NaN stays NaN, as in np.maximum."""
    for k in prange(x.size):
        y[k] = 0 if x[k] <= 0 else x[k]


@njit(parallel=True, cache=True)
def _relu_backward_kernel(gy, y, gx):
    """gx = gy where y > 0, else 0, elementwise over flat arrays."""
    for k in prange(gy.size):
        gx[k] = gy[k] if y[k] > 0 else 0


def relu(x, out=None):
    """max(x, 0), one parallel pass (NumPy's needs two, single-threaded); into
    ``out`` if given (``out=x``: in place), which must be C-contiguous."""
    x = np.ascontiguousarray(x)
    if out is not None and not (out.flags.c_contiguous and out.shape == x.shape):
        raise ValueError(f'relu: out must be a C-contiguous array of shape {x.shape}')
    y = np.empty_like(x) if out is None else out
    _relu_kernel(x.reshape(-1), y.reshape(-1))
    return y


def relu_backward(gy, y):
    """The gradient passes where the output y is positive."""
    gy, y = np.ascontiguousarray(gy), np.ascontiguousarray(y)
    gx = np.empty_like(gy)
    _relu_backward_kernel(gy.reshape(-1), y.reshape(-1), gx.reshape(-1))
    return gx


# ---------------------------------------------------------------- erf

@njit(parallel=True, cache=True)
def _erf_kernel(x, y):
    """y = erf(x), elementwise over flat arrays (the C library's erf)."""
    for k in prange(x.size):
        y[k] = math.erf(x[k])


def erf(x):
    """The error function, elementwise, in one parallel compiled pass."""
    x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    _erf_kernel(x.reshape(-1), y.reshape(-1))
    return y


# ---------------------------------------------------------------- GELU

@njit(parallel=True, cache=True)
def _gelu_kernel(x, y, cdf):
    """cdf = Phi(x), y = x Phi(x), elementwise over flat arrays (the C library's erf)."""
    for k in prange(x.size):
        c = 0.5 * (1 + math.erf(x[k] * SQRT_HALF))
        cdf[k] = c
        y[k] = x[k] * c


# Abramowitz & Stegun 7.1.28: erf(z) = 1 - (1 + a1 z + ... + a6 z^6)^-16 for z >= 0,
# within 3e-7 of erf, about float32's precision. Only multiplications and one
# division: the compiler runs eight elements at once (AVX2), where the C library's
# erf takes one at a time; on the 2-core VM, 5x faster on 12 million elements.
ERF_A = (0.0705230784, 0.0422820123, 0.0092705272, 0.0001520143, 0.0002765672, 0.0000430638)


@njit(parallel=True, cache=True, fastmath=True)
def _gelu_float32_kernel(x, y, cdf, a1, a2, a3, a4, a5, a6, sqrt_half):
    """_gelu_kernel with A&S 7.1.28's erf, for float32 arrays."""
    for k in prange(x.size):
        z = abs(x[k] * sqrt_half)
        p = 1 + z * (a1 + z * (a2 + z * (a3 + z * (a4 + z * (a5 + z * a6)))))
        p2 = p * p
        p4 = p2 * p2
        p8 = p4 * p4
        erf = 1 - 1 / (p8 * p8)
        c = 0.5 * (1 + (erf if x[k] >= 0 else -erf))
        cdf[k] = c
        y[k] = x[k] * c


@njit(parallel=True, cache=True)
def _gelu_backward_kernel(gy, x, cdf, gx):
    """gx = gy (Phi(x) + x phi(x)), elementwise over flat arrays."""
    for k in prange(gy.size):
        gx[k] = gy[k] * (cdf[k] + x[k] * math.exp(-0.5 * x[k] * x[k]) * INV_SQRT_2PI)


# e^-t in float32 arithmetic the compiler vectorises (the C library's exp takes one
# element at a time): e^-t = e^-r / 2^n with n = round(t / ln 2), so that
# |r| <= ln(2)/2 and eight Taylor terms of e^-r reach float32's precision. ln 2 is
# split in two (Cody & Waite) so that n * LN2_HIGH is exact and r keeps its digits.
# Beyond t = 85, e^-t < 1.2e-37 reads as 0, which keeps 2^n (two shifts of 1) in int64.
LN2_HIGH, LN2_LOW = 0.693359375, -2.12194440e-4
EXP_NEG_LIMIT = 85.0


@njit(inline='always')
def _exp_neg_float32(t):
    """e^-t for float32 t >= 0, within one unit in the last place (0 past 85)."""
    f32 = np.float32
    t_reduced = min(t, f32(EXP_NEG_LIMIT))
    n = int(t_reduced * f32(1 / math.log(2)) + f32(0.5))
    n_f32 = f32(n)                                      # int64 * float32 would be float64
    u = (n_f32 * f32(LN2_HIGH) - t_reduced) + n_f32 * f32(LN2_LOW)     # u = -r
    p = f32(1)
    for k in range(8, 0, -1):                           # e^u = 1 + u (1 + u/2 (1 + u/3 (...)))
        p = f32(1) + u * f32(1 / k) * p
    half = n >> 1
    power_of_two = f32(1 << half) * f32(1 << (n - half))
    return p / power_of_two if t <= f32(EXP_NEG_LIMIT) else f32(0)


@njit(parallel=True, cache=True)
def _gelu_backward_float32_kernel(gy, x, cdf, gx):
    """_gelu_backward_kernel in float32 throughout, with _exp_neg_float32's e^-t."""
    f32 = np.float32
    for k in prange(gy.size):
        phi = _exp_neg_float32(f32(0.5) * x[k] * x[k]) * f32(INV_SQRT_2PI)
        gx[k] = gy[k] * (cdf[k] + x[k] * phi)


def gelu(x):
    """(x Phi(x), Phi(x)) in one parallel pass (the reference makes five arrays);
    float32 by a polynomial erf (ERF_A), float64 by the C library's."""
    x = np.ascontiguousarray(x)
    y, cdf = np.empty_like(x), np.empty_like(x)
    if x.dtype == np.float32:
        constants = (np.float32(a) for a in (*ERF_A, SQRT_HALF))
        _gelu_float32_kernel(x.reshape(-1), y.reshape(-1), cdf.reshape(-1), *constants)
    else:
        _gelu_kernel(x.reshape(-1), y.reshape(-1), cdf.reshape(-1))
    return y, cdf


def gelu_backward(gy, x, cdf):
    """GELU's gradient in one parallel pass; float32 with _exp_neg_float32's e^-t,
    which the compiler vectorises, float64 with the C library's exp."""
    gy, x, cdf = (np.ascontiguousarray(a) for a in (gy, x, cdf))
    gx = np.empty_like(gy)
    float32 = gy.dtype == x.dtype == cdf.dtype == np.float32
    kernel = _gelu_backward_float32_kernel if float32 else _gelu_backward_kernel
    kernel(gy.reshape(-1), x.reshape(-1), cdf.reshape(-1), gx.reshape(-1))
    return gx


# The per-operation twins this kernel set runs (see kernels/__init__.py): the
# compiled passes, and the cores shared out by Numba's thread count.
from minicnn.kernels import batchnorm_numba as batchnorm  # noqa: E402
from minicnn.kernels import optimizer_numba as optimizer  # noqa: E402
from minicnn.kernels import winograd_numba as winograd  # noqa: E402


def parallel_threads():
    """How many threads ``kernels.parallel.map_parts`` shares an operation's slices among."""
    return threads.slice_threads()
