"""Writing files so that a crash never leaves a broken one behind.

Everything minicnn saves (weights, checkpoints, caches, pictures) goes to a
temporary file in the destination folder, is flushed to disk, and is then
renamed over the destination: a rename within one folder is atomic, so the
destination holds either the old file or the complete new one.
"""
import contextlib
import os
import tempfile


@contextlib.contextmanager
def atomic_write(path, mode='wb'):
    """Open a temporary file next to ``path``; on success it replaces ``path``."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.' + os.path.basename(path) + '.', suffix='.tmp')
    try:
        os.fchmod(fd, _new_file_mode())  # mkstemp's 0600 would hide the file from others
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _new_file_mode():
    """The permissions open() would give a new file: 0666 less the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
