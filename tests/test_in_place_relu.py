"""A ReLU writes its output over its input where nothing else reads that
input (minicnn.layers.base.Layer.call_owning): the gradients must be exactly
those of the copying ReLU, and no tensor a user or another function can
read may change."""
import numpy as np
import pytest

from minicnn import Tensor, layers, models
from minicnn.functional import activation_functions
from minicnn.training import loss_and_outputs


def graph_functions(out):
    """Every Function of the graph that made ``out``."""
    found, stack = [], [out]
    while stack:
        t = stack.pop()
        if t.creator is not None and all(f is not t.creator for f in found):
            found.append(t.creator)
            stack.extend(t.creator.inputs)
    return found


def seed_like_cnn():
    return models.Sequential([
        layers.Conv2D(4, 3, padding='same', input_shape=(6, 6, 2)), layers.Activation('relu'),
        layers.Conv2D(4, 3, activation='relu'), layers.MaxPooling2D(), layers.Flatten(),
        layers.Dense(5, activation='relu'), layers.Dense(3, activation='softmax')])


def elu_then_relu():
    # ELU's backward reads its own output: a ReLU written over it would change
    # ELU's gradient, so this ReLU must copy.
    return models.Sequential([
        layers.Conv2D(4, 3, activation='elu', input_shape=(6, 6, 2)), layers.Activation('relu'),
        layers.Flatten(), layers.Dense(3, activation='softmax')])


def gradients(model, x, y):
    model.compile(optimizer='sgd', loss='categorical_crossentropy')
    loss, _ = loss_and_outputs(model, Tensor(x), y, None, training=True)
    loss.backward()
    grads = [w.grad for w in model.trainable_weights]
    for w in model.trainable_weights:
        w.grad = None
    return grads


def data(rng):
    return (rng.normal(size=(4, 6, 6, 2)).astype(np.float32),
            np.eye(3, dtype=np.float32)[[0, 1, 2, 1]])


def test_in_a_sequential_the_relus_write_over_the_outputs_before_them(rng):
    model = seed_like_cnn()
    out = model(rng.normal(size=(2, 6, 6, 2)).astype(np.float32), training=True)
    relus = [f for f in graph_functions(out) if isinstance(f, activation_functions.ReLU)]
    assert len(relus) == 3 and all(f.in_place and f.y is f.inputs[0].data for f in relus)


@pytest.mark.parametrize('make_model', [seed_like_cnn, elu_then_relu])
def test_the_gradients_are_those_of_the_copying_relu(rng, monkeypatch, make_model):
    x, y = data(rng)
    model = make_model()
    in_place = gradients(model, x, y)
    monkeypatch.setattr('minicnn.layers.base.writable_in_place', lambda t: False)
    copying = gradients(model, x, y)
    for a, b in zip(in_place, copying):
        np.testing.assert_array_equal(a, b)


def test_a_functional_model_leaves_an_output_that_two_layers_read(rng):
    inputs = layers.Input(shape=(4,))
    hidden = layers.Dense(3)(inputs)
    outputs = layers.Add()([hidden, layers.Activation('relu')(hidden)])
    model = models.Model(inputs, outputs)
    x = rng.normal(size=(5, 4)).astype(np.float32)
    kernel, bias = (w.numpy() for w in model.layers[1].weights)
    h = x @ kernel + bias
    # called as in training, where a graph is recorded (predict records none)
    np.testing.assert_allclose(model(x, training=True).numpy(), h + np.maximum(h, 0), rtol=1e-6)


def test_a_layer_called_alone_gives_its_activation_and_a_subclass_keeps_its_pre_activation(rng):
    class KeepsItsOutput(layers.Dense):
        def forward(self, x, training):
            self.kept = super().forward(x, training)
            return self.kept

    x = rng.normal(size=(5, 4)).astype(np.float32)
    dense, keeps = layers.Dense(3, activation='relu'), KeepsItsOutput(3, activation='relu')
    for layer in (dense, keeps):
        y = layer(x)
        kernel, bias = (w.numpy() for w in layer.weights)
        np.testing.assert_allclose(y.numpy(), np.maximum(x @ kernel + bias, 0), rtol=1e-6)
    np.testing.assert_allclose(keeps.kept.numpy(), x @ keeps.kernel.numpy() + keeps.bias.numpy(),
                               rtol=1e-6)


def test_only_a_fresh_array_that_its_maker_did_not_keep_may_be_written_over(rng):
    from minicnn import functional as F
    x = Tensor(rng.normal(size=(2, 5, 5, 3)).astype(np.float32), requires_grad=True)
    kernel = Tensor(rng.normal(size=(3, 3, 3, 4)).astype(np.float32), requires_grad=True)
    writable = activation_functions.writable_in_place
    assert not writable(x)                              # data: not made by a Function
    assert writable(F.conv2d(x, kernel))                # the convolution keeps its input only
    assert not writable(F.elu(x))                       # ELU keeps its output for backward
    assert not writable(F.flatten(F.conv2d(x, kernel)))  # a view of the convolution's output


def test_a_functional_chain_writes_over_what_one_layer_reads_and_gives_the_same_gradients(
        rng, monkeypatch):
    inputs = layers.Input(shape=(6, 6, 2))
    hidden = layers.Activation('relu')(layers.BatchNormalization()(layers.Conv2D(4, 3)(inputs)))
    side = layers.Conv2D(4, 3)(inputs)
    joined = layers.Activation('relu')(layers.Add()([hidden, side]))
    outputs = layers.Dense(3, activation='softmax')(layers.Flatten()(joined))
    model = models.Model(inputs, outputs)
    out = model(rng.normal(size=(2, 6, 6, 2)).astype(np.float32), training=True)
    relus = [f for f in graph_functions(out) if isinstance(f, activation_functions.ReLU)]
    # After Add, the ReLU writes over the sum; after BatchNormalization it
    # copies: the normalized output is a view of the array the kernel wrote.
    assert sorted(f.in_place for f in relus) == [False, True]
    x, y = data(rng)
    in_place = gradients(model, x, y)
    monkeypatch.setattr('minicnn.layers.base.writable_in_place', lambda t: False)
    for a, b in zip(in_place, gradients(model, x, y)):
        np.testing.assert_array_equal(a, b)
