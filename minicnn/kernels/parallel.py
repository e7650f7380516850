"""Sharing one operation's slices of the batch among the cores.

A convolution in slices of a few images (``kernels.batch_parts``) can hand
whole slices to threads rather than parallelising each product and loop
inside them: the threads then meet once per slice, not at every call.
``map_parts`` does it; the thread count comes from the kernel set
(``kernels.for_array(x).parallel_threads()``), so the NumPy references run
the slices in order in the calling thread.
"""
import concurrent.futures
import functools

import threadpoolctl


def map_parts(work, parts, threads):
    """[work(part) for part in parts], the parts shared among ``threads`` threads.

    Each thread takes the next part as it finishes one, so a core that another
    program keeps busy simply does fewer; and OpenBLAS is held to one thread
    meanwhile, so that a part's matrix products run on the core that holds its
    arrays in cache. The threads meet once per part. A parallel kernel or
    product instead meets its threads at every call, which costs about 50
    microseconds on the 2-core VM, whose idle threads sleep: a convolution in
    slices of a few images makes hundreds of such calls. ``work`` must release
    the GIL for its heavy lifting (NumPy's products and ``nogil`` Numba loops
    do); threads=1 runs the parts here, in order. The BLAS limit is the
    process's, so two threads of the caller's should not map at once.
    """
    if threads == 1 or len(parts) == 1:
        return [work(part) for part in parts]
    with _blas_pools().limit(limits=1, user_api='blas'):
        return list(_workers(threads).map(work, parts))


@functools.lru_cache(maxsize=None)
def _workers(threads):
    return concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix='minicnn-parts')


@functools.lru_cache(maxsize=None)
def _blas_pools():
    """threadpoolctl's handle on the BLAS libraries loaded (NumPy's OpenBLAS), made once:
    finding them takes a millisecond, limiting them then 10 microseconds."""
    return threadpoolctl.ThreadpoolController()
