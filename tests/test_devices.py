import re

import numpy as np
import pytest

from minicnn import Tensor, devices
from minicnn import functional as F


class FakeGpuArray:
    """Looks like a CuPy array to minicnn.devices (its class lives in 'cupy.*')."""
    shape = (2, 2)
    dtype = np.dtype('float32')
    ndim = 2


FakeGpuArray.__module__ = 'cupy._core.core'


def test_cpu_is_the_default_and_unknown_devices_are_refused():
    assert devices.get_device() in devices.DEVICES
    with pytest.raises(ValueError, match="one of.*'tpu'"):
        devices.set_device('tpu')


def test_asking_for_the_gpu_without_cupy_says_what_is_missing(monkeypatch):
    if devices.gpu_available():
        pytest.skip('a GPU is present here')
    with pytest.raises(RuntimeError, match='CuPy|CUDA'):
        devices.set_device('gpu')
    assert devices.get_device() == 'cpu'


def test_get_array_module_for_numpy_and_scalars():
    assert devices.get_array_module(np.zeros(2)) is np
    assert devices.get_array_module(1.0) is np


def test_mixing_numpy_and_cupy_arrays_is_a_clear_error():
    with pytest.raises(TypeError, match='different devices'):
        devices.get_array_module(np.zeros((2, 2)), FakeGpuArray())


def test_functions_refuse_inputs_on_two_devices(monkeypatch):
    x = Tensor(np.ones((1, 3, 3, 1)))
    k = Tensor(np.ones((2, 2, 1, 1)))
    monkeypatch.setattr(Tensor, 'device', property(lambda t: 'gpu' if t is k else 'cpu'))
    with pytest.raises(TypeError, match=r'ChunkedConvolution: inputs live on different devices.*on gpu'):
        F.conv2d(x, k)


def test_only_the_device_switch_imports_cupy():
    import pathlib
    package = pathlib.Path(devices.__file__).parent
    offenders = [p.relative_to(package).as_posix() for p in package.rglob('*.py')
                 if p.name != 'devices.py' and re.search(r'(import|from) cupy\b', p.read_text())]
    assert offenders == []
