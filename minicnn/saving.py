"""Files: every way a model goes to disk and comes back, and the one seam
between the models and the file formats.

    Model.save(path)                 save(model, path)
    Model.save_weights(path)         save_weights(model, path)
    Model.load_weights(path)         load_weights(model, path, by_name, skip_mismatch)
    models.load_model(path)          load_model(path, compile)
    callbacks.BackupAndRestore       restore_training_state(model, path)

The seam. ``minicnn.models`` calls down into this module, which picks the
format by the file's name: Keras's HDF5 layouts for .h5 and .hdf5
(minicnn/interchange/hdf5.py), else minicnn's own. Nothing here, nor in
``minicnn.interchange``, imports ``minicnn.models``: a file's model is
rebuilt from its config through the layer classes' registry
(``minicnn.layers.from_config``, where models registers Model and
Sequential), so models -> saving -> interchange is the only way up.

minicnn's own whole-model file is a NumPy .npz archive (a zip of arrays) holding

    meta              JSON (as bytes): format tag, the model's class and config
                      (its layers' configs and, for a functional model, how
                      they connect), loss, metrics, optimizer config, epochs
                      done, training history and the CPU random generator's state
    weight/K          the model's K-th weight array, in get_weights() order
    optimizer/...     the optimizer's slots and iteration count

and its weights file the arrays alone (``arr_K``, np.savez's names). Both are
written to a temporary file and renamed, so an interrupted save leaves the
previous file intact.
"""
import json

import numpy as np

from minicnn import devices, fileio, losses, metrics, optimizers
from minicnn import layers as layer_classes
from minicnn.fileio import atomic_write
from minicnn.interchange.keras_config import zero_initializers

FORMAT = 'minicnn-model-1'


class ModelFileError(ValueError):
    """A file that is not a complete minicnn model file."""


HDF5_SUFFIXES = ('.h5', '.hdf5')
KERAS_ZIP_SUFFIX = '.keras'


def is_hdf5_name(path):
    """Whether ``path`` asks for an HDF5 file (.h5 or .hdf5), as Keras decides."""
    return str(path).lower().endswith(HDF5_SUFFIXES)


def is_keras_zip_name(path):
    """Whether ``path`` asks for Keras 3's zip file of a whole model (.keras)."""
    return str(path).lower().endswith(KERAS_ZIP_SUFFIX)


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


# -- what the Model methods call -------------------------------------------------------

# h5py is imported with minicnn.interchange.hdf5, so only by a program that
# reads or writes an HDF5 file.

def save(model, path, epoch=None, history=None):
    """Model.save: one file with architecture, weights, optimizer state, epoch
    and generator state; for a .h5 or .hdf5 name, Keras's HDF5 model file, and
    for a .keras name Keras 3's zip file: both hold architecture, weights and
    compile arguments (no optimizer state)."""
    model._require_built('save')
    if is_hdf5_name(path):
        from minicnn.interchange import hdf5
        return hdf5.save_model(model, path)
    if is_keras_zip_name(path):
        from minicnn.interchange import keras_v3
        return keras_v3.save_model(model, path)
    return save_model(model, path, epoch, history)


def save_weights(model, path):
    """Model.save_weights: Keras's HDF5 layout for a .h5 or .hdf5 name
    (minicnn/interchange/hdf5.py), else a NumPy .npz archive."""
    if is_hdf5_name(path):
        from minicnn.interchange import hdf5
        return hdf5.save_weights(model, path)
    refuse_hdf5(path, 'save_weights')
    with atomic_write(path) as f:
        np.savez(f, *model.get_weights())


def load_weights(model, path, by_name=False, skip_mismatch=False):
    """Model.load_weights: weights saved by save_weights, or those of a whole-model file.

    A .h5 or .hdf5 file (Keras's or minicnn's) is matched layer by layer:
    in order, or by layer name with ``by_name``; ``skip_mismatch`` skips,
    with a warning, the layers whose weights do not fit. A .npz archive
    holds no names: its arrays go to the weights in order.
    """
    if is_hdf5_name(path):
        from minicnn.interchange import hdf5
        return hdf5.load_weights(model, path, by_name, skip_mismatch)
    refuse_hdf5(path, 'load_weights')
    if by_name or skip_mismatch:
        raise ValueError(f'load_weights: by_name and skip_mismatch need the layer names of '
                         f'an HDF5 file (.h5), and {path} is a NumPy archive')
    with fileio.NpzFile(path) as archive:
        whole_model = 'meta' in archive.headers
    if whole_model:
        arrays = weights_of(read_model_file(path)[1])
    else:
        arrays = fileio.read_array_list(path, [w.shape for w in model.weights])
    model.set_weights(arrays)


def load_model(path, compile=True):
    """models.load_model: the model saved at ``path``, with its weights and
    optimizer state, and the random generator restored, so training continues
    exactly as if it had not stopped (``model.epochs_done`` says where).

    A .h5 or .hdf5 file is Keras's whole-model file (written by Keras or by
    minicnn): its layers, its weights, and compiled as it was, with a fresh
    optimizer (see minicnn/interchange/hdf5.py); a .keras file is Keras 3's,
    read the same way (minicnn/interchange/keras_v3.py).
    """
    if is_hdf5_name(path):
        from minicnn.interchange import hdf5
        return hdf5.load_model(path, compile=compile)
    if is_keras_zip_name(path):
        from minicnn.interchange import keras_v3
        return keras_v3.load_model(path, compile=compile)
    refuse_hdf5(path, 'load_model')
    meta, arrays = read_model_file(path)
    if 'model' not in meta:  # files of minicnn 0.1 held a Sequential's layers only
        meta['model'] = {'class_name': 'Sequential', 'config': {
            'name': meta['name'], 'layers': meta['layers'], 'input_shape': meta['input_shape']}}
    spec = zero_initializers(meta['model'])
    model = layer_classes.from_config(spec['class_name'], spec['config'])
    model.set_weights(weights_of(arrays))
    if compile and meta['optimizer'] is not None:
        # files of minicnn 0.1 hold a loss name and one metric name ('metric')
        metrics_ = meta.get('metrics', [meta['metric']] if meta.get('metric') else [])
        model.compile(optimizer_of(meta, path), meta['loss'], metrics_)
        model.optimizer.set_state(optimizer_state_of(arrays), model.weights)
    model.epochs_done = meta['epoch'] or 0
    devices.set_rng_state(meta['rng_state'])
    return model


def restore_training_state(model, path):
    """Put the training state of minicnn's model file ``path`` back into the
    compiled ``model`` it was saved from: weights, optimizer slots and step
    count, a learning rate changed by hand (ReduceLROnPlateau's), the random
    generator and the epochs done, which it returns. Nothing is rebuilt.

    The file must come from the same architecture (its weights' shapes) and
    the same optimizer (class and configuration, the learning rate aside:
    the file's is state): SGD's velocity is no Adam moment.
    """
    meta, arrays = read_model_file(path)
    weights = weights_of(arrays)
    check_same_training(model, meta, weights, path)
    model.set_weights(weights)
    optimizer = model.optimizer
    optimizer.set_state(optimizer_state_of(arrays), model.weights)
    if optimizer.schedule is None:  # a rate changed by hand is state too
        optimizer.learning_rate = optimizer_of(meta, path).learning_rate
    devices.set_rng_state(meta['rng_state'])
    model.epochs_done = meta['epoch'] or 0
    return model.epochs_done


def check_same_training(model, meta, weights, path):
    """Refuse, naming ``path``, a training state saved by another architecture or optimizer."""
    shapes = [tuple(w.shape) for w in weights]
    expected = [tuple(w.shape) for w in model.weights]
    if shapes != expected:
        raise ModelFileError(f'{path} holds the weights of another architecture: shapes '
                             f'{shapes}, and this model has {expected}')
    saved, optimizer = meta.get('optimizer'), model.optimizer
    name = type(optimizer).__name__
    if saved is None or saved.get('class_name') != name:
        held = 'no optimizer' if saved is None else f"a {saved.get('class_name')} optimizer's"
        raise ModelFileError(f'{path} holds {held} state, and this model trains with {name}; '
                             f'it cannot continue that training')
    # JSON's round trip makes the two configs comparable (tuples become lists)
    config = json.loads(json.dumps(optimizer.get_config()))
    saved_config = dict(saved.get('config') or {})
    if optimizer.schedule is None:  # a rate changed by hand is state, restored below
        config.pop('learning_rate', None)
        saved_config.pop('learning_rate', None)
    differ = sorted(k for k in {*config, *saved_config} if config.get(k) != saved_config.get(k))
    if differ:
        raise ModelFileError(f'{path} was saved by a {name} configured otherwise: ' + ', '.join(
            f'{k}={saved_config.get(k)!r} there, {config.get(k)!r} here' for k in differ))


def saved_history(path):
    """The training history stored in minicnn's model file ``path``: {name: per-epoch list}."""
    return read_model_file(path)[0]['history']


# -- minicnn's own whole-model file ----------------------------------------------------

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
        arrays = fileio.read_npz(path)
    except fileio.ArchiveError as err:
        raise ModelFileError(f'{err}; it is not a minicnn model file') from err
    if 'meta' not in arrays:
        raise ModelFileError(f'{path} is not a minicnn model file (no meta entry)')
    try:
        meta = json.loads(arrays.pop('meta').tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFileError(f'{path} is truncated or not a minicnn model file ({err})') from err
    if not isinstance(meta, dict) or meta.get('format') != FORMAT:
        raise ModelFileError(f'{path} is not a minicnn model file (format {meta.get("format")!r})')
    return meta, arrays


def optimizer_of(meta, path):
    """A fresh optimizer built from the optimizer config of the file ``path``."""
    name = meta['optimizer']['class_name']
    if name.lower() not in optimizers.OPTIMIZERS:
        raise ModelFileError(f'{path} names the optimizer {name!r}, which minicnn does not '
                             f'have; it has {sorted(optimizers.OPTIMIZERS)}')
    return optimizers.OPTIMIZERS[name.lower()].from_config(meta['optimizer']['config'])


def optimizer_state_of(arrays):
    return {name.split('/', 1)[1]: value for name, value in arrays.items()
            if name.startswith('optimizer/')}


def weights_of(arrays):
    count = sum(1 for name in arrays if name.startswith('weight/'))
    return [arrays[f'weight/{k}'] for k in range(count)]
