"""Ready-made data sets, loaded as Keras loads them.

    from minicnn.datasets import cifar10, mnist, fashion_mnist
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()

Each ``load_data(path=None)`` returns NumPy arrays of the same shapes and
types as its ``keras.datasets`` namesake. A data set is looked for in order:

1. ``path``, when given: the data set itself or a folder containing it;
2. the folder named by the environment variable ``MINICNN_DATA``;
3. the cache, ``~/.cache/minicnn`` or the folder named by ``MINICNN_HOME``;

and downloaded into the cache, with a progress bar and a checksum, when
found nowhere (``lookup`` has the details). Damaged, truncated or wrongly
checksummed files raise ``DatasetError``, and never leave a partial file in
the cache.
"""
from minicnn.datasets import cifar10, fashion_mnist, mnist
from minicnn import missing
from minicnn.datasets.errors import DatasetError

__all__ = ['cifar10', 'fashion_mnist', 'mnist', 'DatasetError']

missing.install(globals(), 'datasets')
