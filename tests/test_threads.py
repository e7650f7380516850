"""minicnn's thread pools are told to sleep when idle, whatever the program
imported first (minicnn/kernels/threads.py). What matters is what was loaded before
minicnn, so each case runs in a fresh Python process. Nothing is timed:
benchmarks/import_orders.py measures the speed."""
import ctypes.util
import importlib.util
import json
import os
import pathlib
import platform
import subprocess
import sys

import pytest

from minicnn.kernels import allocator, threads

ROOT = pathlib.Path(__file__).resolve().parent.parent
TORCH = pytest.mark.skipif(importlib.util.find_spec('torch') is None,
                           reason='PyTorch is not installed')
LIBGOMP = ctypes.util.find_library('gomp')
NEEDS_LIBGOMP = pytest.mark.skipif(LIBGOMP is None, reason='no GNU OpenMP runtime (libgomp)')
# Loads GNU OpenMP as PyTorch does, without PyTorch: Numba's OpenMP layer then runs on it.
LOAD_LIBGOMP = f'import ctypes; ctypes.CDLL({LIBGOMP!r})'

# Runs the program's first lines (argv[1]), imports minicnn, prints what it chose.
PROBE = '''
import json, os, sys
exec(sys.argv[1])
import minicnn
import numba
from minicnn.kernels import threads
numba_threads = numba.get_num_threads()  # starts the threading layer
print(json.dumps({
    'layer': numba.threading_layer(), 'threads': numba_threads,
    'all_threads': numba.config.NUMBA_NUM_THREADS,
    'environ': {name: os.environ.get(name) for name in threads.WAIT_SETTINGS},
    'missed': {name: missed for name, (_, missed) in threads.wait_settings().items()},
    'openmp': [path for api, path, _ in threads.pools() if api == 'openmp'],
    'slice_threads': threads.slice_threads(),
}))
'''


def clean_environ(**settings):
    """This environment without the wait settings (importing minicnn here added
    them) or allocator settings, plus ``settings``: as if a user started Python
    with those alone."""
    left_out = {*threads.WAIT_SETTINGS, *allocator.USER_SETTINGS, 'MINICNN_ALLOCATOR',
                'NUMBA_THREADING_LAYER'}
    environ = {k: v for k, v in os.environ.items() if k not in left_out}
    return {**environ, **settings}


def run_python(*args, **settings):
    """Run python -W always (a warning given twice shows twice) in a fresh process."""
    done = subprocess.run([sys.executable, '-W', 'always', *args], capture_output=True,
                          text=True, cwd=ROOT, env=clean_environ(**settings), timeout=300)
    assert done.returncode == 0, done.stderr
    return done


def probe(first_lines, **settings):
    """(what minicnn chose, how many times it warned) after ``first_lines``."""
    done = run_python('-c', PROBE, first_lines, **settings)
    return json.loads(done.stdout.splitlines()[-1]), done.stderr.count('minicnn: an OpenMP')


def assert_every_pool_sleeps(chosen, warnings):
    assert chosen['environ'] == {'OMP_WAIT_POLICY': 'PASSIVE', 'OPENBLAS_THREAD_TIMEOUT': '1'}
    assert chosen['missed']['OMP_WAIT_POLICY'] == []
    assert chosen['threads'] == chosen['all_threads'] and warnings == 0
    assert chosen['slice_threads'] == chosen['all_threads']


def assert_numba_kept_off_openmp(chosen, warnings):
    """Numba's kernels run on one thread, and minicnn said why, once; the convolutions'
    slices, on Python's threads, still get every core."""
    assert chosen['layer'] == 'omp' and chosen['threads'] == 1
    assert chosen['slice_threads'] == chosen['all_threads']
    assert chosen['missed']['OMP_WAIT_POLICY'] and warnings == 1


def test_minicnn_first_every_pool_reads_the_settings():
    chosen, warnings = probe('')
    assert_every_pool_sleeps(chosen, warnings)
    assert chosen['missed']['OPENBLAS_THREAD_TIMEOUT'] == []
    if chosen['layer'] == 'omp':  # Numba loaded its OpenMP runtime after minicnn
        assert chosen['openmp']


def test_numpy_first_openblas_is_restarted_to_read_its_timeout():
    chosen, warnings = probe('import numpy')
    assert_every_pool_sleeps(chosen, warnings)
    assert chosen['missed']['OPENBLAS_THREAD_TIMEOUT'] == []


# CPU seconds the process burns in 0.3 s of sleep after a product on every thread:
# the time OpenBLAS's idle threads spin. argv[1] runs after NumPy has loaded OpenBLAS.
IDLE_CPU = """
import sys, time, numpy
a = numpy.ones((1000, 1000), numpy.float32)
exec(sys.argv[1])
a @ a
start = time.process_time()
time.sleep(0.3)
print(time.process_time() - start)
"""


def idle_cpu_seconds(then_run):
    return float(run_python('-c', IDLE_CPU, then_run).stdout.split()[-1])


def test_openblas_loaded_before_minicnn_stops_spinning_once_it_is_imported():
    spinning = idle_cpu_seconds('')
    if spinning < 0.05:
        pytest.skip(f'OpenBLAS spun {spinning:.3f} s here without minicnn: one thread, '
                    f'or a build that waits otherwise; nothing to stop')
    assert idle_cpu_seconds('import minicnn') < 0.02 < spinning


@TORCH
@pytest.mark.parametrize('first_lines', ['import torch',
                                         'import torch; torch.set_num_threads(2)'])
def test_torch_first_keeps_numba_off_its_openmp(first_lines):
    chosen, warnings = probe(first_lines, NUMBA_THREADING_LAYER='omp')
    assert_numba_kept_off_openmp(chosen, warnings)
    assert any('torch' in path for path in chosen['missed']['OMP_WAIT_POLICY'])


@NEEDS_LIBGOMP
def test_openmp_loaded_first_keeps_numba_off_it_and_warns_once():
    chosen, warnings = probe(LOAD_LIBGOMP, NUMBA_THREADING_LAYER='omp')
    assert_numba_kept_off_openmp(chosen, warnings)
    assert set(chosen['openmp']) & set(chosen['missed']['OMP_WAIT_POLICY'])


@NEEDS_LIBGOMP
def test_wait_policy_set_before_python_started_is_enough():
    chosen, warnings = probe(LOAD_LIBGOMP, NUMBA_THREADING_LAYER='omp', OMP_WAIT_POLICY='PASSIVE')
    assert chosen['threads'] == chosen['all_threads'] and warnings == 0
    assert chosen['missed']['OMP_WAIT_POLICY'] == []


@NEEDS_LIBGOMP
def test_numba_on_threads_of_its_own_is_left_alone():
    chosen, warnings = probe(LOAD_LIBGOMP, NUMBA_THREADING_LAYER='workqueue')
    assert chosen['layer'] == 'workqueue'
    assert chosen['threads'] == chosen['all_threads'] and warnings == 0


@NEEDS_LIBGOMP
def test_info_reports_threading_layer_pools_and_wait_settings():
    done = run_python('-c', f'{LOAD_LIBGOMP}\nfrom minicnn.recipes import cli; cli.main(["info"])',
                      NUMBA_THREADING_LAYER='omp')
    assert '(omp threading layer, 1 of' in done.stdout
    wait_policy = next(line for line in done.stdout.splitlines() if 'OMP_WAIT_POLICY' in line)
    assert wait_policy.startswith('OMP_WAIT_POLICY=PASSIVE: not read by') and 'gomp' in wait_policy
    assert 'thread pools: ' in done.stdout and 'openblas' in done.stdout


def test_import_orders_benchmark_runs_quick(tmp_path):
    run_python('benchmarks/import_orders.py', '--quick', '--models', 'mlp',
               '--out', str(tmp_path))
    record = json.loads((tmp_path / 'import_orders.json').read_text())
    orders = record['settings']['orders']
    assert orders[:2] == ['minicnn first', 'numpy first']
    assert [(r['model'], r['order']) for r in record['rows']] == [('mlp', o) for o in orders]
    assert record['machine']['cores'] >= 1
    first = record['processes']['minicnn first'][0]
    assert first['missed'] == {'OMP_WAIT_POLICY': [], 'OPENBLAS_THREAD_TIMEOUT': []}
    assert not first['warnings']
    assert record['processes']['numpy first'][0]['missed']['OPENBLAS_THREAD_TIMEOUT'] == []
    if platform.libc_ver()[0] == 'glibc':
        assert first['allocator'].startswith('freed memory kept')
        system = record['processes']["minicnn first, glibc's malloc"][0]
        assert 'MINICNN_ALLOCATOR=system' in system['allocator']
