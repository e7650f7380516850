"""How minicnn asks the C library's allocator to keep the memory a training step frees.

A training step makes the same large arrays every step (activations, their
gradients, im2col's columns) and frees them by the end of it. glibc's
``malloc``, which NumPy's arrays come from on Linux, by default serves a
large block (over 128 kB at first, at most 32 MB) by mapping fresh pages from
the kernel (mmap) and unmaps them when it is freed; smaller blocks come from
its heap, whose free top goes back to the kernel too once it is large. Every
page the process gets back then costs a page fault, and the kernel zeroes
it, before the array's first write: on the 2-core VM, the fast recipe's
first max-pool backward, which writes a fresh 63 MB gradient each step,
took 66 ms in a whole step against 4.5 ms for its kernel alone, and 3.1 ms
with freed memory kept (``benchmarks/peak.py``, README).

``configure`` turns both off with ``mallopt``, glibc's knob for its
allocator: no block is mapped on its own (M_MMAP_MAX = 0), and the heap's
free top is never handed back (M_TRIM_THRESHOLD at its largest), so a
step's arrays reuse the blocks the previous step freed. (PyTorch's CPU
tuning guide gets the same effect by swapping in jemalloc or tcmalloc.)
The cost: memory the program frees stays with the process, for its next
arrays, instead of going back to the system until the process exits (or
calls ``release_free_memory``). A step's own peak does not grow
(``benchmarks/memory.py``), but memory freed in one phase and not reused
in the next stays counted: the README's main command peaked at 1.54 GiB
resident, against 1.38 GiB earlier the same day, before this change and two
others.

``MINICNN_ALLOCATOR=system`` in the environment leaves the allocator as the
C library set it up (``keep``, the default, is the above). A user's own
allocator settings win too: if any MALLOC_* variable glibc reads, or
GLIBC_TUNABLES, is in the environment, minicnn changes nothing. (Setting
any of them also stops glibc from raising its mmap threshold as large blocks
are freed, so the defaults cannot be had by naming them.) Elsewhere than
glibc (macOS, Windows, musl) there is no ``mallopt`` to call, and nothing
changes either. ``settings()`` says what happened; ``minicnn info`` prints it.
"""
import ctypes
import functools
import os
import platform

# mallopt's parameter numbers, from glibc's malloc.h.
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
KEEP_FREED_MEMORY = {M_MMAP_MAX: 0, M_TRIM_THRESHOLD: 2**31 - 1}  # the largest int

# The environment variables through which a user tunes glibc's malloc.
USER_SETTINGS = ('MALLOC_MMAP_MAX_', 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_',
                 'MALLOC_TOP_PAD_', 'MALLOC_ARENA_MAX', 'GLIBC_TUNABLES')

CHOICES = ('keep', 'system')  # of MINICNN_ALLOCATOR

_state = {'settings': 'not configured'}


def configure():
    """Keep freed memory for reuse, unless MINICNN_ALLOCATOR=system, the user tuned the
    allocator, or it isn't glibc's. ``import minicnn`` calls this once."""
    choice = os.environ.get('MINICNN_ALLOCATOR', 'keep').strip().lower() or 'keep'
    if choice not in CHOICES:
        raise ValueError(f'MINICNN_ALLOCATOR must be one of {CHOICES}, got '
                         f'{os.environ["MINICNN_ALLOCATOR"]!r}')
    user = [name for name in USER_SETTINGS if name in os.environ]
    if choice == 'system':
        _state['settings'] = "the C library's own (MINICNN_ALLOCATOR=system)"
    elif user:
        _state['settings'] = f"the user's ({', '.join(user)} set): left alone"
    elif _glibc() is None:
        _state['settings'] = "the C library's own (not glibc: no mallopt)"
    elif all(_glibc().mallopt(parameter, value) == 1
             for parameter, value in KEEP_FREED_MEMORY.items()):
        _state['settings'] = 'freed memory kept for reuse (glibc mallopt: no mmap, no trim)'
    else:
        _state['settings'] = "glibc's defaults (mallopt refused minicnn's settings)"


def release_free_memory():
    """Hand the memory freed so far back to the system (glibc's ``malloc_trim(0)``),
    as glibc's defaults would have: after training, say, or before a measurement of
    memory in use. True where it could (glibc), False elsewhere."""
    if _glibc() is None:
        return False
    _glibc().malloc_trim(0)
    return True


def settings():
    """A line saying how the allocator treats freed memory in this process."""
    return _state['settings']


@functools.lru_cache(maxsize=None)
def _glibc():
    """The C library, where it is glibc (``mallopt`` and ``malloc_trim`` typed), else None."""
    if platform.libc_ver()[0] != 'glibc':
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt.argtypes, libc.mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
        libc.malloc_trim.argtypes, libc.malloc_trim.restype = (ctypes.c_size_t,), ctypes.c_int
    except (OSError, AttributeError):
        return None
    return libc
