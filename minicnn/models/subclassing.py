"""A model written as a subclass, Keras's most common form today:

    class Net(minicnn.Model):
        def __init__(self):
            super().__init__()
            self.conv = layers.Conv2D(32, 3, activation='relu')
            self.flatten = layers.Flatten()
            self.dropout = layers.Dropout(0.5)
            self.head = layers.Dense(10, activation='softmax')

        def call(self, inputs, training=None):
            x = self.flatten(self.conv(inputs))
            return self.head(self.dropout(x, training=training))

There is no graph of layer calls to walk: the model is its ``call``, run
as Python each time. Its layers are those set as its attributes (Keras's
tracking, ``Layer.__setattr__`` in minicnn/layers/base.py), and so are its
weights. It is built by its first call (or ``build(input_shape)``, which
calls it once on a batch of zeros), which fixes its input shape.

``training`` reaches the layers two ways, as in Keras: passed by hand
(``self.dropout(x, training=training)``), or, for a layer called without it,
taken from the call around it (fit runs the model with training=True,
evaluate and predict with False).

The class Model (minicnn/models/__init__.py) keeps compile, fit, evaluate and predict
for it too, and turns here for what differs. Whole-model files need the
architecture as a config, which a subclass's Python code is not: they are
refused, as Keras 2 refuses them for HDF5; save_weights and load_weights work.
"""
from minicnn.arguments import keyword_names
from minicnn.autograd import as_tensor, no_grad
from minicnn.interchange.keras_config import keras_type_name
from minicnn.layers.base import resolve_training, shapes_of, training_scope, zeros_batch


def as_inputs(x):
    """x as Tensors: one, or a list of them for a call that takes several."""
    return [as_tensor(t) for t in x] if isinstance(x, (list, tuple)) else as_tensor(x)


def run(model, x, training):
    """model(x): the model's call on Tensors, built on first use."""
    training = resolve_training(training)
    x = as_inputs(x)
    if not model.built:
        first_build(model, shapes_of(x))
    with training_scope(training):
        if 'training' in keyword_names(model.call):
            return model.call(x, training=training)
        return model.call(x)


def first_build(model, sample_shape):
    """Fix the input shape; a subclass's own build (Keras's shapes, batch axis
    first) runs first, as Keras runs it before the first call (Model's own
    build, marked ``keras_default``, is not needed there: the call builds)."""
    if not getattr(type(model).build, 'keras_default', False):
        model.build(keras_shape(sample_shape))
    model.sample_shape = sample_shape


def keras_shape(sample_shape):
    return [(None, *s) for s in sample_shape] if isinstance(sample_shape, list) \
        else (None, *sample_shape)


def sample_shape_of(input_shape):
    """Keras's input_shape (batch axis first) -> one sample's shape (a list for several)."""
    if isinstance(input_shape, list):
        return [sample_shape_of(s) for s in input_shape]
    return tuple(input_shape)[1:]


def build(model, input_shape):
    """Keras's ``model.build((None, *shape))``: create every weight by calling
    the model once, on a batch of one sample of zeros, not training."""
    shape = sample_shape_of(input_shape)
    if model.built:
        return
    model.sample_shape = shape
    with no_grad(), training_scope(False):
        call = model.call
        zeros = zeros_batch(shape)
        call(zeros, training=False) if 'training' in keyword_names(call) else call(zeros)


def summary_rows(model, prefix=''):
    """Keras 2's summary of a subclassed model: each tracked layer, its output
    shape 'multiple' (its calls made no graph to read a shape from), its parameters."""
    for layer in model.layers:
        yield [f'{prefix}{layer.name} ({keras_type_name(layer)})', 'multiple',
               layer.count_params()]


def refuse_whole_model_file(model, where):
    raise NotImplementedError(
        f"{where}: model '{model.name}' is a subclassed model (its architecture is the Python "
        f"code of {type(model).__name__}.call), so it cannot be written as a whole-model "
        f"file, as Keras 2 refuses it for HDF5; save its weights with save_weights (.h5 or "
        f".npz) and load them into a new {type(model).__name__}() after calling it once")

