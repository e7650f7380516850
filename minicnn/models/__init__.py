"""Models: Sequential (a stack of layers) and the functional Model (a graph).

    model = Sequential([Conv2D(32, 3, activation='relu', input_shape=(32, 32, 3)), ...])

    inputs = Input(shape=(32, 32, 3))
    h = Conv2D(32, 3, padding='same', activation='relu')(inputs)
    outputs = Dense(10, activation='softmax')(Flatten()(Add()([h, inputs])))
    model = Model(inputs, outputs)

    model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
    history = model.fit(x, y, batch_size=128, epochs=10, validation_split=0.1)

A functional model's graph is the autograd graph's idea one level up: each
SymbolicTensor remembers the layer call that made it (as each Tensor
remembers its creator Function), and the model runs those calls in
topological order. Running it on data then records, call by call, the
autograd graph of the layers' Functions, through which ``backward`` flows.

A model of several inputs or outputs takes its data as lists or dicts by
name, a loss and metrics per output (minicnn/training/inputs_outputs.py). A subclass of
Model with a ``call`` method is Keras's subclassed model, whose graph is
its Python code (minicnn/models/subclassing.py).

Every kind shares everything else, in the class Model: compile, fit,
evaluate, predict, summary, weights and saving (the loop itself is in
minicnn/training/). A model is a Layer too, so one can be a layer of
another (``model.add(conv_base)``), and ``conv_base.trainable = False``
freezes everything inside it.
"""
import collections
import json
import sys


from minicnn import devices, missing, optimizers, saving, training
from minicnn import layers as layer_classes
from minicnn.arguments import keywords_checked
from minicnn.autograd import as_tensor, depth_first
from minicnn.interchange.keras_config import keras_type_name
from minicnn.layers.base import (Layer, SymbolicTensor, inferred_output_shape, is_symbolic,
                                 resolve_training, with_batch_axis)
from minicnn.layers.input_layer import InputLayer
from minicnn.models import subclassing
from minicnn.training import inputs_outputs


# Keras's hooks for a custom training loop inside fit, which minicnn's loop does not call.
CUSTOM_STEPS = ('train_step', 'test_step', 'predict_step', 'compute_loss', 'compute_metrics')


@layer_classes.register_model_class
class Model(Layer):
    """A functional model, ``Model(inputs, outputs)``, and the base of Sequential.

    ``inputs`` and ``outputs`` are SymbolicTensors (or lists of them) from
    ``Input`` and the layer calls that lead from them to the outputs.
    """

    @keywords_checked
    def __init__(self, inputs=None, outputs=None, name=None, trainable=True):
        self._start(name, trainable)
        if inputs is None and outputs is None and hasattr(type(self), 'call'):
            self.subclassed = True  # Keras's subclassed model: see minicnn/models/subclassing.py
            self.inputs = self.outputs = None  # none until it is called, as in Keras 2
            self.single_input = self.single_output = True
            self.sample_shape = None
            return
        self._connect(inputs, outputs)

    def __init_subclass__(cls, **kwargs):
        # A subclass's call() makes a subclassed model (above), not a layer
        # written with call, which Layer would adapt (keras_style_subclass).
        if 'call' not in vars(cls):
            super().__init_subclass__(**kwargs)
        # fit, evaluate and predict run minicnn's own steps: a custom one would
        # be ignored without a word, so it is refused when the class is made.
        custom_steps = [name for name in CUSTOM_STEPS if name in vars(cls)]
        if custom_steps:
            raise missing.MissingFeatureError(
                f'{cls.__name__} overrides {", ".join(custom_steps)}: minicnn\'s fit, evaluate '
                f'and predict run their own steps and cannot call a custom one; write the '
                f'loop yourself with the model, its loss and its optimizer (see docs/tour/06)')

    def _start(self, name, trainable):
        """What every model starts with, Sequential included: no layers, not compiled."""
        Layer.__init__(self, name=name, trainable=trainable)
        self._layers = []
        self.optimizer = self.loss = None
        self.compiled_metrics = []   # the Metrics of compile(metrics=...), in their order
        self.metric_slots = []       # each as (metric, output index or None, weighted)
        self.stop_training = False   # set by a callback (or Ctrl-C) to end fit early
        self.epochs_done = 0  # complete epochs trained, what a checkpoint resumes from
        self.history = None

    # -- the graph ---------------------------------------------------------

    def _connect(self, inputs, outputs):
        if inputs is None or outputs is None:
            raise ValueError('Model: give inputs and outputs, e.g. Model(inputs, outputs) with '
                             'inputs = Input(shape=...), or subclass Model with a call() method')
        self.inputs = _as_list('inputs', inputs)
        self.outputs = _as_list('outputs', outputs)
        self.single_input, self.single_output = not isinstance(inputs, (list, tuple)), \
            not isinstance(outputs, (list, tuple))
        self.nodes = graph_order(self.outputs)
        starts = [t for t in self.nodes if t.inputs == ()]
        missing = [t.layer.name for t in starts if all(t is not i for i in self.inputs)]
        if missing:
            raise ValueError(f'Model: the outputs depend on the Input(s) {missing}, which are '
                             f'not among the inputs')
        self.layers = list({id(t.layer): t.layer for t in self.nodes}.values())
        self.sample_shape = _unwrap(self.single_input, [t.shape[1:] for t in self.inputs])
        self.read_once = read_once(self.nodes, self.outputs)

    def __call__(self, x, training=None):
        """Run the graph on data: (N, *input shape) -> (N, *output shape);
        lists for several inputs or outputs. On SymbolicTensors, record the call."""
        if is_symbolic(x):
            if self.subclassed:
                raise NotImplementedError(
                    f"model '{self.name}' is a subclassed model: calling it on Input() "
                    f"placeholders to make a functional model is not implemented in minicnn; "
                    f"call it on arrays")
            return self.call_symbolic(x)
        return self._run(x, training, logits=False)

    @property
    def layers(self):
        """The model's layers; a subclassed model's are those set as its attributes."""
        return self.sublayers() if self.subclassed else self._layers

    @layers.setter
    def layers(self, value):
        if self.subclassed:
            raise AttributeError(f"model '{self.name}': layers is read-only on a subclassed "
                                 f"model (Keras's too); give the attribute another name")
        self._layers = value

    def logits(self, x, training=False):
        """The output before the last layer's activation (see Sequential.logits)."""
        return self._run(x, training, logits=True)

    def _run(self, x, training, logits):
        if self.subclassed:  # no separate logits: fit computes its loss from the outputs
            return subclassing.run(self, x, training)
        training = resolve_training(training)
        xs = inputs_outputs.in_order(x, self.input_names, 'x', f"model '{self.name}'") \
            if isinstance(x, dict) else [x] if self.single_input else list(x)
        if len(xs) != len(self.inputs):
            raise ValueError(f"model '{self.name}' takes {len(self.inputs)} inputs, got {len(xs)}")
        values = {id(t): as_tensor(v) for t, v in zip(self.inputs, xs)}
        for t in self.nodes:
            if id(t) in values:
                continue
            args = [values[id(i)] for i in t.inputs] if isinstance(t.inputs, (list, tuple)) \
                else values[id(t.inputs)]
            last = logits and t is self.outputs[0]
            owned = id(t.inputs) in self.read_once  # a list of inputs is never in it
            values[id(t)] = t.layer.pre_activation(args, training) if last else \
                t.layer.call_owning(args, training, owns_input=owned)
        return _unwrap(self.single_output, [values[id(t)] for t in self.outputs])

    def pre_activation(self, x, training=None):
        """As a layer of another model: its logits (so a final softmax can be fused)."""
        return self.logits(x, training)

    def forward(self, x, training):
        return self._run(x, training, logits=False)

    @property
    def activation_name(self):
        """The activation the model's output ends in (its last layer's)."""
        if self.subclassed:  # its call may end anywhere
            return 'linear'
        return self.layers[-1].activation_name if self.layers else 'linear'

    def build(self, input_shape):
        """A functional model is built when it is made; a subclassed one by
        calling it once on zeros of Keras's ``input_shape`` (batch axis first)."""
        if self.subclassed:
            subclassing.build(self, input_shape)

    build.keras_default = True  # a subclassed model's first call need not run it

    # Its own graph's ends, as in Keras (not those of its calls as a layer of
    # another model): what Keras's backend functions start from.
    @property
    def input(self):
        """The model's Input placeholder (a list of them for several inputs)."""
        self._require_graph('model.input')
        return _unwrap(self.single_input, self.inputs)

    @property
    def output(self):
        """The SymbolicTensor of the model's output (a list for several outputs)."""
        self._require_graph('model.output')
        return _unwrap(self.single_output, self.outputs)

    def _require_graph(self, where, error=AttributeError):
        """Refuse, for a subclassed model, what needs the graph of layer calls."""
        if self.subclassed:
            raise error(f"{where}: model '{self.name}' is a subclassed model, whose call() is "
                        f"Python code rather than a graph of layer calls, which {where} needs")

    def compute_output_shape(self, input_shape):
        if self.subclassed:  # found by running the model, as Keras does
            return inferred_output_shape(self, input_shape)
        return _unwrap(self.single_output, [t.shape[1:] for t in self.outputs])

    @property
    def input_names(self):
        """The names of the Input layers, the keys of a dict x (Keras 2's ``input_names``)."""
        return None if self.subclassed else [t.layer.name for t in self.inputs]

    @property
    def output_names(self):
        """The names of the output layers, the keys of dict y, losses and metrics
        (a subclassed model's one output is 'output_1', as in Keras 2)."""
        return ['output_1'] if self.subclassed else [t.layer.name for t in self.outputs]

    @property
    def has_many_parts(self):
        """Whether the model takes lists: several inputs or outputs, or Model([input],
        [output]) given lists of one."""
        return not (self.single_input and self.single_output)

    subclassed = False  # a subclass with call() (see SubclassedModel) says True

    @property
    def built(self):
        """A model is built once it knows its input shape."""
        return self.sample_shape is not None

    @built.setter
    def built(self, value):
        # A subclass's own build() may end as Keras's do, ``self.built = True``:
        # true once minicnn records the input shape, which follows that build.
        if not value:
            raise ValueError(f"model '{self.name}': built = False cannot unbuild a model; "
                             f"make a new one (or clone_model(model))")

    def _require_built(self, what):
        if not self.built and self.subclassed:
            raise ValueError(f"{what}: the subclassed model '{self.name}' is not built yet; "
                             f"build it first by calling it on a batch of data, by fit, or "
                             f"with build(input_shape)")
        if not self.built:
            raise ValueError(f'{what}: the model is not built yet; give the first layer an '
                             f'input_shape, call build(input_shape), or call it on data first')

    @property
    def input_shape(self):
        self._require_built('input_shape')
        return with_batch_axis(self.sample_shape)

    @property
    def output_shape(self):
        self._require_built('output_shape')
        return with_batch_axis(self.compute_output_shape(self.sample_shape))

    # -- weights -------------------------------------------------------------

    @property
    def weights(self):
        """Every layer's weights, each once (a layer may be called twice)."""
        return _unique(w for layer in self.layers for w in layer.weights)

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return _unique(w for layer in self.layers for w in layer.trainable_weights)

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Freeze or unfreeze every layer inside, as Keras does."""
        self._trainable = bool(value)
        for layer in getattr(self, 'layers', []):
            layer.trainable = value

    def get_layer(self, name=None, index=None):
        """The layer called ``name``, or at position ``index`` of ``layers``."""
        if (name is None) == (index is None):
            raise ValueError('get_layer: give exactly one of name and index')
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f'get_layer: index {index} is out of range for '
                                 f'{len(self.layers)} layers')
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f'get_layer: no layer named {name!r}; the layers are '
                         f'{[layer.name for layer in self.layers]}')

    # -- compile, fit, evaluate, predict ---------------------------------------

    @keywords_checked
    def compile(self, optimizer='rmsprop', loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None):
        """Choose the optimizer (name or instance), the loss (a name such as
        'categorical_crossentropy', a Loss or a function) and the metrics (a list
        of names such as 'accuracy' or 'auc', Metrics or functions); the metrics in
        ``weighted_metrics`` see fit's sample weights, the others do not.

        With several outputs (see minicnn/training/inputs_outputs.py): one loss for all, a list
        or a dict by output name; loss_weights lambda_k (a list or dict) give the
        total loss sum_k lambda_k L_k; metrics one list for all outputs, a list of
        lists or a dict by output name.
        """
        self.optimizer = optimizers.get(optimizer)
        names = self.output_names
        outputs = inputs_outputs.compile_outputs(names, loss, loss_weights, metrics,
                                                 weighted_metrics)
        if len(outputs) > 1 or not self.single_output:  # outputs as a list: y too
            self.loss = inputs_outputs.TotalLoss(outputs)
            self.metric_slots = inputs_outputs.metric_slots(outputs)
        else:
            if outputs[0].weight != 1.0:
                raise ValueError(f'compile: loss_weights={loss_weights!r} for a model of one '
                                 f'output would only scale its loss; minicnn takes loss_weights '
                                 f'for models of several outputs')
            self.loss = outputs[0].loss
            self.metric_slots = [(m, None, weighted)
                                 for m, _, weighted in inputs_outputs.metric_slots(outputs)]
        self.compiled_metrics = [m for m, _, _ in self.metric_slots]

    @property
    def metrics_names(self):
        """'loss', then each output's loss (several outputs), then each compiled
        metric's name: the order of evaluate's list, as in Keras 2."""
        parts = inputs_outputs.part_names(self.loss)
        return ['loss', *parts, *(m.name for m in self.compiled_metrics)]

    @property
    def losses(self):
        """Every layer's penalties (Keras's ``model.losses``), which fit adds to the loss."""
        return [penalty for layer in self.layers for penalty in layer.losses]

    # workers, use_multiprocessing and max_queue_size choose how Keras loads
    # batches in the background; they cannot change a result, and minicnn
    # loads every batch in the training thread, so they are accepted and unused.
    @keywords_checked
    def fit(self, x, y=None, batch_size=32, epochs=1, verbose=1, callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            max_queue_size=10, workers=1, use_multiprocessing=False):
        """Train; returns a History whose ``history`` dict holds each epoch's metrics.

        x: arrays (with y), a Sequence, an iterable of batches or an iterator
        (see minicnn.training); class_weight {class id: weight} or
        sample_weight (N,) weight each sample's loss, as in Keras.
        validation_data: (x_val, y_val[, val_sample_weight]) arrays, or batches
        as x takes them, validation_steps of them per epoch.
        """
        return training.fit(self, x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                            callbacks=callbacks, validation_split=validation_split,
                            validation_data=validation_data, shuffle=shuffle,
                            class_weight=class_weight, sample_weight=sample_weight,
                            initial_epoch=initial_epoch, steps_per_epoch=steps_per_epoch,
                            validation_steps=validation_steps)

    fit_generator = fit
    run_eagerly = True  # always: minicnn has no graph mode

    @keywords_checked
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       reset_metrics=True, return_dict=False):
        """One training step on the batch (x, y): its loss (and metrics), as in Keras."""
        return training.on_batch(self, x, y, sample_weight, class_weight, reset_metrics,
                                 return_dict, train=True, where='train_on_batch')

    @keywords_checked
    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True, return_dict=False):
        """The loss (and metrics) on the batch (x, y), without training."""
        return training.on_batch(self, x, y, sample_weight, None, reset_metrics, return_dict,
                                 train=False, where='test_on_batch')

    def predict_on_batch(self, x):
        """The model's outputs for one batch x, as a NumPy array (a list of them
        for several outputs)."""
        return training.predict(self, x, batch_size=sys.maxsize)  # one batch of all of x

    @keywords_checked
    def evaluate(self, x, y=None, batch_size=32, verbose=1, sample_weight=None,
                 max_queue_size=10, workers=1, use_multiprocessing=False, return_dict=False):
        """[loss, *metrics] on (x, y), in ``metrics_names`` order (the loss alone
        without metrics), or {name: value} with return_dict; sample_weight (N,)
        weights each sample's loss, as in fit."""
        return training.evaluate(self, x, y, batch_size=batch_size, verbose=verbose,
                                 sample_weight=sample_weight, return_dict=return_dict)

    @keywords_checked
    def predict(self, x, batch_size=32, verbose=0, max_queue_size=10, workers=1,
                use_multiprocessing=False):
        """The model's outputs for x as a NumPy array (no graph, dropout off)."""
        return training.predict(self, x, batch_size=batch_size, verbose=verbose)

    # -- saving ------------------------------------------------------------------

    def get_config(self):
        """The layers and how they are connected; ``Model.from_config`` rebuilds it."""
        if self.subclassed:
            raise NotImplementedError(
                f"get_config: model '{self.name}' is a subclassed model, whose architecture is "
                f"the Python code of {type(self).__name__}; as in Keras, write get_config (and "
                f"from_config) yourself, or save the weights alone")
        index = {id(t): k for k, t in enumerate(self.nodes)}

        def ids(inputs):
            return [index[id(i)] for i in inputs] if isinstance(inputs, (list, tuple)) \
                else index[id(inputs)]
        return {'name': self.name, 'trainable': self.trainable,
                'layers': [layer_spec(layer) for layer in self.layers],
                # in graph order; an Input's node has no inputs (None)
                'nodes': [{'layer': t.layer.name, 'inputs': ids(t.inputs) if t.inputs != () else None}
                          for t in self.nodes],
                'input_nodes': [index[id(t)] for t in self.inputs],
                'output_nodes': [index[id(t)] for t in self.outputs],
                'single_input': self.single_input, 'single_output': self.single_output}

    @classmethod
    def from_config(cls, config):
        by_name = {spec['config']['name']: layer_from_spec(spec) for spec in config['layers']}
        tensors = []  # the graph's SymbolicTensors again, replayed in the saved order
        for node in config['nodes']:
            layer, ids = by_name[node['layer']], node['inputs']
            if ids is None:
                tensors.append(layer.output)
            else:
                tensors.append(layer([tensors[i] for i in ids] if isinstance(ids, list)
                                     else tensors[ids]))
        inputs = [tensors[i] for i in config['input_nodes']]
        outputs = [tensors[i] for i in config['output_nodes']]
        return cls(_unwrap(config['single_input'], inputs), _unwrap(config['single_output'], outputs),
                   name=config['name'], trainable=config['trainable'])

    def to_json(self, **json_kwargs):
        """The architecture (no weights) as JSON text; ``model_from_json`` rebuilds it."""
        return json.dumps(layer_spec(self), **json_kwargs)

    # File input and output is minicnn.saving's: these methods are its seam.

    def save_weights(self, path):
        """Write the weights (atomically): in Keras's HDF5 layout for a .h5 or
        .hdf5 name (minicnn/interchange/hdf5.py), else as a NumPy .npz archive."""
        saving.save_weights(self, path)

    def load_weights(self, path, by_name=False, skip_mismatch=False):
        """Load weights saved by save_weights, or those of a whole-model file
        (see ``minicnn.saving.load_weights``: by_name and skip_mismatch are
        for HDF5 files). A subclassed model must be built first (Keras 2's rule)."""
        self._require_built('load_weights')
        saving.load_weights(self, path, by_name, skip_mismatch)

    def save(self, path):
        """One file with architecture, weights, optimizer state, epoch and generator
        state; for a .h5 or .hdf5 name, Keras's HDF5 model file instead, and for a
        .keras name Keras 3's zip file: both hold architecture, weights and
        compile arguments (no optimizer state)."""
        if self.subclassed:
            subclassing.refuse_whole_model_file(self, 'save')
        history = self.history.history if self.history is not None else {}
        saving.save(self, path, epoch=self.epochs_done, history=dict(history))

    def export(self, path, format='onnx'):
        """Write the model for inference elsewhere; format 'onnx' (Keras 3's name)
        is an ONNX graph, NHWC float32 batches of any size in, what predict
        returns out (see minicnn/interchange/onnx_export.py)."""
        self._require_graph('export', NotImplementedError)
        from minicnn.interchange import onnx_export  # imported here: it loads onnx
        if format != 'onnx':
            raise ValueError(f"export: format {format!r} is not implemented; minicnn exports "
                             f"format='onnx'")
        onnx_export.export(self, path)

    def to(self, device):
        """Move the weights to 'cpu' or 'gpu' (optimizer slots follow at the next step)."""
        for w in self.weights:
            w.data = devices.to_device(w.data, device)
        return self

    # -- summary -------------------------------------------------------------------

    @keywords_checked
    def summary(self, line_length=None, print_fn=print, expand_nested=False):
        """Print a Keras-style table of layers, output shapes and parameter counts.

        A functional model's table also says what each layer is connected to;
        a model used as a layer is one row, or its own rows with expand_nested.
        """
        self._require_built('summary')
        columns = self._summary_columns()
        width = line_length or sum(w for _, w in columns)
        scale = width / sum(w for _, w in columns)
        widths = [int(w * scale) for _, w in columns]

        def row(*cells):
            # a long name pushes the next column right rather than being cut off
            return ''.join((str(c) + ' ').ljust(w) for c, w in zip(cells, widths)).rstrip()

        lines = [f'Model: "{self.name}"', '_' * width, row(*(name for name, _ in columns)),
                 '=' * width]
        rows = list(self._summary_rows(expand_nested))
        for i, cells in enumerate(rows):
            lines.append(row(*cells))
            lines.append('=' * width if i == len(rows) - 1 else '_' * width)
        trainable = sum(w.size for w in self.trainable_weights)
        total = self.count_params()
        lines += [f'Total params: {total:,}', f'Trainable params: {trainable:,}',
                  f'Non-trainable params: {total - trainable:,}', '_' * width]
        print_fn('\n'.join(lines))

    def _summary_columns(self):
        if self.subclassed:
            return [('Layer (type)', 29), ('Output Shape', 26), ('Param #', 10)]
        return [('Layer (type)', 29), ('Output Shape', 26), ('Param #', 10), ('Connected to', 33)]

    def _summary_rows(self, expand_nested, prefix=''):
        if self.subclassed:
            yield from subclassing.summary_rows(self, prefix)
            return
        callers = {}
        for t in self.nodes:
            if t.inputs != ():
                inputs = t.inputs if isinstance(t.inputs, (list, tuple)) else [t.inputs]
                callers.setdefault(id(t.layer), []).extend(i.layer.name for i in inputs)
        for t in self.nodes:
            shape = [t.shape] if isinstance(t.layer, InputLayer) else t.shape
            yield from _layer_rows(t.layer, shape, expand_nested, prefix,
                                   [', '.join(callers.get(id(t.layer), []))])


@layer_classes.register_model_class
class Sequential(Model):
    """A stack of layers, each one's output the next one's input.

    ``sample_shape`` is the shape of one input sample (no batch axis); it is
    known once the first layer has an ``input_shape`` (or the model is
    built, or called on data).
    """

    @keywords_checked
    def __init__(self, layers=None, name=None, trainable=True):
        self._start(name, trainable)
        self.single_input = self.single_output = True
        self.nodes = []  # the graph traced from its input once its shape is known (see _trace)
        for layer in ([] if layers is None else layers if isinstance(layers, (list, tuple))
                      else [layers]):
            self.add(layer)

    # -- building --------------------------------------------------------

    def add(self, layer):
        """Append a layer (or a model); an Input or InputLayer first gives the input shape."""
        if isinstance(layer, SymbolicTensor) and isinstance(layer.layer, InputLayer):
            layer = layer.layer
        if isinstance(layer, InputLayer):
            if self.layers or self.sample_shape is not None:
                raise ValueError('Sequential.add: an Input or InputLayer must come first')
            self.sample_shape = layer.sample_shape
            return
        if not isinstance(layer, Layer):
            raise TypeError(f'Sequential.add: expected a minicnn layer, got {type(layer).__name__}')
        self.layers.append(layer)
        if len(self.layers) == 1 and layer.sample_shape is not None:
            self.sample_shape = layer.sample_shape
        if self.sample_shape is not None:
            self.build(self.sample_shape)

    def pop(self):
        """Remove the last layer (Keras's ``Sequential.pop``) and return it."""
        if not self.layers:
            raise ValueError('Sequential.pop: the model has no layers')
        layer = self.layers.pop()
        self._trace()
        return layer

    def build(self, input_shape):
        """Create every layer's weights for inputs of ``input_shape``: the shape
        of one sample, or Keras's form with the batch axis first as None."""
        shape = tuple(input_shape)
        if shape and shape[0] is None:
            shape = shape[1:]
        self.sample_shape = shape
        for layer in self.layers:
            if not layer.built:
                layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self._trace()

    def _trace(self):
        """Call the layers on an Input placeholder, as Keras does once a
        Sequential model knows its input shape: that gives ``model.input``,
        ``model.output`` and each layer's ``input`` and ``output``. The calls
        of an earlier trace (before a layer was added or popped) are undone."""
        for t in self.nodes:
            t.layer.calls = [c for c in t.layer.calls if c is not t]
        self.nodes = []
        if self.sample_shape is None or not self.layers:
            return
        x = InputLayer(input_shape=self.sample_shape, name=f'{self.layers[0].name}_input').output
        self.nodes.append(x)
        for layer in self.layers:
            x = layer(x)
            self.nodes.append(x)

    @property
    def inputs(self):
        return self._traced('inputs')[:1]

    @property
    def outputs(self):
        return self._traced('outputs')[-1:]

    def _traced(self, what):
        if not self.nodes:
            raise AttributeError(f"Sequential model '{self.name}' has no {what} yet: give its "
                                 f"first layer an input_shape, or build or call it, first")
        return self.nodes

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return shape

    has_many_parts = False  # a stack of layers has one input and one output

    @property
    def output_names(self):
        """The name of the last layer, which makes the output."""
        return [self.layers[-1].name] if self.layers else ['output']

    # -- running ---------------------------------------------------------

    def __call__(self, x, training=None):
        """Run every layer: (N, *sample_shape) -> (N, *output shape)."""
        if is_symbolic(x):
            return self.call_symbolic(x)
        z, last = self.logits(x, training), self.layers[-1]
        return z if last.activation is None else last.activation(z)

    def logits(self, x, training=False):
        """Every layer, the last one without its activation: for a classifier
        ending in softmax, the logits z with softmax(z) = model(x)."""
        x = as_tensor(x)
        if not self.built:
            self.build(x.shape[1:])
        *body, last = self.layers
        for layer, before in zip(body, [None, *body]):
            # The output of one of minicnn's layers is read by the next alone.
            owned = type(before).__module__.startswith('minicnn.layers')
            x = layer.call_owning(x, training, owns_input=owned)
        return last.pre_activation(x, training)

    def forward(self, x, training):
        return self(x, training)

    # -- saving and summary ----------------------------------------------

    def get_config(self):
        config = {'name': self.name, 'trainable': self.trainable,
                  'layers': [layer_spec(layer) for layer in self.layers]}
        if self.sample_shape is not None:
            config['input_shape'] = list(self.sample_shape)
        return config

    @classmethod
    def from_config(cls, config):
        model = cls([layer_from_spec(spec) for spec in config['layers']], name=config['name'],
                    trainable=config.get('trainable', True))
        if 'input_shape' in config:
            model.build(config['input_shape'])
        return model

    def _summary_columns(self):
        return [('Layer (type)', 29), ('Output Shape', 26), ('Param #', 10)]

    def _summary_rows(self, expand_nested, prefix=''):
        shape = self.sample_shape
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
            yield from _layer_rows(layer, with_batch_axis(shape), expand_nested, prefix, [])


# -- helpers of the graph, the summary and saving ---------------------------------

def graph_order(outputs):
    """Every SymbolicTensor the outputs depend on, each after its inputs."""
    return depth_first(outputs, lambda t: t.inputs if isinstance(t.inputs, (list, tuple))
                       else [t.inputs])


def read_once(nodes, outputs):
    """The ids of the graph's tensors that one layer call reads and nothing
    else does (not an output of the model), made by one of minicnn's own
    layers (not an Input, whose value comes from outside): the calls that
    read them own them (see Layer.call_owning)."""
    readers = collections.Counter(id(i) for t in nodes
                                  for i in (t.inputs if isinstance(t.inputs, (list, tuple))
                                            else [t.inputs]))
    return {id(t) for t in nodes if readers[id(t)] == 1 and t.inputs != ()
            and all(t is not o for o in outputs)
            and type(t.layer).__module__.startswith('minicnn.layers')}


def _as_list(what, tensors):
    tensors = list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]
    if not tensors or not all(isinstance(t, SymbolicTensor) for t in tensors):
        raise TypeError(f'Model: {what} must be SymbolicTensors from Input() and layer calls '
                        f'(or lists of them), got {tensors!r}')
    return tensors


def _unwrap(single, items):
    return items[0] if single else items


def _unique(weights):
    seen, out = set(), []
    for w in weights:
        if id(w) not in seen:
            seen.add(id(w))
            out.append(w)
    return out


def _layer_rows(layer, shape, expand_nested, prefix, extra):
    """The summary rows of one layer: one row, or a nested model's own rows."""
    yield [f'{prefix}{layer.name} ({keras_type_name(layer)})', shape, layer.count_params(),
           *extra]
    if expand_nested and isinstance(layer, Model):
        yield from layer._summary_rows(expand_nested, prefix + '  ')


def layer_spec(layer):
    return {'class_name': type(layer).__name__, 'config': layer.get_config()}


def layer_from_spec(spec):
    """A layer (or model) rebuilt from ``layer_spec``'s output, with new weights."""
    return layer_classes.from_config(spec['class_name'], spec['config'])


def model_from_json(json_string):
    """A model rebuilt from ``model.to_json()``: its layers, fresh weights."""
    spec = json.loads(json_string)
    if spec.get('class_name') not in ('Sequential', 'Model'):
        raise ValueError(f"model_from_json: expected the JSON of a Sequential or Model, got "
                         f"class_name {spec.get('class_name')!r}")
    return layer_from_spec(spec)


@keywords_checked
def load_model(path, compile=True):
    """Rebuild the model saved at ``path`` with its weights and optimizer
    state (minicnn's file), or from Keras's HDF5 model file (.h5): see
    ``minicnn.saving.load_model``.

    Also restores the random generator, so training continues exactly as if
    it had not stopped. ``model.epochs_done`` tells where to resume
    (``fit(..., initial_epoch=model.epochs_done)``).
    """
    return saving.load_model(path, compile=compile)


@keywords_checked
def save_model(model, filepath):
    """``model.save(filepath)``, Keras's function form."""
    model.save(filepath)


def model_from_config(config):
    """A model (new weights) from ``{'class_name': ..., 'config': model.get_config()}``."""
    return layer_from_spec(config)


@keywords_checked
def clone_model(model, input_tensors=None, clone_function=None):
    """A new model of the same layers and connections, with new weights (as in
    Keras: ``clone.set_weights(model.get_weights())`` copies them over)."""
    for name, value in (('input_tensors', input_tensors), ('clone_function', clone_function)):
        if value is not None:
            raise TypeError(f'clone_model: {name} is a Keras argument that minicnn does not '
                            f'implement; rebuild the model by hand instead')
    return layer_from_spec(layer_spec(model))


missing.install(globals(), 'models')
missing.install_members(Model, 'Model')
