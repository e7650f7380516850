import numpy as np
import pytest

from minicnn import backend, kernels


@pytest.fixture(params=['numpy', 'numba'])
def kernel_choice(request):
    """Run a test once with the reference kernels and once with the Numba ones."""
    before = kernels.active_kernels()
    kernels.use_kernels(request.param)
    yield request.param
    kernels.use_kernels(before)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _seeded():
    backend.set_seed(0)
