"""Fuzz test: every file loader (.minicnn, .h5, .keras, .npz, IDX, CIFAR archives, images) fed
truncated, bit-flipped and random versions of
a good file either loads it (a flipped bit may land where nothing checks it, in
the values of an uncompressed array, say) or raises minicnn's error naming the
file: never a bare exception from inside zipfile, h5py, NumPy or Pillow, and
never more than MEMORY_LIMIT bytes allocated."""
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from PIL import Image

from minicnn import fileio
from minicnn import layers as L
from minicnn.datasets import DatasetError, cifar10, mnist
from minicnn.interchange.hdf5 import KerasFileError
from minicnn.models import Sequential, load_model
from minicnn.preprocessing import ImageDataGenerator
from test_datasets import (cache_folder, cifar10_arrays, mnist_arrays, tar_gz,  # noqa: F401
                           write_batches, write_idx_folder, write_image_folders, zip_folder)

MEMORY_LIMIT = 200 * 2**20
# Pillow decodes an image of up to Image.MAX_IMAGE_PIXELS pixels (3 bytes each in RGB)
# without complaint, and a flipped bit can make a small PNG announce one that large.
IMAGE_MEMORY_LIMIT = 3 * Image.MAX_IMAGE_PIXELS + 64 * 2**20
# no shrinking: a failing case is reported as found, (kind, detail), rather than after
# minutes of shrinking with tracemalloc on; no deadline, since a shared host's stalls
# are not the file reader's
FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                phases=[Phase.explicit, Phase.reuse, Phase.generate],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def damages(size):
    """Ways to damage a file of ``size`` bytes, as (kind, detail): cut it to its
    first n bytes, flip bits (numbered from the start), replace it by noise, empty it."""
    return st.one_of(
        st.tuples(st.just('truncate'), st.integers(0, max(size - 1, 0))),
        st.tuples(st.just('flip'), st.lists(st.integers(0, 8 * size - 1), min_size=1,
                                            max_size=8)),
        st.tuples(st.just('random'), st.binary(min_size=1, max_size=min(size, 4096))),
        st.just(('empty', None)))


def damaged(data, damage):
    """``data`` with ``damage`` (from ``damages``) done to it."""
    kind, detail = damage
    if kind == 'truncate':
        return data[:detail]
    if kind == 'flip':
        data = bytearray(data)
        for bit in detail:
            data[bit // 8] ^= 1 << bit % 8
        return bytes(data)
    return detail or b''


def fuzz(good, path, load, errors, memory_limit=MEMORY_LIMIT):
    """A hypothesis test body: ``good`` damaged and written to ``path``, then
    ``load(path)``, which must succeed or raise one of ``errors`` naming ``path``,
    allocating less than ``memory_limit`` bytes."""
    @FUZZ
    @given(damages(len(good)))
    def run(damage):
        path.write_bytes(damaged(good, damage))
        tracemalloc.start()
        try:
            load(path)
        except errors as err:
            assert str(path.name) in str(err), f'{type(err).__name__} names no file: {err}'
            assert 'allow_pickle' not in str(err), f'advises unpickling: {err}'
        finally:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        assert peak < memory_limit, f'allocated {peak / 2**20:.0f} MiB'
    run()


@pytest.fixture(scope='module')
def folder():
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def model():
    net = Sequential([L.Conv2D(2, 3, input_shape=(6, 6, 1), name='c'), L.Flatten(),
                      L.Dense(3, name='d')])
    net.compile('adam', 'mse')
    return net


# -- model and weights files --------------------------------------------------------------

def test_h5_weights(folder):
    net = model()
    net.save_weights(folder / 'good.h5')
    fuzz((folder / 'good.h5').read_bytes(), folder / 'w.h5', net.load_weights, ValueError)


def test_h5_model(folder):
    model().save(folder / 'good.h5')
    fuzz((folder / 'good.h5').read_bytes(), folder / 'm.h5', load_model, ValueError)


def test_npz_archive(folder):
    np.savez(folder / 'good.npz', *model().get_weights())
    fuzz((folder / 'good.npz').read_bytes(), folder / 'a.npz', fileio.read_npz,
         fileio.ArchiveError)


def test_npz_compressed_archive(folder):
    np.savez_compressed(folder / 'good.npz', *model().get_weights())
    fuzz((folder / 'good.npz').read_bytes(), folder / 'c.npz', fileio.read_npz,
         fileio.ArchiveError)


def test_npz_weights_through_load_weights(folder):
    net = model()
    net.save_weights(folder / 'good.npz')
    fuzz((folder / 'good.npz').read_bytes(), folder / 'w.npz', net.load_weights, ValueError)


def test_minicnn_model_through_load_model(folder):
    model().save(folder / 'good.minicnn')
    fuzz((folder / 'good.minicnn').read_bytes(), folder / 'm.minicnn', load_model, ValueError)


def test_keras_3_zip_through_load_model(folder):
    model().save(folder / 'good.keras')
    fuzz((folder / 'good.keras').read_bytes(), folder / 'm.keras', load_model, ValueError)


# -- data sets ----------------------------------------------------------------------------

def test_idx_files(folder):
    data = write_idx_folder(folder / 'idx', mnist_arrays())
    target = data / 'train-images-idx3-ubyte.gz'
    good = target.read_bytes()
    fuzz(good, target, lambda path: mnist.load_data(data), DatasetError)


@pytest.mark.parametrize('pack', ['tar.gz', 'zip'])
def test_cifar10_archives_of_batches(folder, pack):
    batches = write_batches(folder / pack / 'cifar-10-batches-py', cifar10_arrays())
    archive = (tar_gz if pack == 'tar.gz' else zip_folder)(batches, folder / f'good.{pack}')
    target = folder / f'cifar-10.{pack}'
    fuzz(archive.read_bytes(), target, cifar10.load_data, DatasetError)


def test_images_in_flow_from_directory(folder):
    root = folder / 'flow'
    for name in ('a', 'b'):
        (root / name).mkdir(parents=True)
        Image.fromarray(np.full((8, 8, 3), 60, np.uint8)).save(root / name / 'ok.png')
    target = root / 'b' / 'image.png'
    Image.fromarray(np.arange(192, dtype=np.uint8).reshape(8, 8, 3)).save(target)
    good = target.read_bytes()

    def load(path):
        flow = ImageDataGenerator().flow_from_directory(root, target_size=(8, 8), batch_size=3,
                                                        shuffle=False)
        flow[0]
    fuzz(good, target, load, OSError, IMAGE_MEMORY_LIMIT)


def test_images_in_cifar10_image_folders(folder):
    root = write_image_folders(folder / 'images', cifar10_arrays())
    target = root / 'train' / 'cat' / '0001.png'
    fuzz(target.read_bytes(), target, lambda path: cifar10.load_data(root), DatasetError)
