"""Layers written as Keras users write them: a subclass of Layer with build,
call and compute_output_shape (shapes with the batch axis first), weights
from add_weight; and Lambda layers."""
import numpy as np
import pytest

import minicnn as keras
from minicnn import activations, layers, regularizers, utils


class MyDense(layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.seen_shape = input_shape
        self.w = self.add_weight(name='w', shape=(input_shape[-1], self.units),
                                 initializer='random_normal', trainable=True)
        self.b = self.add_weight(name='b', shape=(self.units,), initializer='zeros',
                                 trainable=True)
        super().build(input_shape)

    def call(self, inputs):
        return inputs @ self.w + self.b

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)


def data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 3)).astype('float32')
    return x, (x @ np.array([[1.0], [-2.0], [0.5]], 'float32'))


def test_a_custom_layer_builds_with_kerass_shapes_and_trains_as_dense_does():
    x, y = data()
    histories = []
    for make in (lambda: MyDense(1), lambda: layers.Dense(1)):
        layer = make()
        model = keras.Sequential([keras.Input(shape=(3,)), layer])
        model.set_weights([np.full((3, 1), 0.1, 'float32'), np.zeros(1, 'float32')])
        model.compile(keras.optimizers.SGD(0.1), 'mse')
        histories.append(model.fit(x, y, batch_size=8, epochs=3, verbose=0,
                                   shuffle=False).history['loss'])
    np.testing.assert_allclose(histories[0], histories[1], rtol=1e-6)
    custom = MyDense(4)
    assert keras.Sequential([keras.Input(shape=(3,)), custom]).output_shape == (None, 4)
    assert custom.seen_shape == (None, 3) and custom.input_shape == (None, 3)


def test_a_weight_made_untrainable_stays_and_a_regularized_one_is_penalized():
    class Offset(layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(name='scale', shape=(input_shape[-1],),
                                         initializer='ones', regularizer=regularizers.l2(0.5))
            self.offset = self.add_weight(name='offset', shape=(input_shape[-1],),
                                          initializer='ones', trainable=False)
            super().build(input_shape)

        def call(self, inputs):
            return inputs * self.scale + self.offset

    layer = Offset()
    model = keras.Sequential([keras.Input(shape=(3,)), layer, layers.Dense(1)])
    assert [w.name for w in layer.trainable_weights] == [layer.scale.name]
    assert [w.name for w in layer.non_trainable_weights] == [layer.offset.name]
    assert float(layer.losses[0].data) == pytest.approx(0.5 * 3)  # 0.5 * sum(1^2)
    model.compile('sgd', 'mse')
    x, y = data()
    model.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(layer.get_weights()[1], np.ones(3))
    assert not np.allclose(layer.get_weights()[0], np.ones(3))


def test_without_compute_output_shape_the_shape_is_found_by_running_call():
    class PairwiseMax(layers.Layer):
        def call(self, inputs):
            return layers.maximum([inputs[:, :, :, :1], inputs[:, :, :, 1:2]])

    model = keras.Sequential([keras.Input(shape=(4, 4, 3)), PairwiseMax(), layers.Flatten()])
    assert model.output_shape == (None, 16)


def test_call_gets_the_training_flag():
    class TrainingOnlyNoise(layers.Layer):
        def call(self, inputs, training=None):
            return inputs + 1.0 if training else inputs

    layer = TrainingOnlyNoise()
    x = np.zeros((2, 3), 'float32')
    assert np.all(layer(x, training=True).data == 1) and np.all(layer(x).data == 0)


def test_a_custom_layer_takes_kerass_layer_arguments():
    layer = MyDense(2, name='mine', input_shape=(3,),
                    weights=[np.ones((3, 2), 'float32'), np.zeros(2, 'float32')])
    model = keras.Sequential([layer])
    assert layer.name == 'mine'
    np.testing.assert_array_equal(model.predict(np.ones((1, 3), 'float32'), verbose=0), [[3, 3]])
    with pytest.raises(TypeError, match="did you mean 'units'"):
        MyDense(unit=3)


def test_lambda_layers_apply_their_function_and_pass_gradients():
    utils.set_random_seed(0)
    inputs = keras.Input(shape=(4,))
    doubled = layers.Lambda(lambda t: t * 2.0)(inputs)
    halves = layers.Lambda(lambda t, k: t[:, :k], arguments={'k': 2})(doubled)
    model = keras.Model(inputs, layers.Dense(1)(halves))
    assert halves.shape == (None, 2)
    x = np.ones((3, 4), 'float32')
    kernel, bias = model.layers[-1].get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0), 2 * x[:, :2] @ kernel + bias,
                               rtol=1e-6)
    model.compile(keras.optimizers.SGD(0.1), 'mse')
    before = model.get_weights()[0].copy()
    model.fit(x, np.zeros((3, 1)), epochs=1, verbose=0)
    assert not np.allclose(model.get_weights()[0], before)  # the gradient went through


def test_lambda_output_shape_given_as_a_shape_or_a_function():
    inputs = keras.Input(shape=(6,))
    given = layers.Lambda(function=activations.relu, output_shape=(6,))(inputs)
    computed = layers.Lambda(lambda t: t[:, :3], output_shape=lambda s: (s[0], 3))(inputs)
    assert given.shape == (None, 6) and computed.shape == (None, 3)


def test_lambda_refuses_masks_and_saving_its_function():
    with pytest.raises(TypeError, match='mask'):
        layers.Lambda(lambda t: t, mask=lambda t, m: m)
    model = keras.Sequential([keras.Input(shape=(2,)), layers.Lambda(lambda t: t * 3)])
    with pytest.raises(NotImplementedError, match='Python function'):
        model.to_json()
