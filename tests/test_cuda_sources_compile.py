"""The CUDA source of ``kernels.cupy_gpu``, checked on a machine without a GPU.

* nvcc compiles it for the device, every instantiation CuPy will ask for,
  warnings as errors; a broken copy of the source fails, so the check bites.
* NVRTC, the run-time compiler CuPy itself uses, compiles it and resolves
  every name expression. It has no standard headers, so it rejects some
  code that nvcc accepts.
* The host C++ compiler compiles the very same text with stand-ins for
  CUDA's built-ins. The cupy_gpu functions then run with NumPy in CuPy's
  place, each launch running the grid's threads one after another on the
  CPU, and the checks of test_kernels_gpu.py compare them with the reference.

Each part skips, saying why, where its compiler is missing. Nothing here
imports CuPy.
"""
import ctypes
import ctypes.util
import importlib.util
import inspect
import os
import pathlib
import re
import shutil
import subprocess
import sys
import types

import numpy as np
import pytest

from minicnn import devices
from minicnn.kernels import cupy_gpu, reference
from test_kernels_gpu import (check_argument_errors, for_every_kernel_case, kernel_inputs,
                              use_launch_variant)

ROOT = pathlib.Path(__file__).resolve().parents[1]
NVCC = shutil.which('nvcc')
CXX = shutil.which('c++') or shutil.which('g++') or shutil.which('clang++')


# ---- The module around the source --------------------------------------------

def test_importing_the_module_does_not_import_cupy():
    code = "import sys; sys.modules['cupy'] = None; import minicnn.kernels.cupy_gpu"
    subprocess.run([sys.executable, '-c', code], cwd=ROOT, check=True)


def test_same_public_functions_as_the_reference():
    def signatures(module, defined_in):
        return {name: inspect.signature(f) for name, f in vars(module).items()
                if inspect.isfunction(f) and not name.startswith('_')
                and f.__module__ in defined_in}
    assert (signatures(cupy_gpu, {cupy_gpu.__name__, reference.__name__})
            == signatures(reference, {reference.__name__}))


def test_window_fields_agree_with_the_cuda_source():
    """Python passes the geometry in the order of the Window namedtuple; the
    kernels read it in the order of WINDOW_PARAMS and store it in struct Window."""
    source = cupy_gpu.CUDA_SOURCE
    struct = re.search(r'struct Window \{(.*?)\n\};', source, re.S).group(1)
    struct_fields = [f.strip() for line in re.findall(r'^\s*Index ([\w, ]+);', struct, re.M)
                     for f in line.split(',')]
    params = re.search(r'#define WINDOW_PARAMS (.*?)\n#define', source, re.S).group(1)
    gathered = re.search(r'#define WINDOW_FROM_PARAMS Window<Index>\{(.*?)\}', source).group(1)
    assert (struct_fields == re.findall(r'Index (\w+)', params) == gathered.split(', ')
            == list(cupy_gpu._Window._fields))


def test_launch_shape():
    threads, most = cupy_gpu._THREADS_PER_BLOCK, cupy_gpu._MAX_BLOCKS
    assert cupy_gpu._launch_shape(0) == (1, threads)
    assert cupy_gpu._launch_shape(threads) == (1, threads)
    assert cupy_gpu._launch_shape(threads + 1) == (2, threads)
    assert cupy_gpu._launch_shape(10**12) == (most, threads)


def test_index_bits():
    """32-bit indices while the largest array plus one grid stride fits in an int."""
    largest_32 = np.iinfo(np.int32).max - cupy_gpu._MAX_BLOCKS * cupy_gpu._THREADS_PER_BLOCK
    assert cupy_gpu._index_bits(largest_32) == 32
    assert cupy_gpu._index_bits(largest_32 + 1) == 64


# ---- nvcc ----------------------------------------------------------------------

needs_nvcc = pytest.mark.skipif(NVCC is None, reason='nvcc (the CUDA compiler) is not on PATH')


def instantiations():
    """C++ naming every instantiation that cupy_gpu asks NVRTC for, so that nvcc compiles each."""
    names = ''.join(f'    (void)&{name};\n' for name in cupy_gpu.NAME_EXPRESSIONS)
    return f'\nvoid instantiate_every_kernel()\n{{\n{names}}}\n'


def compile_with_nvcc(source, directory):
    """PTX for compute capability 7.5, the oldest that CUDA 13 supports."""
    cu = directory / 'kernels.cu'
    cu.write_text(source + instantiations())
    return subprocess.run([NVCC, '--ptx', '-arch=sm_75', '-Werror', 'all-warnings',
                           '-o', str(directory / 'kernels.ptx'), str(cu)],
                          capture_output=True, text=True)


@needs_nvcc
def test_nvcc_compiles_every_instantiation(tmp_path):
    result = compile_with_nvcc(cupy_gpu.CUDA_SOURCE, tmp_path)
    assert result.returncode == 0, result.stderr
    ptx = (tmp_path / 'kernels.ptx').read_text()
    assert ptx.count('.entry ') == len(cupy_gpu.NAME_EXPRESSIONS)


@needs_nvcc
def test_nvcc_rejects_a_broken_source(tmp_path):
    """A dropped semicolon fails the check above: it does compile the source."""
    statement = 'rest /= size;'
    assert statement in cupy_gpu.CUDA_SOURCE
    broken = cupy_gpu.CUDA_SOURCE.replace(statement, statement[:-1])
    result = compile_with_nvcc(broken, tmp_path)
    assert result.returncode != 0
    assert 'error' in result.stderr


# ---- NVRTC ---------------------------------------------------------------------

def _nvrtc_directories():
    """Where libnvrtc may be: a CUDA toolkit, or the nvidia-cuda-nvrtc wheel."""
    for variable in ('CUDA_PATH', 'CUDA_HOME'):
        if os.environ.get(variable):
            yield pathlib.Path(os.environ[variable]) / 'lib64'
    yield pathlib.Path('/usr/local/cuda/lib64')
    wheels = importlib.util.find_spec('nvidia')
    for root in (wheels.submodule_search_locations if wheels else []):
        yield from pathlib.Path(root).glob('*/lib')


def _load_nvrtc():
    """The NVRTC library, or None where none can be loaded."""
    for directory in _nvrtc_directories():
        libraries = sorted(directory.glob('libnvrtc.so*'))
        try:
            # libnvrtc opens its builtins library by name: load that first, so that it is found.
            for builtins in directory.glob('libnvrtc-builtins.so*'):
                ctypes.CDLL(str(builtins), mode=ctypes.RTLD_GLOBAL)
            if libraries:
                return ctypes.CDLL(str(libraries[0]))
        except OSError:
            continue
    name = ctypes.util.find_library('nvrtc')
    return ctypes.CDLL(name) if name else None


NVRTC = _load_nvrtc()


# The options cupy.RawModule compiles with (CuPy 14, less --pch, which only saves time).
CUPY_NVRTC_OPTIONS = (b'-ftz=true', b'-arch=sm_75', b'--device-as-default-execution-space')


def compile_with_nvrtc(source, name_expressions):
    """Compile as cupy.RawModule does: returns (status, log, {name expression: lowered name})."""
    program = ctypes.c_void_p()
    status = NVRTC.nvrtcCreateProgram(ctypes.byref(program), source.encode(), b'cupy_gpu.cu',
                                      0, None, None)
    assert status == 0
    try:
        for name in name_expressions:
            assert NVRTC.nvrtcAddNameExpression(program, name.encode()) == 0
        options = (ctypes.c_char_p * len(CUPY_NVRTC_OPTIONS))(*CUPY_NVRTC_OPTIONS)
        status = NVRTC.nvrtcCompileProgram(program, len(options), options)
        size = ctypes.c_size_t()
        NVRTC.nvrtcGetProgramLogSize(program, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        NVRTC.nvrtcGetProgramLog(program, log)
        lowered = {}
        for name in name_expressions if status == 0 else ():
            symbol = ctypes.c_char_p()
            if NVRTC.nvrtcGetLoweredName(program, name.encode(), ctypes.byref(symbol)) == 0:
                lowered[name] = symbol.value.decode()
        return status, log.value.decode(), lowered
    finally:
        NVRTC.nvrtcDestroyProgram(ctypes.byref(program))


needs_nvrtc = pytest.mark.skipif(
    NVRTC is None, reason="libnvrtc not found (a CUDA toolkit, or pip install -e '.[dev]', "
                          "which brings the nvidia-cuda-nvrtc wheel on Linux x86-64)")


@needs_nvrtc
def test_nvrtc_compiles_every_name_expression():
    names = cupy_gpu.NAME_EXPRESSIONS
    status, log, lowered = compile_with_nvrtc(cupy_gpu.CUDA_SOURCE, names)
    assert status == 0, log
    assert log.strip() == '', log   # no warnings either
    assert sorted(lowered) == sorted(names)
    assert len(set(lowered.values())) == len(names)


@needs_nvrtc
def test_nvrtc_rejects_a_broken_source():
    """A dropped semicolon fails the check above: NVRTC does compile the source."""
    statement = 'rest /= size;'
    status, log, lowered = compile_with_nvrtc(
        cupy_gpu.CUDA_SOURCE.replace(statement, statement[:-1]), cupy_gpu.NAME_EXPRESSIONS)
    assert status != 0 and 'error' in log and lowered == {}


# ---- The kernels run on the host -------------------------------------------------

HOST_PRELUDE = r'''
// Host stand-ins for the CUDA built-ins that the kernels use, so that their
// source compiles as plain C++.
#include <cstddef>
#include <cstring>
#include <utility>

#define __global__
#define __device__

struct HostDim3 { unsigned int x; };
static HostDim3 threadIdx, blockIdx, blockDim, gridDim;

static float __int_as_float(int bits) { float f; std::memcpy(&f, &bits, sizeof f); return f; }
static double __longlong_as_double(long long bits)
{ double d; std::memcpy(&d, &bits, sizeof d); return d; }
'''

HOST_LAUNCHER = r'''
// A launch runs each thread of the grid in turn: the kernels share nothing
// between threads, so the order does not matter. params[k] points at
// argument k, as for cuLaunchKernel.
template <typename... Args, std::size_t... K>
static void run_grid(void (*kernel)(Args...), unsigned int blocks, unsigned int threads,
                     void** params, std::index_sequence<K...>)
{
    gridDim.x = blocks;
    blockDim.x = threads;
    for (blockIdx.x = 0; blockIdx.x < blocks; ++blockIdx.x)
        for (threadIdx.x = 0; threadIdx.x < threads; ++threadIdx.x)
            kernel(*static_cast<Args*>(params[K])...);
}

template <typename... Args>
static void launch(void (*kernel)(Args...), unsigned int blocks, unsigned int threads,
                   void** params)
{
    run_grid(kernel, blocks, threads, params, std::index_sequence_for<Args...>{});
}

// The size in bytes of each parameter, to check what Python passes.
template <typename... Args>
static int parameter_sizes(void (*)(Args...), std::size_t* sizes)
{
    const std::size_t each[] = {sizeof(Args)...};
    std::memcpy(sizes, each, sizeof each);
    return sizeof...(Args);
}
'''


def host_entry_points():
    """launch_k and sizes_k, callable from ctypes, for the k-th name expression."""
    return ''.join(
        f'extern "C" void launch_{k}(unsigned int b, unsigned int t, void** p)'
        f' {{ launch(&{name}, b, t, p); }}\n'
        f'extern "C" int sizes_{k}(std::size_t* s) {{ return parameter_sizes(&{name}, s); }}\n'
        for k, name in enumerate(cupy_gpu.NAME_EXPRESSIONS))


@pytest.fixture(scope='module')
def host_library(tmp_path_factory):
    if CXX is None:
        pytest.skip('no C++ compiler (c++, g++ or clang++) on PATH')
    directory = tmp_path_factory.mktemp('kernels_on_host')
    source, library = directory / 'kernels.cpp', directory / 'kernels.so'
    source.write_text(HOST_PRELUDE + cupy_gpu.CUDA_SOURCE + HOST_LAUNCHER + host_entry_points())
    command = [CXX, '-std=c++14', '-O2', '-shared', '-fPIC', '-o', str(library), str(source)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return ctypes.CDLL(str(library))


def _argument(value, size):
    """A C copy of one kernel argument, checked against its parameter's size."""
    if isinstance(value, np.ndarray):
        assert value.flags.c_contiguous, 'the kernels index their arrays as C-contiguous'
        pointer = ctypes.c_void_p(value.ctypes.data)
        assert ctypes.sizeof(pointer) == size
        return pointer
    assert isinstance(value, np.integer) and value.itemsize == size, \
        f'{value!r} passed for a {size}-byte parameter'
    return ctypes.create_string_buffer(value.tobytes(), size)


class HostKernel:
    """One kernel of the host library, called as CuPy calls a kernel."""

    def __init__(self, library, k):
        self._launch = getattr(library, f'launch_{k}')
        sizes = (ctypes.c_size_t * 32)()
        self._sizes = sizes[:getattr(library, f'sizes_{k}')(sizes)]

    def __call__(self, grid, block, args):
        (blocks,), (threads,) = grid, block
        assert 1 <= blocks < 2**31 and 1 <= threads <= 1024, 'outside CUDA launch limits'
        assert len(args) == len(self._sizes)
        held = [_argument(value, size) for value, size in zip(args, self._sizes)]
        params = (ctypes.c_void_p * len(held))(*map(ctypes.addressof, held))
        self._launch(ctypes.c_uint(blocks), ctypes.c_uint(threads), params)


class NumpyAsCupy:
    """NumPy in CuPy's place, with a RawModule whose kernels run on the host."""

    def __init__(self, library):
        self._library = library

    def __getattr__(self, name):
        return getattr(np, name)

    def RawModule(self, code, name_expressions):  # noqa: N802 (CuPy's name)
        assert code == cupy_gpu.CUDA_SOURCE
        return types.SimpleNamespace(
            get_function=lambda name: HostKernel(self._library, name_expressions.index(name)))


@pytest.fixture
def host_kernels(monkeypatch, host_library):
    """cupy_gpu working on NumPy arrays, its kernels run on the CPU."""
    monkeypatch.setattr(devices, 'cupy', lambda: NumpyAsCupy(host_library))
    cupy_gpu._module.cache_clear()
    yield cupy_gpu
    cupy_gpu._module.cache_clear()


@for_every_kernel_case
def test_host_run_matches_reference(host_kernels, monkeypatch, variant, check, dtype, case):
    use_launch_variant(monkeypatch, variant)
    check(host_kernels, kernel_inputs(case, dtype), np.asarray)


def test_host_argument_errors(host_kernels):
    check_argument_errors(host_kernels, np.asarray)
