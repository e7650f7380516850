"""Sequential: a stack of layers with the Keras model API.

    model = Sequential([Conv2D(32, 3, activation='relu', input_shape=(32, 32, 3)), ...])
    model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
    history = model.fit(x, y, batch_size=128, epochs=10, validation_split=0.1)

The training loop itself lives in minicnn/training.py.
"""
import numpy as np

from minicnn import backend, layers, losses, optimizers, saving, training
from minicnn import metrics as metric_names
from minicnn.arguments import keywords_checked
from minicnn.autograd import as_tensor
from minicnn.fileio import atomic_write
from minicnn.layers.base import Layer, unique_name


class Sequential:
    """A stack of layers. ``sample_shape`` is the shape of one input sample (no
    batch axis); ``input_shape`` and ``output_shape`` are Keras's, batch axis None."""

    @keywords_checked
    def __init__(self, layers=None, name=None):
        self.name = name or unique_name('sequential')
        self.layers = []
        self.sample_shape = None
        self.optimizer = self.loss = self.metric = None
        self.stop_training = False   # set by a callback (or Ctrl-C) to end fit early
        self.interrupted = False     # set by Ctrl-C in a `minicnn train` run
        self.epochs_done = 0  # complete epochs trained, what a checkpoint resumes from
        self.history = None
        self.saved_history = {}  # the history stored in the file this model was loaded from
        self.trained_input_max = None  # the largest |x| fit has seen (see check_input_scale)
        self.warned_input_scale = False
        for layer in ([] if layers is None else [layers] if isinstance(layers, Layer) else layers):
            self.add(layer)

    # -- building --------------------------------------------------------

    def add(self, layer):
        if not isinstance(layer, Layer):
            raise TypeError(f'Sequential.add: expected a minicnn layer, got {type(layer).__name__}')
        self.layers.append(layer)
        if len(self.layers) == 1 and layer.sample_shape is not None:
            self.sample_shape = layer.sample_shape
        if self.sample_shape is not None:
            self.build(self.sample_shape)

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

    @property
    def built(self):
        return self.sample_shape is not None

    @property
    def input_shape(self):
        """(None, *shape of one sample), as Keras reports it."""
        self._require_built('input_shape')
        return (None, *self.sample_shape)

    @property
    def output_shape(self):
        """(None, *shape of one output), as Keras reports it."""
        self._require_built('output_shape')
        shape = self.sample_shape
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return (None, *shape)

    def _require_built(self, what):
        if not self.built:
            raise ValueError(f'{what}: the model is not built yet; give the first layer an '
                             f'input_shape, call build(input_shape), or call it on data first')

    # -- running ---------------------------------------------------------

    def __call__(self, x, training=False):
        """Run every layer: (N, *sample_shape) -> (N, *output shape)."""
        z, last = self.logits(x, training), self.layers[-1]
        return z if last.activation is None else last.activation(z)

    def logits(self, x, training=False):
        """Every layer, the last one without its activation: for a classifier
        ending in softmax, the logits z with softmax(z) = model(x)."""
        x = as_tensor(x)
        if not self.built:
            self.build(x.shape[1:])
        *body, last = self.layers
        for layer in body:
            x = layer(x, training)
        return last.pre_activation(x, training)

    @keywords_checked
    def compile(self, optimizer='rmsprop', loss=None, metrics=None):
        """Choose the optimizer (name or instance), loss (name) and metrics (['accuracy'])."""
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses.get(loss)
        names = [metric_names.get(m) for m in (metrics or [])]
        if len(names) > 1:
            raise ValueError(f'compile: minicnn tracks one metric, got metrics={metrics!r}')
        self.metric = names[0] if names else None

    # workers, use_multiprocessing and max_queue_size choose how Keras loads
    # batches in the background; they cannot change a result, and minicnn
    # loads every batch in the training thread, so they are accepted and unused.
    @keywords_checked
    def fit(self, x, y=None, batch_size=32, epochs=1, verbose=1, callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None,
            max_queue_size=10, workers=1, use_multiprocessing=False):
        """Train; returns a History whose ``history`` dict holds each epoch's metrics.

        x: arrays (with y), a Sequence, an iterable of batches or an iterator
        (see minicnn.training); class_weight {class id: weight} or
        sample_weight (N,) weight each sample's loss, as in Keras.
        """
        return training.fit(self, x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                            callbacks=callbacks, validation_split=validation_split,
                            validation_data=validation_data, shuffle=shuffle,
                            class_weight=class_weight, sample_weight=sample_weight,
                            initial_epoch=initial_epoch, steps_per_epoch=steps_per_epoch)

    fit_generator = fit

    @keywords_checked
    def evaluate(self, x, y=None, batch_size=32, verbose=1, sample_weight=None,
                 max_queue_size=10, workers=1, use_multiprocessing=False):
        """[loss, accuracy] on (x, y), or the loss alone without metrics;
        sample_weight (N,) weights each sample's loss, as in fit."""
        return training.evaluate(self, x, y, batch_size=batch_size, verbose=verbose,
                                 sample_weight=sample_weight)

    @keywords_checked
    def predict(self, x, batch_size=32, verbose=0, max_queue_size=10, workers=1,
                use_multiprocessing=False):
        """The model's outputs for x as a NumPy array (no graph, dropout off)."""
        return training.predict(self, x, batch_size=batch_size, verbose=verbose)

    # -- weights ---------------------------------------------------------

    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self):
        return [w for layer in self.layers if layer.trainable for w in layer.weights]

    def count_params(self):
        return sum(layer.count_params() for layer in self.layers)

    def get_weights(self):
        """Copies of every weight as NumPy arrays, in Keras order (each layer's
        kernel, then bias): later training does not change them."""
        return [array for layer in self.layers for array in layer.get_weights()]

    def set_weights(self, arrays):
        """Copy arrays, in get_weights() order, into the weights; shapes must match."""
        arrays = list(arrays)
        counts = [len(layer.weights) for layer in self.layers]
        if len(arrays) != sum(counts):
            raise ValueError(f'set_weights: the model has {sum(counts)} weight arrays, '
                             f'got {len(arrays)}')
        for layer, start in zip(self.layers, np.cumsum([0, *counts[:-1]])):
            layer.set_weights(arrays[start:start + len(layer.weights)])

    def save_weights(self, path):
        """Write the weights to a .npz file (atomically)."""
        saving.refuse_hdf5(path, 'save_weights')
        with atomic_write(path) as f:
            np.savez(f, *self.get_weights())

    def load_weights(self, path):
        """Load weights saved by save_weights, or those of a whole-model file."""
        saving.refuse_hdf5(path, 'load_weights')
        with np.load(path) as data:
            if 'meta' in data.files:
                arrays = saving.weights_of(saving.read_model_file(path)[1])
            else:
                arrays = [data[f'arr_{i}'] for i in range(len(data.files))]
        self.set_weights(arrays)

    def save(self, path):
        """One file with architecture, weights, optimizer state, epoch and generator state."""
        history = self.history.history if self.history is not None else {}
        saving.save_model(self, path, epoch=self.epochs_done, history=dict(history))

    def to(self, device):
        """Move the weights to 'cpu' or 'gpu' (optimizer slots follow at the next step)."""
        for w in self.weights:
            w.data = backend.to_device(w.data, device)
        return self

    # -- summary ---------------------------------------------------------

    def summary(self, print_fn=print):
        """Print a Keras-style table of layers, output shapes and parameter counts."""
        self._require_built('summary')
        rule, widths = '_' * 65, (29, 26, 10)

        def row(*cells):
            # a long name pushes the next column right rather than being cut off
            return ''.join((str(c) + ' ').ljust(w) for c, w in zip(cells, widths)).rstrip()

        lines = [f'Model: "{self.name}"', rule, row('Layer (type)', 'Output Shape', 'Param #'),
                 '=' * 65]
        shape = self.sample_shape
        for i, layer in enumerate(self.layers):
            shape = layer.compute_output_shape(shape)
            lines.append(row(f'{layer.name} ({type(layer).__name__})', (None, *shape),
                             layer.count_params()))
            lines.append('=' * 65 if i == len(self.layers) - 1 else rule)
        trainable = sum(w.size for w in self.trainable_weights)
        total = self.count_params()
        lines += [f'Total params: {total:,}', f'Trainable params: {trainable:,}',
                  f'Non-trainable params: {total - trainable:,}', rule]
        print_fn('\n'.join(lines))


def _zero_initializers(config):
    """The file holds the weights, so the initializers need not (and for a
    hand-written function cannot) be rebuilt: zeros are cheapest."""
    return {k: 'zeros' if k.endswith('_initializer') else v for k, v in config.items()}


@keywords_checked
def load_model(path, compile=True):
    """Rebuild the model saved at ``path`` (see minicnn/saving.py), with its
    weights and optimizer state.

    Also restores the random generator, so training continues exactly as if
    it had not stopped. ``model.epochs_done`` tells where to resume
    (``fit(..., initial_epoch=model.epochs_done)``).
    """
    saving.refuse_hdf5(path, 'load_model')
    meta, arrays = saving.read_model_file(path)
    model = Sequential([layers.from_config(spec['class_name'], _zero_initializers(spec['config']))
                        for spec in meta['layers']], name=meta['name'])
    model.build(meta['input_shape'])
    model.set_weights(saving.weights_of(arrays))
    if compile and meta['optimizer'] is not None:
        optimizer = optimizers.OPTIMIZERS[meta['optimizer']['class_name'].lower()]
        model.compile(optimizer.from_config(meta['optimizer']['config']), meta['loss'],
                      [meta['metric']] if meta['metric'] else None)
        model.optimizer.set_state({name.split('/', 1)[1]: value for name, value in arrays.items()
                                   if name.startswith('optimizer/')}, model.weights)
    model.epochs_done = meta['epoch'] or 0
    model.saved_history = meta['history']
    backend.set_rng_state(meta['rng_state'])
    return model
