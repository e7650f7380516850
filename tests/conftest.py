import numpy as np
import pytest

from minicnn import devices, kernels


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
    devices.set_seed(0)


@pytest.fixture(scope='session')
def tiny_data(tmp_path_factory):
    """A folder for MINICNN_DATA with a tiny CIFAR-10 and Fashion-MNIST."""
    from tiny_data import write_tiny_cifar10, write_tiny_fashion_mnist
    root = tmp_path_factory.mktemp('data')
    write_tiny_cifar10(root / 'cifar10')
    write_tiny_fashion_mnist(root / 'fashion-mnist')
    return root
