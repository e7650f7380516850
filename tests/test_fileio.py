import os
import stat

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


def test_saving_never_touches_the_process_umask(tmp_path, monkeypatch):
    def umask(mask):
        raise AssertionError('os.umask changes the umask of every thread')
    monkeypatch.setattr(os, 'umask', umask)
    with atomic_write(tmp_path / 'f.txt', 'w') as f:
        f.write('new')
    assert (tmp_path / 'f.txt').read_text() == 'new'


def test_a_new_file_follows_the_umask_and_a_replaced_one_keeps_its_permissions(tmp_path):
    previous = os.umask(0o027)
    try:
        with atomic_write(tmp_path / 'new.txt', 'w') as f:
            f.write('new')
    finally:
        os.umask(previous)
    assert (tmp_path / 'new.txt').stat().st_mode & 0o777 == 0o640
    private = tmp_path / 'private.txt'
    private.write_text('old')
    private.chmod(0o600)
    with atomic_write(private, 'w') as f:
        f.write('new')
    assert private.read_text() == 'new' and private.stat().st_mode & 0o777 == 0o600


def test_the_file_and_then_its_folder_are_synced(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)
    monkeypatch.setattr(os, 'fsync', fsync)
    with atomic_write(tmp_path / 'f.bin') as f:
        f.write(b'data')
    assert synced == [False, True]
