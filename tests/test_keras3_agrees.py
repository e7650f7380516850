"""The same Keras program on real Keras 3 (torch backend, in a subprocess) and on
minicnn, where Keras 3 and Keras 2 agree: the backend's settings, the merge
functions, the Identity initializer, losses as metrics, a custom layer, a
Lambda layer and a learning rate set between steps. Skips without Keras."""
import importlib.util
import textwrap

import numpy as np
import pytest

import minicnn as keras_minicnn
from keras3_runs import flat, run_in_keras3

pytestmark = [pytest.mark.skipif(importlib.util.find_spec('keras') is None,
                                 reason='Keras 3 is not installed'),
              pytest.mark.slow]  # starting Keras 3 and torch takes about 15 s

X = [[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]]
Y = [[0.5, 4.0, -1.0], [2.0, -3.0, 0.0]]
LABELS = [[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]]
PROBS = [[0.2, 0.7, 0.9], [0.6, 0.3, 0.99]]


def program(keras, np):
    """The Keras program, run by both frameworks: returns a dict of results."""
    def as_array(tensor):  # the one line that differs: Keras 3 converts with keras.ops
        return keras.ops.convert_to_numpy(tensor) if hasattr(keras, 'ops') else tensor.numpy()

    K = keras.backend
    out = {'epsilon': K.epsilon(), 'data_format': K.image_data_format(),
           'floatx': K.floatx()}
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(3,))
    x, y = np.array(X, 'float32'), np.array(Y, 'float32')
    for name in ('add', 'subtract', 'multiply', 'average', 'maximum', 'minimum', 'concatenate'):
        merged = getattr(keras.layers, name)([a, b])
        out[name] = as_array(keras.Model([a, b], merged)([x, y])).tolist()
    out['identity'] = np.asarray(keras.initializers.Identity(gain=2.0)((2, 3))).tolist()
    labels, probs = np.array(LABELS, 'float32'), np.array(PROBS, 'float32')
    for name in ('BinaryCrossentropy', 'Hinge', 'SquaredHinge', 'RootMeanSquaredError',
                 'Accuracy'):
        metric = getattr(keras.metrics, name)()
        metric.update_state(labels, probs if name != 'Accuracy' else np.round(probs))
        out[name] = float(metric.result())

    class Antirectifier(keras.layers.Layer):
        def compute_output_shape(self, input_shape):
            return (input_shape[0], 2 * input_shape[1])

        def call(self, inputs):
            centred = inputs - keras.ops.mean(inputs, axis=1, keepdims=True) \
                if hasattr(keras, 'ops') else inputs - inputs.mean(axis=1, keepdims=True)
            return keras.layers.concatenate([keras.activations.relu(centred),
                                             keras.activations.relu(-centred)])

    custom = keras.Sequential([keras.Input(shape=(3,)), Antirectifier(),
                               keras.layers.Lambda(lambda t: t * 2.0)])
    out['custom_shape'] = list(custom.output_shape)
    out['custom'] = np.asarray(custom.predict(x, verbose=0)).tolist()

    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])
    model.set_weights([np.full((3, 2), 0.1, 'float32'), np.zeros(2, 'float32')])
    model.compile(keras.optimizers.SGD(learning_rate=0.5), 'mse')
    model.optimizer.learning_rate.assign(0.01)
    model.fit(x, y[:, :2], batch_size=2, epochs=2, verbose=0, shuffle=False)
    out['lr'] = float(np.asarray(model.optimizer.learning_rate))
    out['weights'] = [np.asarray(w).tolist() for w in model.get_weights()]
    return out


def program_source():
    import inspect
    return textwrap.dedent(inspect.getsource(program))


@pytest.fixture(scope='module')
def keras3():
    return run_in_keras3(f'X, Y = {X!r}, {Y!r}\nLABELS, PROBS = {LABELS!r}, {PROBS!r}\n'
                         f'{program_source()}')


@pytest.fixture(scope='module')
def ours():
    return program(keras_minicnn, np)


@pytest.mark.parametrize('key', ['epsilon', 'data_format', 'floatx', 'add', 'subtract',
                                 'multiply', 'average', 'maximum', 'minimum', 'concatenate',
                                 'identity', 'BinaryCrossentropy', 'Hinge', 'SquaredHinge',
                                 'RootMeanSquaredError', 'Accuracy', 'custom_shape', 'custom',
                                 'lr', 'weights'])
def test_minicnn_gives_what_keras_3_gives(key, keras3, ours):
    if isinstance(keras3[key], str) or key == 'custom_shape':
        assert ours[key] == keras3[key]
    else:
        np.testing.assert_allclose(flat(ours[key]), flat(keras3[key]), rtol=1e-5, atol=1e-6)
