"""Reading the files of a folder, a tar archive or a zip archive alike.

Loaders ask for the files they want by name and get ``(name, bytes)`` pairs,
whatever holds them; names are relative, with '/' separators. Nothing is
extracted to disk. A damaged archive raises DatasetError naming it.

Every file is read into memory, so each one's size, as the folder, the tar
header or the zip directory records it, is checked against the largest a file
of the data set can be (``Limits``) before it is read: a small compressed
archive cannot announce, and then inflate to, more than the data set holds.
"""
import gzip
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

from minicnn.datasets.errors import DatasetError

TAR_SUFFIXES = ('.tar', '.tar.gz', '.tgz')
ZIP_SUFFIXES = ('.zip',)


def is_archive(path):
    """True when ``path`` is a file named like a tar or zip archive."""
    return path.is_file() and path.name.lower().endswith(TAR_SUFFIXES + ZIP_SUFFIXES)


class Limits(NamedTuple):
    """The most bytes one file, and all the wanted files together, may hold."""
    file: int
    total: int


def iter_files(source, wanted, limits):
    """Yield ``(name, data)`` for each file in ``source`` for which ``wanted(name)`` is true,
    each within ``limits`` (checked before it is read).

    Files come in the order stored (sorted, for a folder): an archive is read
    once, front to back, which is far faster than seeking in a compressed stream.
    """
    source = Path(source)
    sizes = _SizeCheck(source, limits)
    if source.is_dir():
        yield from _folder_files(source, wanted, sizes)
        return
    try:
        if source.name.lower().endswith(ZIP_SUFFIXES):
            yield from _zip_files(source, wanted, sizes)
        else:
            yield from _tar_files(source, wanted, sizes)
    # the many ways a damaged archive fails: bad headers, bad CRCs, a stream ending early
    except (tarfile.TarError, zipfile.BadZipFile, gzip.BadGzipFile, EOFError, zlib.error) as err:
        raise DatasetError(f'{source}: corrupt or truncated archive ({err})') from err


class _SizeCheck:
    """Counts the bytes of the files read from ``source``, refusing any beyond ``limits``."""

    def __init__(self, source, limits):
        self.source, self.limits, self.total = source, limits, 0

    def __call__(self, name, size):
        if size > self.limits.file:
            raise DatasetError(f'{self.source}: {name} announces {size} bytes, more than a file '
                               f'of this data set holds ({self.limits.file}); corrupt or not '
                               f'the data set')
        self.total += size
        if self.total > self.limits.total:
            raise DatasetError(f'{self.source}: its files hold more than the '
                               f'{self.limits.total} bytes of the whole data set; not the data set')


def _folder_files(folder, wanted, sizes):
    for path in sorted(folder.rglob('*')):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and wanted(name):
            sizes(name, path.stat().st_size)
            yield name, path.read_bytes()


def _tar_files(path, wanted, sizes):
    # gzip.open checks the CRC of the whole stream, which tarfile's own reading of a
    # .tar.gz skips: a flipped bit is then an error, not a silently wrong pixel
    opener = gzip.open if path.name.lower().endswith(('.gz', '.tgz')) else open
    with opener(path, 'rb') as stream, tarfile.open(fileobj=stream, mode='r|') as tar:
        for member in tar:  # 'r|' reads once, front to back, never seeking back
            if member.isfile() and wanted(member.name):
                sizes(member.name, member.size)  # reading stops at the size the header gives
                yield member.name, tar.extractfile(member).read()
        stream.read()  # on to the end of the stream, where gzip checks the CRC


def _zip_files(path, wanted, sizes):
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.is_dir() and wanted(info.filename):
                sizes(info.filename, info.file_size)  # reading stops at the size recorded
                yield info.filename, archive.read(info)
