"""Keras's backend functions on the Tensors a model computes with: a custom
layer's ``call``, a Lambda, a custom loss. They compute through autograd, so
the layers before them learn; on plain arrays they give arrays."""
import numpy as np
import pytest

from minicnn import backend as K
from minicnn import functional as F
from minicnn import layers
from minicnn.autograd import Tensor
from minicnn.models import Sequential
from minicnn.tools.gradcheck import gradcheck


class Antirectifier(layers.Layer):
    """Keras's example custom layer: centre, L2-normalise, then [relu(x), relu(-x)]."""

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2 * input_shape[1])

    def call(self, inputs):
        inputs -= K.mean(inputs, axis=1, keepdims=True)
        inputs = K.l2_normalize(inputs, axis=1)
        return K.concatenate([K.relu(inputs), K.relu(-inputs)], axis=1)


def antirectify_by_hand(x):
    """The same math in minicnn's own ops."""
    x = x - F.mean(x, (1,), keepdims=True)
    x = x / ((x * x).sum((1,), True) ** 0.5)
    return F.concatenate([F.relu(x), F.relu(-x)], 1)


def data(rng, n=6):
    return rng.standard_normal((n, 5)).astype(np.float32), rng.random((n, 3)).astype(np.float32)


def test_a_custom_layer_written_with_K_passes_the_gradient_to_the_layers_before_it():
    rng = np.random.default_rng(0)
    x, y = data(rng)
    first = layers.Dense(4)
    model = Sequential([layers.Input((5,)), first, Antirectifier(), layers.Dense(3)])
    model.compile(optimizer='sgd', loss='mse')
    kernel = first.get_weights()[0]
    model.train_on_batch(x, y)
    assert not np.allclose(first.get_weights()[0], kernel)


def test_a_layer_written_with_K_has_the_gradient_of_the_same_math_in_minicnns_ops():
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((4, 5)).astype(np.float32))
    w = rng.standard_normal((5, 3)).astype(np.float32)
    grads = []
    for antirectify in (Antirectifier(), antirectify_by_hand):
        kernel = Tensor(w.copy(), requires_grad=True)
        out = antirectify(x @ kernel)
        assert isinstance(out, Tensor) and out.shape == (4, 6)
        (out * Tensor(np.arange(24, dtype=np.float32).reshape(4, 6))).sum().backward()
        grads.append(kernel.grad)
    assert np.abs(grads[0]).max() > 0
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)


def test_a_layer_written_with_K_passes_a_float64_gradient_check():
    x = np.random.default_rng(2).standard_normal((3, 4))
    gradcheck(lambda t: Antirectifier()(t), x)


@pytest.mark.parametrize('function', [
    lambda t: K.sum(K.square(t) * K.sigmoid(t), axis=1),
    lambda t: K.max(K.abs(K.tanh(t)), axis=0, keepdims=True),
    lambda t: K.dot(K.reshape(K.softmax(t), (2, -1)), K.reshape(K.transpose(t), (8, 2))),
    lambda t: K.var(K.exp(t), axis=-1) + K.std(t, axis=1),
])
def test_backend_functions_on_Tensors_pass_a_float64_gradient_check(function):
    gradcheck(function, np.random.default_rng(3).standard_normal((4, 4)))


def test_a_custom_loss_written_with_K_trains_as_mse_does():
    def loss(y_true, y_pred):
        return K.mean(K.square(y_pred - y_true), axis=-1)

    rng = np.random.default_rng(4)
    x, y = data(rng)
    models = []
    for how in (loss, 'mse'):
        model = Sequential([layers.Input((5,)), layers.Dense(3, kernel_initializer='ones')])
        model.compile(optimizer='sgd', loss=how)
        models.append((model, [model.train_on_batch(x, y) for _ in range(3)]))
    (custom, custom_losses), (mse, mse_losses) = models
    np.testing.assert_allclose(custom_losses, mse_losses, rtol=1e-6)
    np.testing.assert_allclose(custom.get_weights()[0], mse.get_weights()[0], rtol=1e-6)
    assert not np.allclose(custom.get_weights()[0], 1)


def test_a_Lambda_of_K_relu_trains_and_predicts():
    rng = np.random.default_rng(5)
    x, y = data(rng)
    first = layers.Dense(4)
    model = Sequential([layers.Input((5,)), first, layers.Lambda(lambda t: K.relu(t)),
                        layers.Dense(3)])
    model.compile(optimizer='sgd', loss='mse')
    kernel = first.get_weights()[0]
    model.train_on_batch(x, y)
    assert not np.allclose(first.get_weights()[0], kernel)
    predicted = model.predict(x, verbose=0)
    assert isinstance(predicted, np.ndarray) and predicted.shape == (6, 3)


def test_predict_through_a_custom_layer_written_with_K():
    x = np.random.default_rng(6).standard_normal((3, 5)).astype(np.float32)
    model = Sequential([layers.Input((5,)), Antirectifier()])
    predicted = model.predict(x, verbose=0)
    np.testing.assert_allclose(predicted, antirectify_by_hand(Tensor(x)).data, rtol=1e-6)


def test_on_arrays_the_backend_functions_still_give_arrays():
    x = np.array([[-1.0, 2.0]], np.float32)
    out = K.relu(x)
    assert isinstance(out, np.ndarray) and out.tolist() == [[0.0, 2.0]]
    assert isinstance(K.argmax(Tensor(x)), Tensor)
