"""The image-folder layout: one folder per split, one folder per class inside.

    train/airplane/0000.jpg
    train/automobile/0000.jpg
    ...
    test/truck/0999.png

The class folders, sorted by name, give the labels 0, 1, 2, ... Within a split
the images are sorted by class and file name, then put in one fixed
pseudo-random order (``SHUFFLE_SEED``): every load of the same files gives the
same arrays, and, as in the original release, the classes are mixed, so that
``x_train[:1000]`` holds every class rather than only airplanes. The layout may sit at the top of a folder or
archive or under one more folder (``CIFAR-10-images/train/...``).

Decoding tens of thousands of small JPEG files is CPU-bound work in Pillow,
mostly in Python code that holds the GIL, so it is spread over a pool of
processes (threads would take turns), one per core.
"""
import functools
import io
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from minicnn.datasets.errors import DatasetError
from minicnn.preprocessing.image_files import ImageFileError, open_image

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png')
SHUFFLE_SEED = 0


def is_image_file(name):
    """True for a name like ``<split>/<class>/<image>.jpg`` (hidden files excluded)."""
    parts = name.split('/')
    # hidden files such as macOS's '._0000.jpg' resource forks are not images
    return (len(parts) >= 3 and parts[-1].lower().endswith(IMAGE_SUFFIXES)
            and not parts[-1].startswith('.'))


def read_split(files, split, classes, shape, origin):
    """Images ``(N, *shape)`` uint8 and labels ``(N,)`` uint8 of one split.

    ``files`` maps names accepted by ``is_image_file`` to their bytes; those
    under a ``split`` folder are used. Their class folders must be exactly
    ``classes`` (a sorted sequence) and every image must decode to the tuple
    ``shape``, (height, width, 3). ``origin`` names the source in error messages.
    """
    members = []  # (class, file name, name in files): sorting them gives the order
    for name in files:
        *_, folder, cls, file = name.split('/')
        if folder == split:
            members.append((cls, file, name))
    members.sort()
    members = [members[i] for i in np.random.default_rng(SHUFFLE_SEED).permutation(len(members))]
    found = sorted({cls for cls, _, _ in members})
    if found != list(classes):
        raise DatasetError(
            f'{origin}: class folders in {split}/ are {found}, expected {list(classes)}')
    items = [(f'{origin}: {name}', files[name]) for _, _, name in members]
    with _process_pool() as pool:
        images = list(pool.map(functools.partial(_decode, shape=shape), items, chunksize=256))
    labels = np.array([classes.index(cls) for cls, _, _ in members], dtype=np.uint8)
    return np.stack(images), labels


def _process_pool():
    """A pool of one worker per core, forked where the system can fork.

    Forked workers start at once and share the parent's memory. Workers started
    afresh ('spawn', 'forkserver') import the user's script again, and a script
    that calls load_data() without an ``if __name__ == '__main__':`` guard would
    then fail: Windows, where spawning is the only way, needs that guard.
    """
    can_fork = 'fork' in multiprocessing.get_all_start_methods()
    return ProcessPoolExecutor(mp_context=multiprocessing.get_context('fork') if can_fork else None)


def _decode(item, shape):
    """One ``(where, bytes)`` item as an RGB uint8 array; runs in a worker process."""
    where, data = item
    try:
        with open_image(io.BytesIO(data), where) as image:
            size = (image.height, image.width, 3)
            # the size is checked before decoding: a small file can announce a huge image
            array = np.asarray(image.convert('RGB')) if size == shape else None
    except ImageFileError as err:
        raise DatasetError(str(err)) from err
    if array is None:
        raise DatasetError(f'{where}: image is {size}, expected {shape}')
    return array
