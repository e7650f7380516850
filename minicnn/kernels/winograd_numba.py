"""Winograd's F(2x2, 3x3) transforms as compiled CPU loops (Numba): the fast twins of
``winograd_reference`` (same functions, signatures and results up to rounding).

The reference stacks all 16 pixels of every tile into one array before it
transforms them, 4x the images' size, and each einsum is a pass over it.
Here each tile is read once and transformed in registers and a small
buffer, the way the formulas are written out below (with B^T, A^T as in
the reference): B^T d is four differences of rows of d, then (B^T d) B the
same four on its columns, and A^T M A is sums of three. Every loop over the
channels is innermost, over contiguous memory (NHWC), so it vectorizes.

The loops are serial, unlike those of ``numba_cpu``, and release the GIL
(``nogil``): the convolution shares whole slices of the batch among threads
of its own, each slice's transforms and matrix products on one core
(``WinogradConvolution``), so that a slice's planes stay in that core's
cache and the cores meet once per slice rather than at every kernel and
product. Inputs are made C-contiguous first, as in ``numba_cpu``.
"""
import numpy as np
from numba import njit

# The kernel's transforms are tiny (16 x C x F), and the same array calls on every backend.
from minicnn.kernels.winograd_reference import (kernel_gradient, kernel_transform, plane_rows,
                                                tile_counts)

__all__ = ['tile_counts', 'plane_rows', 'kernel_transform', 'kernel_gradient', 'input_transform',
           'output_transform', 'output_gradient_transform', 'input_gradient_transform']


@njit(cache=True)
def _tile_origin(t, th_n, tw_n):
    """Tile t's image n and first output pixel (2*th, 2*tw), t = (n*th_n + th)*tw_n + tw.
    Its input tile starts there too, less the padding."""
    n, k = divmod(t, th_n * tw_n)
    return n, 2 * (k // tw_n), 2 * (k % tw_n)


@njit(nogil=True, cache=True)
def _input_transform_kernel(x, v, top, left, th_n, tw_n, zero):
    """v[4a + b, t, c] = (B^T d B)[a, b] for the 4x4 tile d of tile t; pixels outside the
    image read zero (0 in x's dtype: a plain 0 would make the arithmetic float64)."""
    n_img, h_in, w_in, n_ch = x.shape
    d = np.empty((4, 4, n_ch), x.dtype)
    e = np.empty((4, 4, n_ch), x.dtype)
    for t in range(n_img * th_n * tw_n):
        n, h0, w0 = _tile_origin(t, th_n, tw_n)
        for i in range(4):
            h = h0 - top + i
            for j in range(4):
                w = w0 - left + j
                inside = 0 <= h < h_in and 0 <= w < w_in
                for c in range(n_ch):
                    d[i, j, c] = x[n, h, w, c] if inside else zero
        for j in range(4):                   # e = B^T d: on the rows
            for c in range(n_ch):
                e[0, j, c] = d[0, j, c] - d[2, j, c]
                e[1, j, c] = d[1, j, c] + d[2, j, c]
                e[2, j, c] = d[2, j, c] - d[1, j, c]
                e[3, j, c] = d[1, j, c] - d[3, j, c]
        for i in range(4):                   # v = e B: the same on the columns
            for c in range(n_ch):
                v[4 * i, t, c] = e[i, 0, c] - e[i, 2, c]
                v[4 * i + 1, t, c] = e[i, 1, c] + e[i, 2, c]
                v[4 * i + 2, t, c] = e[i, 2, c] - e[i, 1, c]
                v[4 * i + 3, t, c] = e[i, 1, c] - e[i, 3, c]


@njit(nogil=True, cache=True)
def _output_transform_kernel(m, bias, y, th_n, tw_n):
    """y[n, h + i, w + j, f] = (A^T M A)[i, j] + bias[f] for tile t at (h, w) of image n;
    outputs past y's edge are dropped."""
    n_img, oh_n, ow_n, n_f = y.shape
    for t in range(n_img * th_n * tw_n):
        n, h, w = _tile_origin(t, th_n, tw_n)
        below, right = h + 1 < oh_n, w + 1 < ow_n
        for f in range(n_f):
            # s = A^T M: row 0 adds M's rows 0, 1, 2; row 1 (r) is rows 1 - 2 - 3
            s0 = m[0, t, f] + m[4, t, f] + m[8, t, f]
            s1 = m[1, t, f] + m[5, t, f] + m[9, t, f]
            s2 = m[2, t, f] + m[6, t, f] + m[10, t, f]
            s3 = m[3, t, f] + m[7, t, f] + m[11, t, f]
            r0 = m[4, t, f] - m[8, t, f] - m[12, t, f]
            r1 = m[5, t, f] - m[9, t, f] - m[13, t, f]
            r2 = m[6, t, f] - m[10, t, f] - m[14, t, f]
            r3 = m[7, t, f] - m[11, t, f] - m[15, t, f]
            y[n, h, w, f] = s0 + s1 + s2 + bias[f]       # then s A: the same on the columns
            if right:
                y[n, h, w + 1, f] = s1 - s2 - s3 + bias[f]
            if below:
                y[n, h + 1, w, f] = r0 + r1 + r2 + bias[f]
                if right:
                    y[n, h + 1, w + 1, f] = r1 - r2 - r3 + bias[f]


@njit(nogil=True, cache=True)
def _output_gradient_kernel(gy, g_m, g_bias, th_n, tw_n, zero):
    """g_m[4a + b, t, f] = (A dY A^T)[a, b] for the 2x2 tile dY of gy at tile t's origin,
    zero past gy's edge, and g_bias[f] += the tile's sum. A = (A^T)^T turns a pair
    (u, v) into (u, u + v, u - v, -v)."""
    n_img, oh_n, ow_n, n_f = gy.shape
    for t in range(n_img * th_n * tw_n):
        n, h, w = _tile_origin(t, th_n, tw_n)
        below, right = h + 1 < oh_n, w + 1 < ow_n
        for f in range(n_f):
            y00 = gy[n, h, w, f]
            y01 = gy[n, h, w + 1, f] if right else zero
            y10 = gy[n, h + 1, w, f] if below else zero
            y11 = gy[n, h + 1, w + 1, f] if right and below else zero
            g_bias[f] += (y00 + y01) + (y10 + y11)
            rows = ((y00, y01), (y00 + y10, y01 + y11), (y00 - y10, y01 - y11),
                    (-y10, -y11))                    # A dY, on the rows
            for a in range(4):                       # then (A dY) A^T, on the columns
                u, v = rows[a]
                g_m[4 * a, t, f] = u
                g_m[4 * a + 1, t, f] = u + v
                g_m[4 * a + 2, t, f] = u - v
                g_m[4 * a + 3, t, f] = -v


@njit(nogil=True, cache=True)
def _input_gradient_kernel(g_v, gx, top, left, th_n, tw_n):
    """gx[n, h - top + i, w - left + j, c] += (B dV B^T)[i, j] for tile t at (h, w) of
    image n, inside the image; gx starts at 0. B = (B^T)^T turns (v0, v1, v2, v3) into
    (v0, v1 - v2 + v3, v1 + v2 - v0, -v3)."""
    n_img, h_in, w_in, n_ch = gx.shape
    d = np.empty((4, 4, n_ch), gx.dtype)
    e = np.empty((4, 4, n_ch), gx.dtype)
    for t in range(n_img * th_n * tw_n):
        n, h0, w0 = _tile_origin(t, th_n, tw_n)
        for b in range(4):                   # e = B dV: on the rows (the first index a)
            for c in range(n_ch):
                v0, v1 = g_v[b, t, c], g_v[4 + b, t, c]
                v2, v3 = g_v[8 + b, t, c], g_v[12 + b, t, c]
                e[0, b, c] = v0
                e[1, b, c] = v1 - v2 + v3
                e[2, b, c] = v1 + v2 - v0
                e[3, b, c] = -v3
        for i in range(4):                   # d = e B^T: the same on the columns
            for c in range(n_ch):
                d[i, 0, c] = e[i, 0, c]
                d[i, 1, c] = e[i, 1, c] - e[i, 2, c] + e[i, 3, c]
                d[i, 2, c] = e[i, 1, c] + e[i, 2, c] - e[i, 0, c]
                d[i, 3, c] = -e[i, 3, c]
        for i in range(4):                   # added into the tile's pixels in the image
            h = h0 - top + i
            for j in range(4):
                w = w0 - left + j
                if 0 <= h < h_in and 0 <= w < w_in:
                    for c in range(n_ch):
                        gx[n, h, w, c] += d[i, j, c]


def _planes(n_tiles, k, dtype):
    """Planes (16, plane_rows(n_tiles), k) for the kernels to fill; the extra row zeros."""
    planes = np.empty((16, plane_rows(n_tiles), k), dtype=dtype)
    planes[:, n_tiles:] = 0
    return planes


def input_transform(x, pad, tile_hw):
    """V = B^T d B of every 4x4 tile d of the padded images: (N, H, W, C) -> (16, T, C)."""
    x = np.ascontiguousarray(x)
    v = _planes(x.shape[0] * tile_hw[0] * tile_hw[1], x.shape[3], x.dtype)
    _input_transform_kernel(x, v, pad[0], pad[2], *tile_hw, x.dtype.type(0))
    return v


def output_transform(m, bias, y):
    """y = A^T M A (+ bias) of every tile, cropped to y (N, OH, OW, F), which it fills."""
    bias = np.zeros(y.shape[3], y.dtype) if bias is None else bias.astype(y.dtype, copy=False)
    _output_transform_kernel(np.ascontiguousarray(m), bias, y, *tile_counts(y.shape[1:3]))


def output_gradient_transform(gy, tile_hw):
    """dM = A dY A^T of every 2x2 tile dY of gy (zeros past its edge), and the bias's
    gradient, gy summed over all but F: (N, OH, OW, F) -> (16, T, F), (F,). One pass:
    the sum is added up tile by tile, in float64, while the tiles are read."""
    gy = np.ascontiguousarray(gy)
    g_m = _planes(gy.shape[0] * tile_hw[0] * tile_hw[1], gy.shape[3], gy.dtype)
    g_bias = np.zeros(gy.shape[3])
    _output_gradient_kernel(gy, g_m, g_bias, *tile_hw, gy.dtype.type(0))
    return g_m, g_bias.astype(gy.dtype)


def input_gradient_transform(g_v, pad, tile_hw, gx):
    """dx: B dV B^T of every tile, added into the pixels the tile covers; fills gx
    (N, H, W, C), the images' shape."""
    gx[...] = 0
    _input_gradient_kernel(np.ascontiguousarray(g_v), gx, pad[0], pad[2], *tile_hw)
