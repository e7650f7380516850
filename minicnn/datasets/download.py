"""Downloading a file into the cache, with a progress bar and a checksum.

The file is written through ``minicnn.fileio.atomic_write``: it appears under its name
only after every byte has arrived and the MD5 matches the published one.
``file://`` URLs work too, which is how the tests download without a network.

What a server sends is not trusted before the checksum: a download stops as
soon as it is larger than the file can be (``max_bytes``, the published size
with a margin), and a redirect from https to plain http, which would let
anyone on the way change the file, is refused. A disk that fills up is
reported as such, naming the folder, rather than as a failed download.
"""
import errno
import hashlib
import http.client
import urllib.parse
import urllib.request

from tqdm import tqdm

from minicnn.datasets.errors import DatasetError
from minicnn.fileio import atomic_write

CHUNK = 1 << 16


class _ProgressBar(tqdm):
    # No monitor thread, which tqdm otherwise leaves running for good: forking
    # the image-decoding workers later is only safe in a single-threaded process.
    monitor_interval = 0


def download(url, dest, md5, max_bytes):
    """Fetch ``url`` to the path ``dest``, check its MD5 hex digest, return ``dest``.

    ``max_bytes`` bounds the download: a larger file is not the one expected.
    """
    try:
        with atomic_write(dest) as file:
            actual = _copy(url, file, dest.name, max_bytes)
            if actual != md5:  # raised inside the block, so the download is discarded
                raise DatasetError(
                    f'{url}: MD5 checksum {actual} does not match the published {md5}; '
                    f'the download is corrupt or not the expected file')
    except OSError as err:
        if err.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise DatasetError(f'{dest.parent}: the disk is full (or your quota is used up), so '
                           f'{url} cannot be saved there; free some space, or set MINICNN_HOME '
                           f'to a folder on another disk') from err
    return dest


def _copy(url, file, label, max_bytes):
    """Copy ``url`` into the open ``file`` with a progress bar; return its MD5 hex digest.

    Errors of the network are DatasetErrors naming the URL; errors of writing
    (a full disk) are left as they are, for ``download`` to report.
    """
    digest = hashlib.md5()
    received = 0
    with _open(url) as response:
        total = int(response.headers.get('Content-Length') or 0) or None
        if total is not None and total > max_bytes:
            raise _too_large(url, max_bytes, f'announces {total} bytes')
        with _ProgressBar(total=total, desc=label, unit='B', unit_scale=True,
                          unit_divisor=1024) as bar:
            while chunk := _read(response, url):
                received += len(chunk)
                if received > max_bytes:
                    raise _too_large(url, max_bytes, f'sent more than {max_bytes} bytes')
                file.write(chunk)
                digest.update(chunk)
                bar.update(len(chunk))
    # http.client returns short reads when a connection drops early rather than raising
    if total is not None and received != total:
        raise DatasetError(f'{url}: download truncated, got {received} of {total} bytes')
    return digest.hexdigest()


def _open(url):
    """The response to a request for ``url``; network errors name it."""
    try:
        return urllib.request.build_opener(_NoDowngrade).open(url, timeout=60)
    except DatasetError:  # a redirect refused
        raise
    except (OSError, http.client.HTTPException) as err:
        raise DatasetError(f'could not download {url}: {err}') from err


def _read(response, url):
    """The next chunk of the response, b'' at its end; network errors name ``url``."""
    try:
        return response.read(CHUNK)
    except (OSError, http.client.HTTPException) as err:
        raise DatasetError(f'could not download {url}: {err}') from err


def _too_large(url, max_bytes, what):
    return DatasetError(f'{url}: the server {what}, more than the {max_bytes} bytes the '
                        f'file can be; it is not the expected file')


class _NoDowngrade(urllib.request.HTTPRedirectHandler):
    """Follows redirects, but never from https to another scheme."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if (urllib.parse.urlsplit(req.full_url).scheme == 'https'
                and urllib.parse.urlsplit(newurl).scheme != 'https'):
            raise DatasetError(f'{req.full_url}: the server redirects to {newurl}, which is not '
                               f'https; refused, as anyone on the way could change the file')
        return super().redirect_request(req, fp, code, msg, headers, newurl)
