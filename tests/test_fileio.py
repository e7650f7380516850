import os

import pytest

from minicnn.fileio import atomic_write


def test_a_finished_write_replaces_the_file_with_ordinary_permissions(tmp_path):
    path = tmp_path / 'sub' / 'f.txt'
    with atomic_write(path, 'w') as f:
        f.write('new')
    assert path.read_text() == 'new'
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / 'f.txt'
    path.write_text('old')
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(path, 'w') as f:
            f.write('half')
            raise KeyboardInterrupt
    assert path.read_text() == 'old' and os.listdir(tmp_path) == ['f.txt']
