"""How minicnn shares the cores between its thread pools.

A CPU training step hands the cores back and forth, hundreds of times,
between two pools of threads: OpenBLAS's, which does NumPy's matrix
products, and the one Numba's parallel kernels (im2col, pooling, ReLU) run
on, an OpenMP runtime's by default. Each pool has to let go of the cores as
soon as its work is done, or the other pool's threads wait for them. By
default neither does: an idle OpenMP thread spins for a few milliseconds
(GNU libgomp), an idle OpenBLAS thread for up to a tenth of a second. Both
can be told to sleep at once, but only by environment variables, which each
runtime reads once, when it is loaded:

    OMP_WAIT_POLICY=PASSIVE      every OpenMP runtime (GNU, LLVM, Intel)
    OPENBLAS_THREAD_TIMEOUT=1    OpenBLAS (1 is clamped to its shortest wait)

``configure`` sets them when minicnn is imported, unless the user did, and
asks threadpoolctl which runtimes are loaded already: those never read them,
unless they can be restarted.

* None (minicnn first): every pool sleeps at once.
* OpenBLAS (NumPy first, as most programs begin): its threads read the
  timeout when they start, so ``configure`` stops them and starts them
  again (``_restart_openblas``), the way OpenBLAS's own fork handler stops
  them before a fork. Left spinning, OpenBLAS's idle thread would hold a
  core for up to a tenth of a second after every matrix product, while the
  convolutions' slices (``kernels.parallel.map_parts``) wait for it.
  OpenMP, loaded later by Numba's first parallel kernel, sleeps either way.
* An OpenMP runtime (PyTorch, which ships its own libgomp, or any library
  built with OpenMP): it spins, and Numba's OpenMP layer would run on it,
  as the dynamic linker gives Numba the OpenMP already loaded. Its idle
  threads then take the cores from the matrix products after every
  kernel: steps 5 to 25 times slower on 2 cores. So Numba's kernels run on
  one thread, the calling one: OpenMP then starts no other thread, and none
  is left to spin. The convolutions still share their slices among all
  the cores (``slice_threads``): those threads are Python's, and run no
  OpenMP. Numba's own pool (the 'workqueue' threading layer) sleeps too,
  but hands every kernel to its threads and back through locks, which cost
  12 to 25%. minicnn warns, as the fix is outside it:
  OMP_WAIT_POLICY=PASSIVE set before Python starts, or minicnn imported
  first.
"""
import ctypes
import os
import warnings

import threadpoolctl

# variable: (what minicnn asks for, threadpoolctl's internal_api of the runtimes that read it)
WAIT_SETTINGS = {
    'OMP_WAIT_POLICY': ('PASSIVE', 'openmp'),
    'OPENBLAS_THREAD_TIMEOUT': ('1', 'openblas'),
}

# variable: the runtimes that were loaded before minicnn set it, and so never read it
_missed = {}
# True once configure has held Numba's kernels to one thread, off a spinning OpenMP runtime
_numba_held = [False]


def configure():
    """Ask every thread pool to sleep when idle, and keep Numba's kernels off an
    OpenMP runtime that was loaded too early to be asked. ``import minicnn`` calls
    this once, before anything in minicnn imports NumPy (which loads OpenBLAS)."""
    loaded = threadpoolctl.threadpool_info()
    for name, (value, api) in WAIT_SETTINGS.items():
        if name in os.environ:
            continue  # the user's choice, and presumably set before any runtime loaded
        os.environ[name] = value
        _missed[name] = [pool['filepath'] for pool in loaded if pool['internal_api'] == api]
    if _missed.get('OPENBLAS_THREAD_TIMEOUT'):
        _missed['OPENBLAS_THREAD_TIMEOUT'] = _restart_openblas(
            [pool for pool in loaded if pool['filepath'] in _missed['OPENBLAS_THREAD_TIMEOUT']])
    if _missed.get('OMP_WAIT_POLICY'):
        _keep_numba_off(_missed['OMP_WAIT_POLICY'])


def _restart_openblas(pools):
    """Restart the threads of OpenBLAS ``pools`` (threadpoolctl's records) loaded before
    minicnn, so that they read OPENBLAS_THREAD_TIMEOUT; the paths of those that can't be.

    OpenBLAS reads its environment once, into variables of its own
    (``openblas_read_env``), and its threads take their timeout from them when
    they start (``blas_thread_init``). ``blas_thread_shutdown_`` joins them,
    as OpenBLAS's fork handler does. Only the pthreads build has these threads;
    an OpenMP build waits as OMP_WAIT_POLICY says. No product may run during the
    restart: minicnn is being imported, by one thread.
    """
    still_missed = []
    for pool in pools:
        try:
            library = ctypes.CDLL(pool['filepath'])  # the copy already loaded
            steps = (library.openblas_read_env, library.blas_thread_shutdown_,
                     library.blas_thread_init)
        except (OSError, AttributeError):
            steps = None
        if pool.get('threading_layer') != 'pthreads' or steps is None:
            still_missed.append(pool['filepath'])
            continue
        for step in steps:
            step()
    return still_missed


def _keep_numba_off(spinning):
    """Run Numba's kernels on one thread if they would run on OpenMP, whose
    runtimes ``spinning`` (paths) spin when idle; and say so, once."""
    import numba  # and NumPy: now that the settings are in place
    numba.get_num_threads()  # starts Numba's threading layer, the one its kernels will use
    if numba.threading_layer() != 'omp':
        return  # TBB or workqueue: threads of Numba's own
    numba.set_num_threads(1)  # for this thread: Numba keeps the number per thread
    _numba_held[0] = True
    warnings.warn(
        f'minicnn: an OpenMP runtime ({spinning[0]}) was loaded before minicnn, without '
        f'OMP_WAIT_POLICY in the environment, so its idle threads busy-wait on the cores '
        f"NumPy's matrix products need. Numba's kernels would run on it and make training "
        f'steps several times slower, so they run on one thread instead. For every core, '
        f'start Python with OMP_WAIT_POLICY=PASSIVE, or import minicnn before the library '
        f'that loads that runtime (torch, say).',
        RuntimeWarning, stacklevel=4)  # at the line that imported minicnn


def slice_threads():
    """How many threads ``kernels.parallel.map_parts`` may share a batch's slices among:
    as many as Numba's kernels run on, but all of Numba's if ``configure`` held those
    to one only to keep them off a spinning OpenMP runtime. map_parts's threads are
    Python's own, and the serial kernels and one-thread products they run never
    start an OpenMP team, so the cores stay theirs."""
    import numba
    return numba.config.NUMBA_NUM_THREADS if _numba_held[0] else numba.get_num_threads()


def wait_settings():
    """{variable: (its value, the runtimes loaded before minicnn set it, which ignore it)}.
    An empty list means every runtime of that kind read the value."""
    return {name: (os.environ.get(name), _missed.get(name, []))
            for name in WAIT_SETTINGS}


def pools():
    """The thread pools in this process now, as threadpoolctl sees them:
    [(internal_api, library path, number of threads)]."""
    return [(pool['internal_api'], pool['filepath'], pool['num_threads'])
            for pool in threadpoolctl.threadpool_info()]
