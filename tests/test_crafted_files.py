"""Crafted and broken files: each loader checks what a file announces (shapes,
types, sizes) against what it expects before reading any data, and says what is
wrong in an error that names the file, within bounded memory."""
import gzip
import io
import json
import re
import struct
import tracemalloc
import zipfile
import zlib

import h5py
import numpy as np
import pytest
from PIL import Image

from minicnn import fileio
from minicnn import layers as L
from minicnn.datasets import DatasetError, cifar10, mnist
from minicnn.datasets.archive import Limits
from minicnn.interchange.hdf5 import KerasFileError
from minicnn.models import Sequential, load_model
from minicnn.preprocessing import ImageDataGenerator
from test_datasets import (cifar10_arrays, mnist_arrays, tar_gz, write_batches,  # noqa: F401
                           write_image_folders, write_idx_folder, zip_folder, cache_folder)

MEMORY_LIMIT = 200 * 2**20  # bytes a test may allocate on top of what it held before


class bounded_memory:
    """Fails the test when the block's allocations peak above ``limit`` bytes
    (NumPy reports its arrays to tracemalloc too)."""

    def __init__(self, limit=MEMORY_LIMIT):
        self.limit = limit

    def __enter__(self):
        tracemalloc.start()
        return self

    def __exit__(self, *exc):
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < self.limit, f'the block allocated {peak / 2**20:.0f} MiB at its peak'


def dense_model():
    return Sequential([L.Dense(3, input_shape=(4,), name='d')])


# -- HDF5 -------------------------------------------------------------------------------------

def test_h5_announcing_a_huge_kernel_is_refused_from_its_header(tmp_path):
    model = dense_model()
    model.save_weights(tmp_path / 'w.h5')
    with h5py.File(tmp_path / 'w.h5', 'r+') as f:
        del f['d/d/kernel:0']
        # chunked and never written: the file stays small, the dataset announces 3.6 TiB
        f['d/d'].create_dataset('kernel:0', shape=(10**6, 10**6), dtype='f4', chunks=(64, 64))
    assert (tmp_path / 'w.h5').stat().st_size < 20_000
    message = (rf"layer 'd' has weights of shapes \[\(4, 3\), \(3,\)\], but the layer 'd' of "
               rf"{re.escape(str(tmp_path / 'w.h5'))} has \[\(1000000, 1000000\), \(3,\)\]")
    with bounded_memory(), pytest.raises(ValueError, match=message):
        model.load_weights(tmp_path / 'w.h5')


def test_h5_weight_that_is_not_numbers(tmp_path):
    model = dense_model()
    model.save_weights(tmp_path / 'w.h5')
    with h5py.File(tmp_path / 'w.h5', 'r+') as f:
        del f['d/d/bias:0']
        f['d/d'].create_dataset('bias:0', data=np.array([b'a', b'b', b'c']))
    with pytest.raises(KerasFileError, match=r"w.h5: weight 'd/bias:0' of layer 'd' is not an "
                                             r"array of numbers"):
        model.load_weights(tmp_path / 'w.h5')


def test_truncated_h5_names_the_file(tmp_path):
    model = dense_model()
    model.save(tmp_path / 'm.h5')
    data = (tmp_path / 'm.h5').read_bytes()
    (tmp_path / 'm.h5').write_bytes(data[:len(data) // 2])
    for load in (model.load_weights, load_model):
        with pytest.raises(KerasFileError, match=r'm.h5 is damaged or not in Keras\'s layout'):
            load(tmp_path / 'm.h5')


def test_h5_naming_a_layer_group_it_lacks(tmp_path):
    model = dense_model()
    model.save_weights(tmp_path / 'w.h5')
    with h5py.File(tmp_path / 'w.h5', 'r+') as f:
        del f['d']
    with pytest.raises(KerasFileError, match=r"w.h5 is damaged or not in Keras's layout"):
        model.load_weights(tmp_path / 'w.h5')


@pytest.mark.parametrize('config, message', [
    (b'{"class_name": "Sequential", ', r'm.h5: model_config is not JSON text'),
    (b'\xff\xfe', r'm.h5: model_config is not JSON text'),
    (json.dumps({'config': {}}).encode(), r"m.h5: its model_config .* \(KeyError: 'class_name'\)"),
    (json.dumps({'class_name': 'Sequential', 'config': {'layers': [
        {'class_name': 'Dense', 'config': {'name': 'd', 'units': -3}}]}}).encode(),
     r'm.h5: .*Dense: units must be a positive int, got -3'),
])
def test_h5_model_config_that_is_wrong(tmp_path, config, message):
    dense_model().save(tmp_path / 'm.h5')
    with h5py.File(tmp_path / 'm.h5', 'r+') as f:
        f.attrs['model_config'] = np.void(config) if config.startswith(b'\xff') else config
    with pytest.raises(KerasFileError, match=message):
        load_model(tmp_path / 'm.h5')


def test_h5_training_config_that_is_not_json(tmp_path):
    model = dense_model()
    model.compile('sgd', 'mse')
    model.save(tmp_path / 'm.h5')
    with h5py.File(tmp_path / 'm.h5', 'r+') as f:
        f.attrs['training_config'] = b'{"loss": '
    with pytest.raises(KerasFileError, match=r'm.h5: training_config is not JSON text'):
        load_model(tmp_path / 'm.h5')


# -- NumPy archives (.npz, .minicnn) ----------------------------------------------------------

def npy_header(shape, descr='<f4'):
    """The bytes of a .npy header announcing ``shape``."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {'descr': descr, 'fortran_order': False, 'shape': shape})
    return header.getvalue()


def crafted_npz(path, members):
    """A zip of .npy members, {name: bytes}, as a crafted archive would be."""
    with zipfile.ZipFile(path, 'w') as archive:
        for name, data in members.items():
            archive.writestr(f'{name}.npy', data)
    return path


def test_npz_round_trip_and_shape_check(tmp_path):
    arrays = {'a': np.arange(6.0).reshape(2, 3), 'b': np.zeros(3, np.uint8)}
    np.savez(tmp_path / 'ok.npz', **arrays)
    np.savez_compressed(tmp_path / 'small.npz', **arrays)
    for name in ('ok.npz', 'small.npz'):
        got = fileio.read_npz(tmp_path / name)
        assert got.keys() == arrays.keys()
        for key in arrays:
            np.testing.assert_array_equal(got[key], arrays[key])
    with pytest.raises(fileio.ArchiveError, match=r"ok.npz: array 'a' has shape \(2, 3\), "
                                                  r"expected \(3, 2\)"):
        fileio.read_npz(tmp_path / 'ok.npz', {'a': (3, 2)})
    np.savez(tmp_path / 'list.npz', *arrays.values())
    got = fileio.read_array_list(tmp_path / 'list.npz', [(2, 3), (3,)])
    np.testing.assert_array_equal(got[0], arrays['a'])


@pytest.mark.parametrize('members, message', [
    ({'arr_0': npy_header((10**6, 10**6)) + bytes(100)},
     r"member 'arr_0.npy' announces float32 values of shape \(1000000, 1000000\) "
     r"\(4000000000000 bytes\) in 100 bytes"),
    ({'arr_0': npy_header((4,)) + bytes(8)}, r'announces .* \(16 bytes\) in 8 bytes'),
    ({'arr_0': npy_header((1,), '|O') + bytes(8)},
     r"member 'arr_0.npy' holds Python objects, which minicnn never loads"),
    ({'arr_0': b'not an array at all'}, r'is truncated, corrupt or not a NumPy .npz archive'),
])
def test_crafted_npz_members_are_refused_from_their_headers(tmp_path, members, message):
    path = crafted_npz(tmp_path / 'w.npz', members)
    with bounded_memory(), pytest.raises(fileio.ArchiveError, match=message) as caught:
        fileio.read_npz(path)
    assert str(path) in str(caught.value) and 'allow_pickle' not in str(caught.value)


def test_npz_member_claiming_more_than_deflate_can_give(tmp_path):
    path = tmp_path / 'bomb.npz'
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as archive:
        archive.writestr('arr_0.npy', npy_header((4,)) + bytes(16))
    data = bytearray(path.read_bytes())
    # the uncompressed size, in the local header (offset 22) and the central directory (24)
    central = data.rindex(b'PK\x01\x02')
    for offset in (22, central + 24):
        data[offset:offset + 4] = struct.pack('<I', 2**31)
    path.write_bytes(bytes(data))
    with bounded_memory(), pytest.raises(fileio.ArchiveError, match=r'bomb.npz: member '
                                         r"'arr_0.npy' claims 2147483648 bytes from \d+ stored"):
        fileio.read_npz(path)


def test_not_an_npz_never_advises_pickle(tmp_path):
    (tmp_path / 'random.npz').write_bytes(np.random.default_rng(0).bytes(1000))
    with pytest.raises(fileio.ArchiveError, match=r'random.npz is not a NumPy .npz archive '
                                                  r'\(it has no zip directory'):
        fileio.read_npz(tmp_path / 'random.npz')
    np.save(tmp_path / 'w.npy', np.zeros(3))
    with pytest.raises(fileio.ArchiveError, match=r'w.npy is not a NumPy .npz archive but a '
                                                  r'single NumPy array \(.npy\)'):
        fileio.read_npz(tmp_path / 'w.npy')


def test_array_list_names_and_count(tmp_path):
    np.savez(tmp_path / 'named.npz', kernel=np.zeros((4, 3)), bias=np.zeros(3))
    with pytest.raises(fileio.ArchiveError, match=r"named.npz holds arrays named \['bias', "
                                                  r"'kernel'\], not the arr_0, arr_1"):
        fileio.read_array_list(tmp_path / 'named.npz', [(4, 3), (3,)])
    np.savez(tmp_path / 'one.npz', np.zeros(3))
    with pytest.raises(fileio.ArchiveError, match=r'one.npz holds 1 arrays, but 2 are expected'):
        fileio.read_array_list(tmp_path / 'one.npz', [(4, 3), (3,)])


# The public loaders of minicnn's own formats, through fileio's checked readers

def saved_model(tmp_path):
    model = dense_model()
    model.compile('adam', 'mse')
    model.save(tmp_path / 'm.minicnn')
    model.save_weights(tmp_path / 'w.npz')
    return model


def test_load_weights_of_a_crafted_npz_reads_headers_first(tmp_path):
    model = saved_model(tmp_path)
    path = crafted_npz(tmp_path / 'huge.npz', {'arr_0': npy_header((10**6, 10**6)) + bytes(100),
                                               'arr_1': npy_header((3,)) + bytes(12)})
    with bounded_memory(), pytest.raises(ValueError, match=re.escape(str(path))):
        model.load_weights(path)


@pytest.mark.parametrize('name, make, message', [
    ('r.npz', lambda p: p.write_bytes(bytes(range(256)) * 4), r'is not a NumPy .npz archive'),
    ('n.npz', lambda p: np.savez(p, kernel=np.zeros((4, 3)), bias=np.zeros(3)),
     r'holds arrays named'),
    ('w.npy', lambda p: np.save(p, np.zeros(3)), r'a single NumPy array \(.npy\)'),
])
def test_load_weights_of_a_file_that_is_not_weights(tmp_path, name, make, message):
    model = saved_model(tmp_path)
    path = tmp_path / name
    make(path)
    with pytest.raises(ValueError, match=message) as caught:
        model.load_weights(path)
    assert str(path) in str(caught.value) and 'allow_pickle' not in str(caught.value)


def test_load_model_of_a_random_file_never_advises_pickle(tmp_path):
    (tmp_path / 'r.minicnn').write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ValueError, match=r'r.minicnn is not') as caught:
        load_model(tmp_path / 'r.minicnn')
    assert 'pickle' not in str(caught.value)


def test_load_model_naming_an_unknown_optimizer(tmp_path):
    saved_model(tmp_path)
    with np.load(tmp_path / 'm.minicnn') as saved:
        arrays = {name: saved[name] for name in saved.files}
    meta = json.loads(arrays['meta'].tobytes())
    meta['optimizer']['class_name'] = 'Nadamax'
    arrays['meta'] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    with open(tmp_path / 'odd.minicnn', 'wb') as f:
        np.savez(f, **arrays)
    with pytest.raises(ValueError, match=r"odd.minicnn.*optimizer 'Nadamax'"):
        load_model(tmp_path / 'odd.minicnn')


# -- data sets: IDX files, CIFAR-10 archives and image folders --------------------------------

def gzip_of_zeros(path, header, size, chunk=2**20):
    """A gzip file: ``header`` then ``size`` zero bytes (compressing about 1000 to 1)."""
    with gzip.open(path, 'wb', compresslevel=1) as file:
        file.write(header)
        for start in range(0, size, chunk):
            file.write(bytes(min(chunk, size - start)))


def test_idx_header_beyond_the_data_set_is_refused_before_reading(tmp_path):
    folder = write_idx_folder(tmp_path / 'idx', mnist_arrays())
    images = folder / 'train-images-idx3-ubyte.gz'
    # a header announcing a million images, followed by 64 MiB of zeros (64 KiB compressed)
    gzip_of_zeros(images, struct.pack('>2xBB3I', 0x08, 3, 10**6, 28, 28), 64 * 2**20)
    with bounded_memory(16 * 2**20), pytest.raises(DatasetError, match=re.escape(
            f'{images}: expected 28x28 uint8 images (at most 60000), found uint8 array of '
            f'shape (1000000, 28, 28)')):
        mnist.load_data(folder)


def test_idx_values_beyond_the_header_are_not_decompressed(tmp_path):
    folder = write_idx_folder(tmp_path / 'idx', mnist_arrays())
    labels = folder / 't10k-labels-idx1-ubyte.gz'
    gzip_of_zeros(labels, struct.pack('>2xBBI', 0x08, 1, 4), 64 * 2**20)  # 4 labels announced
    with bounded_memory(16 * 2**20), pytest.raises(DatasetError, match=re.escape(
            f'{labels}: 5 bytes of values where the header announces 4')):
        mnist.load_data(folder)


def test_idx_header_announcing_more_than_the_file_can_hold(tmp_path):
    folder = write_idx_folder(tmp_path / 'idx', mnist_arrays())
    images = folder / 'train-images-idx3-ubyte.gz'
    gzip_of_zeros(images, struct.pack('>2xBB3I', 0x08, 3, 60000, 28, 28), 100)
    with pytest.raises(DatasetError, match=re.escape(
            f'{images}: the header announces 47040000 bytes of values (shape (60000, 28, 28)), '
            f'more than the file could hold')):
        mnist.load_data(folder)


@pytest.mark.parametrize('pack', ['tar.gz', 'zip', 'folder'])
def test_cifar10_member_beyond_the_data_sets_sizes(tmp_path, monkeypatch, pack):
    monkeypatch.setattr(cifar10, 'LIMITS', Limits(file=2**20, total=4 * 2**20))
    folder = write_batches(tmp_path / 'cifar-10-batches-py', cifar10_arrays())
    (folder / 'data_batch_3').write_bytes(bytes(2**20 + 1))
    source = {'tar.gz': lambda: tar_gz(folder, tmp_path / 'c.tar.gz'),
              'zip': lambda: zip_folder(folder, tmp_path / 'c.zip'), 'folder': lambda: folder}[pack]()
    with pytest.raises(DatasetError, match=r'data_batch_3 announces 1048577 bytes, more than a '
                                           r'file of this data set holds \(1048576\)'):
        cifar10.load_data(source)
    monkeypatch.setattr(cifar10, 'LIMITS', Limits(file=2**21, total=2**20))
    with pytest.raises(DatasetError, match=r'its files hold more than the 1048576 bytes'):
        cifar10.load_data(source)


def png_bytes(width, height, extra_chunks=b'', pixels=None):
    """A PNG file made by hand, so that it may announce what it does not hold."""
    rows = pixels if pixels is not None else b''.join(b'\0' + bytes(3 * width) for _ in range(height))
    header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b'\x89PNG\r\n\x1a\n' + _chunk(b'IHDR', header) + extra_chunks
            + _chunk(b'IDAT', zlib.compress(rows)) + _chunk(b'IEND', b''))


def _chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))


HOSTILE_IMAGES = {
    # announces 30000 x 30000 pixels (2.7 GB decoded) in a few hundred bytes
    'bomb': (lambda: png_bytes(30000, 30000, pixels=bytes(1000)),
             r'the image announces more pixels than Pillow decodes safely'),
    # 10000 x 10000: over Pillow's warning limit, under its error limit
    'large': (lambda: png_bytes(10000, 10000, pixels=bytes(1000)),
              r'the image announces more pixels than Pillow decodes safely'),
    'text chunk': (lambda: png_bytes(32, 32, _chunk(
        b'zTXt', b'comment\0\0' + zlib.compress(bytes(8 * 2**20)))),
        r'the image holds a text \(metadata\) chunk larger than'),
}


@pytest.mark.parametrize('kind', HOSTILE_IMAGES)
def test_hostile_image_in_cifar10_image_folders(tmp_path, kind):
    make, message = HOSTILE_IMAGES[kind]
    folder = write_image_folders(tmp_path / 'images', cifar10_arrays())
    (folder / 'train' / 'cat' / '0001.png').write_bytes(make())
    with bounded_memory(), pytest.raises(DatasetError, match='train/cat/0001.png: ' + message):
        cifar10.load_data(folder)


@pytest.mark.parametrize('kind', HOSTILE_IMAGES)
def test_hostile_image_in_flow_from_directory(tmp_path, kind):
    make, message = HOSTILE_IMAGES[kind]
    for name in ('a', 'b'):
        (tmp_path / name).mkdir()
        Image.new('RGB', (8, 8)).save(tmp_path / name / 'ok.png')
    (tmp_path / 'b' / 'hostile.png').write_bytes(make())
    flow = ImageDataGenerator().flow_from_directory(tmp_path, target_size=(8, 8), batch_size=3,
                                                    shuffle=False)
    path = re.escape(str(tmp_path / 'b' / 'hostile.png'))
    with bounded_memory(), pytest.raises(OSError, match=f'flow_from_directory: {path}: {message}'):
        flow[0]
