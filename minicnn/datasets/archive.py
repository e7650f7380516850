"""Reading the files of a folder, a tar archive or a zip archive alike.

Loaders ask for the files they want by name and get ``(name, bytes)`` pairs,
whatever holds them; names are relative, with '/' separators. Nothing is
extracted to disk. A damaged archive raises DatasetError naming it.
"""
import gzip
import tarfile
import zipfile
import zlib
from pathlib import Path

from minicnn.datasets.errors import DatasetError

TAR_SUFFIXES = ('.tar', '.tar.gz', '.tgz')
ZIP_SUFFIXES = ('.zip',)


def is_archive(path):
    """True when ``path`` is a file named like a tar or zip archive."""
    return path.is_file() and path.name.lower().endswith(TAR_SUFFIXES + ZIP_SUFFIXES)


def iter_files(source, wanted):
    """Yield ``(name, data)`` for each file in ``source`` for which ``wanted(name)`` is true.

    Files come in the order stored (sorted, for a folder): an archive is read
    once, front to back, which is far faster than seeking in a compressed stream.
    """
    source = Path(source)
    if source.is_dir():
        yield from _folder_files(source, wanted)
        return
    try:
        if source.name.lower().endswith(ZIP_SUFFIXES):
            yield from _zip_files(source, wanted)
        else:
            yield from _tar_files(source, wanted)
    # the many ways a damaged archive fails: bad headers, bad CRCs, a stream ending early
    except (tarfile.TarError, zipfile.BadZipFile, gzip.BadGzipFile, EOFError, zlib.error) as err:
        raise DatasetError(f'{source}: corrupt or truncated archive ({err})') from err


def _folder_files(folder, wanted):
    for path in sorted(folder.rglob('*')):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and wanted(name):
            yield name, path.read_bytes()


def _tar_files(path, wanted):
    # gzip.open checks the CRC of the whole stream, which tarfile's own reading of a
    # .tar.gz skips: a flipped bit is then an error, not a silently wrong pixel
    opener = gzip.open if path.name.lower().endswith(('.gz', '.tgz')) else open
    with opener(path, 'rb') as stream, tarfile.open(fileobj=stream, mode='r|') as tar:
        for member in tar:  # 'r|' reads once, front to back, never seeking back
            if member.isfile() and wanted(member.name):
                yield member.name, tar.extractfile(member).read()
        stream.read()  # on to the end of the stream, where gzip checks the CRC


def _zip_files(path, wanted):
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.is_dir() and wanted(info.filename):
                yield info.filename, archive.read(info)
