"""One file for a whole model: what ``model.save(path)`` writes and
``minicnn.models.load_model(path)`` reads back.

The file is a NumPy .npz archive (a zip of arrays) holding

    meta              JSON (as bytes): format tag, the model's class and config
                      (its layers' configs and, for a functional model, how
                      they connect), loss, metrics, optimizer config, epochs
                      done, training history and the CPU random generator's state
    weight/K          the model's K-th weight array, in get_weights() order
    optimizer/...     the optimizer's slots and iteration count

It is written to a temporary file and renamed, so an interrupted save leaves
the previous file intact.
"""
import json
import zipfile

import numpy as np

from minicnn import devices, losses, metrics
from minicnn.fileio import atomic_write

FORMAT = 'minicnn-model-1'


class ModelFileError(ValueError):
    """A file that is not a complete minicnn model file."""


HDF5_SUFFIXES = ('.h5', '.hdf5')
KERAS_ZIP_SUFFIX = '.keras'


def refuse_hdf5(path, where):
    """Refuse Keras's file names for minicnn's own formats: saving a NumPy
    archive under such a name would fool every tool.

    .h5 and .hdf5 are Keras's HDF5 layouts, which Model.save, save_weights,
    load_weights and minicnn.models.load_model handle themselves (see
    minicnn/interchange/hdf5.py) before they get here; .keras is Keras 3's
    zip file of a whole model, which Model.save and load_model handle (see
    minicnn/interchange/keras_v3.py).
    """
    name = str(path).lower()
    if name.endswith(KERAS_ZIP_SUFFIX):
        raise ValueError(f'{where}: {path} is a Keras 3 .keras name, a file of a whole model: '
                         f'model.save and minicnn.models.load_model read and write it. Weights '
                         f'alone go to a .h5 name (Keras\'s HDF5 layout) or a NumPy archive '
                         f'(e.g. weights.npz)')
    if name.endswith(HDF5_SUFFIXES):
        raise ValueError(f'{where}: {path} is a Keras HDF5 name, but this writes or reads '
                         f'minicnn\'s own format; Model.save, save_weights, load_weights and '
                         f'minicnn.models.load_model handle HDF5 files')


def save_model(model, path, epoch=None, history=None):
    """Write architecture, weights, optimizer state, epoch and generator state to ``path``."""
    refuse_hdf5(path, 'save')
    model._require_built('save')
    meta = {
        'format': FORMAT,
        'model': {'class_name': type(model).__name__, 'config': model.get_config()},
        'loss': None if model.loss is None else losses.serialize(model.loss),
        'metrics': [metrics.serialize(m) for m in model.compiled_metrics],
        'optimizer': None if model.optimizer is None else
        {'class_name': type(model.optimizer).__name__, 'config': model.optimizer.get_config()},
        'epoch': epoch,
        'history': history or {},
        'rng_state': devices.rng_state(),
    }
    arrays = {f'weight/{k}': w for k, w in enumerate(model.get_weights())}
    if model.optimizer is not None:
        state = model.optimizer.get_state(model.weights)
        arrays.update({f'optimizer/{k}': v for k, v in state.items()})
    with atomic_write(path) as f:
        np.savez(f, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)


def read_model_file(path):
    """(meta, arrays) of a model file; ModelFileError says what is wrong with a bad one."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if 'meta' not in data.files:
                raise ModelFileError(f'{path} is not a minicnn model file (no meta entry)')
            meta = json.loads(data['meta'].tobytes().decode())
            arrays = {name: data[name] for name in data.files if name != 'meta'}
    except (zipfile.BadZipFile, EOFError, OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFileError(f'{path} is truncated or not a minicnn model file ({err})') from err
    except ValueError as err:  # np.load on a file that is not .npy/.npz at all
        if isinstance(err, ModelFileError):
            raise
        raise ModelFileError(f'{path} is not a minicnn model file ({err})') from err
    if meta.get('format') != FORMAT:
        raise ModelFileError(f'{path} is not a minicnn model file (format {meta.get("format")!r})')
    return meta, arrays


def weights_of(arrays):
    count = sum(1 for name in arrays if name.startswith('weight/'))
    return [arrays[f'weight/{k}'] for k in range(count)]
