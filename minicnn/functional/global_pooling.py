"""Global pooling: one number per channel of each image, over all its pixels.

    average: y[n, c] = 1/(H W) sum_{i, j} x[n, i, j, c]     dx[n, i, j, c] = gy[n, c] / (H W)
    max:     y[n, c] = max_{i, j} x[n, i, j, c]              dx = gy where x equals the max
                                                           (shared among ties, as in Keras)

x (N, H, W, C) -> y (N, C), or (N, 1, 1, C) with ``keepdims``. Both are
reductions over the axes (1, 2), so they are the tensor operators' Sum and
Max (minicnn/functional/basic.py), whose backward is written there.
"""
from minicnn.autograd import as_tensor
from minicnn.functional.geometry import check_rank

IMAGE_AXES = (1, 2)  # H and W of NHWC


def global_avg_pool2d(x, keepdims=False):
    """Mean of each channel over H and W: (N, H, W, C) -> (N, C) or (N, 1, 1, C)."""
    x = as_tensor(x)
    check_rank('global_avg_pool2d', 'x', x, 4, '(N, H, W, C)')
    return x.mean(axis=IMAGE_AXES, keepdims=keepdims)


def global_max_pool2d(x, keepdims=False):
    """Largest value of each channel over H and W: (N, H, W, C) -> (N, C) or (N, 1, 1, C)."""
    x = as_tensor(x)
    check_rank('global_max_pool2d', 'x', x, 4, '(N, H, W, C)')
    return x.max(axis=IMAGE_AXES, keepdims=keepdims)
