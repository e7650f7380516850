"""Tiny data sets in the real formats, for tests that run the examples and the
``minicnn`` command: CIFAR-10 as image folders, Fashion-MNIST as IDX files."""
import gzip

import numpy as np
from PIL import Image

from minicnn.datasets import cifar10


def write_tiny_cifar10(folder, per_class=(6, 2)):
    rng = np.random.default_rng(0)
    for split, count in zip(('train', 'test'), per_class):
        for name in cifar10.CLASSES:
            (folder / split / name).mkdir(parents=True)
            for i in range(count):
                image = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
                Image.fromarray(image).save(folder / split / name / f'{i:04d}.png')


def write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b''.join(int(d).to_bytes(4, 'big') for d in array.shape)
    with gzip.open(path, 'wb') as f:
        f.write(header + array.astype(np.uint8).tobytes())


def write_tiny_fashion_mnist(folder, sizes=(60, 20)):
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True)
    for prefix, n in zip(('train', 't10k'), sizes):
        write_idx(folder / f'{prefix}-images-idx3-ubyte.gz', rng.integers(0, 256, (n, 28, 28)))
        write_idx(folder / f'{prefix}-labels-idx1-ubyte.gz', rng.integers(0, 10, n))
