"""The memory-bound kernels as compiled CPU loops (Numba): the fast twins of ``reference``.

Same functions, same signatures, same results as ``minicnn.kernels.reference``.
Each public function is a thin wrapper: it allocates the output and calls a
``@njit(parallel=True)`` kernel that spells the loops out. Three habits make
the loops fast:

* The innermost loop runs over the channel axis C, which is contiguous in
  NHWC arrays, so every loop reads and writes memory in order.
* The outer loop is a ``prange`` over rows of the image batch, ``N * OH`` or
  ``N * H`` of them, so every core gets work even when N is 1.
* Padding is never materialised: a window is clipped to the pixels inside the
  image (``_inside``), and the outputs start at the value padding would give
  (0 for sums and copies, -inf for maxima).

The forward kernels read each output's window; each backward kernel is
written so that no two threads ever add into the same pixel (see
``_col2im_kernel`` and ``_max_pool_backward_kernel``).

Numba compiles each kernel the first time it meets a new dtype (float32 or
float64) and caches the machine code on disk (``cache=True``), so only the
first run on a machine pays the compile time.
"""
import numpy as np
from numba import njit, prange

from minicnn.kernels.reference import output_size

__all__ = ['output_size', 'im2col', 'col2im', 'max_pool', 'max_pool_backward',
           'avg_pool', 'avg_pool_backward']


# ---------------------------------------------------------------- window arithmetic

@njit(cache=True)
def _inside(start, k, size):
    """Offsets [lo, hi) of a k-wide window starting at ``start`` that fall inside [0, size).

    ``start`` is the window's first pixel in image coordinates; it is
    negative when the window begins in the padding.
    """
    return max(0, -start), min(k, size - start)


@njit(cache=True)
def _covering(p, k, s, n_out):
    """Windows [lo, hi) that contain position p of the padded axis.

    Window o covers o*s <= p <= o*s + k - 1, that is
    ceil((p - k + 1) / s) <= o <= floor(p / s); the offset of p inside it is p - o*s.
    """
    return max(0, (p - k) // s + 1), min(n_out, p // s + 1)


# ---------------------------------------------------------------- im2col / col2im

@njit(parallel=True, cache=True)
def _im2col_kernel(x, cols, sh, sw, top, left):
    """cols[n, oh, ow, i, j, c] = x[n, oh*sh - top + i, ow*sw - left + j, c], in-image pixels only."""
    n_img, h_in, w_in, n_ch = x.shape
    _, oh_n, ow_n, kh, kw, _ = cols.shape
    for row in prange(n_img * oh_n):
        n, oh = divmod(row, oh_n)
        h0 = oh * sh - top
        i_lo, i_hi = _inside(h0, kh, h_in)
        for ow in range(ow_n):
            w0 = ow * sw - left
            j_lo, j_hi = _inside(w0, kw, w_in)
            for i in range(i_lo, i_hi):
                for j in range(j_lo, j_hi):
                    for c in range(n_ch):
                        cols[n, oh, ow, i, j, c] = x[n, h0 + i, w0 + j, c]


@njit(parallel=True, cache=True)
def _col2im_kernel(cols, x, sh, sw, top, left):
    """x[n, h, w, c] += cols[n, oh, ow, i, j, c] over every window (oh, ow) covering (h, w).

    A gather: each thread owns whole image rows and only ever writes its own
    pixels, so overlapping windows cannot make two threads add into one place.
    """
    n_img, h_in, w_in, n_ch = x.shape
    _, oh_n, ow_n, kh, kw, _ = cols.shape
    for row in prange(n_img * h_in):
        n, h = divmod(row, h_in)
        oh_lo, oh_hi = _covering(h + top, kh, sh, oh_n)
        for w in range(w_in):
            ow_lo, ow_hi = _covering(w + left, kw, sw, ow_n)
            for oh in range(oh_lo, oh_hi):
                i = h + top - oh * sh
                for ow in range(ow_lo, ow_hi):
                    j = w + left - ow * sw
                    for c in range(n_ch):
                        x[n, h, w, c] += cols[n, oh, ow, i, j, c]


def im2col(x, window, strides, pad):
    """Unfold every window of x: (N, H, W, C) -> (N, OH, OW, kh, kw, C); padding reads as 0."""
    x = np.ascontiguousarray(x)
    cols = np.zeros((x.shape[0], *output_size(x.shape, window, strides, pad), *window, x.shape[3]),
                    dtype=x.dtype)
    _im2col_kernel(x, cols, strides[0], strides[1], pad[0], pad[2])
    return cols


def col2im(cols, x_shape, window, strides, pad):
    """Fold windows back, summing overlaps: (N, OH, OW, kh, kw, C) -> x_shape."""
    x = np.zeros(tuple(x_shape), dtype=cols.dtype)
    _col2im_kernel(cols, x, strides[0], strides[1], pad[0], pad[2])
    return x


# ---------------------------------------------------------------- max pooling

@njit(parallel=True, cache=True)
def _max_pool_kernel(x, y, argmax, sh, sw, top, left):
    """y = max over each window's in-image pixels, argmax = flat offset i*kw + j of the first one.

    y starts at -inf (what padding holds), so the strict ``>`` keeps the first
    of equal maxima and never picks padding.
    """
    n_img, h_in, w_in, n_ch = x.shape
    _, oh_n, ow_n, _ = y.shape
    kh, kw = argmax_window_shape = _window_of(argmax, x, sh, sw, top, left)
