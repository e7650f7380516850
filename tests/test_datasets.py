"""Tests for minicnn.datasets on small data sets written by the tests themselves.

Every layout the loaders read is generated here: CIFAR-10 as pickled batches
(archive and folder) and as PNG image folders (folder, .tar.gz, .zip), so that
pixel values come back exactly; MNIST and Fashion-MNIST as gzip'd IDX files.
Downloads go to a file:// URL or to an HTTP server on the loopback interface.
"""
import contextlib
import functools
import gzip
import hashlib
import http.server
import os
import pickle
import re
import struct
import tarfile
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from minicnn.datasets import DatasetError, cifar10, fashion_mnist, image_folder, mnist

# the project's shared data sits beside the checkout
REAL_CIFAR10 = Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'cifar10-jpg.tar.gz'
REAL_FASHION_MNIST = Path('/usr/share/datasets/fashion-mnist')  # Debian's dataset-fashion-mnist
BATCH_NAMES = [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']


@pytest.fixture(autouse=True)
def cache_folder(tmp_path, monkeypatch):
    """An empty cache folder, no MINICNN_DATA, and download addresses that lead nowhere."""
    monkeypatch.setenv('MINICNN_HOME', str(tmp_path / 'cache'))
    monkeypatch.delenv('MINICNN_DATA', raising=False)
    nowhere = (tmp_path / 'nowhere').as_uri()
    monkeypatch.setattr(cifar10, 'URL', f'{nowhere}/cifar-10-python.tar.gz')
    monkeypatch.setattr(mnist, 'BASE_URL', f'{nowhere}/')
    monkeypatch.setattr(fashion_mnist, 'BASE_URL', f'{nowhere}/')
    monkeypatch.setattr(fashion_mnist, 'SYSTEM_PLACES', ())  # the real files may be installed
    return tmp_path / 'cache'


def files_in(folder):
    """Every file under ``folder`` (none if it does not exist), as relative names."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob('*') if p.is_file())


def md5_of(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def md5s_in(folder):
    """The checksum of every file in ``folder``, by name: a loader's MD5 table."""
    return {name: md5_of(folder / name) for name in files_in(folder)}


def assert_same(got, want):
    """Equal nested tuples of arrays: the same values, shapes and dtypes."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for got_item, want_item in zip(got, want):
            assert_same(got_item, want_item)
    else:
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


# ---- writing small data sets ---------------------------------------------------------------

def cifar10_arrays(seed=0):
    """A tiny CIFAR-10 in the loaders' order: two training and one test image per class."""
    rng = np.random.default_rng(seed)
    y_train = np.repeat(np.arange(10, dtype=np.uint8), 2)[:, None]
    y_test = np.arange(10, dtype=np.uint8)[:, None]
    x_train = rng.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8)
    x_test = rng.integers(0, 256, (10, 32, 32, 3), dtype=np.uint8)
    return (x_train, y_train), (x_test, y_test)


def write_batches(folder, data, protocol=pickle.DEFAULT_PROTOCOL):
    """The official python-pickle layout: five training batches and a test batch."""
    (x_train, y_train), (x_test, y_test) = data
    folder.mkdir(parents=True)
    images = np.split(x_train, 5) + [x_test]
    labels = np.split(y_train, 5) + [y_test]
    for name, x, y in zip(BATCH_NAMES, images, labels):
        rows = x.transpose(0, 3, 1, 2).reshape(len(x), 3072)  # red plane, green, blue
        batch = {b'batch_label': name.encode(), b'data': rows, b'labels': y.ravel().tolist()}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=protocol))
    return folder


def write_image_folders(folder, data):
    """The image-folder layout, train/<class>/NNNN.png and test/<class>/NNNN.png."""
    for split, (x, y) in zip(('train', 'test'), data):
        for label, name in enumerate(cifar10.CLASSES):
            (folder / split / name).mkdir(parents=True)
            for i, image in enumerate(x[y.ravel() == label]):
                Image.fromarray(image).save(folder / split / name / f'{i:04d}.png')
    return folder


def tar_gz(folder, archive):
    """``folder`` as a .tar.gz under its own name, files stored in reverse order.

    The reverse order checks that the loaders sort what they read.
    """
    with tarfile.open(archive, 'w:gz') as tar:
        for path in sorted(folder.rglob('*'), reverse=True):
            if path.is_file():
                tar.add(path, arcname=path.relative_to(folder.parent).as_posix())
    return archive


def zip_folder(folder, archive):
    """The files of ``folder`` as a .zip, at its top level, in reverse order too."""
    with zipfile.ZipFile(archive, 'w') as zipped:
        for path in sorted(folder.rglob('*'), reverse=True):
            if path.is_file():
                zipped.write(path, path.relative_to(folder).as_posix())
    return archive


def mnist_arrays(seed=0):
    """A tiny MNIST: six training and four test images."""
    rng = np.random.default_rng(seed)
    return tuple((rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
                  rng.integers(0, 10, n, dtype=np.uint8)) for n in (6, 4))


def write_idx(path, array, type_code=0x08):
    """``array`` as a gzip'd IDX file; ``type_code`` is the header's value type."""
    header = struct.pack(f'>2xBB{array.ndim}I', type_code, array.ndim, *array.shape)
    with gzip.open(path, 'wb') as file:
        file.write(header + array.tobytes())


def write_idx_folder(folder, data):
    """The four gzip'd IDX files of MNIST and Fashion-MNIST."""
    folder.mkdir(parents=True)
    for split, arrays in zip(('train', 'test'), data):
        for file, array in zip(mnist.FILES[split], arrays):
            write_idx(folder / file, array)
    return folder


@contextlib.contextmanager
def http_server(folder, handler=http.server.SimpleHTTPRequestHandler):
    """Serve ``folder`` on a free port of 127.0.0.1; yield the base URL."""
    class Quiet(handler):
        def log_message(self, *args):
            pass

    quiet_in_folder = functools.partial(Quiet, directory=folder)
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), quiet_in_folder)
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05})
    thread.start()
    try:
        yield f'http://127.0.0.1:{server.server_port}/'
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class TruncatingHandler(http.server.SimpleHTTPRequestHandler):
    """Announces a file's full length but sends only half of it, like a dropped connection."""

    def copyfile(self, source, outputfile):
        data = source.read()
        outputfile.write(data[:len(data) // 2])


# ---- CIFAR-10 layouts ------------------------------------------------------------------------

def test_cifar10_classes_in_label_order():
    assert cifar10.CLASSES == ('airplane', 'automobile', 'bird', 'cat', 'deer',
                               'dog', 'frog', 'horse', 'ship', 'truck')


def test_cifar10_official_archive(tmp_path):
    data = cifar10_arrays()
    archive = tar_gz(write_batches(tmp_path / 'cifar-10-batches-py', data), tmp_path / 'c.tar.gz')
    loaded = cifar10.load_data(archive)
    assert_same(loaded, data)
    (x_train, y_train), (x_test, y_test) = loaded
    assert x_train.flags.c_contiguous and x_train.shape == (20, 32, 32, 3)
    assert y_train.shape == (20, 1) and x_test.shape == (10, 32, 32, 3) and y_test.shape == (10, 1)


@pytest.mark.parametrize('protocol', [2, 4, 5])
def test_cifar10_extracted_batches(tmp_path, protocol):
    data = cifar10_arrays()
    assert_same(cifar10.load_data(write_batches(tmp_path / 'b', data, protocol)), data)


def test_cifar10_batches_pickled_by_numpy_1(tmp_path):
    """The official files name NumPy 1's module numpy.core, which NumPy 2 calls numpy._core."""
    data = cifar10_arrays()
    folder = write_batches(tmp_path / 'b', data, protocol=2)  # names in text, as Python 2 wrote
    for path in folder.iterdir():
        path.write_bytes(path.read_bytes().replace(b'numpy._core', b'numpy.core'))
    assert_same(cifar10.load_data(folder), data)


def in_image_folder_order(data):
    """The arrays in the loader's fixed mixed order (by class and name, then shuffled)."""
    def shuffled(x, y):
        order = np.random.default_rng(image_folder.SHUFFLE_SEED).permutation(len(x))
        return x[order], y[order]
    return tuple(shuffled(*split) for split in data)


@pytest.mark.parametrize('pack', [lambda folder: folder,
                                  lambda folder: tar_gz(folder, folder.parent / 'images.tar.gz'),
                                  lambda folder: zip_folder(folder, folder.parent / 'images.zip')],
                         ids=['folder', 'tar.gz', 'zip'])
def test_cifar10_image_folders(tmp_path, pack):
    data = cifar10_arrays()
    loaded = cifar10.load_data(pack(write_image_folders(tmp_path / 'images', data)))
    assert_same(loaded, in_image_folder_order(data))
    (_, y_train), _ = loaded
    assert len(set(y_train[:10, 0])) > 3  # classes are mixed, not one after another


def test_cifar10_found_inside_a_folder_by_name(tmp_path):
    data = cifar10_arrays()
    write_batches(tmp_path / 'data' / 'cifar-10-batches-py', data)
    (tmp_path / 'data' / 'other.tar.gz').write_bytes(b'not CIFAR-10')
    assert_same(cifar10.load_data(tmp_path / 'data'), data)


class Trojan:
    """Pickles as a call: unpickling it would run os.mkdir(path)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.mkdir, (str(self.path),)


def test_cifar10_refuses_pickles_that_call_functions(tmp_path):
    folder = write_batches(tmp_path / 'b', cifar10_arrays())
    (folder / 'test_batch').write_bytes(pickle.dumps({b'data': Trojan(tmp_path / 'hacked')}))
    with pytest.raises(DatasetError, match='test_batch: not a CIFAR-10 batch .*refusing to load'):
        cifar10.load_data(folder)
    assert not (tmp_path / 'hacked').exists()


@pytest.mark.parametrize('damage, message', [
    (lambda folder: (folder / 'train' / 'cat' / '0001.png').write_bytes(b'garbage'),
     r'train/cat/0001.png: cannot decode image'),
    (lambda folder: Image.new('RGB', (8, 8)).save(folder / 'test' / 'dog' / '0000.png'),
     r'test/dog/0000.png: image is \(8, 8, 3\), expected \(32, 32, 3\)'),
    (lambda folder: (folder / 'train' / 'truck').rename(folder / 'train' / 'lorry'),
     r'class folders in train/ are .*lorry'),
], ids=['corrupt image', 'wrong size', 'wrong class'])
def test_cifar10_bad_image_folders(tmp_path, cache_folder, damage, message):
    folder = write_image_folders(tmp_path / 'images', cifar10_arrays())
    damage(folder)
    with pytest.raises(DatasetError, match=message):
        cifar10.load_data(folder)
    assert files_in(cache_folder) == []


def truncate(data):
    return data[:-2000]


def flip_a_bit(data):
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1:]


@pytest.mark.parametrize('damage', [truncate, flip_a_bit])
@pytest.mark.parametrize('make', [
    lambda tmp: tar_gz(write_batches(tmp / 'b', cifar10_arrays()), tmp / 'c.tar.gz'),
    lambda tmp: zip_folder(write_image_folders(tmp / 'i', cifar10_arrays()), tmp / 'c.zip'),
], ids=['batches.tar.gz', 'images.zip'])
def test_damaged_archive_raises_and_caches_nothing(tmp_path, cache_folder, make, damage):
    archive = make(tmp_path)
    archive.write_bytes(damage(archive.read_bytes()))
    with pytest.raises(DatasetError, match=re.escape(f'{archive}: corrupt or truncated archive')):
        cifar10.load_data(archive)
    assert files_in(cache_folder) == []


def test_archive_without_cifar10_files(tmp_path):
    (tmp_path / 'x').mkdir()
    (tmp_path / 'x' / 'readme.txt').write_text('hello')
    with pytest.raises(DatasetError, match='no CIFAR-10 files'):
        cifar10.load_data(zip_folder(tmp_path / 'x', tmp_path / 'x.zip'))


# ---- the decoded-array cache -----------------------------------------------------------------

def test_second_load_reads_the_npz_cache_not_the_source(tmp_path, cache_folder, monkeypatch):
    data = cifar10_arrays()
    archive = tar_gz(write_image_folders(tmp_path / 'images', data), tmp_path / 'images.tar.gz')
    cifar10.load_data(archive)
    [npz] = files_in(cache_folder)
    assert npz.startswith('decoded/cifar10-') and npz.endswith('.npz')

    def must_not_decode(source):
        raise AssertionError('decoded again')

    monkeypatch.setattr(cifar10, '_decode', must_not_decode)
    assert_same(cifar10.load_data(archive), in_image_folder_order(data))


def test_changed_source_is_decoded_again(tmp_path, cache_folder):
    folder = write_batches(tmp_path / 'b', cifar10_arrays(seed=1))
    cifar10.load_data(folder)
    other = cifar10_arrays(seed=2)
    for name in BATCH_NAMES:
        (folder / name).unlink()
    folder.rmdir()
    write_batches(folder, other)
    assert_same(cifar10.load_data(folder), other)
    assert len(files_in(cache_folder / 'decoded')) == 2


# ---- MNIST and Fashion-MNIST -----------------------------------------------------------------

@pytest.mark.parametrize('module', [mnist, fashion_mnist])
def test_idx_data_sets(tmp_path, module):
    data = mnist_arrays()
    loaded = module.load_data(write_idx_folder(tmp_path / 'idx', data))
    assert_same(loaded, data)
    assert loaded[0][0].flags.writeable


def test_fashion_mnist_looks_where_debian_installs_it(tmp_path, monkeypatch):
    data = mnist_arrays()
    monkeypatch.setattr(fashion_mnist, 'SYSTEM_PLACES', (write_idx_folder(tmp_path / 'usr', data),))
    assert_same(fashion_mnist.load_data(), data)


@pytest.mark.parametrize('damage, message', [
    (lambda path: path.write_bytes(path.read_bytes()[:-10]), 'not a readable gzip file'),
    (lambda path: path.write_bytes(b'plain bytes'), 'not a readable gzip file'),
    (lambda path: write_idx(path, np.zeros(6, np.uint8), type_code=0x07), 'not an IDX file'),
    (lambda path: write_idx(path, np.zeros((6, 28, 27), np.uint8)), 'expected 28x28 uint8 images'),
    (lambda path: write_idx(path, np.zeros((6, 28, 28), np.int32), type_code=0x0C),
     'expected 28x28 uint8 images'),
], ids=['truncated gzip', 'not gzip', 'bad magic', 'wrong size', 'wrong type'])
def test_bad_idx_files(tmp_path, damage, message):
    folder = write_idx_folder(tmp_path / 'idx', mnist_arrays())
    damage(folder / 'train-images-idx3-ubyte.gz')
    with pytest.raises(DatasetError, match=f'train-images-idx3-ubyte.gz: {message}'):
        mnist.load_data(folder)


def test_idx_values_must_match_header(tmp_path):
    folder = write_idx_folder(tmp_path / 'idx', mnist_arrays())
    with gzip.open(folder / 't10k-labels-idx1-ubyte.gz', 'wb') as file:
        file.write(struct.pack('>2xBBI', 0x08, 1, 4) + bytes(3))  # announces four labels, has three
    with pytest.raises(DatasetError, match='t10k-labels-idx1-ubyte.gz: 3 bytes of values'):
        mnist.load_data(folder)


def test_labels_must_match_images(tmp_path):
    folder = write_idx_folder(tmp_path / 'idx', mnist_arrays())
    write_idx(folder / 'train-labels-idx1-ubyte.gz', np.zeros(5, np.uint8))
    with pytest.raises(DatasetError, match='expected 6 uint8 labels'):
        mnist.load_data(folder)


# ---- lookup order ----------------------------------------------------------------------------

def test_lookup_order(tmp_path, cache_folder, monkeypatch):
    """path, then $MINICNN_DATA, then the cache, then a download."""
    sets = {place: mnist_arrays(seed) for seed, place in enumerate(['path', 'env', 'cache', 'web'])}
    write_idx_folder(tmp_path / 'given' / 'mnist', sets['path'])
    write_idx_folder(tmp_path / 'shared' / 'MNIST-original', sets['env'])
    write_idx_folder(cache_folder / 'mnist', sets['cache'])
    web = write_idx_folder(tmp_path / 'web', sets['web'])
    monkeypatch.setattr(mnist, 'BASE_URL', web.as_uri() + '/')
    monkeypatch.setattr(mnist, 'MD5', md5s_in(web))
    monkeypatch.setenv('MINICNN_DATA', str(tmp_path / 'shared'))

    assert_same(mnist.load_data(tmp_path / 'given'), sets['path'])
    assert_same(mnist.load_data(), sets['env'])
    (tmp_path / 'other').mkdir()
    monkeypatch.setenv('MINICNN_DATA', str(tmp_path / 'other'))  # no MNIST there: on to the cache
    assert_same(mnist.load_data(), sets['cache'])
    for file in mnist.FILES['test']:  # an incomplete cache: the missing files are downloaded
        (cache_folder / 'mnist' / file).unlink()
    train, test = mnist.load_data()
    assert_same(train, sets['cache'][0])
    assert_same(test, sets['web'][1])


def test_data_folder_with_an_archive_like_the_shared_one(tmp_path, monkeypatch):
    data = cifar10_arrays()
    images = write_image_folders(tmp_path / 'build' / 'images', data)
    tar_gz(images, tmp_path / 'cifar10-jpg.tar.gz')
    monkeypatch.setenv('MINICNN_DATA', str(tmp_path))
    assert_same(cifar10.load_data(), in_image_folder_order(data))


def test_a_given_path_without_the_data_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match='no cifar-10 data set there'):
        cifar10.load_data(tmp_path)


# ---- downloads -------------------------------------------------------------------------------

def official_archive(folder, data):
    """A stand-in for cifar-10-python.tar.gz in ``folder``, and its MD5."""
    batches = write_batches(folder / 'cifar-10-batches-py', data)
    archive = tar_gz(batches, folder / 'cifar-10-python.tar.gz')
    return archive, md5_of(archive)


def test_cifar10_download_over_http(tmp_path, cache_folder, monkeypatch):
    data = cifar10_arrays()
    archive, md5 = official_archive(tmp_path / 'site', data)
    monkeypatch.setattr(cifar10, 'MD5', md5)
    with http_server(archive.parent) as url:
        monkeypatch.setattr(cifar10, 'URL', url + archive.name)
        assert_same(cifar10.load_data(), data)
    assert md5_of(cache_folder / 'cifar-10-python.tar.gz') == md5
    assert_same(cifar10.load_data(), data)  # now from the cache, with the server gone


def test_fashion_mnist_download_from_file_url(tmp_path, cache_folder, monkeypatch):
    data = mnist_arrays()
    site = write_idx_folder(tmp_path / 'site', data)
    monkeypatch.setattr(fashion_mnist, 'BASE_URL', site.as_uri() + '/')
    monkeypatch.setattr(fashion_mnist, 'MD5', md5s_in(site))
    assert_same(fashion_mnist.load_data(), data)
    assert files_in(cache_folder) == [f'fashion-mnist/{file}' for file in files_in(site)]


def test_download_with_wrong_checksum_keeps_nothing(tmp_path, cache_folder, monkeypatch):
    archive, _ = official_archive(tmp_path / 'site', cifar10_arrays())
    monkeypatch.setattr(cifar10, 'URL', archive.as_uri())
    message = re.escape(archive.as_uri()) + ': MD5 checksum .* does not match'
    with pytest.raises(DatasetError, match=message):
        cifar10.load_data()
    assert files_in(cache_folder) == []


def test_truncated_download_keeps_nothing(tmp_path, cache_folder, monkeypatch):
    archive, md5 = official_archive(tmp_path / 'site', cifar10_arrays())
    monkeypatch.setattr(cifar10, 'MD5', md5)
    with http_server(archive.parent, TruncatingHandler) as url:
        monkeypatch.setattr(cifar10, 'URL', url + archive.name)
        with pytest.raises(DatasetError, match='download truncated, got'):
            cifar10.load_data()
    assert files_in(cache_folder) == []


def test_failed_download_names_the_url(cache_folder):
    with pytest.raises(DatasetError, match=re.escape(f'could not download {cifar10.URL}')):
        cifar10.load_data()
    assert files_in(cache_folder) == []


# ---- the real data -----------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(not REAL_CIFAR10.exists(), reason=f'{REAL_CIFAR10} is not here')
def test_real_cifar10(request):
    if 'slow' not in request.config.option.markexpr:
        pytest.skip('decodes 60,000 JPEG files: run with -m slow')
    start = time.perf_counter()
    (x_train, y_train), (x_test, y_test) = cifar10.load_data(REAL_CIFAR10.parent)
    first = time.perf_counter() - start
    start = time.perf_counter()
    cached = cifar10.load_data(REAL_CIFAR10.parent)
    second = time.perf_counter() - start
    print(f'first load {first:.1f} s, cached load {second:.2f} s')
    assert x_train.shape == (50000, 32, 32, 3) and x_test.shape == (10000, 32, 32, 3)
    assert y_train.shape == (50000, 1) and y_test.shape == (10000, 1)
    assert x_train.dtype == y_train.dtype == x_test.dtype == y_test.dtype == np.uint8
    assert np.bincount(y_train.ravel()).tolist() == [5000] * 10
    assert np.bincount(y_test.ravel()).tolist() == [1000] * 10
    assert_same(cached, ((x_train, y_train), (x_test, y_test)))
    assert second < first


@pytest.mark.skipif(not REAL_FASHION_MNIST.exists(), reason=f'{REAL_FASHION_MNIST} is not here')
def test_real_fashion_mnist():
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(REAL_FASHION_MNIST)
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert x_train.dtype == y_train.dtype == x_test.dtype == y_test.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
