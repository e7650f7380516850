"""The window geometries every fast kernel (Numba, CUDA) is checked on
against its reference twin."""
import numpy as np

DTYPES = [np.float32, np.float64]

# id: (x shape NHWC, window (kh, kw), strides (sh, sw), pad (top, bottom, left, right))
GEOMETRIES = {
    'valid 3x3': ((2, 7, 6, 3), (3, 3), (1, 1), (0, 0, 0, 0)),
    'same 3x3': ((2, 6, 6, 4), (3, 3), (1, 1), (1, 1, 1, 1)),
    'same 3x3 stride 2, odd pad at the end': ((3, 7, 8, 2), (3, 3), (2, 2), (1, 1, 0, 1)),
    'pool 2x2/2 on an odd size': ((4, 5, 5, 3), (2, 2), (2, 2), (0, 0, 0, 0)),
    'non-square window, strides 2 and 3': ((3, 9, 7, 2), (3, 2), (2, 3), (1, 2, 0, 1)),
    'stride 3, pad only at the start': ((2, 10, 11, 5), (3, 2), (3, 3), (2, 0, 1, 0)),
    'padding on three sides': ((2, 6, 5, 3), (2, 3), (1, 2), (1, 0, 2, 2)),
    'N=1, C=1': ((1, 5, 5, 1), (2, 2), (2, 2), (0, 1, 0, 1)),
    '1x1 window': ((2, 4, 4, 3), (1, 1), (2, 1), (0, 0, 0, 0)),
    'window as big as the image': ((2, 4, 3, 2), (4, 3), (1, 1), (0, 0, 0, 0)),
    'window larger than the image': ((1, 3, 3, 2), (5, 5), (1, 1), (2, 2, 2, 2)),
    'windows wholly in the padding': ((2, 5, 4, 1), (2, 2), (1, 2), (3, 0, 0, 1)),
}
