"""Keras's HDF5 files: weights (``save_weights``) and whole models (``save``),
written and read in the layouts of Keras 2 (tf.keras), which Keras 3 still
reads and writes under .h5 names.

An HDF5 file is a tree of groups (folders) and datasets (arrays), each with
named attributes. Keras's weights file is::

    /                   attributes layer_names, backend, keras_version
      conv2d/           attribute weight_names = ['conv2d/kernel:0', 'conv2d/bias:0']
        conv2d/
          kernel:0      dataset (3, 3, 1, 32)
          bias:0        dataset (32,)
      flatten/          attribute weight_names = []
      ...

* ``layer_names`` lists every layer of the model in Keras's order
  (``keras_config.keras_layers``), with weights or not (a functional
  model's InputLayers too); Keras loads a file by this order;
* each weight is a dataset stored under its name in its layer's group, and
  the '/' in the name makes subgroups (conv2d/conv2d/kernel:0). A nested
  model is one layer whose group holds all its weights under their own
  names: vgg16/block1_conv1/kernel:0, ...;
* a layer's weights come in Keras's legacy order: its trainable weights,
  then the others (for BatchNormalization gamma, beta, moving_mean,
  moving_variance; for a nested model, the trainable weights of all its
  layers before all the frozen ones);
* an attribute larger than HDF5's object header (64 KB) is split into
  ``layer_names0``, ``layer_names1``, ...

A whole-model file holds the same tree under ``model_weights/``, and the
root attributes ``model_config`` and, for a compiled model,
``training_config``: JSON, see minicnn/interchange/keras_config.py. Keras
also writes the optimizer's slots (``optimizer_weights/``); minicnn does
not, so a model loaded from HDF5 starts with a fresh optimizer. minicnn's
own format (``model.save('m.minicnn')``) keeps everything for an exact resume.

Files are written through ``minicnn.fileio.atomic_write``: complete or not at all.
"""
import contextlib
import json
import os
import warnings

import h5py
import numpy as np

from minicnn import devices
from minicnn.fileio import atomic_write
from minicnn.interchange import keras_config

# The Keras release whose layouts these are: Keras reads a file without a
# keras_version as Keras 1's, whose kernels it would convert.
KERAS_VERSION = '2.15.0'
BACKEND = 'minicnn'  # what computed the weights; Keras only reacts to 'theano'
HEADER_LIMIT = 64512  # bytes an HDF5 attribute can hold
TOP_LEVEL = 'top_level_model_weights'


class KerasFileError(ValueError):
    """A file that is not HDF5, or not in one of Keras's HDF5 layouts."""


# -- writing ------------------------------------------------------------------------

def save_weights(model, path):
    """Write the weights of ``model`` to ``path`` in Keras's HDF5 weights layout."""
    with atomic_write(path) as file, h5py.File(file, 'w') as f:
        write_weights(f, keras_config.keras_layers(model))


def save_model(model, path):
    """Write architecture, weights and compile arguments in Keras's whole-model layout."""
    with atomic_write(path) as file, h5py.File(file, 'w') as f:
        f.attrs['keras_version'] = KERAS_VERSION
        f.attrs['backend'] = BACKEND
        f.attrs['model_config'] = json.dumps(keras_config.layer_to_keras(model)).encode('utf8')
        if model.optimizer is not None:
            f.attrs['training_config'] = json.dumps(
                keras_config.training_config(model)).encode('utf8')
        write_weights(f.create_group('model_weights'), keras_config.keras_layers(model))


def write_weights(group, layers):
    """The weights of ``layers`` into ``group``, laid out as the module docstring says."""
    write_names(group, 'layer_names', [layer.name for layer in layers])
    group.attrs['backend'] = BACKEND.encode('utf8')
    group.attrs['keras_version'] = KERAS_VERSION.encode('utf8')
    # Groups made in name order, as Keras does, so that no name is made before a prefix of it.
    for layer in sorted(layers, key=lambda layer: layer.name):
        layer_group = group.create_group(layer.name)
        weights = legacy_weights(layer)
        names = [f'{w.name}:0' for w in weights]  # TensorFlow's name of a variable's value
        write_names(layer_group, 'weight_names', names)
        for name, weight in zip(names, weights):
            layer_group.create_dataset(name, data=devices.to_numpy(weight.data))
    # Keras 2.13+ keeps the weights a model holds outside its layers here; minicnn's have none
    write_names(group.create_group(TOP_LEVEL), 'weight_names', [])


def write_names(group, name, names):
    """A list of names as the attribute ``name``, split into ``name0``, ``name1``, ...
    when it is too large for one attribute (Keras's save_attributes_to_hdf5_group)."""
    data = [n.encode('utf8') for n in names]
    if any(len(n) > HEADER_LIMIT for n in data):  # no split would make it fit
        raise ValueError(f'{name}: a name longer than {HEADER_LIMIT} bytes cannot be stored')
    chunks = 1
    while any(part.nbytes > HEADER_LIMIT for part in np.array_split(np.asarray(data), chunks)):
        chunks += 1
    if chunks == 1:
        group.attrs[name] = data
        return
    for k, part in enumerate(np.array_split(np.asarray(data), chunks)):
        group.attrs[f'{name}{k}'] = part


def legacy_weights(layer):
    """A layer's weights in Keras's HDF5 order: trainable ones, then the rest."""
    return [*layer.trainable_weights, *layer.non_trainable_weights]


# -- reading ------------------------------------------------------------------------

def read_names(group, name):
    """The list of names ``write_names`` stored (whole or split), as str."""
    if name in group.attrs:
        parts = [group.attrs[name]]
    else:
        parts, k = [], 0
        while f'{name}{k}' in group.attrs:
            parts.append(group.attrs[f'{name}{k}'])
            k += 1
    return [n.decode('utf8') if hasattr(n, 'decode') else str(n) for part in parts for n in part]


@contextlib.contextmanager
def open_keras_file(path):
    """The file opened for reading; KerasFileError when it is not HDF5, or when
    it proves damaged while it is read (HDF5's own errors name no file)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path}: no such file')
    if not h5py.is_hdf5(path):
        raise KerasFileError(f'{path} is not an HDF5 file (a Keras .h5 file is one); is it '
                             f'minicnn\'s own format under another name?')
    try:
        with h5py.File(path, 'r') as f:
            yield f
    # a truncated file, a damaged structure (OSError, RuntimeError), a group or
    # dataset the file names but lacks (KeyError), an attribute of the wrong kind
    except (OSError, RuntimeError, KeyError, TypeError, AttributeError) as err:
        raise KerasFileError(f'{path} is damaged or not in Keras\'s layout '
                             f'({type(err).__name__}: {err})') from err


def weights_group(f, path):
    """The group laid out as a weights file: the root, or a whole model's model_weights."""
    if 'layer_names' in f.attrs or 'layer_names0' in f.attrs:
        return f
    if 'model_weights' in f:
        return f['model_weights']
    hint = (" (its 'layers' group looks like Keras 3's .weights.h5 layout, which minicnn does "
            "not read)" if 'layers' in f else '')
    raise KerasFileError(f"{path} is an HDF5 file, but not in Keras's layout: it has no "
                         f"layer_names attribute and no model_weights group{hint}")


def load_weights(model, path, by_name=False, skip_mismatch=False):
    """Load a Keras HDF5 weights file (or a whole-model file's weights) into ``model``.

    Layers are matched by position (the model's layers that have weights,
    in order, with the file's) or, with ``by_name``, by name, leaving the
    layers the file does not name as they are. A layer whose weights do not
    fit is an error naming it and both shapes, or with ``skip_mismatch`` a
    warning and the layer left as it was. Nothing is changed unless every
    layer loads.
    """
    with open_keras_file(path) as f:
        group = weights_group(f, path)
        pairs = _by_name(group, model.layers) if by_name else \
            _by_order(group, keras_config.keras_layers(model), path)
        loads = []
        for layer, name in pairs:
            datasets = _file_weights(group, name, path)
            # shapes and types first, from the headers: a small file may announce a huge array
            if _fits(layer, datasets, name, skip_mismatch, path):
                loads.append((layer, [np.asarray(d) for d in datasets]))
    for layer, values in loads:
        by_id = {id(w): v for w, v in zip(legacy_weights(layer), values)}
        layer.set_weights([by_id[id(w)] for w in layer.weights])


def _file_weights(group, name, path):
    """The datasets (not yet read) of the file's layer ``name``, in its weight_names order."""
    layer_group = group[name]
    names = read_names(layer_group, 'weight_names')
    datasets = [layer_group[weight] for weight in names]
    for weight, dataset in zip(names, datasets):
        if not isinstance(dataset, h5py.Dataset) or dataset.dtype.kind not in 'fiu':
            raise KerasFileError(f"{path}: weight '{weight}' of layer '{name}' is not an array "
                                 f"of numbers")
    return datasets


def _by_order(group, layers, path):
    """(layer, file layer name) pairs: the layers with weights, in order, on both sides."""
    ours = [layer for layer in layers if layer.weights]
    theirs = [name for name in read_names(group, 'layer_names')
              if read_names(group[name], 'weight_names')]
    if len(ours) != len(theirs):
        raise ValueError(f'load_weights: {path} holds weights for {len(theirs)} layers '
                         f'{theirs}, but the model has {len(ours)} layers with weights '
                         f'{[layer.name for layer in ours]}; by_name=True matches them by name')
    if TOP_LEVEL in group and read_names(group[TOP_LEVEL], 'weight_names'):
        raise ValueError(f'load_weights: {path} holds weights of the model itself, outside its '
                         f'layers ({TOP_LEVEL}); a minicnn model has none')
    return list(zip(ours, theirs))


def _by_name(group, layers):
    """(layer, file layer name) pairs for the file's layers the model has a layer named like."""
    ours = {layer.name: layer for layer in layers}
    return [(ours[name], name) for name in read_names(group, 'layer_names') if name in ours]


def _fits(layer, datasets, name, skip_mismatch, path):
    """Whether the arrays ``datasets`` announce fit ``layer``'s weights; otherwise
    raise, or warn with skip_mismatch. Nothing is read but their headers."""
    weights = legacy_weights(layer)
    ours, theirs = [w.shape for w in weights], [d.shape for d in datasets]
    if ours == theirs:
        return True
    message = (f"layer '{layer.name}' has weights of shapes {ours}, but the layer "
               f"'{name}' of {path} has {theirs}")
    if not skip_mismatch:
        raise ValueError(f'load_weights: {message}')
    warnings.warn(f'load_weights: skipping {message}')
    return False


def load_model(path, compile=True):
    """The model a Keras whole-model HDF5 file describes, with its weights,
    compiled as it was when ``compile`` and the file says how."""
    with open_keras_file(path) as f:
        config = f.attrs.get('model_config')
        if config is None:
            hint = ('a weights file: build the model and call load_weights'
                    if 'layer_names' in f.attrs else "not in Keras's layout")
            raise KerasFileError(f'{path} holds no model_config attribute, so it is not a '
                                 f'whole-model file; it is {hint}')
        training = f.attrs.get('training_config')
    with _config_errors_naming(path):
        model = keras_config.layer_from_keras(
            keras_config.zero_initializers(_json(config, 'model_config')))
    load_weights(model, path)
    if compile and training is not None:
        with _config_errors_naming(path):
            keras_config.compile_from_keras(model, _json(training, 'training_config'))
    return model


@contextlib.contextmanager
def _config_errors_naming(path):
    """Errors in rebuilding from a file's config raised as KerasFileError naming the file:
    minicnn's own (a layer's argument refused), or Python's for a field missing or of
    the wrong kind."""
    try:
        yield
    except ValueError as err:  # KerasConfigError, or a layer refusing an argument
        raise KerasFileError(f'{path}: {err}') from err
    except (KeyError, TypeError, AttributeError, IndexError) as err:
        raise KerasFileError(f'{path}: its model_config or training_config is not one Keras '
                             f'writes ({type(err).__name__}: {err})') from err


def _json(attribute, name):
    """The JSON text of attribute ``name`` as Python values."""
    try:
        return json.loads(attribute.decode('utf8') if hasattr(attribute, 'decode') else attribute)
    except (UnicodeDecodeError, TypeError, ValueError) as err:
        raise keras_config.KerasConfigError(f'{name} is not JSON text ({err})') from err
