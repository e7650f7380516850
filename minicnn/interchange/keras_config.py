"""Keras's JSON descriptions of a model: ``model_config`` (the architecture)
and ``training_config`` (what ``compile`` was given), as Keras 2 writes them
into a whole-model HDF5 file.

A Sequential model is its list of layers, an InputLayer first::

    {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 28, 28, 1], ...}},
        {"class_name": "Conv2D", "config": {"name": "conv2d", "filters": 32, ...}}, ...]}}

A functional model also says how its layers are called::

    {"class_name": "Functional", "config": {"name": "model", "layers": [
        {"class_name": "Add", "name": "add", "config": {...},
         "inbound_nodes": [[["conv2d", 0, 0, {}], ["input_1", 0, 0, {}]]]}, ...],
     "input_layers": [["input_1", 0, 0]], "output_layers": [["dense", 0, 0]]}}

Each entry of ``inbound_nodes`` is one call of the layer: the tensors it
took, each ``[layer name, node index, tensor index, call keywords]``, where
node index k names the k-th call of that layer. A nested model's calls count
from 1: Keras does not count the call that built it on its own Input.

minicnn's layer configs already use Keras's key names. What differs:

* minicnn's ``input_shape`` (one sample) is Keras's ``batch_input_shape``,
  with the batch axis as null first;
* Keras's layers have options minicnn's lack (``data_format``,
  regularizers, constraints, ...). They are written with the value
  that computes what minicnn computes, and a file is read only if it has
  that value (or null): any other is an error naming the layer and option;
* initializers are Keras's objects, ``{"module", "class_name", "config",
  "registered_name"}``.

One name means two things: 'hard_sigmoid' is Keras 3's relu6(x + 3) / 6 in
minicnn, and Keras 2 reads it as its own max(0, min(1, 0.2 x + 0.5)).
"""
import warnings

from minicnn import initializers, losses, optimizers
from minicnn import metrics as metric_names
from minicnn import layers as layer_classes
from minicnn.layers import model_class
from minicnn.layers.base import Layer, constructor_keywords
from minicnn.layers.input_layer import InputLayer


class KerasConfigError(ValueError):
    """A model_config or training_config that minicnn cannot rebuild."""


_REGULARIZED = ('bias_regularizer', 'activity_regularizer', 'bias_constraint')
_IMAGES = {'data_format': 'channels_last'}
_DROPOUT = {'noise_shape': None, 'seed': None}
UNUSED = 'unused'  # an option Keras writes but never uses: read and dropped, not written


def _none(*names):
    return dict.fromkeys(names)


# Per layer class: the Keras options its minicnn twin lacks, each with the
# value under which Keras computes what minicnn does.
KERAS_ONLY = {
    'InputLayer': {'sparse': False, 'ragged': False},
    'Conv2D': {**_IMAGES, **_none('kernel_regularizer', 'kernel_constraint', *_REGULARIZED)},
    'Conv2DTranspose': {**_IMAGES, 'groups': 1,
                        **_none('kernel_regularizer', 'kernel_constraint', *_REGULARIZED)},
    'DepthwiseConv2D': {**_IMAGES, 'groups': 1, **_none('depthwise_regularizer',
                                                        'depthwise_constraint', *_REGULARIZED)},
    'SeparableConv2D': {**_IMAGES, 'groups': 1, 'kernel_initializer': UNUSED, **_none(
        'kernel_regularizer', 'kernel_constraint', 'depthwise_regularizer',
        'depthwise_constraint', 'pointwise_regularizer', 'pointwise_constraint', *_REGULARIZED)},
    'Dense': _none('kernel_regularizer', 'kernel_constraint', *_REGULARIZED),
    'MaxPooling2D': _IMAGES, 'AveragePooling2D': _IMAGES, 'Flatten': _IMAGES,
    'GlobalAveragePooling2D': _IMAGES, 'GlobalMaxPooling2D': _IMAGES,
    'ZeroPadding2D': _IMAGES, 'Cropping2D': _IMAGES, 'UpSampling2D': _IMAGES,
    'Dropout': _DROPOUT, 'SpatialDropout2D': _DROPOUT,
    'GaussianNoise': {'seed': None}, 'GaussianDropout': {'seed': None},
    'BatchNormalization': _none('beta_regularizer', 'gamma_regularizer', 'beta_constraint',
                                'gamma_constraint'),
    'PReLU': _none('alpha_regularizer', 'alpha_constraint'),
}

# minicnn's own options, left out at their default so that Keras can read the file.
MINICNN_ONLY = {'BatchNormalization': {'beta_lr_multiplier': 1.0}}

DTYPE = 'float32'  # minicnn computes in float32 only


# -- minicnn -> Keras ---------------------------------------------------------------

def keras_type_name(layer):
    """The class name Keras gives a layer: 'Functional' for a functional model."""
    return 'Functional' if type(layer) is model_class('Model') else type(layer).__name__


def layer_to_keras(layer):
    """{'class_name', 'config'} of one layer as Keras writes it; of a model, Keras's
    ``model_config``."""
    if isinstance(layer, model_class('Sequential')):
        return {'class_name': 'Sequential', 'config': _sequential_to_keras(layer)}
    if isinstance(layer, model_class('Model')):
        return {'class_name': 'Functional', 'config': _functional_to_keras(layer)}
    class_name = type(layer).__name__
    config = layer.get_config()
    config.pop('input_shape', None)  # only an InputLayer carries the shape
    if isinstance(layer, InputLayer):
        config = {'batch_input_shape': [None, *layer.sample_shape], 'name': layer.name}
    for key, default in MINICNN_ONLY.get(class_name, {}).items():
        if config.get(key) == default:
            del config[key]
    for key in config:
        if key.endswith('_initializer'):
            config[key] = {'module': 'keras.initializers',
                           **initializers.serialize(initializers.get(config[key])),
                           'registered_name': None}
    extras = {'dtype': DTYPE, **KERAS_ONLY.get(class_name, {})}
    return {'class_name': class_name, 'config': {
        **config, **{k: v for k, v in extras.items() if k not in config and v != UNUSED}}}


def keras_layers(model):
    """The model's layers in the order Keras lists them (``model.layers``), the order
    in which Keras matches an HDF5 file's layers and names a .keras file's groups.

    A Sequential model's are in order. A functional model's: each call's depth
    is its longest distance (in calls) from an output, a layer's the largest
    of its calls'; layers come deepest first (the inputs), and among equals
    in the order in which a depth-first walk from the outputs, each call's
    inputs in order, first meets them. (minicnn's ``model.layers`` follow its
    own graph walk, which can differ where the graph branches.)
    """
    if isinstance(model, model_class('Sequential')):
        return list(model.layers)
    if model.subclassed:  # its tracked layers, in the order set, as Keras lists them
        return list(model.layers)

    def inputs_of(t):
        return list(t.inputs) if isinstance(t.inputs, (list, tuple)) else \
            [] if t.inputs == () else [t.inputs]
    met, seen, stack = {}, set(), list(reversed(model.outputs))
    while stack:
        t = stack.pop()
        if id(t) not in seen:
            seen.add(id(t))
            met.setdefault(id(t.layer), len(met))
            stack.extend(reversed(inputs_of(t)))
    call_depth, layer_depth = {}, {}
    for t in reversed(model.nodes):  # model.nodes: each call after its inputs
        depth = max(call_depth.get(id(t), 0), layer_depth.get(id(t.layer), 0))
        call_depth[id(t)] = layer_depth[id(t.layer)] = depth
        for source in inputs_of(t):
            call_depth[id(source)] = max(call_depth.get(id(source), 0), depth + 1)
    return sorted(model.layers, key=lambda layer: (-layer_depth[id(layer)], met[id(layer)]))


def _sequential_to_keras(model):
    """The layers, after an InputLayer named as Keras names it: '<first layer>_input'."""
    first_name = model.layers[0].name if model.layers else model.name
    inputs = InputLayer(input_shape=model.sample_shape, name=f'{first_name}_input')
    return {'name': model.name, 'trainable': model.trainable,
            'layers': [layer_to_keras(layer) for layer in (inputs, *model.layers)]}


def _functional_to_keras(model):
    """The layers, each with the calls that feed it, and the model's ends."""
    where = {}  # id(SymbolicTensor) -> [layer name, node index, 0]
    calls = {id(layer): 0 for layer in model.layers}
    inbound = {id(layer): [] for layer in model.layers}
    for t in model.nodes:
        index = calls[id(t.layer)] + first_node_index(t.layer)
        calls[id(t.layer)] += 1
        where[id(t)] = [t.layer.name, index, 0]
        if t.inputs != ():  # an Input's tensor is made by no call
            inputs = t.inputs if isinstance(t.inputs, (list, tuple)) else [t.inputs]
            inbound[id(t.layer)].append([[*where[id(i)], {}] for i in inputs])
    layers = [{**layer_to_keras(layer), 'name': layer.name, 'inbound_nodes': inbound[id(layer)]}
              for layer in keras_layers(model)]
    return {'name': model.name, 'trainable': model.trainable, 'layers': layers,
            'input_layers': [where[id(t)] for t in model.inputs],
            'output_layers': [where[id(t)] for t in model.outputs]}


def zero_initializers(spec):
    """``spec`` with every initializer, of nested layers too, replaced by 'zeros'.

    A file holds the weights, so the initializers need not (and for a
    hand-written function cannot) be rebuilt: zeros are cheapest.
    """
    if isinstance(spec, dict):
        return {k: 'zeros' if k.endswith('_initializer') else zero_initializers(v)
                for k, v in spec.items()}
    if isinstance(spec, list):
        return [zero_initializers(v) for v in spec]
    return spec


def first_node_index(layer):
    """1 for a nested model, whose first node Keras leaves out of the count; else 0."""
    return 1 if isinstance(layer, model_class('Model')) else 0


def training_config(model):
    """Keras's ``training_config`` of a compiled model."""
    optimizer = model.optimizer
    return {'loss': losses.serialize(model.loss),
            'metrics': [metric_names.serialize(m) for m in model.compiled_metrics] or None,
            'weighted_metrics': None, 'loss_weights': None,
            'optimizer_config': {
                'class_name': type(optimizer).__name__,
                # Keras 2's optimizers refuse weight_decay=None, an option they lack
                'config': {k: v for k, v in optimizer.get_config().items() if v is not None}}}


# -- Keras -> minicnn ---------------------------------------------------------------

def layer_from_keras(spec):
    """The minicnn layer of one {'class_name', 'config'} entry (new weights); the
    model of Keras's ``model_config``."""
    if 'module' in spec:
        raise KerasConfigError(
            "model_config: this .h5 file was written by Keras 3, whose model_config in an "
            "HDF5 file minicnn does not read; save the model with Keras 3 as .keras, which "
            "minicnn.models.load_model reads, or build it in minicnn and call load_weights")
    class_name, config = spec['class_name'], spec['config']
    if class_name == 'Sequential':
        return _sequential_from_keras(config)
    if class_name in ('Functional', 'Model'):
        return _functional_from_keras(config)
    classes = Layer.subclasses()
    if class_name not in classes:
        raise KerasConfigError(f"model_config: layer '{config.get('name')}' is a Keras "
                               f"{class_name}, which minicnn does not have")
    return layer_classes.from_config(class_name, _minicnn_layer_config(classes[class_name],
                                                                       class_name, config))


def _minicnn_layer_config(cls, class_name, config):
    """A Keras layer config as the minicnn constructor's keywords; raises for
    an option minicnn lacks that is set to anything but its neutral value."""
    config = dict(config)
    if 'batch_input_shape' in config:
        config['input_shape'] = config.pop('batch_input_shape')[1:]
    accepted = constructor_keywords(cls)
    neutral = {'dtype': DTYPE, **KERAS_ONLY.get(class_name, {})}
    for key in [k for k in config if k in neutral and k not in accepted]:
        value = config.pop(key)
        if value is not None and value != neutral[key] and neutral[key] != UNUSED:
            raise KerasConfigError(f"model_config: layer '{config.get('name')}' ({class_name}) "
                                   f"has {key}={value!r}, which minicnn does not implement "
                                   f"(only {neutral[key]!r})")
    if isinstance(config.get('axis'), list) and len(config['axis']) == 1:
        config['axis'] = config['axis'][0]  # BatchNormalization once built keeps [axis]
    return config


def _sequential_from_keras(config):
    if isinstance(config, list):  # Keras <= 2.2 wrote the list of layers alone
        config = {'layers': config}
    return model_class('Sequential')([layer_from_keras(spec) for spec in config['layers']],
                      name=config.get('name'), trainable=config.get('trainable', True))


def _functional_from_keras(config):
    """Make the layers, then the calls, each once the tensors it takes exist."""
    layers = {spec['name']: layer_from_keras(spec) for spec in config['layers']}
    made = {(name, 0): layer.output for name, layer in layers.items()
            if isinstance(layer, InputLayer)}
    pending = [(spec['name'], k + first_node_index(layers[spec['name']]), node)
               for spec in config['layers'] for k, node in enumerate(spec['inbound_nodes'])]
    while pending:
        ready = [call for call in pending if all(_address(i) in made for i in call[2])]
        if not ready:
            raise KerasConfigError(f"model_config: the calls of layers "
                                   f"{sorted({name for name, _, _ in pending})} take tensors "
                                   f"that no call makes")
        for name, index, node in ready:
            inputs = [made[_address(i)] for i in node]
            made[(name, index)] = layers[name](inputs[0] if len(inputs) == 1 else inputs)
        pending = [call for call in pending if call not in ready]
    inputs = [made[_address(i)] for i in _ends(config['input_layers'])]
    outputs = [made[_address(i)] for i in _ends(config['output_layers'])]
    return model_class('Model')(inputs[0] if len(inputs) == 1 else inputs,
                 outputs[0] if len(outputs) == 1 else outputs,
                 name=config.get('name'), trainable=config.get('trainable', True))


def _ends(entries):
    """input_layers / output_layers as a list of [name, node, tensor] (one may stand alone)."""
    return [entries] if isinstance(entries[0], str) else entries


def _address(entry):
    """(layer name, node index) of one tensor reference [name, node, tensor, kwargs]."""
    name, node, tensor, *kwargs = entry
    unknown = {k for kw in kwargs for k in kw if k != 'training'}  # training: minicnn decides
    if tensor != 0 or unknown:
        raise KerasConfigError(f"model_config: a call takes output {tensor} of layer '{name}' "
                               f"with keywords {sorted(unknown)}; minicnn's layers have one "
                               f"output and take no call keywords")
    return name, node


# Optimizer options of Keras that do not change the steps minicnn takes;
# any other option minicnn lacks must be off (None or False).
_OPTIMIZER_INERT = {'jit_compile', 'is_legacy_optimizer', 'ema_momentum',
                    'ema_overwrite_frequency'}


def compile_from_keras(model, config):
    """``model.compile`` with what Keras's ``training_config`` says."""
    model.compile(optimizer=_optimizer_from_keras(config['optimizer_config']),
                  loss=_loss_from_keras(config.get('loss')),
                  metrics=_metrics_from_keras(config.get('metrics')))


def _optimizer_from_keras(spec):
    name = spec['class_name'].split('>')[-1]  # Keras 2.11+ writes 'Custom>Adam'
    if name.lower() not in optimizers.OPTIMIZERS:
        raise KerasConfigError(f'training_config: the optimizer {name} is not in minicnn '
                               f'(it has {sorted(optimizers.OPTIMIZERS)}); load with '
                               f'compile=False and compile again')
    cls = optimizers.OPTIMIZERS[name.lower()]
    config = {}
    for key, value in spec['config'].items():
        if key in cls.keyword_names():
            config[key] = value
        elif key not in _OPTIMIZER_INERT and value not in (None, False):
            raise KerasConfigError(f'training_config: the optimizer has {key}={value!r}, which '
                                   f'minicnn does not implement; load with compile=False and '
                                   f'compile again')
    return cls.from_config(config)


def _loss_from_keras(loss):
    """A loss name, or Keras's {'class_name', 'config'} less its own reduction and axis."""
    if isinstance(loss, dict) and 'class_name' in loss:
        config = {k: v for k, v in loss.get('config', {}).items()
                  if (k, v) not in (('reduction', 'auto'), ('reduction', 'sum_over_batch_size'),
                                    ('axis', -1))}
        loss = {'class_name': loss['class_name'], 'config': config}
    try:
        return losses.get(loss)
    except (TypeError, ValueError) as err:
        raise KerasConfigError(f'training_config: loss {loss!r}: {err}') from err


def _metrics_from_keras(metrics):
    """The metrics minicnn has among Keras's (names, or objects, possibly nested
    in lists); the others are left out with a warning."""
    found, todo = [], list(metrics or [])
    while todo:
        m = todo.pop(0)
        if isinstance(m, list):
            todo[:0] = m
        elif isinstance(m, dict) and m.get('class_name') == 'MeanMetricWrapper':
            found.append(m['config']['name'])  # a function's metric: its name says which
        elif isinstance(m, dict):
            found.append({'class_name': m['class_name'],
                          'config': {k: v for k, v in m['config'].items() if k != 'dtype'}})
        else:
            found.append(m)
    kept = [m for m in found if _is_metric(m)]
    if len(kept) < len(found):
        warnings.warn(f'training_config: minicnn has none of the metrics '
                      f'{[m for m in found if m not in kept]}; they are left out')
    return kept or None


def _is_metric(identifier):
    try:
        metric_names.get(identifier)
    except (TypeError, ValueError):
        return False
    return True
