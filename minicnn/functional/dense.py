"""The fully connected layer's function, and flatten.

dense: x (N, in) @ kernel (in, out) + bias (out,) -> y (N, out)
       dx = gy @ kernel.T,  dkernel = x.T @ gy,  dbias = sum of gy over N
flatten: (N, d1, d2, ...) -> (N, d1*d2*...), in C (row-major, NHWC) order
"""
from minicnn.autograd import Function
from minicnn.functional.basic import Reshape
from minicnn.functional.geometry import check_rank


class Affine(Function):
    """y = x @ kernel + bias (CS231n's "affine" layer); naive.dense is its loop form."""

    def forward(self, x, kernel, bias=None):
        check_rank('dense', 'x', x, 2, '(N, features)')
        check_rank('dense', 'kernel', kernel, 2, '(in, out)')
        if x.shape[1] != kernel.shape[0]:
            raise ValueError(f'dense: x has {x.shape[1]} features but the kernel expects '
                             f'{kernel.shape[0]} (x shape {x.shape}, kernel shape {kernel.shape})')
        self.x, self.kernel = x, kernel
        y = x @ kernel
        return y if bias is None else y + bias

    def backward(self, gy):
        gx = gy @ self.kernel.T if self.needs_grad[0] else None  # not for the input data
        return gx, self.x.T @ gy, gy.sum(axis=0)


def dense(x, kernel, bias=None):
    """y = x @ kernel + bias; shapes (N, in) @ (in, out) + (out,) -> (N, out)."""
    inputs = (x, kernel) if bias is None else (x, kernel, bias)
    return Affine()(*inputs)


def flatten(x):
    """Keep the batch axis, join all others: (N, H, W, C) -> (N, H*W*C)."""
    return Reshape((x.shape[0], -1))(x)
