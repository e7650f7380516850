"""The functional API as a Keras user writes it: Input, layers called on
tensors, Model(inputs, outputs), merge layers, and models inside models."""
import numpy as np
import pytest

from minicnn import Tensor, gradcheck
from minicnn import functional as F
from minicnn.layers import (Add, Average, Concatenate, Conv2D, Dense, Flatten, Input, InputLayer,
                            MaxPooling2D, Maximum, Multiply, Subtract)
from minicnn.models import Model, Sequential, load_model
from minicnn.optimizers import Adam

from synthetic import plus_or_cross


def residual_cnn():
    inputs = Input(shape=(10, 10, 1))
    h = Conv2D(4, 3, padding='same', activation='relu')(inputs)
    skip = Conv2D(4, 3, padding='same')(h)
    h = Add()([h, skip])
    h = MaxPooling2D()(h)
    outputs = Dense(2, activation='softmax')(Flatten()(h))
    return Model(inputs, outputs, name='residual')


def test_a_residual_model_trains_and_predicts():
    x, y = plus_or_cross(64)
    model = residual_cnn()
    assert model.input_shape == (None, 10, 10, 1) and model.output_shape == (None, 2)
    model.compile(Adam(0.01), 'sparse_categorical_crossentropy', ['accuracy'])
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert history.history['loss'][-1] < history.history['loss'][0]
    assert model.predict(x[:3]).shape == (3, 2)


def test_the_model_runs_its_layers_as_the_graph_says():
    x = np.random.default_rng(0).standard_normal((2, 10, 10, 1)).astype(np.float32)
    model = residual_cnn()
    conv1, conv2, add, pool, flatten, dense = model.layers[1:]
    h = conv1(x)
    expected = dense(flatten(pool(add([h, conv2(h)]))))
    np.testing.assert_allclose(model(x).data, expected.data, rtol=1e-6)
    assert isinstance(model.layers[0], InputLayer)


def test_summary_shows_the_connections(capsys):
    residual_cnn().summary()
    out = capsys.readouterr().out
    assert 'Connected to' in out and '(InputLayer)' in out and '[(None, 10, 10, 1)]' in out
    assert 'add (Add)' in out or '(Add)' in out
    assert 'Total params: 390' in out  # 40 + 148 + 202


def test_several_inputs_and_outputs():
    a, b = Input(shape=(3,)), Input(shape=(3,))
    shared = Dense(2)
    total = Add()([shared(a), shared(b)])       # one layer called twice
    model = Model([a, b], [total, Subtract()([a, b])])
    assert len(model.weights) == 2               # the shared layer's weights count once
    xa, xb = np.ones((4, 3)), np.arange(12.0).reshape(4, 3)
    out_sum, out_diff = model([xa, xb])
    np.testing.assert_allclose(out_sum.data, shared(xa).data + shared(xb).data, rtol=1e-6)
    np.testing.assert_allclose(out_diff.data, xa - xb)
    predicted_sum, predicted_diff = model.predict([xa, xb])  # a list, one array per output
    np.testing.assert_allclose(predicted_sum, out_sum.data, rtol=1e-5)
    np.testing.assert_allclose(predicted_diff, xa - xb)


@pytest.mark.parametrize('layer, expected', [
    (Add(), lambda a, b: a + b), (Subtract(), lambda a, b: a - b),
    (Multiply(), lambda a, b: a * b), (Average(), lambda a, b: (a + b) / 2),
    (Maximum(), np.maximum), (Concatenate(), lambda a, b: np.concatenate([a, b], axis=-1)),
])
def test_merge_layers_compute_what_keras_does(layer, expected):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    np.testing.assert_allclose(layer([a, b]).data, expected(a, b), rtol=1e-12)


def test_concatenate_and_maximum_gradients():
    rng = np.random.default_rng(2)
    a, b, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 5)), rng.standard_normal((2, 3))
    assert gradcheck(lambda a, b: F.concatenate([a, b], axis=1) * 2.0, a, b)
    assert gradcheck(lambda a, c: F.maximum([a, c]), a, c)
    assert gradcheck(lambda a, b: F.concatenate([a.reshape(2, 3, 1), b[:, :3].reshape(2, 3, 1)],
                                                axis=-1), a, b)


def test_merging_incompatible_shapes_names_every_shape():
    with pytest.raises(ValueError, match=r"needs inputs of one shape, got shapes "
                                         r"\[\(None, 3\), \(None, 4\)\]"):
        Add()([Input(shape=(3,)), Input(shape=(4,))])
    with pytest.raises(ValueError, match=r"agree except along the axis.*\(None, 2, 3\), \(None, 4, 5\)"):
        Concatenate()([Input(shape=(2, 3)), Input(shape=(4, 5))])
    with pytest.raises(ValueError, match='takes a list of exactly 2 inputs'):
        Subtract()([Input(shape=(3,))] * 3)


def test_an_output_that_needs_an_input_not_given_is_an_error():
    a, b = Input(shape=(3,), name='a'), Input(shape=(3,), name='b')
    with pytest.raises(ValueError, match=r"depend on the Input\(s\) \['b'\]"):
        Model(a, Add()([a, b]))


def test_a_model_inside_a_sequential_can_be_frozen(capsys):
    x, y = plus_or_cross(32)
    inputs = Input(shape=(10, 10, 1))
    conv_base = Model(inputs, MaxPooling2D()(Conv2D(4, 3, activation='relu')(inputs)),
                      name='conv_base')
    model = Sequential([conv_base, Flatten(), Dense(2, activation='softmax')])
    conv_base.trainable = False
    assert not conv_base.layers[1].trainable
    model.compile(Adam(0.01), 'sparse_categorical_crossentropy')
    base_before, head_before = conv_base.get_weights(), model.layers[-1].get_weights()
    model.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(conv_base.get_weights(), base_before):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(model.layers[-1].get_weights()[0], head_before[0])
    model.summary()
    out = capsys.readouterr().out
    assert 'conv_base (Functional)' in out and 'Trainable params: 130' in out
    assert 'Non-trainable params: 40' in out
    model.summary(expand_nested=True)
    assert '  conv2d' in capsys.readouterr().out


def test_sequential_starts_with_an_input():
    model = Sequential([Input(shape=(6, 6, 1)), Conv2D(2, 3), Flatten(), Dense(3)])
    assert model.input_shape == (None, 6, 6, 1) and model.output_shape == (None, 3)
    assert len(model.layers) == 3
    assert model.get_layer(index=0) is model.layers[0]
    assert model.get_layer(name=model.layers[2].name) is model.layers[2]
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        model.get_layer('nope')
    assert model.pop() is not None and model.output_shape == (None, 32)


def test_functional_and_nested_models_are_saved_and_loaded(tmp_path):
    x, y = plus_or_cross(16)
    inner = residual_cnn()
    outer_in = Input(shape=(10, 10, 1))
    outer = Model(outer_in, Average()([inner(outer_in), inner(outer_in)]), name='outer')
    for model in (inner, outer):
        model.compile(Adam(0.01), 'sparse_categorical_crossentropy')
        model.fit(x, y, epochs=1, verbose=0)
        model.save(tmp_path / f'{model.name}.minicnn')
        loaded = load_model(tmp_path / f'{model.name}.minicnn')
        np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
        assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]


def test_a_symbolic_call_checks_shapes_like_a_real_one():
    dense = Dense(3)
    dense(Input(shape=(4,)))
    with pytest.raises(ValueError, match=r"expects inputs of shape \(None, 4\), got \(None, 5\)"):
        dense(Input(shape=(5,)))
    with pytest.raises(ValueError, match=r"expects inputs of shape \(None, 4\), got \(2, 5\)"):
        dense(Tensor(np.ones((2, 5))))


def test_to_json_and_model_from_json_rebuild_the_architecture():
    from minicnn.models import model_from_json
    for model in (residual_cnn(), Sequential([Dense(3, input_shape=(4,)), Dense(2)])):
        twin = model_from_json(model.to_json())
        assert type(twin) is type(model)
        assert [type(layer) for layer in twin.layers] == [type(layer) for layer in model.layers]
        assert twin.output_shape == model.output_shape and twin.count_params() == model.count_params()
        assert np.abs(twin.layers[-1].kernel.data).sum() > 0   # fresh weights, not zeros
        assert not np.allclose(twin.layers[-1].kernel.data, model.layers[-1].kernel.data)
    with pytest.raises(ValueError, match='expected the JSON of a Sequential or Model'):
        model_from_json('{"class_name": "Dense", "config": {}}')


def test_a_second_input_that_comes_late_in_the_graph_is_wired_back_right():
    from minicnn.models import model_from_json
    a, b = Input(shape=(4,)), Input(shape=(4,))
    model = Model([a, b], Subtract()([Dense(4)(a), b]))
    twin = model_from_json(model.to_json())
    twin.set_weights(model.get_weights())
    xa, xb = np.ones((2, 4)), np.arange(8.0).reshape(2, 4)
    np.testing.assert_allclose(twin([xa, xb]).data, model([xa, xb]).data, rtol=1e-6)


def test_train_on_batch_test_on_batch_and_predict_on_batch():
    x, y = plus_or_cross(16)
    model = residual_cnn()
    model.compile(Adam(0.01), 'sparse_categorical_crossentropy', ['accuracy'])
    before = model.test_on_batch(x, y)
    for _ in range(5):
        loss, accuracy = model.train_on_batch(x, y)
    after = model.test_on_batch(x, y, return_dict=True)
    assert set(after) == {'loss', 'accuracy'} and after['loss'] < before[0]
    np.testing.assert_allclose(model.predict_on_batch(x), model.predict(x), rtol=1e-6)
    with pytest.raises(NotImplementedError, match='reset_metrics=False'):
        model.train_on_batch(x, y, reset_metrics=False)


def test_validation_data_may_be_a_generator_with_validation_steps():
    from minicnn.preprocessing.image import ImageDataGenerator
    x, y = plus_or_cross(32)
    model = residual_cnn()
    model.compile(Adam(0.01), 'sparse_categorical_crossentropy', ['accuracy'])
    flow = ImageDataGenerator().flow(x, y, batch_size=8, shuffle=False)
    history = model.fit(x, y, epochs=2, verbose=0, validation_data=flow, validation_steps=4)
    expected = model.evaluate(x, y, batch_size=8, verbose=0)
    np.testing.assert_allclose(history.history['val_loss'][-1], expected[0], rtol=1e-5)
    with pytest.raises(ValueError, match='steps_per_epoch is required|validation_steps'):
        model.fit(x, y, epochs=1, verbose=0, validation_data=(b for b in [(x, y)] * 3))


def blocks(residual, depth=3):
    """Two-convolution blocks with BatchNormalization, with or without the skip (Add)."""
    from minicnn.layers import Activation, BatchNormalization, GlobalAveragePooling2D
    inputs = Input(shape=(10, 10, 1))
    h = Conv2D(8, 3, padding='same', activation='relu')(inputs)
    for _ in range(depth):
        b = Conv2D(8, 3, padding='same')(h)
        b = Activation('relu')(BatchNormalization(momentum=0.8)(b))
        b = BatchNormalization(momentum=0.8)(Conv2D(8, 3, padding='same')(b))
        h = Activation('relu')(Add()([h, b]) if residual else b)
    return Model(inputs, Dense(2, activation='softmax')(GlobalAveragePooling2D()(h)))


@pytest.mark.parametrize('seed', [0, 1])
def test_a_residual_network_trains_faster_than_the_same_network_without_skips(seed):
    from minicnn import utils
    x, y = plus_or_cross(256)
    x_val, y_val = plus_or_cross(128, seed=1)
    results = {}
    for residual in (True, False):
        utils.set_seed(seed)
        model = blocks(residual)
        model.compile(Adam(0.01), 'sparse_categorical_crossentropy', ['accuracy'])
        history = model.fit(x, y, batch_size=32, epochs=4, verbose=0, validation_data=(x_val, y_val))
        results[residual] = history.history
    assert results[True]['loss'][-1] < 0.7 * results[False]['loss'][-1]
    assert results[True]['val_accuracy'][-1] >= 0.95
