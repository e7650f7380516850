"""Keras 2's backend functions on the symbolic outputs of a model's layers
(minicnn/backend/symbolic.py), tested through the programs Keras users write with
them: filter visualisation by gradient ascent, Grad-CAM as the Keras books
write it, the activations of every layer."""
import numpy as np
import pytest
from PIL import Image

from minicnn import backend as K
from minicnn import viz
from minicnn.backend import symbolic
from minicnn.autograd import Function, Tensor, grad
from minicnn.tools.gradcheck import gradcheck
from minicnn.layers import (BatchNormalization, Conv2D, Dense, Dropout, Flatten,
                            GlobalAveragePooling2D, Input, MaxPooling2D)
from minicnn.models import Model, Sequential


def small_cnn(classes=3, softmax=False):
    """conv 'c1' -> pool -> conv 'c2' (8, 4, 4) -> global average -> dense logits."""
    return Sequential([Conv2D(6, 3, padding='same', activation='relu', input_shape=(8, 8, 3),
                              name='c1'),
                       MaxPooling2D(2),
                       Conv2D(8, 3, padding='same', activation='relu', name='c2'),
                       GlobalAveragePooling2D(),
                       Dense(classes, activation='softmax' if softmax else None, name='scores')])


def images(rng, n=2, shape=(8, 8, 3)):
    return rng.random((n, *shape)).astype(np.float32)


def by_hand(model, x):
    """The input as a leaf that wants a gradient, and each layer's output,
    from running the layers by hand on Tensors: autograd, without K."""
    leaf = Tensor(x, requires_grad=True)
    outputs = [leaf]
    for layer in model.layers:
        outputs.append(layer(outputs[-1]))
    return leaf, outputs[1:]


# -- the programs ------------------------------------------------------------------

def test_the_filter_visualisation_program_climbs_and_its_gradient_is_autograds(rng):
    model = small_cnn()
    filter_index = 5
    layer_output = model.get_layer('c2').output
    loss = K.mean(layer_output[:, :, :, filter_index])
    grads = K.gradients(loss, model.input)[0]
    normalized = grads / (K.sqrt(K.mean(K.square(grads))) + 1e-5)
    iterate = K.function([model.input], [loss, normalized, grads])

    input_image = images(rng, 1) * 20 + 128.0
    losses = []
    for _ in range(10):
        loss_value, step, grads_value = iterate([input_image])
        if not losses:
            leaf, outputs = by_hand(model, input_image)
            expected, = grad(outputs[2][:, :, :, filter_index].mean(), [leaf])
            np.testing.assert_allclose(grads_value, expected, rtol=1e-5, atol=1e-8)
            np.testing.assert_allclose(step, expected / (np.sqrt(np.mean(expected ** 2)) + 1e-5),
                                       rtol=1e-4)
        losses.append(float(loss_value))
        input_image = input_image + step
    assert isinstance(loss_value, np.float32) and grads_value.shape == input_image.shape
    assert losses[-1] > losses[0]


def test_the_books_grad_cam_equals_viz_grad_cam(rng):
    model = small_cnn()
    x = images(rng, 1)
    predicted = int(np.argmax(model.predict(x)[0]))

    class_output = model.output[:, predicted]
    last_conv_layer = model.get_layer('c2')
    grads = K.gradients(class_output, last_conv_layer.output)[0]
    pooled_grads = K.mean(grads, axis=(0, 1, 2))
    iterate = K.function([model.input], [pooled_grads, last_conv_layer.output[0]])
    pooled_grads_value, conv_layer_output_value = iterate([x])
    for i in range(8):
        conv_layer_output_value[:, :, i] *= pooled_grads_value[i]
    heatmap = np.mean(conv_layer_output_value, axis=-1)
    heatmap = np.maximum(heatmap, 0)
    heatmap /= np.max(heatmap)

    assert heatmap.shape == (4, 4) and heatmap.max() == 1
    # viz.grad_cam's map is resized to the image, as the books do next with cv2.resize
    cam = viz.grad_cam(model, x, layer_name='c2', class_index=predicted)[0]
    expected = np.asarray(Image.fromarray(heatmap.astype(np.float32))
                          .resize((8, 8), Image.BILINEAR))
    np.testing.assert_allclose(cam, expected / expected.max(), rtol=1e-4, atol=1e-6)


def test_the_activations_of_every_layer(rng):
    model = small_cnn(softmax=True)
    x = images(rng, 3)
    activations = K.function([model.input], [layer.output for layer in model.layers])([x])
    h = Tensor(x)
    for layer, value in zip(model.layers, activations):
        h = layer(h)
        assert value.shape == h.shape and isinstance(value, np.ndarray)
        np.testing.assert_allclose(value, h.numpy(), rtol=1e-6)
    np.testing.assert_allclose(activations[-1], model.predict(x), rtol=1e-6)


def test_a_functional_models_inner_output_and_a_fed_inner_input(rng):
    inputs = Input(shape=(8, 8, 3))
    h = Conv2D(4, 3, activation='relu', name='conv')(inputs)
    outputs = Dense(2, name='out')(Flatten()(h))
    model = Model(inputs, outputs)
    x = images(rng, 2)
    conv = model.get_layer('conv')
    assert conv.input is model.input and model.output is outputs
    features = K.function(model.input, conv.output)(x)   # a single output, not a list
    assert features.shape == (2, 6, 6, 4)
    # feeding a layer's input runs only the layers after it, as in Keras
    head = K.function([model.get_layer('out').input], [model.output])
    np.testing.assert_allclose(head([features.reshape(2, -1)])[0], model.predict(x), rtol=1e-5)


# -- gradients are autograd's ------------------------------------------------------

def test_gradients_by_a_layer_output_and_the_input_are_autograds(rng):
    model = small_cnn()
    x = images(rng, 2)
    loss = K.sum(K.square(model.output)) + K.max(model.get_layer('c1').output)
    g_c1, g_x = K.gradients(loss, [model.get_layer('c1').output, model.input])
    assert g_c1.shape == (None, 8, 8, 6) and g_x.shape == (None, 8, 8, 3)
    got_c1, got_x = K.function([model.input], [g_c1, g_x])([x])
    leaf, outputs = by_hand(model, x)
    want_c1, want_x = grad((outputs[-1] * outputs[-1]).sum() + outputs[0].max(),
                           [outputs[0], leaf])
    np.testing.assert_allclose(got_c1, want_c1, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(got_x, want_x, rtol=1e-5, atol=1e-8)


def test_gradients_by_weights_leave_their_grad_alone(rng):
    model = small_cnn()
    x, labels = images(rng, 4), np.array([0, 1, 2, 1])
    y_true = K.placeholder(shape=(None, 3))
    loss = K.mean(K.square(model.output - y_true))
    grads = K.function([model.input, y_true], K.gradients(loss, model.trainable_weights))(
        [x, np.eye(3)[labels]])
    assert all(w.grad is None for w in model.trainable_weights)
    model.compile('sgd', 'mse')
    from minicnn.functional import mean_squared_error
    mean_squared_error(model(x), np.eye(3, dtype=np.float32)[labels]).backward()
    for got, w in zip(grads, model.trainable_weights):
        np.testing.assert_allclose(got, w.grad, rtol=1e-4, atol=1e-7)


def test_a_float64_gradient_check_passes_through_k_function_and_k_gradients(rng):
    model = small_cnn()
    for w in model.weights:
        w.data = w.data.astype(np.float64)
    loss = K.sum(K.l2_normalize(model.get_layer('c2').output[:, 1:3, :, 2:5], axis=-1)
                 * np.linspace(-1, 1, 3)) + K.std(model.output)
    iterate = K.function([model.input], [loss, K.gradients(loss, model.input)[0]])

    class ThroughBackend(Function):
        """loss(x) by K.function forward, K.gradients backward."""
        def forward(self, x):
            value, self.g = iterate([x])
            return np.asarray(value)

        def backward(self, gy):
            return (gy * self.g,)

    gradcheck(lambda x: ThroughBackend()(x), rng.random((1, 8, 8, 3)) + 0.1)


def through_backend(build, x):
    """build(x) for a Tensor x: forward by K.function on an Input placeholder,
    backward by K.gradients, so that gradcheck checks one against the other."""
    placeholder = Input(shape=x.shape[1:])
    out = build(placeholder)

    class Through(Function):
        def forward(self, value):
            self.value = value
            return K.function([placeholder], [out])([value])[0]

        def backward(self, gy):
            gradient = K.gradients(K.sum(out * gy), placeholder)
            return (K.function([placeholder], gradient)([self.value])[0],)
    return Through()(x)


# name, backend expression, the NumPy value Keras gives, differentiable
CASES = [
    ('mean axis keepdims', lambda t: K.mean(t, axis=(1, 2), keepdims=True),
     lambda a: a.mean(axis=(1, 2), keepdims=True), True),
    ('sum', lambda t: K.sum(t, axis=-1), lambda a: a.sum(axis=-1), True),
    ('max', lambda t: K.max(t, axis=1), lambda a: a.max(axis=1), True),
    ('min', lambda t: K.min(t, axis=[0, 2]), lambda a: a.min(axis=(0, 2)), True),
    ('var', lambda t: K.var(t, axis=-1), lambda a: a.var(axis=-1), True),
    ('prod', lambda t: K.prod(t, axis=(0, 2), keepdims=True) + K.prod(t[0]),
     lambda a: a.prod(axis=(0, 2), keepdims=True) + a[0].prod(), True),
    ('shape', lambda t: K.cast(K.shape(t), 'float32'), lambda a: np.array(a.shape, 'f'), False),
    ('std', lambda t: K.std(t, axis=1, keepdims=True), lambda a: a.std(axis=1, keepdims=True), True),
    ('square sqrt', lambda t: K.sqrt(K.square(t) + 1), lambda a: np.sqrt(a ** 2 + 1), True),
    ('sqrt of negatives is 0', lambda t: K.sqrt(t - 0.5) * 1, lambda a: np.sqrt(np.maximum(a - 0.5, 0)), False),
    ('abs', lambda t: K.abs(t - 0.5), lambda a: np.abs(a - 0.5), True),
    ('exp log', lambda t: K.log(K.exp(t) + 2), lambda a: np.log(np.exp(a) + 2), True),
    ('pow', lambda t: K.pow(t + 1, 3), lambda a: (a + 1) ** 3, True),
    ('maximum minimum', lambda t: K.maximum(t, 0.5) + K.minimum(0.3, t),
     lambda a: np.maximum(a, 0.5) + np.minimum(0.3, a), True),
    ('l2_normalize', lambda t: K.l2_normalize(t, axis=-1),
     lambda a: a / np.sqrt((a ** 2).sum(-1, keepdims=True)), True),
    ('relu', lambda t: K.relu(t - 0.5, alpha=0.1), lambda a: np.where(a > 0.5, a - 0.5, 0.1 * (a - 0.5)), True),
    ('softmax', lambda t: K.softmax(t), lambda a: np.exp(a) / np.exp(a).sum(-1, keepdims=True), True),
    ('sigmoid tanh', lambda t: K.sigmoid(t) * K.tanh(t),
     lambda a: np.tanh(a) / (1 + np.exp(-a)), True),
    ('operators', lambda t: (2 - t) * t / (1 + t) ** 2 - -t + np.arange(4.0) * t,
     lambda a: (2 - a) * a / (1 + a) ** 2 + a + np.arange(4.0) * a, True),
    ('getitem', lambda t: t[:, 1:, ::2] * t[0, :2, -2:], lambda a: a[:, 1:, ::2] * a[0, :2, -2:],
     True),
    ('dot', lambda t: K.dot(t, np.ones((4, 5))), lambda a: a @ np.ones((4, 5)), True),
    ('reshape flatten', lambda t: K.flatten(K.reshape(t, (-1, 12))), lambda a: a.reshape(-1), True),
    ('batch_flatten', lambda t: K.batch_flatten(t), lambda a: a.reshape(len(a), -1), True),
    ('transpose permute', lambda t: K.transpose(t) + K.permute_dimensions(t, (2, 1, 0)),
     lambda a: 2 * a.T, True),
    ('expand squeeze', lambda t: K.squeeze(K.expand_dims(t, 1), 1) * K.expand_dims(t)[..., 0],
     lambda a: a * a, True),
    ('concatenate', lambda t: K.concatenate([t, 2 * t], axis=1),
     lambda a: np.concatenate([a, 2 * a], 1), True),
    ('stack', lambda t: K.stack([t, t * 3], axis=1), lambda a: np.stack([a, 3 * a], 1), True),
    ('clip', lambda t: K.clip(t, 0.2, 0.7), lambda a: np.clip(a, 0.2, 0.7), True),
    ('stop_gradient', lambda t: K.stop_gradient(t) * t, lambda a: a * a, False),
    ('cast', lambda t: K.cast(t * 1, 'float64') * 2, lambda a: a * 2, True),
    ('zeros ones', lambda t: K.zeros_like(t) + K.ones_like(t) * t, lambda a: a, True),
    ('argmax', lambda t: K.argmax(t, axis=-1), lambda a: a.argmax(-1), False),
    ('sign comparisons', lambda t: K.sign(t - 0.5) + K.cast(t > 0.5, 'float32'),
     lambda a: np.sign(a - 0.5) + (a > 0.5), False),
]


@pytest.mark.parametrize('build, numpy_value, differentiable',
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_backend_function_gives_keras_value_and_a_checked_gradient(rng, build, numpy_value,
                                                                         differentiable):
    x = rng.random((2, 3, 4)) + 0.05
    placeholder = Input(shape=(3, 4))
    out = build(placeholder)
    value = K.function([placeholder], [out])([x])[0]
    np.testing.assert_allclose(value, numpy_value(x), rtol=1e-6)
    expected_shape = np.shape(numpy_value(x))
    assert len(out.shape) == len(expected_shape)
    assert all(s is None or s == e for s, e in zip(out.shape, expected_shape))
    if differentiable:
        gradcheck(lambda t: through_backend(build, t), x)


def test_gradcheck_of_the_stop_gradient_case_sees_only_one_path(rng):
    x = Input(shape=(3,))
    g = K.gradients(K.sum(K.stop_gradient(x) * x), x)[0]
    a = rng.random((2, 3))
    np.testing.assert_allclose(K.function([x], [g])([a])[0], a)


def test_shapes_are_kerass():
    t = Input(shape=(6, 6, 4))
    assert t[:, :, :, 3].shape == (None, 6, 6)
    assert t[0].shape == (6, 6, 4)
    assert K.mean(t, axis=(1, 2)).shape == (None, 4)
    assert K.batch_flatten(t).shape == (None, 144)
    assert K.reshape(t, (-1, 36)).shape == (None, 36)
    assert (t * np.ones(4)).shape == (None, 6, 6, 4)
    with pytest.raises(ValueError, match='do not broadcast'):
        t + np.ones(3)
    with pytest.raises(ValueError, match='cannot index'):
        t[:, 6]
    with pytest.raises(ValueError, match='cannot take the shape'):
        K.reshape(t[0], (5, -1))


def test_backend_functions_on_arrays_compute_at_once():
    value = K.mean(np.arange(6.0).reshape(2, 3), axis=1)
    assert isinstance(value, np.ndarray)
    np.testing.assert_allclose(value, [1, 4])
    assert K.constant(2.0, shape=(2,)).tolist() == [2, 2]


def test_the_comparisons_give_keras_booleans():
    x = Input(shape=(3,))
    comparisons = [K.greater(x, 1), K.greater_equal(x, 1), K.less(x, 1), K.less_equal(x, 1),
                   K.equal(x, 1), K.not_equal(x, 1)]
    values = K.function([x], comparisons)([np.array([[0.0, 1.0, 2.0]], 'float32')])
    assert [v[0].tolist() for v in values] == [
        [False, False, True], [False, True, True], [True, False, False], [True, True, False],
        [False, True, False], [True, False, True]]


# -- the learning phase, layer outputs, errors -----------------------------------------

def test_the_learning_phase_input_runs_layers_in_training_mode_and_updates_nothing(rng):
    model = Sequential([Dense(8, input_shape=(4,)), BatchNormalization(), Dropout(0.5), Dense(2)])
    x = rng.random((16, 4)).astype(np.float32)
    f = K.function([model.input, K.learning_phase()], [model.output])
    before = [w.copy() for w in model.get_weights()]
    np.testing.assert_allclose(f([x, 0])[0], model.predict(x), rtol=1e-5)
    assert not np.allclose(f([x, 1])[0], model.predict(x))
    for w, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(w, b)
    with pytest.raises(ValueError, match='learning phase must be 0'):
        f([x, 2])


def test_a_sequential_model_retraces_when_layers_change():
    model = Sequential([Dense(4, input_shape=(3,)), Dense(2)])
    first = model.layers[0]
    assert model.output is model.layers[-1].output and model.output.shape == (None, 2)
    model.pop()
    assert model.output is first.output and len(first.calls) == 1
    model.add(Dense(5))
    assert model.output.shape == (None, 5) and len(first.calls) == 1
    with pytest.raises(AttributeError, match='no inputs yet'):
        Sequential([Dense(2)]).input


def test_layer_output_says_why_it_has_none():
    with pytest.raises(AttributeError, match="'lonely' has never been called"):
        Dense(2, name='lonely').output
    shared = Dense(2, name='shared')
    a, b = Input(shape=(3,)), Input(shape=(3,))
    shared(a), shared(b)
    with pytest.raises(AttributeError, match='called 2 times.*get_output_at'):
        shared.output
    assert shared.get_input_at(1) is b


def test_unsupported_operations_name_themselves(rng):
    model = small_cnn()
    out = model.output
    with pytest.raises(symbolic.UnsupportedOperation, match=r'\.numpy'):
        out.numpy()
    with pytest.raises(symbolic.UnsupportedOperation, match=r'\.mean'):
        np.mean(out)
    with pytest.raises(symbolic.UnsupportedOperation, match="NumPy's arctan"):
        np.arctan(out)
    with pytest.raises(symbolic.UnsupportedOperation, match="NumPy's add .*'reduce'"):
        np.add.reduce(out)
    with pytest.raises(symbolic.UnsupportedOperation, match='updates'):
        K.function([model.input], [out], updates=[1])
    with pytest.raises(symbolic.UnsupportedOperation, match='second derivative'):
        K.gradients(K.sum(K.gradients(K.sum(out), model.input)[0]), model.input)
    with pytest.raises(symbolic.UnsupportedOperation, match='dot of shapes'):
        K.dot(out, np.ones((2, 3, 4)))
    with pytest.raises(TypeError, match='truth value'):
        bool(out > 0)
    with pytest.raises(TypeError, match='cannot be iterated'):
        list(out)


def test_bad_uses_get_clear_errors(rng):
    model = small_cnn()
    other = Input(shape=(8, 8, 3))
    with pytest.raises(ValueError, match='not computed from'):
        K.gradients(K.sum(model.output), other)
    with pytest.raises(ValueError, match=r'takes arrays of shape \(None, 8, 8, 3\)'):
        K.function([model.input], [model.output])([np.zeros((1, 8, 8, 4))])
    with pytest.raises(ValueError, match='takes 1 input arrays'):
        K.function([model.input], [model.output])([])
    with pytest.raises(ValueError, match="need the value of input 'c1_input'"):
        K.function([other], [model.output])([np.zeros((1, 8, 8, 3))])
    with pytest.raises(ValueError, match="need the value of placeholder 'labels'"):
        K.function([model.input], [model.output - K.placeholder(ndim=2, name='labels')])(
            [np.zeros((1, 8, 8, 3))])
    model.get_layer('c1').trainable = False
    frozen = K.gradients(K.sum(model.output), model.get_layer('c1').weights)
    with pytest.raises(ValueError, match='frozen'):
        K.function([model.input], frozen)([images(rng, 1)])


def test_outputs_are_copies(rng):
    model = small_cnn()
    x = images(rng, 1)
    kept = x.copy()
    same = K.function([model.input], [model.input[0]])([x])[0]
    same[...] = 0
    np.testing.assert_array_equal(x, kept)


def test_maximum_and_minimum_give_a_tie_to_their_first_argument_as_tensorflow_does():
    x = Input(shape=(3,))
    value = np.array([[0.2, 0.5, 0.9]], np.float32)
    to_x = K.gradients(K.sum(K.maximum(x, 0.5)) + K.sum(K.minimum(x, 0.5)), x)[0]
    np.testing.assert_array_equal(K.function([x], [to_x])([value])[0], [[1, 2, 1]])


def test_fed_arrays_take_the_models_float_type_as_kerass_placeholders_do(rng):
    model = small_cnn()
    f = K.function([model.input], [model.output, K.gradients(K.sum(model.output), model.input)[0]])
    out, g = f([rng.random((1, 8, 8, 3)) * 255])         # float64, as np.random gives
    assert out.dtype == g.dtype == np.float32
    out_of_ints, _ = f([np.full((1, 8, 8, 3), 3)])
    np.testing.assert_allclose(out_of_ints, model.predict(np.full((1, 8, 8, 3), 3.0)), rtol=1e-6)


def test_set_learning_phase_runs_every_function_in_training_mode(rng):
    model = Sequential([Dense(8, input_shape=(4,)), Dropout(0.5)])
    x = rng.random((8, 4)).astype(np.float32)
    f = K.function([model.input], [model.output])
    try:
        K.set_learning_phase(1)
        assert (f([x])[0] == 0).any()
    finally:
        K.set_learning_phase(0)
    np.testing.assert_allclose(f([x])[0], model.predict(x), rtol=1e-6)


def test_a_weight_tensor_meets_a_symbolic_tensor_in_an_expression(rng):
    model = small_cnn()
    scores, = model.get_layer('scores').weights[1:]       # the bias, a Tensor
    expression = scores * model.output + 1
    x = images(rng, 2)
    np.testing.assert_allclose(K.function([model.input], [expression])([x])[0],
                               scores.numpy() * model.predict(x) + 1, rtol=1e-5)


def test_the_gradient_of_prod_at_a_zero_factor_is_refused():
    x = Input(shape=(2,))
    g = K.gradients(K.prod(x), x)[0]
    np.testing.assert_allclose(K.function([x], [g])([np.array([[2.0, 3.0]])])[0], [[3, 2]])
    with pytest.raises(symbolic.UnsupportedOperation, match='prod where a factor is 0'):
        K.function([x], [g])([np.array([[0.0, 3.0]])])


def test_a_model_from_a_sequential_models_input_to_a_layers_output(rng):
    model = small_cnn()
    activation_model = Model(inputs=model.input, outputs=model.layers[2].output)
    x = images(rng, 2)
    np.testing.assert_allclose(activation_model.predict(x),
                               K.function([model.input], [model.layers[2].output])([x])[0],
                               rtol=1e-6)


def test_a_layer_inside_a_nested_model_is_not_on_the_outer_models_path():
    inner = small_cnn()
    outer = Sequential([inner, Dense(2)])
    with pytest.raises(ValueError, match='nested model'):
        K.gradients(K.sum(outer.output), inner.get_layer('c2').output)


def test_numpys_ufuncs_and_an_arrays_in_place_operators_write_expressions(rng):
    x = Input(shape=(3,))
    loss = np.zeros((), np.float32)                     # as K.variable(0.) makes one
    loss += 2 * K.sum(K.square(x))
    loss = loss + np.exp(x[:, 0]) + K.sum(np.sqrt(np.abs(x)), axis=1)
    a = rng.random((2, 3))
    expected = 2 * (a ** 2).sum() + np.exp(a[:, 0]) + np.sqrt(a).sum(1)
    np.testing.assert_allclose(K.function([x], [loss])([a])[0], expected, rtol=1e-5)
