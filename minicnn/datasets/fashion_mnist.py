"""Fashion-MNIST: 70,000 28x28 grey images of clothes in ten classes (Xiao et al., 2017).

    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    # x: (60000, 28, 28) and (10000, 28, 28) uint8; y: (60000,) and (10000,) uint8

It was made as a drop-in replacement for MNIST, harder to classify: the same
four IDX files, names and shapes. So it is found, downloaded and checked just
as ``mnist`` describes, looking for a folder named 'fashion-mnist*' (or
'fashion_mnist*'), downloading into ``<cache>/fashion-mnist/``, and also
looking, after the cache, where Debian's package ``dataset-fashion-mnist``
installs the files (SYSTEM_PLACES). Debian compressed those copies anew when
packaging them, so their MD5s differ from the published ones: local files are
checked by structure, never by checksum.
"""
from pathlib import Path

from minicnn.datasets.mnist import load_idx_dataset

# The authors' repository, over https (their S3 website serves plain http only); its
# README publishes the MD5s below for these very files.
BASE_URL = 'https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/'
MD5 = {'train-images-idx3-ubyte.gz': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
       'train-labels-idx1-ubyte.gz': '25c81989df183df01b3e8a0aad5dffbe',
       't10k-images-idx3-ubyte.gz': 'bef4ecab320f06d8554ea6380940ec79',
       't10k-labels-idx1-ubyte.gz': 'bb300cfdad3c16e7a12a480ee83cd310'}
SYSTEM_PLACES = (Path('/usr/share/datasets/fashion-mnist'),)

CLASSES = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
           'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot')


def load_data(path=None):
    """``(x_train, y_train), (x_test, y_test)`` of Fashion-MNIST, found or downloaded."""
    return load_idx_dataset(path, 'fashion-mnist', BASE_URL, MD5, SYSTEM_PLACES)
