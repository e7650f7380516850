"""Winograd's F(2x2, 3x3) transforms as plain array calls: the reference twins of
``winograd_numba`` (same functions, same signatures, same results up to rounding).

``minicnn.functional.conv.WinogradConvolution`` explains the method. Its
arrays, for images x (N, H, W, C) whose 3x3 stride-1 convolution is
(N, OH, OW, F), cut into TH x TW tiles of 2x2 outputs (``tile_counts``):

    d    (4, 4) input tile:    x_pad[n, 2*th + i, 2*tw + j, c], i, j < 4
    V    (16, T, C)            B^T d B of every tile, T = N * TH * TW tiles (and
                               maybe a row of zeros, see plane_rows), plane
                               a*4 + b holding entry (a, b)
    U    (16, C, F)            G K G^T of every (c, f) pair of the 3x3 kernel
    M    (16, T, F)            M[k] = V[k] @ U[k]: 16 matrix products
    y    (N, OH, OW, F)        A^T M A of every tile (2x2), placed at (2*th, 2*tw)

The backward functions are the adjoints (transposes) of the forward ones:
``output_gradient_transform`` of ``output_transform`` (A dY A^T per tile, and
the bias's gradient with it)
and ``input_gradient_transform`` of ``input_transform`` (B dV B^T per tile,
added into the pixels the tile covers; neighbouring tiles overlap by two
pixels). Each is one einsum over the stacked tiles here (``_sandwich``);
the Numba twin works tile by tile, in cache. Tiles that reach past the
image (the padding, and the last row or column of tiles when OH or OW is
odd) read zeros, and outputs past (OH, OW) are dropped.
"""
import numpy as np

from minicnn.devices import get_array_module

# Lavin & Gray's F(2x2, 3x3): y = A^T [(G K G^T) * (B^T d B)] A for a 4x4 tile d.
B_T = np.array([[1, 0, -1, 0],
                [0, 1, 1, 0],
                [0, -1, 1, 0],
                [0, 1, 0, -1]])
G = np.array([[1, 0, 0],
              [1 / 2, 1 / 2, 1 / 2],
              [1 / 2, -1 / 2, 1 / 2],
              [0, 0, 1]])
A_T = np.array([[1, 1, 1, 0],
                [0, 1, -1, -1]])


def tile_counts(out_hw):
    """(TH, TW): how many 2x2 output tiles cover an (OH, OW) output."""
    return tuple((size + 1) // 2 for size in out_hw)


def plane_rows(n_tiles):
    """The rows T of the planes of V and M for n_tiles tiles: n_tiles, made odd with
    one more row of zeros. At an even number of rows, such as 512 rows of 32 float32
    (64 KB), the 16 planes lie a multiple of 4 KB apart, so that entry k of every
    plane falls in the same cache set, and loops that read or write the 16 planes
    together ran up to 6 times slower."""
    return n_tiles | 1


def _matrix(m, like):
    return get_array_module(like).asarray(m, dtype=like.dtype)


def _sandwich(m, tiles):
    """m X m^T for each X = tiles[:, :, ...] (the tiles' entries on the first two axes):
    (r, k) and (k, k, ...) -> (r, r, ...). Every transform is one: B^T d B, G K G^T,
    A^T M A, and their adjoints with m^T."""
    return get_array_module(tiles).einsum('ai,bj,ij...->ab...', m, m, tiles, optimize=True)


def kernel_transform(kernel):
    """U = G K G^T for every (c, f): (3, 3, C, F) -> (16, C, F). Shared by both backends."""
    return _sandwich(_matrix(G, kernel), kernel).reshape(16, *kernel.shape[2:])


def kernel_gradient(g_u):
    """The adjoint of kernel_transform, dK = G^T dU G: (16, C, F) -> (3, 3, C, F)."""
    return _sandwich(_matrix(G, g_u).T, g_u.reshape(4, 4, *g_u.shape[1:]))


def _planes(tiles):
    """(16, n_tiles, K) -> (16, plane_rows(n_tiles), K), the extra row zeros."""
    xp = get_array_module(tiles)
    planes = xp.zeros((16, plane_rows(tiles.shape[1]), tiles.shape[2]), dtype=tiles.dtype)
    planes[:, :tiles.shape[1]] = tiles
    return planes


def _zeros_padded(x_shape, pad, tile_hw, dtype, xp):
    """Zeros the size of x with the convolution's top and left padding, and enough
    at the bottom and right for the last tiles: (N, 2*TH + 2, 2*TW + 2, C)."""
    n, _, _, c = x_shape
    return xp.zeros((n, 2 * tile_hw[0] + 2, 2 * tile_hw[1] + 2, c), dtype=dtype)


def _inside(padded, x_shape, pad):
    """The view of x inside a ``_zeros_padded`` array."""
    top, left = pad[0], pad[2]
    return padded[:, top:top + x_shape[1], left:left + x_shape[2], :]


def _tile_views(padded, tile_hw, i, j):
    """Pixel (i, j) of every tile: padded[n, 2*th + i, 2*tw + j, c], an (N, TH, TW, C) view."""
    th, tw = tile_hw
    return padded[:, i:i + 2 * th:2, j:j + 2 * tw:2, :]


def input_transform(x, pad, tile_hw):
    """V = B^T d B of every 4x4 tile d of the padded images: (N, H, W, C) -> (16, T, C)."""
    xp = get_array_module(x)
    padded = _zeros_padded(x.shape, pad, tile_hw, x.dtype, xp)
    _inside(padded, x.shape, pad)[...] = x
    d = xp.stack([xp.stack([_tile_views(padded, tile_hw, i, j) for j in range(4)])
                  for i in range(4)])                                    # (4, 4, N, TH, TW, C)
    return _planes(_sandwich(_matrix(B_T, x), d).reshape(16, -1, x.shape[3]))


def output_transform(m, bias, y):
    """y = A^T M A (+ bias) of every tile, cropped to y (N, OH, OW, F), which it fills."""
    xp = get_array_module(m)
    n, oh, ow, f = y.shape
    th, tw = tile_counts((oh, ow))
    tiles = _sandwich(_matrix(A_T, m), m[:, :n * th * tw].reshape(4, 4, n, th, tw, f))
    y[...] = tiles.transpose(2, 3, 0, 4, 1, 5).reshape(n, 2 * th, 2 * tw, f)[:, :oh, :ow]
    if bias is not None:
        y += bias


def output_gradient_transform(gy, tile_hw):
    """dM = A dY A^T of every 2x2 tile dY of gy (zeros past its edge), and the bias's
    gradient, gy summed over all but F: (N, OH, OW, F) -> (16, T, F), (F,)."""
    xp = get_array_module(gy)
    n, oh, ow, f = gy.shape
    th, tw = tile_hw
    padded = xp.zeros((n, 2 * th, 2 * tw, f), dtype=gy.dtype)
    padded[:, :oh, :ow] = gy
    g_y = padded.reshape(n, th, 2, tw, 2, f).transpose(2, 4, 0, 1, 3, 5)  # (2, 2, N, TH, TW, F)
    g_m = _planes(_sandwich(_matrix(A_T, gy).T, g_y).reshape(16, -1, f))
    return g_m, gy.sum(axis=(0, 1, 2))


def input_gradient_transform(g_v, pad, tile_hw, gx):
    """dx: B dV B^T of every tile, added into the pixels the tile covers; fills gx
    (N, H, W, C), the images' shape."""
    xp = get_array_module(g_v)
    n, _, _, c = gx.shape
    g_v = g_v[:, :n * tile_hw[0] * tile_hw[1]].reshape(4, 4, n, *tile_hw, c)
    g_d = _sandwich(_matrix(B_T, g_v).T, g_v)
    padded = _zeros_padded(gx.shape, pad, tile_hw, gx.dtype, xp)
    for i in range(4):
        for j in range(4):
            _tile_views(padded, tile_hw, i, j)[...] += g_d[i, j]
    gx[...] = _inside(padded, gx.shape, pad)
