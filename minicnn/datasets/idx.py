"""The IDX file format, in which MNIST and Fashion-MNIST are published.

An IDX file is a header followed by the values of one array, row-major:

    bytes 0-1   zero
    byte  2     the type of the values (0x08: unsigned byte, see TYPES)
    byte  3     the number of dimensions, d
    then        d sizes, big-endian unsigned 32-bit integers
    then        the values, big-endian

So MNIST's "magic number" 2051, 0x00000803, announces a 3-d array of unsigned
bytes (images), and 2049, 0x00000801, a 1-d one (labels).
"""
import gzip
import math
import os
import struct
import zlib

import numpy as np

from minicnn.datasets.errors import DatasetError
# a header announcing more values than deflate could have compressed into the
# file is a lie, refused before anything is decompressed
from minicnn.fileio import DEFLATE_RATIO

TYPES = {0x08: '>u1', 0x09: '>i1', 0x0B: '>i2', 0x0C: '>i4', 0x0D: '>f4', 0x0E: '>f8'}


def read_idx(path, check=None):
    """The array in the gzip-compressed IDX file ``path``, checked against its header.

    ``check(path, shape, dtype)``, when given, sees what the header announces
    and raises when it is not what the caller expects: only then, and only as
    many bytes as announced, are the values decompressed.
    """
    try:
        with gzip.open(path) as file:
            shape, dtype = _header(path, file)
            if check is not None:
                check(path, shape, dtype)
            expected = math.prod(shape) * dtype.itemsize
            if expected > DEFLATE_RATIO * os.path.getsize(path):
                raise DatasetError(f'{path}: the header announces {expected} bytes of values '
                                   f'(shape {shape}), more than the file could hold; corrupt')
            raw = file.read(expected + 1)  # one more: a longer file is as wrong as a shorter one
    except DatasetError:
        raise
    except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
        raise DatasetError(f'{path}: not a readable gzip file ({err})') from err
    if len(raw) != expected:
        raise DatasetError(f'{path}: {len(raw)} bytes of values where the header '
                           f'announces {expected} (shape {shape}); truncated or corrupt')
    # astype copies into a writable array in the machine's byte order
    return np.frombuffer(raw, dtype).reshape(shape).astype(dtype.newbyteorder('='))


def _header(path, file):
    """(shape, dtype) the header of the open IDX ``file`` announces."""
    magic = file.read(4)
    if len(magic) < 4 or magic[:2] != b'\0\0' or magic[2] not in TYPES:
        raise DatasetError(f'{path}: not an IDX file (magic number 0x{magic.hex()})')
    ndim = magic[3]
    sizes = file.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise DatasetError(f'{path}: truncated IDX header')
    return struct.unpack(f'>{ndim}I', sizes), np.dtype(TYPES[magic[2]])
