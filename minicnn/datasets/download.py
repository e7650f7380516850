"""Downloading a file into the cache, with a progress bar and a checksum.

The file is written through ``minicnn.fileio.atomic_write``: it appears under its name
only after every byte has arrived and the MD5 matches the published one.
``file://`` URLs work too, which is how the tests download without a network.
"""
import hashlib
import http.client
import urllib.request

from tqdm import tqdm

from minicnn.datasets.errors import DatasetError
from minicnn.fileio import atomic_write

CHUNK = 1 << 16


class _ProgressBar(tqdm):
    # No monitor thread, which tqdm otherwise leaves running for good: forking
    # the image-decoding workers later is only safe in a single-threaded process.
    monitor_interval = 0


def download(url, dest, md5):
    """Fetch ``url`` to the path ``dest``, check its MD5 hex digest, return ``dest``."""
    with atomic_write(dest) as file:
        actual = _copy(url, file, dest.name)
        if actual != md5:  # raised inside the block, so the download is discarded
            raise DatasetError(
                f'{url}: MD5 checksum {actual} does not match the published {md5}; '
                f'the download is corrupt or not the expected file')
    return dest


def _copy(url, file, label):
    """Copy ``url`` into the open ``file`` with a progress bar; return its MD5 hex digest."""
    digest = hashlib.md5()
    received = 0
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get('Content-Length') or 0) or None
            with _ProgressBar(total=total, desc=label, unit='B', unit_scale=True,
                              unit_divisor=1024) as bar:
                while chunk := response.read(CHUNK):
                    file.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
    except (OSError, http.client.HTTPException) as err:
        raise DatasetError(f'could not download {url}: {err}') from err
    # http.client returns short reads when a connection drops early rather than raising
    if total is not None and received != total:
        raise DatasetError(f'{url}: download truncated, got {received} of {total} bytes')
    return digest.hexdigest()
