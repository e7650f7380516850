"""MNIST: 70,000 handwritten digits as 28x28 grey images (LeCun, Cortes and Burges).

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    # x: (60000, 28, 28) and (10000, 28, 28) uint8; y: (60000,) and (10000,) uint8

These are the shapes and types of ``keras.datasets.mnist.load_data``.

The data set is the four gzip-compressed IDX files named in FILES (see
``idx``). They are looked for as described in ``lookup`` (``path``, then
``$MINICNN_DATA``, then the cache): a folder holding all four, or a folder
holding such a folder under a name starting with 'mnist'. Otherwise the
missing ones are downloaded from ``BASE_URL`` into ``<cache>/mnist/``, each
checked against ``MD5``.

The published checksums cover the downloads. Files found locally are checked
by structure instead (IDX header, sizes, 28x28 bytes, one label per image),
since a repackaged copy may be compressed differently but hold the same data.
Reading is fast enough (under a second) not to need the .npz cache.

Fashion-MNIST shares the format and layout, so it uses ``load_idx_dataset``.
"""
import numpy as np

from minicnn.datasets.cache import cache_dir
from minicnn.datasets.download import download
from minicnn.datasets.errors import DatasetError
from minicnn.datasets.idx import read_idx
from minicnn.datasets.lookup import locate

BASE_URL = 'https://storage.googleapis.com/cvdf-datasets/mnist/'
MD5 = {'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
       'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
       't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
       't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c'}
FILES = {'train': ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'),
         'test': ('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz')}
ALL_FILES = FILES['train'] + FILES['test']
IMAGE_SHAPE = (28, 28)
MAX_SAMPLES = 60000  # in the larger split, of MNIST and of Fashion-MNIST
# bytes of the largest file, Fashion-MNIST's training images (26 MB as published), with a margin
MAX_DOWNLOAD = 32 * 2**20


def load_data(path=None):
    """``(x_train, y_train), (x_test, y_test)`` of MNIST, found or downloaded."""
    return load_idx_dataset(path, 'mnist', BASE_URL, MD5)


def load_idx_dataset(path, name, base_url, md5, extra_places=()):
    """The two splits of an MNIST-like data set called ``name``.

    ``base_url`` and ``md5`` (checksum by file name) are where and what to
    download; ``extra_places`` are searched after the cache.
    """
    folder = locate(path, _holds_idx_files, name, extra_places)
    if folder is None:
        folder = cache_dir() / name
        for file in ALL_FILES:
            if not (folder / file).is_file():  # earlier downloads are complete and checked
                download(base_url + file, folder / file, md5[file], MAX_DOWNLOAD)
    return tuple(_read_split(folder, *FILES[split]) for split in ('train', 'test'))


def _holds_idx_files(path):
    return all((path / file).is_file() for file in ALL_FILES)


def _read_split(folder, images_file, labels_file):
    """Images ``(N, 28, 28)`` and labels ``(N,)``, both uint8, checked to match.

    Each file's header is checked before its values are read, so that a
    damaged or crafted header cannot make the loader allocate more than the
    data set's known size.
    """
    images = read_idx(folder / images_file, _check_images)
    labels = read_idx(folder / labels_file,
                      lambda path, shape, dtype: _check_labels(path, shape, dtype, len(images)))
    return images, labels


def _check_images(path, shape, dtype):
    if dtype != np.uint8 or shape[1:] != IMAGE_SHAPE or len(shape) != 3 or \
            shape[0] > MAX_SAMPLES:
        raise DatasetError(f'{path}: expected 28x28 uint8 images (at most {MAX_SAMPLES}), '
                           f'found {dtype} array of shape {shape}')


def _check_labels(path, shape, dtype, count):
    if dtype != np.uint8 or shape != (count,):
        raise DatasetError(f'{path}: expected {count} uint8 labels, '
                           f'found {dtype} array of shape {shape}')
