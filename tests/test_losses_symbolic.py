"""Keras's loss functions on symbolic tensors, as the variational autoencoder
writes its loss: ``K.mean(binary_crossentropy(K.flatten(x), K.flatten(decoded)))``
is an expression that K.function evaluates and K.gradients differentiates."""
import numpy as np
import pytest

from minicnn import backend as K
from minicnn import layers, losses
from minicnn.autograd import Tensor, grad
from minicnn.missing import MissingFeatureError
from minicnn.models import Model


def autoencoder():
    inputs = layers.Input((6,))
    dense = layers.Dense(6, activation='sigmoid')
    return inputs, dense, dense(inputs)


def pixels(n=3):
    return np.random.default_rng(0).random((n, 6)).astype(np.float32)


@pytest.mark.parametrize('loss', [losses.binary_crossentropy, losses.mse, losses.mae,
                                  losses.categorical_crossentropy, losses.kl_divergence,
                                  losses.hinge, losses.huber])
def test_a_loss_of_symbolic_tensors_evaluates_to_the_loss_of_their_values(loss):
    inputs, dense, outputs = autoencoder()
    per_sample = loss(inputs, outputs)
    assert per_sample.shape == (None,)
    x = pixels()
    expected = loss(x, Model(inputs, outputs).predict(x, verbose=0)).data
    np.testing.assert_allclose(K.function([inputs], per_sample)([x]), expected, rtol=1e-6)


def test_the_vae_reconstruction_loss_has_the_gradient_of_the_eager_loss():
    inputs, dense, outputs = autoencoder()
    loss = K.mean(losses.binary_crossentropy(K.flatten(inputs), K.flatten(outputs)))
    assert loss.shape == ()
    x = pixels()
    value, kernel_grad = K.function([inputs], [loss, K.gradients(loss, dense.kernel)[0]])([x])
    eager = dense(Tensor(x))
    expected = losses.binary_crossentropy(x.reshape(-1), eager.reshape(-1))
    assert np.abs(kernel_grad).max() > 0
    np.testing.assert_allclose(value, expected.data, rtol=1e-6)
    np.testing.assert_allclose(kernel_grad, grad(expected, [dense.kernel])[0], rtol=1e-5)


def test_per_sample_shapes_follow_keras_alignment_of_ranks():
    assert losses.mse(layers.Input((5, 1)), layers.Input((5,))).shape == (None,)
    assert losses.mse(layers.Input((5,)), layers.Input((5, 1))).shape == (None,)
    assert losses.sparse_categorical_crossentropy(layers.Input((1,)), layers.Input((4,))).shape \
        == (None,)
    assert losses.binary_crossentropy(K.flatten(layers.Input((4,))),
                                      K.flatten(layers.Input((4,)))).shape == ()


def test_a_loss_whose_y_true_needs_a_gradient_is_refused_by_name():
    inputs, dense, outputs = autoencoder()
    gradient = K.gradients(losses.mse(outputs, inputs), dense.kernel)[0]
    with pytest.raises(MissingFeatureError, match='mean_squared_error: y_true'):
        K.function([inputs], gradient)([pixels()])


def test_a_symbolic_tensor_made_into_a_Tensor_says_it_is_symbolic():
    with pytest.raises(TypeError, match='is symbolic: it has no values until K.function'):
        Tensor(K.flatten(layers.Input((4,))))
