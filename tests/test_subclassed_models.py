"""Models written as Keras tutorials write them today: ``class Net(keras.Model)``
with its layers made in ``__init__`` and a ``call(self, inputs, training=None)``,
trained with compile and fit; and a custom Layer holding layers of its own."""
import numpy as np
import pytest

import minicnn
from minicnn import layers, models, optimizers
from minicnn.missing import MissingFeatureError
from minicnn.models import Model


class Recorder(layers.Layer):
    """Passes its input through and records the ``training`` it was called with."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, inputs, training=None):
        self.seen.append(training)
        return inputs


class SmallCNN(minicnn.Model):
    def __init__(self, classes=3, **kwargs):
        super().__init__(**kwargs)
        self.conv = layers.Conv2D(6, 3, padding='same', use_bias=False)
        self.bn = layers.BatchNormalization()
        self.pool_and_flatten = [layers.MaxPooling2D(), layers.Flatten()]
        self.dropout = layers.Dropout(0.3)
        self.recorder = Recorder()
        self.head = layers.Dense(classes, activation='softmax')

    def call(self, inputs, training=None):
        x = layers.Activation('relu')(self.bn(self.conv(inputs), training=training))
        for layer in self.pool_and_flatten:
            x = layer(x)
        return self.head(self.recorder(self.dropout(x)))  # no training given: inherited


def cifar_like(n=48, seed=0):
    """Random 8x8 colour images whose class is the brightest channel: learnable."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.uniform(0, 0.5, (n, 8, 8, 3)).astype('float32')
    x[np.arange(n), :, :, y] += 0.5
    return x, y


def test_a_subclassed_cnn_trains_evaluates_and_predicts():
    minicnn.utils.set_seed(0)
    x, y = cifar_like()
    model = SmallCNN()
    model.compile(optimizers.Adam(0.01), 'sparse_categorical_crossentropy', ['accuracy'])
    history = model.fit(x, y, batch_size=8, epochs=6, verbose=0)
    assert history.history['loss'][-1] < 0.6 * history.history['loss'][0]
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert accuracy >= 0.9
    predicted = model.predict(x)
    assert predicted.shape == (48, 3)
    assert (predicted.argmax(1) == y).mean() == pytest.approx(accuracy)
    # its weights, in the order its layers were set, BatchNormalization's statistics included
    assert [w.name.split('/')[-1] for w in model.weights] == [
        'kernel', 'gamma', 'beta', 'moving_mean', 'moving_variance', 'kernel', 'bias']
    assert len(model.trainable_weights) == 5 and len(model.layers) == 7


def test_training_reaches_the_layers_from_fit_evaluate_predict_and_by_hand():
    x, y = cifar_like(8)
    model = SmallCNN()
    model.compile('sgd', 'sparse_categorical_crossentropy')
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert model.recorder.seen == [True, True]
    model.recorder.seen.clear()
    model.evaluate(x, y, verbose=0)
    model.predict(x)
    assert model.recorder.seen == [False, False]
    model.recorder.seen.clear()
    model(x, training=True)
    model(x)
    assert model.recorder.seen == [True, False]
    # Dropout and BatchNormalization see it: training changes the outputs
    assert not np.allclose(model(x, training=True).data, model(x, training=False).data)
    np.testing.assert_array_equal(model(x).data, model.predict(x))


def test_summary_after_the_first_call_and_a_clear_error_before():
    model = SmallCNN(name='small')
    with pytest.raises(ValueError, match="subclassed model 'small' is not built yet.*build"):
        model.summary()
    with pytest.raises(ValueError, match='not built yet'):
        model.load_weights('never-read.npz')
    model.build((None, 8, 8, 3))
    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    assert 'Model: "small"' in text and 'multiple' in text  # Keras 2's output shape column
    total = 6 * 27 + 4 * 6 + (16 * 6 * 3 + 3)
    assert f'Total params: {total:,}' in text and 'Non-trainable params: 12' in text
    assert model.input_shape == (None, 8, 8, 3) and model.output_shape == (None, 3)


@pytest.mark.parametrize('name', ['weights.npz', 'weights.h5'])
def test_weights_go_to_a_file_and_back_exactly(tmp_path, name):
    x, y = cifar_like(16)
    model = SmallCNN()
    model.compile('adam', 'sparse_categorical_crossentropy')
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save_weights(tmp_path / name)
    again = SmallCNN()
    again(x[:2])  # built first, as Keras 2 requires
    again.load_weights(tmp_path / name)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.predict(x), again.predict(x))


@pytest.mark.parametrize('name', ['model.h5', 'model.keras', 'model.minicnn'])
def test_whole_model_files_and_configs_are_refused(tmp_path, name):
    model = SmallCNN()
    model.build((None, 8, 8, 3))
    with pytest.raises(NotImplementedError, match='subclassed model.*save_weights'):
        model.save(tmp_path / name)
    assert not (tmp_path / name).exists()
    with pytest.raises(NotImplementedError, match='get_config: .*subclassed'):
        model.to_json()


class Block(layers.Layer):
    """Keras's custom layer with inner layers: two Dense layers and a scale of its own."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.inner = {'first': layers.Dense(units, activation='relu'),
                      'second': layers.Dense(units)}

    def build(self, input_shape):
        self.scale = self.add_weight('scale', (1,), initializer='ones')

    def call(self, inputs):
        return self.scale * self.inner['second'](self.inner['first'](inputs))


class Nested(models.Model):  # minicnn.models.Model, a Block and a functional model inside
    def __init__(self):
        super().__init__()
        inputs = layers.Input(shape=(4,))
        self.encoder = models.Model(inputs, layers.Dense(4, name='enc')(inputs))
        self.block = Block(3)
        self.out = layers.Dense(1)

    def call(self, inputs):
        return self.out(self.block(self.encoder(inputs)))


def test_weights_are_tracked_through_dicts_custom_layers_and_nested_models():
    model = Nested()
    x, y = np.random.default_rng(0).normal(size=(16, 4)).astype('f4'), np.ones((16, 1), 'f4')
    model.compile(optimizers.SGD(0.05), 'mse')
    before = model.get_weights()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    names = [w.name for w in model.weights]
    # Keras's order: each layer's in turn; a layer with sublayers its own weights first
    assert names[:2] == ['enc/kernel', 'enc/bias'] and names[2].endswith('/scale')
    assert len(names) == 2 + 1 + 4 + 2
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    model.block.trainable = False  # freezing a layer freezes the layers inside it
    assert len(model.trainable_weights) == 4 and len(model.block.non_trainable_weights) == 5


def test_mistakes_of_subclassing_are_named():
    class Forgot(minicnn.Model):
        def __init__(self):
            self.dense = layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    with pytest.raises(RuntimeError, match=r'call super\(\).__init__\(\).*dense'):
        Forgot()
    model = SmallCNN()
    with pytest.raises(AttributeError, match='layers is read-only'):
        model.layers = []
    with pytest.raises(AttributeError, match='model.input: .*subclassed model'):
        model.input
    with pytest.raises(NotImplementedError, match='export: .*graph of layer calls'):
        model.export('never-written.onnx')
    with pytest.raises(NotImplementedError, match='Input.. placeholders'):
        model(layers.Input(shape=(8, 8, 3)))


def test_a_layer_with_sublayers_lists_trainable_weights_first_as_keras_does():
    class Normalized(layers.Layer):
        def __init__(self):
            super().__init__()
            self.parts = [layers.BatchNormalization(), layers.Dense(2)]

        def build(self, input_shape):
            self.scale = self.add_weight('scale', (1,), initializer='ones')

        def call(self, inputs, training=None):
            return self.scale * self.parts[1](self.parts[0](inputs, training=training))

    layer = Normalized()
    layer(np.ones((2, 3), 'f4'))
    assert [w.name.split('/')[-1] for w in layer.weights] == [
        'scale', 'gamma', 'beta', 'kernel', 'bias', 'moving_mean', 'moving_variance']


def test_a_subclassed_model_of_two_outputs_is_refused_by_fit_with_a_reason():
    class TwoHeads(minicnn.Model):
        def __init__(self):
            super().__init__()
            self.heads = (layers.Dense(2), layers.Dense(1))

        def call(self, inputs):
            return [head(inputs) for head in self.heads]

    model = TwoHeads()
    model.compile('sgd', 'mse')
    with pytest.raises(NotImplementedError, match='returns a list of 2 outputs'):
        model.fit(np.ones((4, 3), 'f4'), np.ones((4, 2), 'f4'), verbose=0)
    assert [p.shape for p in model.predict(np.ones((4, 3), 'f4'))] == [(4, 2), (4, 1)]


def test_a_call_that_takes_a_list_of_inputs_gets_x_as_given():
    class Pair(minicnn.Model):
        def __init__(self):
            super().__init__()
            self.join = layers.Concatenate()
            self.out = layers.Dense(1)

        def call(self, inputs):
            first, second = inputs
            return self.out(self.join([first, second]))

    model = Pair()
    model.compile(optimizers.SGD(0.1), 'mse')
    x, y = [np.ones((6, 2), 'f4'), np.zeros((6, 3), 'f4')], np.ones((6, 1), 'f4')
    history = model.fit(x, y, batch_size=3, epochs=3, verbose=0)
    assert history.history['loss'][-1] < history.history['loss'][0]
    assert model.predict(x).shape == (6, 1) and model.input_shape == [(None, 2), (None, 3)]
    with pytest.raises(ValueError, match=r'x\[1\] has 5 samples but x\[0\] has 6'):
        model.fit([x[0], x[1][:5]], y, verbose=0)


def test_a_custom_train_step_is_refused_when_the_class_is_made():
    # Keras runs a subclass's train_step inside fit; minicnn's fit would ignore it.
    with pytest.raises(MissingFeatureError, match=r'CustomLoop overrides train_step, test_step'):
        class CustomLoop(Model):
            def call(self, inputs):
                return inputs

            def train_step(self, data):
                return {}

            def test_step(self, data):
                return {}


class BuiltByHand(minicnn.Model):
    """A subclass whose build ends as Keras tutorials end theirs."""

    def __init__(self):
        super().__init__()
        self.head = layers.Dense(2)

    def build(self, input_shape):
        self.seen_shape = input_shape
        self.built = True

    def call(self, inputs):
        return self.head(inputs)


def test_a_build_that_says_built_true_trains_and_a_model_cannot_be_unbuilt():
    model = BuiltByHand()
    assert not model.built
    out = model.predict(np.ones((3, 4), np.float32), verbose=0)
    assert out.shape == (3, 2) and model.built and model.seen_shape == (None, 4)
    with pytest.raises(ValueError, match='cannot unbuild'):
        model.built = False


def test_a_model_built_or_not_reads_its_input_shape():
    sequential = models.Sequential([layers.Dense(2)])
    assert not sequential.built and sequential.activation_name == 'linear'
    sequential.add(layers.Dense(3, activation='softmax'))
    sequential.build((None, 5))
    assert sequential.built and sequential.activation_name == 'softmax'
