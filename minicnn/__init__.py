"""minicnn: a convolutional network framework written from scratch to be read.

    minicnn.Tensor, no_grad     the autograd engine (minicnn/autograd.py)
    minicnn.functional          conv2d, pooling, dense, activations, losses, dropout
    minicnn.kernels             im2col/col2im/pooling kernels: NumPy, Numba, CuPy
    minicnn.backend             set_device('cpu' | 'gpu'), get_array_module
    minicnn.gradcheck           finite-difference gradient check
"""
__version__ = '0.1.0'

from minicnn import functional  # noqa: E402  (attaches the Tensor operators)
from minicnn.autograd import Tensor, no_grad  # noqa: E402
from minicnn.backend import get_array_module, get_device, set_device  # noqa: E402
from minicnn.gradcheck import GradcheckError, gradcheck  # noqa: E402

__all__ = ['Tensor', 'no_grad', 'functional', 'gradcheck', 'GradcheckError',
           'set_device', 'get_device', 'get_array_module']
