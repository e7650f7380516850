"""Writing files so that a crash never leaves a broken one behind, and reading
NumPy archives so that a crafted one cannot exhaust memory or run code.

Everything minicnn saves (weights, checkpoints, caches, pictures) goes to a
temporary file in the destination folder, is flushed to disk, and is then
renamed over the destination: a rename within one folder is atomic, so the
destination holds either the old file or the complete new one.

A NumPy .npz archive (what ``np.savez`` writes) is a zip file of .npy members,
each a small header (dtype and shape) followed by the values. ``NpzFile`` reads
every header first and checks it against the zip's own record of the member's
size before any values are read, so a 10 KiB file cannot announce a terabyte:

    header size + prod(shape) * itemsize == the member's uncompressed size
    uncompressed size <= DEFLATE_RATIO * compressed size (deflate's limit)

and a member holding Python objects is refused, never unpickled (unpickling
can run any code the file names).
"""
import contextlib
import math
import os
import secrets
import stat
import zipfile
import zlib

import numpy as np


@contextlib.contextmanager
def atomic_write(path, mode='wb'):
    """Open a temporary file next to ``path``; on success it replaces ``path``.

    The temporary file is created as open() creates any file (0666 less the
    umask, applied by the system: the umask is never read or changed, which
    would affect every thread), or with the permissions of the file it
    replaces. The file, then its folder, are flushed to disk (fsync), so that
    the rename itself survives a power cut.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = _create_temporary(folder, os.path.basename(path))
    try:
        with contextlib.suppress(FileNotFoundError):
            os.fchmod(fd, stat.S_IMODE(os.stat(path).st_mode))  # keep the replaced file's
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    _sync_folder(folder)


def _create_temporary(folder, name):
    """(fd, path) of a new, empty, hidden file in ``folder``, made with O_EXCL
    (never an existing file or link) and mode 0666, which the umask narrows."""
    for _ in range(100):
        tmp = os.path.join(folder, f'.{name}.{secrets.token_hex(6)}.tmp')
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f'could not create a temporary file for {name} in {folder}')


def _sync_folder(folder):
    """fsync a folder, which makes a rename in it durable (where the system can:
    Windows cannot open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a folder; the rename still happened
        pass
    finally:
        os.close(fd)


# -- reading NumPy archives ------------------------------------------------------------

# Deflate cannot compress better than about 1032 to 1; a member claiming more is a lie.
DEFLATE_RATIO = 1032
NPY_MAGIC = b'\x93NUMPY'


class ArchiveError(ValueError):
    """A file that is not a sound NumPy .npz archive; the message names it."""


class NpzFile:
    """A NumPy .npz archive opened for checked reading::

        with NpzFile(path) as archive:
            archive.headers            # {name: (shape, dtype)}, read and checked
            archive.read(name, shape)  # the array, if its header says ``shape``

    Every error is an ArchiveError naming the file.
    """

    def __init__(self, path):
        self.path = path
        with self._errors():
            if not zipfile.is_zipfile(path):
                raise ArchiveError(f'{path} is not a NumPy .npz archive {_what_else(path)}')
            self._zip = zipfile.ZipFile(path)
        try:
            self.headers = {name[:-len('.npy')]: self._header(info)
                            for name, info in self._members().items()}
        except BaseException:
            self._zip.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._zip.close()

    def check(self, name, shape=None):
        """Raise unless the header of array ``name`` announces numbers (not text)
        of ``shape`` (when given)."""
        announced, dtype = self.headers[name]
        if shape is not None and announced != tuple(shape):
            raise ArchiveError(f'{self.path}: array {name!r} has shape {announced}, '
                               f'expected {tuple(shape)}')
        if dtype.kind not in 'biuf':
            raise ArchiveError(f'{self.path}: array {name!r} holds {dtype}, not numbers')

    def read(self, name, shape=None):
        """The array ``name``, once ``check`` has passed: its values are read only then."""
        self.check(name, shape)
        with self._errors(), self._zip.open(f'{name}.npy') as member:
            return np.lib.format.read_array(member, allow_pickle=False)

    def _members(self):
        """The zip's members by name, each checked to be a plausible .npy member."""
        members = {}
        for info in self._zip.infolist():
            if not info.filename.endswith('.npy'):
                raise ArchiveError(f'{self.path}: member {info.filename!r} is not a .npy array')
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ArchiveError(f'{self.path}: member {info.filename!r} is compressed in a '
                                   f'way NumPy does not write (zip method {info.compress_type})')
            limit = info.compress_size * (
                1 if info.compress_type == zipfile.ZIP_STORED else DEFLATE_RATIO)
            if info.file_size > limit:
                raise ArchiveError(f'{self.path}: member {info.filename!r} claims {info.file_size} '
                                   f'bytes from {info.compress_size} stored bytes; it is corrupt')
            members[info.filename] = info
        return members

    def _header(self, info):
        """(shape, dtype) of one member, from its header, checked against its size."""
        with self._errors(), self._zip.open(info) as member:
            version = np.lib.format.read_magic(member)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, _, dtype = read_header(member)
            header_size = member.tell()
        name = info.filename
        if dtype.hasobject:
            raise ArchiveError(f'{self.path}: member {name!r} holds Python objects, which '
                               f'minicnn never loads (unpickling a file can run any code)')
        values = math.prod(shape) * dtype.itemsize
        if header_size + values != info.file_size:
            raise ArchiveError(f'{self.path}: member {name!r} announces {dtype} values of shape '
                               f'{shape} ({values} bytes) in {info.file_size - header_size} '
                               f'bytes; it is truncated or corrupt')
        return tuple(shape), dtype

    @contextlib.contextmanager
    def _errors(self):
        """The errors of a damaged zip or .npy member, as an ArchiveError naming the file."""
        try:
            yield
        except ArchiveError:
            raise
        except FileNotFoundError:
            raise
        # zipfile: bad headers and CRCs; zlib: bad deflate data; EOFError: a member cut
        # short; ValueError: a bad .npy header
        except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
                ValueError, NotImplementedError) as err:
            raise ArchiveError(f'{self.path} is truncated, corrupt or not a NumPy .npz archive '
                               f'({type(err).__name__}: {str(err).partition(chr(10))[0]})') from err


def _what_else(path):
    """A hint for a file that is not a zip: a single .npy array, or nothing NumPy wrote."""
    with open(path, 'rb') as f:
        start = f.read(len(NPY_MAGIC))
    if start == NPY_MAGIC:
        return ('but a single NumPy array (.npy); minicnn\'s weights and model files are '
                '.npz archives (save_weights, model.save)')
    return '(it has no zip directory: it is truncated, or another kind of file)'


def read_npz(path, shapes=None):
    """{name: array} of every array in the .npz archive at ``path``, each checked
    against ``shapes[name]`` where ``shapes`` names it, all headers before any values."""
    shapes = shapes or {}
    with NpzFile(path) as archive:
        for name in archive.headers:
            archive.check(name, shapes.get(name))
        return {name: archive.read(name) for name in archive.headers}


def read_array_list(path, shapes):
    """The arrays ``np.savez(f, *arrays)`` wrote (arr_0, arr_1, ...), as a list,
    when the archive holds exactly ``len(shapes)`` of them, of those shapes."""
    with NpzFile(path) as archive:
        names = [f'arr_{k}' for k in range(len(archive.headers))]
        if sorted(archive.headers) != sorted(names):
            raise ArchiveError(f'{path} holds arrays named {sorted(archive.headers)}, not the '
                               f'arr_0, arr_1, ... that save_weights writes')
        if len(names) != len(shapes):
            raise ArchiveError(f'{path} holds {len(names)} arrays, but {len(shapes)} are '
                               f'expected (one per weight)')
        for name, shape in zip(names, shapes):
            archive.check(name, shape)
        return [archive.read(name) for name in names]
