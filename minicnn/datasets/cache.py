"""The cache folder, and the arrays decoded once and kept there.

The cache is ``~/.cache/minicnn``, or the folder named by the environment
variable ``MINICNN_HOME``. It holds downloaded archives and, under
``decoded/``, the arrays decoded from them as ``.npz`` files.

Everything is written with ``minicnn.fileio.atomic_write``: to a temporary
file beside the destination, renamed onto it only when complete and removed
on failure, so the cache never holds a partial file under a name it trusts.
"""
import hashlib
import os
from pathlib import Path

import numpy as np

from minicnn.fileio import atomic_write, read_npz

# Part of every decoded file's name: raise it when decoding changes (say, the
# order of images), so that arrays decoded the old way are not used.
DECODE_VERSION = 2


def cache_dir():
    """The cache folder (it may not exist yet)."""
    return Path(os.environ.get('MINICNN_HOME') or Path.home() / '.cache' / 'minicnn')


def fingerprint(source):
    """A short hash of where ``source`` is and the size and mtime of each file in it.

    Any change to the source, or a different source, gives a different hash,
    so decoded arrays cached under it can never be stale or mixed up.
    """
    digest = hashlib.sha256()
    for path in sorted(_files(Path(source).resolve())):
        stat = os.stat(path)
        digest.update(f'{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n'.encode())
    return digest.hexdigest()[:16]


def _files(root):
    """The paths of all files under the folder ``root``, or just ``root`` if it is a file."""
    if not root.is_dir():
        return [str(root)]
    # os.walk rather than Path.rglob: three times faster over 60,000 files
    return [os.path.join(folder, name) for folder, _, names in os.walk(root) for name in names]


def cached_decode(source, tag, decode):
    """``decode(source)``, a dict of arrays, remembered in an .npz file in the cache.

    The first call decodes and saves; later calls for the unchanged source only
    read the .npz file (uncompressed, so that it loads in a fraction of a second).
    """
    target = cache_dir() / 'decoded' / f'{tag}-v{DECODE_VERSION}-{fingerprint(source)}.npz'
    if target.is_file():
        return read_npz(target)
    arrays = decode(source)
    with atomic_write(target) as file:
        np.savez(file, **arrays)
    return arrays
