"""What the suite compares, and how it times it.

An implementation ("impl") is one way of doing the same work:

    numpy   minicnn with the NumPy reference kernels
    numba   minicnn with the Numba kernels (compiled loops)
    cupy    minicnn on the GPU: CuPy arrays and the CUDA kernels
    torch   PyTorch, the yardstick: on the CPU, or on CUDA beside cupy
            (benchmarks/gpu_check.py)

numpy and numba share everything but the memory-bound kernels (im2col,
col2im, pooling): matrix products go to NumPy's BLAS in both.

Timing: each measured function is called ``warmup`` times first (Numba
compiles or loads its kernels, memory gets mapped), then the
implementations take turns, one call each per round, for ``repeats``
rounds. Taking turns spreads the slow spells of a shared machine over all
of them alike, and the median of the rounds ignores the worst outliers.
"""
import statistics
import time

import numba
import numpy as np

from minicnn import devices, kernels
from minicnn.autograd import Tensor


class Minicnn:
    """minicnn with one choice of kernels on one device."""
    framework = 'minicnn'
    KINDS = {  # name: (kernel choice, device, label)
        'numpy': ('numpy', 'cpu', 'NumPy'),
        'numba': ('numba', 'cpu', 'Numba'),
        'cupy': ('numba', 'gpu', 'CuPy'),  # 'numba' selects each device's fast kernels
    }

    def __init__(self, name, threads):
        self.name = name
        self.kernel_choice, self.device, self.label = self.KINDS[name]
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))

    def activate(self):
        """Make minicnn use this kernel choice and device (both are global settings)."""
        kernels.use_kernels(self.kernel_choice)
        devices.set_device(self.device)

    def clock(self):
        """perf_counter once the device has finished the work queued so far."""
        if self.device == 'gpu':  # CuPy calls return before the GPU is done
            devices.cupy().cuda.Device().synchronize()
        return time.perf_counter()

    def tensor(self, array, requires_grad=False):
        return Tensor(devices.to_device(array, self.device), requires_grad=requires_grad)

    def ones_like(self, out):
        return devices.get_array_module(out.data).ones_like(out.data)


class Torch:
    """PyTorch on the CPU, or on CUDA with device='cuda'. Its arrays must
    already be in its layouts (see ``nchw``)."""
    framework = 'torch'
    name = 'torch'

    def __init__(self, threads, device='cpu'):
        import torch  # optional: imported only when PyTorch is timed
        self.torch, self.device = torch, device
        self.label = 'PyTorch' if device == 'cpu' else f'PyTorch ({device})'
        torch.set_num_threads(threads)

    def activate(self):
        pass  # nothing global to switch

    def clock(self):
        """perf_counter once the device has finished the work queued so far."""
        if self.device != 'cpu':  # CUDA calls return before the GPU is done
            self.torch.cuda.synchronize()
        return time.perf_counter()

    def tensor(self, array, requires_grad=False):
        tensor = self.torch.from_numpy(np.ascontiguousarray(array)).to(self.device)
        return tensor.requires_grad_(requires_grad)

    def ones_like(self, out):
        return self.torch.ones_like(out)


def make_impl(name, threads):
    """The implementation called name ('numpy', 'numba', 'cupy' or 'torch'), using
    ``threads`` threads in Numba or PyTorch; NumPy's BLAS keeps its own default
    (every core), which can only be set before NumPy is first imported."""
    return Torch(threads) if name == 'torch' else Minicnn(name, threads)


def nchw(images):
    """NHWC images (minicnn, Keras) in PyTorch's NCHW layout."""
    return images.transpose(0, 3, 1, 2)


def round_robin(runs, warmup, repeats):
    """Warm every run up, then call them in turn; the median of each phase.

    runs: {key: function() -> tuple of seconds, one per phase it timed}
    returns {key: tuple of median seconds, one per phase}
    """
    for run in runs.values():
        for _ in range(warmup):
            run()
    samples = {key: [] for key in runs}
    for _ in range(repeats):
        for key, run in runs.items():
            samples[key].append(run())
    return {key: tuple(statistics.median(phase) for phase in zip(*rows))
            for key, rows in samples.items()}
