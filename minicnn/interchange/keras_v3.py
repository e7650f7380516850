"""Keras 3's ``.keras`` files: what ``model.save('m.keras')`` writes and
``minicnn.models.load_model('m.keras')`` reads, both ways with Keras 3.

A .keras file is a zip archive (members stored, not compressed) of::

    metadata.json      {"keras_version": "3.x.y", "date_saved": "2026-01-31@12:00:00"}
    config.json        the model as Keras 3 serializes objects: every object is
                       {"module", "class_name", "config", "registered_name"},
                       a layer adds "build_config" ({"input_shape": [null, ...]}),
                       the model adds "compile_config" (optimizer, loss, metrics)
    model.weights.h5   the variables, one HDF5 group per object:
                         vars/                      the model's own (none), attribute name
                         layers/conv2d/vars/0, 1    kernel, bias
                         layers/conv2d_1/vars/...   the second Conv2D
                         layers/batch_normalization/vars/0..3
                                                    gamma, beta, moving mean, variance
                         layers/functional/layers/...   a model used as a layer
                         optimizer/vars/0, 1        iterations, learning rate

A layer's group is named after its class, not after the layer ('conv2d',
'conv2d_1', ... in the order of the model's layers), so the order of the
layers matters: Keras lists a functional model's layers by their distance
from the outputs, farthest first, ties broken by the order a depth-first
walk from the outputs meets them (``keras_config.keras_layers``), and
config.json lists them in that order. A Sequential model's config starts
with its InputLayer; its ``layers`` (and groups) do not include it.

A functional layer's calls are ``inbound_nodes``: [{"args": [tensor or
[tensors]], "kwargs": {}}], each tensor {"class_name": "__keras_tensor__",
"config": {"shape", "dtype", "keras_history": [layer name, call, 0]}}.

The layer configs themselves are Keras 2's, which minicnn/interchange/
keras_config.py maps, with what Keras 3 changed: an InputLayer's
``batch_shape`` (Keras 2: batch_input_shape), a dtype written as a
DTypePolicy object, and the options Keras 3 added (``KERAS3_ONLY``).

Optimizer slots are not carried, as with .h5 files: a model read starts
with a fresh optimizer, and Keras, reading minicnn's file, warns that it
skips the optimizer's variables (as it does for its own untrained files).

Reading keeps everything in memory, within bounds: no member is extracted
to the disk, a member may not declare more than ``MAX_MEMBER_BYTES`` (the
config) or expand more than ``MAX_EXPANSION`` times its stored size (a zip
bomb), and each weight is read only once its shape and numeric type match
the layer's. Writing goes to a temporary file renamed over the target.
"""
import datetime
import io
import json
import zipfile

import h5py
import numpy as np

from minicnn import devices
from minicnn.fileio import atomic_write
from minicnn.interchange import keras_config
from minicnn.interchange.keras_config import (DTYPE, UNUSED, KerasConfigError, keras_type_name,
                                              zero_initializers)
from minicnn.layers.base import snake_case, with_batch_axis
from minicnn.layers import model_class
from minicnn.layers.input_layer import InputLayer

CONFIG, METADATA, WEIGHTS = 'config.json', 'metadata.json', 'model.weights.h5'
KERAS_VERSION = '3.15.1'  # the Keras 3 release whose files these were checked against
MAX_MEMBER_BYTES = 64 << 20   # config.json and metadata.json
MAX_EXPANSION = 100           # Keras stores members as they are; DEFLATE reaches ~1000
TENSOR = '__keras_tensor__'
MODEL_CLASSES = ('Functional', 'Sequential', 'Model')
KERAS_SCHEDULES = {'ExponentialDecay', 'PiecewiseConstantDecay', 'InverseTimeDecay',
                   'PolynomialDecay', 'CosineDecay', 'CosineDecayRestarts'}

# Options Keras 3's layers have and Keras 2's did not, with the value under
# which the layer computes what minicnn's does; UNUSED: a value that changes
# nothing minicnn computes (dropped on reading, not written).
KERAS3_ONLY = {
    'InputLayer': {'optional': False, 'input_tensor': None},
    'Dense': {'quantization_config': None, 'lora_rank': None, 'lora_alpha': None},
    'Conv2D': {'lora_rank': None, 'lora_alpha': None},
    'BatchNormalization': {'synchronized': False, 'renorm': False, 'renorm_clipping': None,
                           'renorm_momentum': UNUSED},
    'SpatialDropout2D': {'data_format': 'channels_last'},
}

# What Keras 2 writes (at values that change nothing) and Keras 3's layers refuse.
KERAS2_ONLY = {
    'Conv2DTranspose': ('groups',), 'DepthwiseConv2D': ('groups',),
    'SeparableConv2D': ('groups', 'kernel_regularizer', 'kernel_constraint'),
    'SpatialDropout2D': ('trainable', 'noise_shape'),  # no weights: nothing to freeze
}
KERAS3_NAMES = {'LeakyReLU': {'alpha': 'negative_slope'}}  # Keras 2's name: Keras 3's


class KerasZipError(ValueError):
    """A file that is not a .keras archive minicnn can read."""


# -- minicnn -> Keras 3 -------------------------------------------------------------

def save_model(model, path):
    """Write ``model`` (architecture, weights, compile arguments) as a .keras file."""
    model._require_built('save')
    config = model_to_keras3(model)
    weights = io.BytesIO()
    with h5py.File(weights, 'w') as f:
        write_variables(f, model, '')
        if model.optimizer is not None:
            optimizer = f.create_group('optimizer/vars')
            optimizer.attrs['name'] = model.optimizer.get_config()['name']
            optimizer['0'] = np.int64(model.optimizer.iterations)
            optimizer['1'] = np.float32(model.optimizer.learning_rate)
    metadata = {'keras_version': KERAS_VERSION,
                'date_saved': datetime.datetime.now().strftime('%Y-%m-%d@%H:%M:%S')}
    with atomic_write(path) as file, zipfile.ZipFile(file, 'w', zipfile.ZIP_STORED) as archive:
        archive.writestr(METADATA, json.dumps(metadata))
        archive.writestr(CONFIG, json.dumps(config))
        archive.writestr(WEIGHTS, weights.getvalue())


def write_variables(f, model, prefix):
    """The variables of ``model`` and of its layers under ``prefix`` (see the module doc)."""
    f.create_group(f'{prefix}vars').attrs['name'] = model.name
    layers = keras_config.keras_layers(model)
    for layer, path in zip(layers, group_names([keras_type_name(x) for x in layers], prefix)):
        if isinstance(layer, model_class('Model')):
            write_variables(f, layer, f'{path}/')
            continue
        group = f.create_group(f'{path}/vars')
        group.attrs['name'] = layer.name
        for k, weight in enumerate(layer.weights):  # Keras 3's order: as the layer made them
            group[str(k)] = devices.to_numpy(weight.data)


def group_names(class_names, prefix):
    """'<prefix>layers/<snake_case class>' for each layer's Keras class name, with
    '_1', '_2', ... on repeats."""
    used, names = {}, []
    for class_name in class_names:
        base = snake_case(class_name)
        used[base] = used.get(base, -1) + 1
        names.append(f'{prefix}layers/{base}' + (f'_{used[base]}' if used[base] else ''))
    return names


def dtype_policy():
    return {'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': DTYPE},
            'registered_name': None}


def model_to_keras3(model):
    """config.json's object for ``model``, compile_config included."""
    spec = layer_to_keras3(model, None)
    spec['compile_config'] = {} if model.optimizer is None else compile_config(model)
    return spec


def layer_to_keras3(layer, input_shape):
    """Keras 3's object for one layer, built for ``input_shape`` (None: not given)."""
    if isinstance(layer, model_class('Sequential')):
        spec = {'module': 'keras', 'class_name': 'Sequential', 'registered_name': None,
                'config': sequential_config(layer)}
        input_shape = list(with_batch_axis(layer.sample_shape))
    elif isinstance(layer, model_class('Model')):
        spec = {'module': 'keras.src.models.functional', 'class_name': 'Functional',
                'registered_name': 'Functional', 'config': functional_config(layer)}
    elif isinstance(layer, InputLayer):
        return input_layer_spec(layer.sample_shape, layer.name)
    else:
        keras2 = keras_config.layer_to_keras(layer)
        class_name, config = keras2['class_name'], dict(keras2['config'])
        for key in KERAS2_ONLY.get(class_name, ()):
            config.pop(key, None)
        for old, new in KERAS3_NAMES.get(class_name, {}).items():
            config[new] = config.pop(old)
        spec = {'module': 'keras.layers', 'class_name': class_name, 'registered_name': None,
                'config': {**config, 'dtype': dtype_policy()}}
    if input_shape is not None or isinstance(layer, model_class('Model')):  # as Keras: built layers only
        spec['build_config'] = {'input_shape': input_shape}
    return spec


def input_layer_spec(sample_shape, name):
    return {'module': 'keras.layers', 'class_name': 'InputLayer', 'registered_name': None,
            'config': {'batch_shape': list(with_batch_axis(sample_shape)), 'dtype': DTYPE,
                       'sparse': False, 'name': name}}


def sequential_config(model):
    first = model.layers[0].name if model.layers else model.name
    layers = [input_layer_spec(model.sample_shape, f'{first}_input')]
    shape = model.sample_shape
    for layer in model.layers:
        layers.append(layer_to_keras3(layer, list(with_batch_axis(shape))))
        shape = layer.compute_output_shape(shape)
    return {'name': model.name, 'trainable': model.trainable, 'dtype': dtype_policy(),
            'layers': layers, 'build_input_shape': list(with_batch_axis(model.sample_shape))}


def functional_config(model):
    """The layers in Keras's order, each with its calls (inbound_nodes), and the ends."""
    history, calls = {}, {}  # id(SymbolicTensor) -> keras_history; id(layer) -> [node]
    counts = {}
    for t in model.nodes:
        history[id(t)] = [t.layer.name, counts.get(id(t.layer), 0), 0]
        counts[id(t.layer)] = counts.get(id(t.layer), 0) + 1
        if t.inputs != ():
            calls.setdefault(id(t.layer), []).append(
                {'args': [_tensors(t.inputs, history)], 'kwargs': {}})
    shapes = {id(t.layer): _shape_list(t.inputs) for t in reversed(model.nodes) if t.inputs != ()}
    layers = [{**layer_to_keras3(layer, shapes.get(id(layer))), 'name': layer.name,
               'inbound_nodes': calls.get(id(layer), [])}
              for layer in keras_config.keras_layers(model)]
    ends = [[history[id(t)] for t in model.inputs], [history[id(t)] for t in model.outputs]]
    return {'name': model.name, 'trainable': model.trainable, 'layers': layers,
            **{key: end[0] if len(end) == 1 else end
               for key, end in zip(('input_layers', 'output_layers'), ends)}}


def _tensors(inputs, history):
    """A call's input(s) as Keras tensors (a list stays a list)."""
    def tensor(t):
        return {'class_name': TENSOR, 'config': {'shape': list(t.shape), 'dtype': DTYPE,
                                                 'keras_history': history[id(t)]}}
    return [tensor(t) for t in inputs] if isinstance(inputs, (list, tuple)) else tensor(inputs)


def _shape_list(inputs):
    if isinstance(inputs, (list, tuple)):
        return [list(t.shape) for t in inputs]
    return list(inputs.shape)


def compile_config(model):
    """Keras 3's compile_config: what ``compile`` was given, as Keras objects."""
    training = keras_config.training_config(model)
    optimizer = dict(training['optimizer_config']['config'])
    decay = optimizer.pop('decay', 0.0)
    if decay:
        raise ValueError(f"save: the optimizer's decay={decay!r} (Keras 2's time-based decay) "
                         f"has no Keras 3 equivalent, so a .keras file cannot hold it; use a "
                         f"schedule (optimizers.schedules.InverseTimeDecay) or a .h5 file")
    if isinstance(optimizer['learning_rate'], dict):
        schedule = optimizer['learning_rate']['class_name']
        if schedule not in KERAS_SCHEDULES:
            raise ValueError(f"save: the learning rate schedule {schedule} is minicnn's own, "
                             f"which Keras 3 cannot read; a .keras file can hold Keras's "
                             f"{sorted(KERAS_SCHEDULES)}")
        optimizer['learning_rate'] = _keras_object(optimizer['learning_rate'],
                                                   'keras.optimizers.schedules')
    return {'optimizer': {'module': 'keras.optimizers',
                          'class_name': training['optimizer_config']['class_name'],
                          'config': optimizer, 'registered_name': None},
            'loss': _keras_object(training['loss'], 'keras.losses'),
            'loss_weights': None,
            'metrics': [_keras_object(m, 'keras.metrics') for m in training['metrics'] or []]
            or None,
            'weighted_metrics': None, 'run_eagerly': False, 'steps_per_execution': 1,
            'jit_compile': False}


def _keras_object(identifier, module):
    """A name stays a name; {'class_name', 'config'} becomes Keras 3's full object."""
    if isinstance(identifier, dict):
        return {'module': module, **identifier, 'registered_name': None}
    return identifier


# -- Keras 3 -> minicnn -------------------------------------------------------------

def load_model(path, compile=True):
    """The model a .keras file holds, with its weights, compiled as it was when
    ``compile`` and the file says how (with a fresh optimizer)."""
    with open_archive(path) as archive:
        config = _json(read_member(archive, CONFIG, path), CONFIG, path)
        weights = read_member(archive, WEIGHTS, path)
    try:
        model = keras_config.layer_from_keras(zero_initializers(keras2_spec(config)))
    except (KeyError, TypeError, IndexError) as err:
        raise KerasZipError(f"{path}: {CONFIG} is not a Keras 3 model config minicnn can "
                            f"rebuild ({type(err).__name__}: {err})") from err
    with h5py.File(io.BytesIO(weights), 'r') as f:
        loads = read_variables(f, model, config, '', path)
    for layer, values in loads:
        layer.set_weights(values)
    compiled = config.get('compile_config')
    if compile and compiled:
        keras_config.compile_from_keras(model, {
            'optimizer_config': _plain(compiled['optimizer']), 'loss': _plain(compiled['loss']),
            'metrics': [_plain(m) for m in compiled.get('metrics') or []]})
    return model


def open_archive(path):
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError) as err:
        raise KerasZipError(f'{path} is not a Keras .keras file: not a zip archive, or a '
                            f'truncated one ({err})') from err


def read_member(archive, name, path):
    """The bytes of one member, read in memory within the bounds the module doc states."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        hint = (' (Keras 3 wrote its weights as .npz, which minicnn does not read)'
                if name == WEIGHTS and 'model.weights.npz' in archive.namelist() else '')
        raise KerasZipError(f'{path} is not a Keras .keras file: it has no {name}{hint}; it '
                            f'holds {archive.namelist()[:10]}') from None
    limit = max(MAX_MEMBER_BYTES, MAX_EXPANSION * info.compress_size) if name == WEIGHTS \
        else MAX_MEMBER_BYTES
    if info.file_size > limit:
        raise KerasZipError(f'{path}: the member {name} declares {info.file_size} bytes, more '
                            f'than the {limit} that minicnn reads for it (stored: '
                            f'{info.compress_size} bytes); refused as a possible zip bomb')
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as err:
        raise KerasZipError(f'{path}: the member {name} is damaged or truncated ({err})') from err
    if len(data) != info.file_size:
        raise KerasZipError(f'{path}: the member {name} holds {len(data)} bytes, not the '
                            f'{info.file_size} it declares')
    return data


def _json(data, name, path):
    try:
        return json.loads(data.decode('utf8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise KerasZipError(f'{path}: {name} is not JSON ({err})') from err


def _plain(obj):
    """Keras 3's {'module', 'class_name', 'config', 'registered_name'} as Keras 2's
    {'class_name', 'config'} (a schedule inside an optimizer's config too)."""
    if not isinstance(obj, dict) or 'class_name' not in obj:
        return obj
    config = {k: _plain(v) for k, v in (obj.get('config') or {}).items()}
    return {'class_name': obj['class_name'], 'config': config}


def keras2_spec(spec):
    """One Keras 3 object of config.json as Keras 2's {'class_name', 'config'} (with
    'name' and 'inbound_nodes' in a functional model's layer list)."""
    class_name, config = spec['class_name'], dict(spec['config'])
    if class_name == 'Sequential':
        layers = config['layers'] = [keras2_spec(s) for s in config['layers']]
        shape = config.get('build_input_shape')
        if shape and (not layers or layers[0]['class_name'] != 'InputLayer'):
            layers.insert(0, {'class_name': 'InputLayer', 'config': {
                'batch_input_shape': shape, 'name': f'{config["name"]}_input'}})
    elif class_name == 'Functional':
        models = {s['name'] for s in config['layers'] if s['class_name'] in MODEL_CLASSES}
        config['layers'] = [{**keras2_spec(s), 'name': s['name'],
                             'inbound_nodes': [_keras2_call(node, s['name'], models)
                                               for node in s['inbound_nodes']]}
                            for s in config['layers']]
    else:
        config = _keras2_layer_config(class_name, config)
    return {'class_name': class_name, 'config': config}


def _keras2_layer_config(class_name, config):
    dtype = config.get('dtype')
    if isinstance(dtype, dict):  # a DTypePolicy object: its name ('float32', 'mixed_float16')
        config['dtype'] = dtype.get('config', {}).get('name')
    if class_name == 'InputLayer':
        shape = config.pop('batch_shape', None)
        config.setdefault('batch_input_shape', shape)
    for key, neutral in KERAS3_ONLY.get(class_name, {}).items():
        if key in config:
            value = config.pop(key)
            if value != neutral and neutral != UNUSED:
                raise KerasConfigError(f"config.json: layer '{config.get('name')}' "
                                       f"({class_name}) has {key}={value!r}, which minicnn does "
                                       f"not implement (only {neutral!r})")
    return config


def _keras2_call(node, name, models):
    """One call {'args': [x], 'kwargs': {...}} as Keras 2's list of
    [layer, call, tensor, kwargs], one per input tensor. Keras 2 counts the
    calls of a model used as a layer (one of ``models``) from 1, Keras 3 from 0."""
    if isinstance(node, list):  # already Keras 2's form (Keras 3 reads it too)
        return node
    args, kwargs = node.get('args', []), dict(node.get('kwargs') or {})
    mask = kwargs.get('mask')
    if mask is None or isinstance(mask, list) and all(m is None for m in mask):
        kwargs.pop('mask', None)  # Keras 3 records a call's absent mask as mask=None
    if len(args) != 1:
        raise KerasConfigError(f"config.json: layer '{name}' is called with {len(args)} "
                               f"positional arguments; minicnn's layers take one (a tensor or "
                               f"a list of them)")
    tensors = args[0] if isinstance(args[0], list) else [args[0]]
    if any(not isinstance(t, dict) or t.get('class_name') != TENSOR for t in tensors):
        raise KerasConfigError(f"config.json: layer '{name}' is called on something other "
                               f"than Keras tensors: {args[0]!r:.200}")
    calls = []
    for k, t in enumerate(tensors):
        layer, call, output = t['config']['keras_history']
        calls.append([layer, call + (layer in models), output, kwargs if k == 0 else {}])
    return calls


def read_variables(f, model, spec, prefix, path):
    """[(layer, its weights)] from the file's groups, checked against the layers;
    the groups named as the layers come in the config (Keras's order)."""
    config = spec['config']
    specs = [s for s in config['layers'] if not (spec['class_name'] == 'Sequential'
                                                 and s['class_name'] == 'InputLayer')]
    names = group_names([s['class_name'] for s in specs], prefix)
    loads = []
    for layer_spec, group_name in zip(specs, names):
        layer = model.get_layer(layer_spec['config'].get('name') or layer_spec.get('name'))
        if isinstance(layer, model_class('Model')):
            loads += read_variables(f, layer, layer_spec, f'{group_name}/', path)
        else:
            loads.append((layer, _layer_values(f, layer, f'{group_name}/vars', path)))
    return loads


def _layer_values(f, layer, group_name, path):
    group = f.get(group_name) if group_name in f else {}
    count = len(group.keys()) if group else 0
    if count != len(layer.weights):
        raise KerasZipError(f"{path}: layer '{layer.name}' has {len(layer.weights)} weights, "
                            f"but the file's group {group_name} holds {count}")
    values = []
    for k, weight in enumerate(layer.weights):
        dataset = group.get(str(k))
        if not isinstance(dataset, h5py.Dataset) or dataset.shape != tuple(weight.shape) \
                or dataset.dtype.kind not in 'fiu':
            found = 'missing' if dataset is None else 'a group' if isinstance(dataset, h5py.Group) \
                else f'of shape {dataset.shape} and type {dataset.dtype}'
            raise KerasZipError(f"{path}: layer '{layer.name}' weight {k} ({weight.name}) has "
                                f"shape {tuple(weight.shape)}, but {group_name}/{k} in the file "
                                f"is {found}")
        values.append(np.asarray(dataset, dtype=np.float32))
    return values
