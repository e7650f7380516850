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
import struct
import zlib

import numpy as np

from minicnn.datasets.errors import DatasetError

TYPES = {0x08: '>u1', 0x09: '>i1', 0x0B: '>i2', 0x0C: '>i4', 0x0D: '>f4', 0x0E: '>f8'}


def read_idx(path):
    """The array in the gzip-compressed IDX file ``path``, checked against its header."""
    try:
        with gzip.open(path) as file:
            raw = file.read()
    except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
        raise DatasetError(f'{path}: not a readable gzip file ({err})') from err
    if len(raw) < 4 or raw[:2] != b'\0\0' or raw[2] not in TYPES:
        raise DatasetError(f'{path}: not an IDX file (magic number 0x{raw[:4].hex()})')
    ndim = raw[3]
    start = 4 + 4 * ndim
    if len(raw) < start:
        raise DatasetError(f'{path}: truncated IDX header')
    shape = struct.unpack(f'>{ndim}I', raw[4:start])
    dtype = np.dtype(TYPES[raw[2]])
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) - start != expected:
        raise DatasetError(f'{path}: {len(raw) - start} bytes of values where the header '
                           f'announces {expected} (shape {shape}); truncated or corrupt')
    # astype copies into a writable array in the machine's byte order
    return np.frombuffer(raw, dtype, offset=start).reshape(shape).astype(dtype.newbyteorder('='))
