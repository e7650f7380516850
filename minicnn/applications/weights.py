"""Published weight files, downloaded once into minicnn's cache, as Keras's
``get_file(fname, origin, cache_subdir='models', file_hash=...)`` does.

A file lives at ``<cache>/models/<name>`` (the cache is ``~/.cache/minicnn`` or
``$MINICNN_HOME``). It is downloaded with a progress bar, and kept only if
its MD5 is the published one (Keras's hashes of its applications' files are
MD5s). A cached file is checked again each time it is used: one whose hash
no longer matches (a cut download of another tool, a damaged disk) is
deleted and downloaded again.
"""
import hashlib

from minicnn.datasets.cache import cache_dir
from minicnn.datasets.download import CHUNK, download

# bytes; the largest of Keras's files minicnn reads, VGG16's weights with the top, is
# about half of this
MAX_DOWNLOAD = 2**30


def weights_file(name, url, md5):
    """The path of the cached file ``name``, downloaded from ``url`` if needed."""
    path = cache_dir() / 'models' / name
    if path.is_file() and md5_of(path) == md5:
        return path
    path.unlink(missing_ok=True)
    return download(url, path, md5, MAX_DOWNLOAD)


def md5_of(path):
    """The MD5 hex digest of a file, read in chunks."""
    digest = hashlib.md5()
    with open(path, 'rb') as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
