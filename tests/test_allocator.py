"""minicnn asks glibc's allocator to keep the memory a step frees for the next
step (minicnn/kernels/allocator.py), unless the user tuned it. Each case runs in
a fresh Python process and counts page faults, not time: benchmarks/import_orders.py
measures the speed."""
import os
import platform
import subprocess
import sys

import pytest

from test_threads import run_python

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != 'glibc',
                                reason="mallopt is glibc's; elsewhere minicnn changes nothing")

# Page faults per 64 MB array made and freed again, after argv[1] ran: a block that
# large is mapped afresh each time under glibc's defaults, every page faulting anew.
FAULTS = '''
import resource, sys
exec(sys.argv[1])
import numpy
from minicnn.kernels import allocator
def make_and_free():
    numpy.ones(2**24, numpy.float32)
make_and_free()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    make_and_free()
print(allocator.settings())
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5)
'''


def faults_per_array(first_lines, **settings):
    """(allocator.settings(), page faults per 64 MB array) in a fresh process."""
    *_, said, faults = run_python('-c', FAULTS, first_lines, **settings).stdout.splitlines()
    return said, float(faults)


def test_freed_memory_is_reused_once_minicnn_is_imported():
    said, faults = faults_per_array('import minicnn')
    assert said.startswith('freed memory kept for reuse') and faults < 5


def test_glibc_alone_maps_every_large_array_afresh():
    """The control: the probe sees the faults minicnn's settings spare."""
    said, faults = faults_per_array('import minicnn', MINICNN_ALLOCATOR='system')
    assert said == "the C library's own (MINICNN_ALLOCATOR=system)"
    assert faults >= 30  # 64 MB in 2 MB huge pages, or 16,384 small ones


def test_an_unknown_allocator_choice_is_refused_by_name():
    done = subprocess.run([sys.executable, '-c', 'import minicnn'], capture_output=True,
                          text=True, env={**os.environ, 'MINICNN_ALLOCATOR': 'jemalloc'})
    assert done.returncode != 0
    assert "MINICNN_ALLOCATOR must be one of ('keep', 'system'), got 'jemalloc'" in done.stderr


@pytest.mark.parametrize('variable, value', [('MALLOC_TOP_PAD_', '131072'),
                                             ('GLIBC_TUNABLES', 'glibc.malloc.mmap_max=4')])
def test_a_user_who_tuned_malloc_keeps_their_settings(variable, value):
    said, _ = faults_per_array('import minicnn', **{variable: value})
    assert said == f"the user's ({variable} set): left alone"


def test_info_names_the_allocator_settings():
    done = run_python('-c', 'from minicnn.recipes import cli; cli.main(["info"])')
    assert 'memory allocator: freed memory kept for reuse' in done.stdout


RELEASE = '''
import sys
exec(sys.argv[1])
import numpy
from minicnn.kernels import allocator
from benchmarks.memory import memory_mb
numpy.ones(2**24, numpy.float32)  # 64 MB, freed at once
before = memory_mb('VmRSS')
released = allocator.release_free_memory()
print(released, before - memory_mb('VmRSS'))
'''


def test_release_free_memory_hands_kept_memory_back():
    *_, line = run_python('-c', RELEASE, 'import minicnn').stdout.splitlines()
    released, mb_given_back = line.split()
    assert released == 'True' and float(mb_given_back) > 50
