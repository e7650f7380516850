"""Regularizers as Keras users write them: on a layer's kernel, bias or outputs,
the penalty added to the loss fit minimizes and reports, and to evaluate's
loss (Keras's compute_loss adds model.losses in train and test steps alike)."""
import numpy as np
import pytest

from minicnn import Tensor, regularizers, training
from minicnn.layers import Dense, Flatten
from minicnn.layers.base import Layer
from minicnn.models import Sequential, load_model
from minicnn.optimizers import SGD


def value(t):
    return float(t.data) if isinstance(t, Tensor) else float(t)


def test_keras_documented_penalties():
    """From keras.regularizers.Regularizer's docstring."""
    assert value(regularizers.L2(2.0)(Tensor(np.ones((5, 5))))) == 50.0
    layer = Dense(5, input_dim=5, kernel_initializer='ones',
                  kernel_regularizer=regularizers.L1(0.01),
                  activity_regularizer=regularizers.L2(0.01))
    layer(np.ones((5, 5)) * 2.0)
    # the kernel's 0.25, and the outputs' 0.01 * 25 * 10^2 divided by the batch size 5
    assert sum(value(p) for p in layer.losses) == pytest.approx(5.25)


def test_names_and_default_factors():
    assert regularizers.get('l1').get_config() == {'l1': 0.01}
    assert regularizers.get('l2').get_config() == {'l2': 0.01}
    assert regularizers.get('l1_l2').get_config() == {'l1': 0.01, 'l2': 0.01}
    assert regularizers.l1_l2().get_config() == {'l1': 0.01, 'l2': 0.01}
    assert regularizers.L1L2().get_config() == {'l1': 0.0, 'l2': 0.0}  # the class: no penalty
    assert regularizers.L1L2(l2=0.1).get_config() == {'l1': 0.0, 'l2': 0.1}
    assert regularizers.l2 is regularizers.L2 and regularizers.get(None) is None
    x = Tensor(np.array([[1.0, -2.0], [3.0, -4.0]]))
    assert value(regularizers.l1_l2(l1=0.1, l2=0.2)(x)) == pytest.approx(0.1 * 10 + 0.2 * 30)


def test_a_regularizer_round_trips_through_serialize():
    for r in (regularizers.L1(0.3), regularizers.L2(0.5), regularizers.L1L2(0.1, 0.2)):
        twin = regularizers.get(regularizers.serialize(r))
        assert type(twin) is type(r) and twin.get_config() == r.get_config()


def test_bad_regularizers_are_named():
    with pytest.raises(ValueError, match=r'L2: l2 must be a non-negative number, got l2=-0.1'):
        regularizers.L2(-0.1)
    with pytest.raises(TypeError, match=r"L2\(\) got an unknown keyword argument 'l_2'; did you "
                                        r"mean 'l2'\?"):
        regularizers.L2(l_2=0.1)
    with pytest.raises(ValueError, match=r"unknown regularizer 'l3'.*\['L1', 'L1L2'"):
        regularizers.get('l3')
    with pytest.raises(TypeError, match="did you mean 'kernel_regularizer'"):
        Dense(3, kernel_regulariser='l2')


def regression(kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None):
    model = Sequential([Dense(2, input_shape=(3,), kernel_initializer='glorot_uniform',
                              bias_initializer='ones', kernel_regularizer=kernel_regularizer,
                              bias_regularizer=bias_regularizer,
                              activity_regularizer=activity_regularizer)])
    model.compile(SGD(learning_rate=0.0), 'mse')
    return model


def data(rng, n=12):
    return rng.standard_normal((n, 3)).astype('f4'), rng.standard_normal((n, 2)).astype('f4')


def test_the_penalty_is_in_fit_s_and_evaluate_s_loss(rng):
    x, y = data(rng)
    model = regression(kernel_regularizer=regularizers.L2(0.1), bias_regularizer='l1')
    kernel, bias = model.get_weights()
    mse = ((model.predict(x) - y) ** 2).mean()
    penalty = 0.1 * (kernel ** 2).sum() + 0.01 * np.abs(bias).sum()
    history = model.fit(x, y, batch_size=5, epochs=1, verbose=0)
    assert history.history['loss'][0] == pytest.approx(mse + penalty, rel=1e-5)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(mse + penalty, rel=1e-5)
    assert sum(value(p) for p in model.losses) == pytest.approx(penalty, rel=1e-6)


def test_the_penalty_s_gradient_is_in_the_step(rng):
    """d(l2 * sum k^2)/dk = 2 l2 k: one SGD step moves the kernel by -lr 2 l2 k more."""
    x, y = data(rng)
    plain, regularized = regression(), regression(kernel_regularizer=regularizers.L2(0.05))
    regularized.set_weights(plain.get_weights())
    kernel = plain.get_weights()[0]
    for model in (plain, regularized):
        model.compile(SGD(learning_rate=0.1), 'mse')
        model.fit(x, y, batch_size=12, epochs=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(regularized.get_weights()[0] - plain.get_weights()[0],
                               -0.1 * 2 * 0.05 * kernel, rtol=1e-4, atol=1e-7)


def test_the_activity_penalty_is_divided_by_the_batch_size(rng):
    x, y = data(rng, n=8)
    model = regression(activity_regularizer=regularizers.L2(0.2))
    outputs = model.predict(x)
    expected = ((outputs - y) ** 2).mean() + 0.2 * (outputs ** 2).sum() / 8
    assert model.evaluate(x, y, batch_size=8, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_a_final_softmax_with_an_activity_penalty_is_still_fused_exactly(rng):
    x, y = rng.standard_normal((6, 3)).astype('f4'), rng.integers(0, 4, 6)
    model = Sequential([Dense(4, activation='softmax', input_shape=(3,),
                              activity_regularizer=regularizers.L1(0.3))])
    model.compile(SGD(0.0), 'sparse_categorical_crossentropy')
    assert training.fuses_softmax(model)
    p = model.predict(x).astype(np.float64)
    expected = -np.log(p[np.arange(6), y]).mean() + 0.3 * np.abs(p).sum() / 6
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_a_frozen_layer_s_weights_are_not_penalized(rng):
    model = regression(kernel_regularizer=regularizers.L2(1.0))
    model.layers[0].trainable = False
    assert model.losses == []


def test_regularizers_are_saved_with_the_model(rng, tmp_path):
    x, y = data(rng)
    model = regression(kernel_regularizer=regularizers.L1L2(0.1, 0.2),
                       activity_regularizer='l2')
    model.save(tmp_path / 'm.minicnn')
    loaded = load_model(tmp_path / 'm.minicnn')
    assert loaded.layers[0].get_config()['kernel_regularizer'] == \
        {'class_name': 'L1L2', 'config': {'l1': 0.1, 'l2': 0.2}}
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))


class ConstantPenalty(Layer):
    """A custom layer with a penalty of its own: its ``losses``, the interface fit reads."""

    def forward(self, x, training):
        return x

    @property
    def losses(self):
        return [Tensor(np.asarray(0.5, dtype='f4'))]


def test_a_custom_layer_s_losses_are_added_as_keras_adds_add_loss(rng):
    x, y = data(rng)
    model = Sequential([Dense(2, input_shape=(3,)), ConstantPenalty(), Flatten()])
    model.compile(SGD(0.0), 'mse')
    mse = ((model.predict(x) - y) ** 2).mean()
    assert model.evaluate(x, y, verbose=0) == pytest.approx(mse + 0.5, rel=1e-5)
