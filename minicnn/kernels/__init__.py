"""The kernels: the memory-bound loops under the functional ops, one kernel set
per backend, chosen by one mechanism, and the plumbing that shares the cores.

What is here:

    reference            the kernel set in NumPy/CuPy array calls (im2col,
                         col2im, pooling, ReLU, GELU): short and obvious
    numba_cpu            the same functions compiled by Numba, parallel over images
    cupy_gpu             the same functions as CUDA kernels (CuPy)
    winograd_reference   Winograd F(2x2, 3x3)'s transforms, and their
    winograd_numba         compiled twins
    batchnorm_reference  BatchNorm's passes over (M, C), and their compiled
    batchnorm_numba        twins
    optimizer_numba      SGD's, RMSprop's and Adam's one-pass updates (the plain
                         rules are in minicnn.optimizers)
    parallel             map_parts: a batch's slices shared among threads
    threads              how the BLAS and OpenMP thread pools wait when idle
    allocator            the C allocator keeps freed memory for the next step

One mechanism picks the code: ``for_array(x)`` gives x's kernel set, a module
with the memory-bound functions (``for_array(x).im2col(...)``) and its
per-operation twins as attributes: ``.winograd``, ``.batchnorm``,
``.optimizer`` (None where the plain rule runs) and ``.parallel_threads()``.
The three sets have the same functions with the same signatures and must give
the same results (the tests check it). They differ in what they loop over,
which is the lesson of each:

| module       | runs on       | loops over                          | why                        |
|--------------|---------------|-------------------------------------|----------------------------|
| reference    | NumPy or CuPy | the kh*kw offsets of the window, in | short and obvious; each    |
|              |               | Python; whole-array slicing inside  | offset is one strided copy |
| numba_cpu    | CPU cores     | the output pixels, compiled, images | each core writes its own   |
|              |               | shared among cores with prange      | images: no locks           |
| cupy_gpu     | CUDA threads  | one thread per output element       | thousands of threads; the  |
|              |               | (im2col) or per input element       | gather form of col2im and  |
|              |               | (col2im, pooling backward)          | pool backward needs no     |
|              |               |                                     | atomic adds                |

On the CPU the Numba kernels are the default; ``MINICNN_KERNELS=numpy`` (or
``use_kernels('numpy')``) selects the references everywhere, which is how the
tests compare the two. For a first read of the CUDA code, read ``struct
Window`` in ``cupy_gpu._COMMON_SOURCE`` (the geometry every kernel shares),
then the im2col kernel (``_IM2COL_SOURCE``, a dozen lines), then col2im's
gather.
"""
# Before anything below imports NumPy, which loads OpenBLAS: the thread pools
# read how to wait when they are loaded (see threads.py). And before the first
# large array: how the allocator treats freed memory (see allocator.py).
from minicnn.kernels import allocator, threads

threads.configure()
allocator.configure()

import os  # noqa: E402

from minicnn import devices  # noqa: E402
from minicnn.kernels import cupy_gpu, numba_cpu, reference  # noqa: E402

KERNEL_CHOICES = ('numba', 'numpy')
_state = {'choice': None}


def use_kernels(choice):
    """Select 'numba' (the fast kernels of each device) or 'numpy' (the references)."""
    if choice not in KERNEL_CHOICES:
        raise ValueError(f'use_kernels: choice must be one of {KERNEL_CHOICES}, got {choice!r}')
    _state['choice'] = choice


def active_kernels():
    if _state['choice'] is None:
        use_kernels(os.environ.get('MINICNN_KERNELS', 'numba').strip().lower() or 'numba')
    return _state['choice']


def for_array(x):
    """x's kernel set: the module reference, numba_cpu or cupy_gpu."""
    if active_kernels() == 'numpy':
        return reference
    return cupy_gpu if devices.is_gpu_array(x) else numba_cpu


# How many bytes of im2col output to build at once. A CPU is fastest when the
# slice fits its caches: on the 2-core EPYC, a one-off comparison of conv
# forward + backward at the seed networks' shapes found slices of 1-4 MB
# 10-20% faster than the whole batch. A GPU wants one large launch.
CHUNK_BYTES = {'cpu': 2 * 2**20, 'gpu': 2**40}
MIN_IMAGES_PER_CHUNK = 2  # the Numba kernels share images among the cores


def batch_parts(x, bytes_per_image):
    """Slices of x's batch axis, each unfolding into about CHUNK_BYTES."""
    per_chunk = max(MIN_IMAGES_PER_CHUNK,
                    CHUNK_BYTES[devices.device_of(x)] // max(bytes_per_image, 1))
    return [slice(start, start + per_chunk) for start in range(0, x.shape[0], per_chunk)]
