"""Keras 2's keyword arguments, walked (the list: tests/data/keras2_arguments.json,
from tf-keras's API golden files): for every class and call minicnn implements,
each keyword Keras documents is either accepted (and some test passes it) or
refused by name, never accepted and ignored, never a bare "unexpected keyword".
"""
import importlib
import json
import pathlib
import re

import numpy as np
import pytest

from minicnn import layers, models
from minicnn.arguments import NOT_IMPLEMENTED, keyword_names
from minicnn.layers.base import constructor_keywords
from minicnn.missing import MissingFeatureError, is_refused

TESTS = pathlib.Path(__file__).parent
DATA = json.loads((TESTS / 'data' / 'keras2_arguments.json').read_text())
LAYER_KWARGS = set(DATA['layer_kwargs']) | set(DATA['calls']['layers.Layer']['args'])

# Keras keywords minicnn takes under **kwargs of its own: LambdaCallback's hooks.
TAKEN_BY_KWARGS = {'callbacks.LambdaCallback': set(DATA['calls']['callbacks.LambdaCallback']
                                                   ['args'])}
# Calls left out of the walk, and why.
NOT_WALKED = {
    'preprocessing.image.NumpyArrayIterator': 'made by ImageDataGenerator.flow, whose keywords '
                                              'are walked',
    'preprocessing.image.DirectoryIterator': 'made by flow_from_directory, likewise',
    'Model.save': "file formats are issue 21's other half",
    'Model.save_weights': 'likewise', 'Model.load_weights': 'likewise',
}


def minicnn_target(call):
    """The minicnn class or function of a key such as 'layers.Conv2D',
    'Model.fit' or 'preprocessing.image.ImageDataGenerator.flow', or None."""
    if call == 'Input':
        return layers.Input
    if call.startswith('Model.'):
        return getattr(models.Model, call.split('.', 1)[1])
    module, _, name = call.rpartition('.')
    if module.endswith('ImageDataGenerator'):
        return getattr(minicnn_target(module), name)
    target = getattr(importlib.import_module(f'minicnn.{module}'), name)
    return None if is_refused(target) else target


def accepted(call, target):
    if isinstance(target, type):
        if hasattr(target, 'keyword_names'):  # the optimizers: lr and the clipping options
            return target.keyword_names()
        return constructor_keywords(target) | TAKEN_BY_KWARGS.get(call, set())
    return keyword_names(target)


def keras_keywords(call, spec):
    extra = LAYER_KWARGS if call.startswith('layers.') and spec['kwargs'] else set()
    return set(spec['args']) | extra


@pytest.fixture(scope='module')
def passed_in_tests():
    """Every keyword some test passes: ``name=``, or ``'name':`` in a dict of keywords,
    or ``('name', value)`` in a table of them."""
    return {match for path in TESTS.glob('*.py')
            for match in re.findall(r"\b(\w+)=|'(\w+)':|\('(\w+)', ", path.read_text())
            for match in match if match}


def problems(call, spec, passed_in_tests):
    target = None if call in NOT_WALKED else minicnn_target(call)
    if target is None:
        return []
    names = accepted(call, target)
    found = []
    for keyword in sorted(keras_keywords(call, spec)):
        if keyword in names:
            if keyword not in passed_in_tests:
                found.append(f'{call}({keyword}=) is accepted, but no test passes it')
        elif keyword not in NOT_IMPLEMENTED:
            found.append(f'{call}({keyword}=) is neither accepted nor refused by name')
    return found


@pytest.mark.parametrize('family', sorted({c.split('.')[0] for c in DATA['calls']}))
def test_every_keras_keyword_is_accepted_or_refused_by_name(family, passed_in_tests):
    found = [p for call, spec in DATA['calls'].items() if call.split('.')[0] == family
             for p in problems(call, spec, passed_in_tests)]
    assert found == []


@pytest.mark.parametrize('keyword,value', [
    ('kernel_constraint', 'max_norm'), ('autocast', False), ('implementation', 2)])
def test_a_refused_layer_keyword_names_itself(keyword, value):
    with pytest.raises(TypeError, match=f"'{keyword}', a Keras argument that minicnn does not"):
        layers.Conv2D(4, 3, **{keyword: value})


# Each accepted layer keyword, with the effect Keras gives it.

def test_input_dim_and_batch_input_shape_give_the_input_shape():
    for layer in (layers.Dense(2, input_dim=3), layers.Dense(2, batch_input_shape=(None, 3)),
                  layers.Dense(2, input_shape=(3,), input_dim=5),
                  layers.Dense(2, batch_input_shape=(None, 3), input_shape=(5,))):
        assert models.Sequential([layer]).input_shape == (None, 3)


@pytest.mark.parametrize('make', [
    lambda: layers.Dense(2, batch_input_shape=(32, 3)),
    lambda: layers.Dense(2, input_shape=(3,), batch_size=32),
    lambda: layers.Input(shape=(3,), batch_size=32)])
def test_a_fixed_batch_size_is_refused(make):
    with pytest.raises(MissingFeatureError, match='batch size to 32'):
        make()


def test_input_takes_kerass_shape_forms_and_refuses_sparse_inputs():
    assert layers.Input(batch_shape=(None, 8, 8, 3)).shape == (None, 8, 8, 3)
    assert layers.Input(batch_input_shape=(None, 4)).shape == (None, 4)
    assert layers.Input(shape=(4,), batch_size=None, dtype='float32').shape == (None, 4)
    for keyword in ('sparse', 'ragged'):
        with pytest.raises(MissingFeatureError, match=keyword):
            layers.Input(shape=(4,), **{keyword: True})


@pytest.mark.parametrize('dtype', ['float64', 'float16', 'mixed_float16'])
def test_a_dtype_other_than_float32_is_refused(dtype):
    layers.Dense(2, dtype='float32')
    layers.Dense(2, dtype=np.float32)
    with pytest.raises(MissingFeatureError, match=dtype):
        layers.Dense(2, dtype=dtype)


def test_weights_set_the_initial_weights_when_the_layer_builds():
    kernel = np.arange(6, dtype='float32').reshape(3, 2)
    bias = np.array([1.0, -1.0], 'float32')
    model = models.Sequential([layers.Dense(2, input_dim=3, weights=[kernel, bias])])
    got_kernel, got_bias = model.get_weights()
    np.testing.assert_array_equal(got_kernel, kernel)
    np.testing.assert_array_equal(got_bias, bias)
    np.testing.assert_allclose(model.predict(np.ones((1, 3), 'float32'), verbose=0),
                               [[6 + 1, 9 - 1]])
    kernel[...] = 0  # the layer copied the arrays
    assert model.get_weights()[0].any()


def test_weights_of_a_conv_layer_built_by_its_first_call():
    kernel = np.ones((3, 3, 1, 2), 'float32')
    conv = layers.Conv2D(2, 3, weights=[kernel, np.zeros(2, 'float32')], dynamic=True)
    out = conv(np.ones((1, 5, 5, 1), 'float32'))
    np.testing.assert_array_equal(out.data, np.full((1, 3, 3, 2), 9.0))


@pytest.mark.parametrize('weights,message', [
    ([np.ones((4, 2)), np.zeros(2)], r'Dense\(weights=.*\(3, 2\).*\(4, 2\)'),
    ([np.ones((3, 2))], r'Dense\(weights=.*2 weight arrays, got 1')])
def test_weights_of_the_wrong_shape_or_number_are_refused_at_build(weights, message):
    with pytest.raises(ValueError, match=message):
        models.Sequential([layers.Dense(2, input_dim=3, weights=weights)])


def test_keyword_forms_of_positional_arguments_and_rarer_options():
    """Keras programs also name the arguments usually given by position."""
    from minicnn import callbacks, initializers, metrics
    assert layers.Dense(units=3).units == 3
    assert layers.Dropout(rate=0.25).rate == 0.25
    assert layers.GaussianDropout(rate=0.1).rate == 0.1
    assert layers.SpatialDropout2D(rate=0.2).rate == 0.2
    assert layers.Reshape(target_shape=(2, 3))(np.zeros((1, 6), 'float32')).shape == (1, 2, 3)
    assert layers.Permute(dims=(2, 1))(np.zeros((1, 2, 3), 'float32')).shape == (1, 3, 2)
    assert layers.Cropping2D(cropping=1)(np.zeros((1, 5, 5, 1), 'float32')).shape == (1, 3, 3, 1)
    assert float(initializers.Constant(value=2.5)((1,))[0]) == 2.5
    prelu = layers.PReLU(alpha_initializer=initializers.Constant(0.3))
    prelu.build((2,))
    np.testing.assert_allclose(prelu.get_weights()[0], [0.3, 0.3])
    depthwise = layers.DepthwiseConv2D(3, depthwise_initializer='ones')
    depthwise.build((5, 5, 2))
    assert np.all(depthwise.get_weights()[0] == 1)
    separable = layers.SeparableConv2D(4, 3, depthwise_initializer='ones',
                                       pointwise_initializer='zeros')
    separable.build((5, 5, 2))
    assert np.all(separable.get_weights()[0] == 1) and not separable.get_weights()[1].any()
    metric = metrics.MeanMetricWrapper(fn=lambda t, p: np.abs(t - p))
    metric.update_state(np.array([1.0, 2.0]), np.array([2.0, 2.0]))
    assert float(metric.result()) == 0.5
    assert callbacks.LearningRateScheduler(schedule=lambda epoch: 0.1).schedule(0) == 0.1
    stop = callbacks.EarlyStopping(baseline=0.5, start_from_epoch=2)
    assert (stop.baseline, stop.start_from_epoch) == (0.5, 2)
    from minicnn.optimizers.schedules import CosineDecayRestarts
    assert CosineDecayRestarts(0.1, first_decay_steps=10)(10) == pytest.approx(0.1)
    seen = []
    hooks = callbacks.LambdaCallback(on_train_begin=lambda logs: seen.append('begin'),
                                     on_train_end=lambda logs: seen.append('end'))
    model = models.Sequential([layers.Dense(1, input_shape=(1,))])
    model.compile('sgd', 'mse')
    model.fit(np.zeros((2, 1)), np.zeros((2, 1)), verbose=0, callbacks=[hooks])
    assert seen == ['begin', 'end']
    with pytest.raises(TypeError, match='add_progbar'):
        callbacks.CallbackList([], add_progbar=True)


def test_file_keywords_and_summary_line_length(tmp_path, capsys):
    from minicnn import callbacks
    assert callbacks.CSVLogger(filename=tmp_path / 'log.csv').filename == str(tmp_path / 'log.csv')
    checkpoint = callbacks.ModelCheckpoint(filepath=tmp_path / 'm.npz')
    assert checkpoint.filepath == str(tmp_path / 'm.npz')
    models.Sequential([layers.Dense(2, input_shape=(3,))]).summary(line_length=50)
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) == 50


@pytest.mark.parametrize('make', [
    lambda: layers.Input(shape=(4,), sparse=True), lambda: layers.Input(shape=(4,), ragged=True),
    lambda: layers.Input(shape=(4,), tensor=np.zeros((1, 4))),
    lambda: layers.Input(shape=(4,), type_spec='spec')])
def test_input_refuses_what_is_not_a_dense_array(make):
    with pytest.raises(MissingFeatureError, match='sparse|ragged|tensor|type_spec'):
        make()
