"""CIFAR-10: 60,000 colour images of 32x32 pixels in ten classes (Krizhevsky, 2009).

    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    # x: (50000, 32, 32, 3) and (10000, 32, 32, 3) uint8, channels last
    # y: (50000, 1) and (10000, 1) uint8, indices into CLASSES

These are the shapes and types of ``keras.datasets.cifar10.load_data``.

Two layouts are read, each as a folder, a .tar.gz or a .zip:

* the official "python version": pickled batches ``data_batch_1`` to
  ``data_batch_5`` and ``test_batch`` (as in ``cifar-10-python.tar.gz`` or
  its extracted ``cifar-10-batches-py/``). Each is a dict whose ``b'data'``
  holds one image per row, 3072 bytes: the red plane, then green, then blue;
* image folders ``train/<class>/*.jpg|png`` and ``test/<class>/...`` (see
  ``image_folder``), such as the JPEG re-encoding ``cifar10-jpg.tar.gz``.

The data set is looked for as described in ``lookup`` (``path``, then
``$MINICNN_DATA``, then the cache), and otherwise downloaded from ``URL`` into
the cache and checked against ``MD5``. Assign both module attributes to use a
mirror (the tests point them at files of their own). The decoded arrays are
cached as an .npz file (see ``cache.cached_decode``), so only the first load
of a source is slow.
"""
import io
import pickle

import numpy as np

from minicnn.datasets import image_folder
from minicnn.datasets.archive import Limits, is_archive, iter_files
from minicnn.datasets.cache import cache_dir, cached_decode
from minicnn.datasets.download import download
from minicnn.datasets.errors import DatasetError
from minicnn.datasets.lookup import locate

URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz'
MD5 = 'c58f30108f718f92721af3b95e74349a'
MAX_DOWNLOAD = 200 * 2**20  # bytes; the published archive is 163 MB
FILENAME = 'cifar-10-python.tar.gz'  # the name a download gets in the cache

CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer',
           'dog', 'frog', 'horse', 'ship', 'truck')
BATCHES = {'train': tuple(f'data_batch_{i}' for i in range(1, 6)), 'test': ('test_batch',)}
SHAPE = (32, 32, 3)
# A pickled batch of 10,000 images is 31 MB; the whole data set, as batches or as
# 60,000 image files, under 200 MB. With a margin, the most that is ever read:
LIMITS = Limits(file=40 * 2**20, total=400 * 2**20)


def load_data(path=None):
    """``(x_train, y_train), (x_test, y_test)`` of CIFAR-10, found or downloaded.

    ``path`` may name a folder or archive in either layout, or a folder
    containing one under a name starting with 'cifar10' or 'cifar-10'.
    """
    source = locate(path, _holds_cifar10, 'cifar-10')
    if source is None:
        source = download(URL, cache_dir() / FILENAME, MD5, MAX_DOWNLOAD)
    arrays = cached_decode(source, 'cifar10', _decode)
    return (arrays['x_train'], arrays['y_train']), (arrays['x_test'], arrays['y_test'])


def _holds_cifar10(path):
    """Whether ``path`` looks like CIFAR-10 in one of the layouts (archives are read later)."""
    if path.is_dir():
        return ((path / 'test_batch').is_file()
                or all((path / split).is_dir() for split in ('train', 'test')))
    return is_archive(path)


def _decode(source):
    """The four arrays, by name, from a folder or archive in either layout."""
    files = dict(iter_files(source, _is_cifar10_file, LIMITS))
    batches = {_basename(name): data for name, data in files.items() if _is_batch(name)}
    if batches:
        train = _from_batches(batches, BATCHES['train'], source)
        test = _from_batches(batches, BATCHES['test'], source)
    elif files:
        train = image_folder.read_split(files, 'train', CLASSES, SHAPE, source)
        test = image_folder.read_split(files, 'test', CLASSES, SHAPE, source)
    else:
        raise DatasetError(f'{source}: no CIFAR-10 files (neither data_batch_1..5 and '
                           f'test_batch, nor train/<class>/ and test/<class>/ image folders)')
    (x_train, y_train), (x_test, y_test) = train, test
    # Keras gives labels as a column, (N, 1)
    return {'x_train': x_train, 'y_train': y_train.reshape(-1, 1),
            'x_test': x_test, 'y_test': y_test.reshape(-1, 1)}


def _basename(name):
    return name.rsplit('/', 1)[-1]


def _is_batch(name):
    return _basename(name) in BATCHES['train'] + BATCHES['test']


def _is_cifar10_file(name):
    return _is_batch(name) or image_folder.is_image_file(name)


def _from_batches(batches, names, source):
    """Images ``(N, 32, 32, 3)`` and labels ``(N,)`` of the pickled batches ``names``.

    ``batches`` maps the batch files found, by name, to their bytes.
    """
    missing = [name for name in names if name not in batches]
    if missing:
        raise DatasetError(f'{source}: batches {missing} are missing')
    images, labels = zip(*(_unpickle_batch(batches[name], f'{source}: {name}') for name in names))
    return np.concatenate(images), np.concatenate(labels)


def _unpickle_batch(data, where):
    """Images and labels of one pickled batch; ``where`` names it in error messages."""
    try:
        batch = _BatchUnpickler(io.BytesIO(data), encoding='bytes').load()
        rows, labels = batch[b'data'], np.array(batch[b'labels'], dtype=np.uint8)
    except Exception as err:  # a damaged pickle can fail in almost any way
        raise DatasetError(f'{where}: not a CIFAR-10 batch ({err!r})') from err
    if not (isinstance(rows, np.ndarray) and rows.dtype == np.uint8 and rows.ndim == 2
            and rows.shape[1] == 3072 and labels.shape == rows.shape[:1]):
        raise DatasetError(f'{where}: expected N rows of 3072 bytes and N labels')
    # each row is three 32x32 planes (CHW); Keras wants channels last (HWC)
    images = rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


class _BatchUnpickler(pickle.Unpickler):
    """An unpickler that builds NumPy arrays and nothing else.

    Unpickling may call any function a file names, so a doctored batch could
    run arbitrary code. A batch needs only these; anything else is refused.
    """
    ALLOWED = {
        'numpy.ndarray', 'numpy.dtype',
        'numpy.core.multiarray._reconstruct',  # arrays, NumPy 1 (the official files)
        'numpy._core.multiarray._reconstruct',  # arrays, NumPy 2
        'numpy.core.numeric._frombuffer',  # arrays at pickle protocol 5, NumPy 1
        'numpy._core.numeric._frombuffer',  # arrays at pickle protocol 5, NumPy 2
        '_codecs.encode',  # bytes pickled by Python 3 at protocol 2
    }

    def find_class(self, module, name):
        if f'{module}.{name}' not in self.ALLOWED:
            raise pickle.UnpicklingError(f'refusing to load {module}.{name}')
        return super().find_class(module, name)
