"""The same programs on real Keras 3 (torch backend, in a subprocess) and on
minicnn: a model of two inputs and two outputs trained with a dict of losses and
loss_weights, and a subclassed model with BatchNormalization, each from the
same initial weights through one epoch of SGD on fixed data. Skips without Keras."""
import importlib.util
import inspect
import textwrap

import numpy as np
import pytest

import minicnn as keras_minicnn
from keras3_runs import flat, run_in_keras3

pytestmark = [pytest.mark.skipif(importlib.util.find_spec('keras') is None,
                                 reason='Keras 3 is not installed'),
              pytest.mark.slow]  # starting Keras 3 and torch takes about 15 s


def program(keras, np):
    """The Keras program, run by both frameworks: returns a dict of results."""
    rng = np.random.default_rng(0)
    layers = keras.layers
    n = 12
    image = rng.normal(size=(n, 4)).astype('float32')
    meta = rng.normal(size=(n, 3)).astype('float32')
    label = rng.integers(0, 3, n)
    score = rng.normal(size=(n, 1)).astype('float32')

    a, b = keras.Input(shape=(4,), name='image'), keras.Input(shape=(3,), name='meta')
    h = layers.Concatenate(name='join')([layers.Dense(5, activation='tanh', name='body')(a), b])
    model = keras.Model([a, b], [layers.Dense(3, activation='softmax', name='label')(h),
                                 layers.Dense(1, name='score')(h)])
    for name in ('body', 'label', 'score'):
        layer = model.get_layer(name)
        layer.set_weights([rng.normal(0, 0.5, w.shape).astype('float32')
                           for w in layer.get_weights()])
    model.compile(keras.optimizers.SGD(learning_rate=0.1),
                  loss={'label': 'sparse_categorical_crossentropy', 'score': 'mse'},
                  loss_weights={'label': 1.0, 'score': 0.5},
                  metrics={'label': ['accuracy'], 'score': ['mae']})
    x, y = {'image': image, 'meta': meta}, {'label': label, 'score': score}
    history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    out = {'history': {k: float(v[-1]) for k, v in history.history.items()},
           'evaluate': {k: float(v) for k, v in
                        model.evaluate(x, y, verbose=0, return_dict=True).items()},
           'weights': {name: [np.asarray(w).tolist() for w in model.get_layer(name).get_weights()]
                       for name in ('body', 'label', 'score')},
           'predict': [np.asarray(p).tolist() for p in model.predict([image, meta], verbose=0)]}

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(4, activation='relu')
            self.norm = layers.BatchNormalization()
            self.classes = layers.Dense(3, activation='softmax')

        def call(self, inputs, training=None):
            return self.classes(self.norm(self.hidden(inputs), training=training))

    net = Net()
    net(image[:2])  # builds the layers (Keras 3's net.build((None, 4)) would not; Keras 2's does)
    for layer in (net.hidden, net.norm, net.classes):
        layer.set_weights([rng.normal(0.5, 0.2, w.shape).astype('float32')
                           for w in layer.get_weights()])
    net.compile(keras.optimizers.SGD(learning_rate=0.1), 'sparse_categorical_crossentropy')
    net_history = net.fit(image, label, batch_size=4, epochs=1, shuffle=False, verbose=0)
    out['net_loss'] = float(net_history.history['loss'][-1])
    out['net_weights'] = [np.asarray(w).tolist() for layer in (net.hidden, net.norm, net.classes)
                          for w in layer.get_weights()]
    out['net_predict'] = np.asarray(net.predict(image, verbose=0)).tolist()
    return out


@pytest.fixture(scope='module')
def keras3():
    return run_in_keras3(textwrap.dedent(inspect.getsource(program)))


@pytest.fixture(scope='module')
def ours():
    return program(keras_minicnn, np)


def test_two_inputs_two_outputs_train_as_in_keras_3(keras3, ours):
    # Keras 2's names, which Keras 3 also logs for these
    for key in ('loss', 'label_loss', 'score_loss', 'label_accuracy', 'score_mae'):
        assert ours['history'][key] == pytest.approx(keras3['history'][key], rel=1e-5, abs=1e-6)
        assert ours['evaluate'][key] == pytest.approx(keras3['evaluate'][key], rel=1e-5,
                                                      abs=1e-6)
    evaluate = ours['evaluate']
    assert evaluate['loss'] == pytest.approx(evaluate['label_loss'] + 0.5 * evaluate['score_loss'],
                                             rel=1e-6)
    np.testing.assert_allclose(flat(ours['weights']), flat(keras3['weights']), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(flat(ours['predict']), flat(keras3['predict']), rtol=1e-5,
                               atol=1e-6)


def test_a_subclassed_model_trains_as_in_keras_3(keras3, ours):
    assert ours['net_loss'] == pytest.approx(keras3['net_loss'], rel=1e-5)
    np.testing.assert_allclose(flat(ours['net_weights']), flat(keras3['net_weights']),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(flat(ours['net_predict']), flat(keras3['net_predict']),
                               rtol=1e-5, atol=1e-6)
