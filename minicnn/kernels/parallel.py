"""Sharing one operation's slices of the batch among the cores.

A convolution in slices of a few images (``kernels.batch_parts``) can hand
whole slices to threads rather than parallelising each product and loop
inside them: the threads then meet once per operation, not at every call
inside it.
``map_parts`` does it; the thread count comes from the kernel set
(``kernels.for_array(x).parallel_threads()``), so the NumPy references run
the slices in order in the calling thread.
"""
import concurrent.futures
import functools
import queue

import threadpoolctl


def map_parts(work, parts, threads):
    """[work(part) for part in parts], the parts shared among ``threads`` threads.

    The calling thread and ``threads - 1`` helpers each take the next part
    left as they finish one, so a core that another program keeps busy simply
    does fewer; and OpenBLAS is held to one thread meanwhile, so that a part's
    matrix products run on the core that holds its arrays in cache. The
    threads meet twice per call, when the helpers start and when they are
    done. A parallel kernel or product instead meets its threads at every
    call, which costs about 50 microseconds on the 2-core VM, whose idle
    threads sleep: a convolution in slices of a few images makes hundreds of
    such calls. ``work`` must release the GIL for its heavy lifting (NumPy's
    products and ``nogil`` Numba loops do); threads=1 runs the parts here, in
    order. The BLAS limit is the process's, so two threads of the caller's
    should not map at once. An exception in any part is raised here, once
    every thread has stopped.
    """
    if threads == 1 or len(parts) == 1:
        return [work(part) for part in parts]
    results, left = [None] * len(parts), queue.SimpleQueue()
    for index in range(len(parts)):
        left.put(index)

    def next_index():
        """The index of a part nobody has taken, or None when none is left."""
        try:
            return left.get_nowait()
        except queue.Empty:
            return None

    def take_parts():
        """Do the parts left, one at a time, until there are none (or one fails)."""
        while (index := next_index()) is not None:
            try:
                results[index] = work(parts[index])
            except BaseException:
                while next_index() is not None:  # the other threads stop after their part
                    pass
                raise

    with _blas_pools().limit(limits=1, user_api='blas'):
        helpers = [_workers(threads - 1).submit(take_parts) for _ in range(threads - 1)]
        try:
            take_parts()
        finally:
            concurrent.futures.wait(helpers)
        for helper in helpers:
            helper.result()  # a helper's exception, raised in this thread
    return results


@functools.lru_cache(maxsize=None)
def _workers(threads):
    return concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix='minicnn-parts')


@functools.lru_cache(maxsize=None)
def _blas_pools():
    """threadpoolctl's handle on the BLAS libraries loaded (NumPy's OpenBLAS), made once:
    finding them takes a millisecond, limiting them then 10 microseconds."""
    return threadpoolctl.ThreadpoolController()
