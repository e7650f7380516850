"""Where a data set is looked for, in order.

1. The ``path`` given to ``load_data``.
2. The folder named by the environment variable ``MINICNN_DATA``.
3. The cache folder (``cache.cache_dir()``).
4. Folders a loader adds, such as where a system package installs the data.

Only if none of them holds the data set does the loader download it into the
cache. Each place may be the data set itself (a file or folder the loader
accepts) or a folder containing it under a name starting with the data set's
name, compared without case, ``-`` or ``_``: for CIFAR-10, ``/data`` finds
``/data/cifar-10-python.tar.gz``, ``/data/cifar10-jpg.tar.gz`` or
``/data/CIFAR-10-images/``; when several match, the first by name wins.

A ``path`` that holds no such data set is an error rather than a reason to
download: it says where the user believes the data are.
"""
import os
from pathlib import Path

from minicnn.datasets.cache import cache_dir
from minicnn.datasets.errors import DatasetError


def locate(path, holds, name, extra_places=()):
    """The file or folder holding data set ``name``, or None when nowhere holds it.

    ``holds(p)`` says whether the file or folder ``p`` is the data set.
    """
    if path is not None:
        found = _search(Path(path).expanduser(), holds, name)
        if found is None:
            raise DatasetError(f'{path}: no {name} data set there, nor in a {name}* entry inside')
        return found
    places = [Path(os.environ['MINICNN_DATA'])] if os.environ.get('MINICNN_DATA') else []
    for place in places + [cache_dir(), *extra_places]:
        found = _search(place, holds, name)
        if found is not None:
            return found
    return None


def _search(place, holds, name):
    """``place`` if it holds the data set, else its first entry named ``name*`` that does."""
    if holds(place):
        return place
    if place.is_dir():
        for entry in sorted(place.iterdir()):
            if _plain(entry.name).startswith(_plain(name)) and holds(entry):
                return entry
    return None


def _plain(name):
    """A name without case, '-' or '_', so that 'CIFAR-10' and 'cifar10' compare equal."""
    return name.lower().replace('-', '').replace('_', '')
