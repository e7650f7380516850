"""Keras's HDF5 files (minicnn/interchange/hdf5.py): the layouts field by field,
round trips that are bit-identical, files as Keras 2 writes them, and files
that are not right."""
import json
import os

import h5py
import numpy as np
import pytest

from minicnn import devices
from minicnn import layers as L
from minicnn.interchange import hdf5, keras_config
from minicnn.interchange.hdf5 import KerasFileError
from minicnn.models import Model, Sequential, load_model
from minicnn.optimizers import Adam


def randomize(model, seed=1):
    """Every weight random, BatchNormalization's statistics included (variances positive)."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.data[...] = rng.uniform(0.5, 1.5, w.shape) if 'variance' in w.name else \
            rng.normal(0, 0.5, w.shape)
    return model


def small_cnn():
    return Sequential([
        L.Conv2D(4, 3, padding='same', activation='relu', input_shape=(10, 10, 1)),
        L.BatchNormalization(), L.MaxPooling2D(), L.Dropout(0.3), L.Flatten(),
        L.Dense(2, activation='softmax')])


def residual():
    """Two inputs, the second used late: the HDF5 file must keep which goes where."""
    images, extra = L.Input(shape=(8, 8, 3)), L.Input(shape=(8, 8, 3))
    h = L.Conv2D(3, 3, padding='same', activation='relu')(images)
    h = L.Subtract()([L.Add()([h, images]), extra])
    h = L.Concatenate()([h, L.BatchNormalization()(h)])
    return Model([images, extra], L.Dense(2)(L.GlobalAveragePooling2D()(h)))


def base_model(trainable=True):
    """A model to nest: conv, BatchNormalization, conv (trainable and frozen weights mixed)."""
    images = L.Input(shape=(10, 10, 3))
    h = L.Conv2D(4, 3, activation='relu', name='block1_conv1')(images)
    h = L.BatchNormalization(name='bn')(h)
    h = L.Conv2D(2, 3, name='block1_conv2')(h)
    base = Model(images, h, name='base')
    base.trainable = trainable
    return base


def nested(trainable=True):
    images = L.Input(shape=(10, 10, 3))
    return Model(images, L.Dense(2)(L.Flatten()(base_model(trainable)(images))))


def samples(shape, seed=0):
    return np.random.default_rng(seed).random((5, *shape)).astype(np.float32)


def attribute(group, name):
    return list(group.attrs[name])


def assert_same_weights(a, b):
    assert len(a.weights) == len(b.weights)
    for wa, wb in zip(a.weights, b.weights):
        np.testing.assert_array_equal(devices.to_numpy(wa.data), devices.to_numpy(wb.data))


# -- the layouts, field by field ----------------------------------------------------

def test_weights_file_layout_is_keras(tmp_path):
    model = randomize(small_cnn())
    model.save_weights(tmp_path / 'w.h5')
    with h5py.File(tmp_path / 'w.h5', 'r') as f:
        assert attribute(f, 'layer_names') == [layer.name for layer in model.layers]
        # variable-length strings, as h5py stores the bytes Keras gives it
        assert (f.attrs['backend'], f.attrs['keras_version']) == ('minicnn', hdf5.KERAS_VERSION)
        conv = model.layers[0]
        assert attribute(f[conv.name], 'weight_names') == [f'{conv.name}/kernel:0',
                                                           f'{conv.name}/bias:0']
        np.testing.assert_array_equal(f[f'{conv.name}/{conv.name}/kernel:0'][()],
                                      conv.get_weights()[0])
        assert f[f'{conv.name}/{conv.name}/kernel:0'].dtype == np.float32
        flatten = model.layers[4].name
        assert len(f[flatten].attrs['weight_names']) == 0  # a group, with no weights
        assert len(f['top_level_model_weights'].attrs['weight_names']) == 0


def test_legacy_order_puts_trainable_weights_first(tmp_path):
    model = nested()
    model.save_weights(tmp_path / 'w.h5')
    with h5py.File(tmp_path / 'w.h5', 'r') as f:
        names = attribute(f['base'], 'weight_names')
        assert names == ['block1_conv1/kernel:0', 'block1_conv1/bias:0', 'bn/gamma:0', 'bn/beta:0',
                         'block1_conv2/kernel:0', 'block1_conv2/bias:0', 'bn/moving_mean:0',
                         'bn/moving_variance:0']
        assert f['base/block1_conv1/kernel:0'].shape == (3, 3, 3, 4)  # nested under the model
    frozen = nested(trainable=False)
    frozen.save_weights(tmp_path / 'frozen.h5')
    with h5py.File(tmp_path / 'frozen.h5', 'r') as f:  # all non-trainable: layer order
        assert attribute(f['base'], 'weight_names')[2:4] == ['bn/gamma:0', 'bn/beta:0']


def test_model_file_layout_is_keras(tmp_path):
    model = small_cnn()
    model.compile(Adam(learning_rate=0.01), 'sparse_categorical_crossentropy', ['accuracy'])
    model.save(tmp_path / 'm.h5')
    with h5py.File(tmp_path / 'm.h5', 'r') as f:
        assert f.attrs['keras_version'] == hdf5.KERAS_VERSION
        config = json.loads(f.attrs['model_config'])
        training = json.loads(f.attrs['training_config'])
        assert attribute(f['model_weights'], 'layer_names') == [l.name for l in model.layers]
        assert 'optimizer_weights' not in f
    assert config['class_name'] == 'Sequential'
    first, conv = config['config']['layers'][:2]
    assert first == {'class_name': 'InputLayer', 'config': {
        'batch_input_shape': [None, 10, 10, 1], 'name': f'{model.layers[0].name}_input',
        'dtype': 'float32', 'sparse': False, 'ragged': False}}
    assert conv['config']['kernel_initializer'] == {
        'module': 'keras.initializers', 'class_name': 'GlorotUniform', 'config': {'seed': None},
        'registered_name': None}
    assert {k: conv['config'][k] for k in ('filters', 'kernel_size', 'strides', 'padding',
                                           'data_format', 'dilation_rate', 'groups',
                                           'activation', 'dtype', 'kernel_regularizer')} == {
        'filters': 4, 'kernel_size': [3, 3], 'strides': [1, 1], 'padding': 'same',
        'data_format': 'channels_last', 'dilation_rate': [1, 1], 'groups': 1,
        'activation': 'relu', 'dtype': 'float32', 'kernel_regularizer': None}
    assert 'beta_lr_multiplier' not in config['config']['layers'][2]['config']  # at its default
    assert training['metrics'] == ['accuracy'] and training['loss_weights'] is None
    assert training['optimizer_config']['class_name'] == 'Adam'
    assert training['optimizer_config']['config']['learning_rate'] == 0.01
    assert 'weight_decay' not in training['optimizer_config']['config']  # None: left out


def test_functional_config_names_each_call(tmp_path):
    model = nested()
    config = keras_config.layer_to_keras(model)
    assert config['class_name'] == 'Functional'
    layers = {spec['name']: spec for spec in config['config']['layers']}
    images = model.inputs[0].layer.name
    assert layers['base']['class_name'] == 'Functional'
    assert layers['base']['inbound_nodes'] == [[[images, 0, 0, {}]]]
    flatten = model.layers[2].name
    assert layers[flatten]['inbound_nodes'] == [[['base', 1, 0, {}]]]  # a nested model's call 1
    assert config['config']['input_layers'] == [[images, 0, 0]]
    assert layers[images]['inbound_nodes'] == []


# -- round trips --------------------------------------------------------------------------

@pytest.mark.parametrize('build, shapes', [(small_cnn, [(10, 10, 1)]),
                                           (residual, [(8, 8, 3), (8, 8, 3)]),
                                           (nested, [(10, 10, 3)])])
def test_weights_round_trip_is_bit_identical(tmp_path, build, shapes):
    model, twin = randomize(build()), build()
    model.save_weights(tmp_path / 'w.h5')
    twin.load_weights(tmp_path / 'w.h5')
    assert_same_weights(model, twin)
    x = [samples(s, k) for k, s in enumerate(shapes)]
    np.testing.assert_array_equal(model(x if len(x) > 1 else x[0]).data,
                                  twin(x if len(x) > 1 else x[0]).data)


@pytest.mark.parametrize('build, shapes', [(small_cnn, [(10, 10, 1)]),
                                           (residual, [(8, 8, 3), (8, 8, 3)]),
                                           (lambda: nested(trainable=False), [(10, 10, 3)])])
def test_model_round_trip_is_bit_identical(tmp_path, build, shapes):
    model = randomize(build())
    model.compile(Adam(learning_rate=0.003, clipnorm=1.0), 'categorical_crossentropy',
                  ['accuracy'])
    model.save(tmp_path / 'm.hdf5')
    loaded = load_model(tmp_path / 'm.hdf5')
    assert [(type(a), a.name, a.trainable) for a in loaded.layers] == \
        [(type(b), b.name, b.trainable) for b in model.layers]
    assert_same_weights(model, loaded)
    x = [samples(s, k) for k, s in enumerate(shapes)]
    np.testing.assert_array_equal(model(x if len(x) > 1 else x[0]).data,
                                  loaded(x if len(x) > 1 else x[0]).data)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.loss.get_config() == model.loss.get_config()
    assert load_model(tmp_path / 'm.hdf5', compile=False).optimizer is None


def test_frozen_nested_model_stays_frozen(tmp_path):
    model = nested(trainable=False)
    model.save(tmp_path / 'm.h5')
    loaded = load_model(tmp_path / 'm.h5')
    assert len(loaded.trainable_weights) == 2  # the Dense only
    assert len(loaded.weights) == len(model.weights)


# -- files as Keras writes them -------------------------------------------------------------

# model_config and training_config verbatim from files Keras 2.15 (TensorFlow 2.15) wrote:
# a frozen functional model nested in another, called with training=False.
KERAS_MODEL_CONFIG = """
{"class_name": "Functional", "config": {"name": "model_1", "trainable": true, "layers":
[{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 16, 16, 3], "dtype":
"float32", "sparse": false, "ragged": false, "name": "input_3"}, "name": "input_3",
"inbound_nodes": []}, {"class_name": "Functional", "config": {"name": "base", "trainable":
false, "layers": [{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 16,
16, 3], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_2"}, "name":
"input_2", "inbound_nodes": []}, {"class_name": "Conv2D", "config": {"name": "block1_conv1",
"trainable": false, "dtype": "float32", "filters": 4, "kernel_size": [3, 3], "strides": [1,
1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1], "groups":
1, "activation": "relu", "use_bias": true, "kernel_initializer": {"module":
"keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null},
"registered_name": null}, "bias_initializer": {"module": "keras.initializers", "class_name":
"Zeros", "config": {}, "registered_name": null}, "kernel_regularizer": null,
"bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null,
"bias_constraint": null}, "name": "block1_conv1", "inbound_nodes": [[["input_2", 0, 0,
{}]]]}, {"class_name": "BatchNormalization", "config": {"name": "bn", "trainable": false,
"dtype": "float32", "axis": [3], "momentum": 0.99, "epsilon": 0.001, "center": true,
"scale": true, "beta_initializer": {"module": "keras.initializers", "class_name": "Zeros",
"config": {}, "registered_name": null}, "gamma_initializer": {"module":
"keras.initializers", "class_name": "Ones", "config": {}, "registered_name": null},
"moving_mean_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config":
{}, "registered_name": null}, "moving_variance_initializer": {"module":
"keras.initializers", "class_name": "Ones", "config": {}, "registered_name": null},
"beta_regularizer": null, "gamma_regularizer": null, "beta_constraint": null,
"gamma_constraint": null}, "name": "bn", "inbound_nodes": [[["block1_conv1", 0, 0, {}]]]},
{"class_name": "MaxPooling2D", "config": {"name": "block1_pool", "trainable": false,
"dtype": "float32", "pool_size": [2, 2], "padding": "valid", "strides": [2, 2],
"data_format": "channels_last"}, "name": "block1_pool", "inbound_nodes": [[["bn", 0, 0,
{}]]]}], "input_layers": [["input_2", 0, 0]], "output_layers": [["block1_pool", 0, 0]]},
"name": "base", "inbound_nodes": [[["input_3", 0, 0, {"training": false}]]]}, {"class_name":
"Flatten", "config": {"name": "flatten_1", "trainable": true, "dtype": "float32",
"data_format": "channels_last"}, "name": "flatten_1", "inbound_nodes": [[["base", 1, 0,
{}]]]}, {"class_name": "Dense", "config": {"name": "dense_2", "trainable": true, "dtype":
"float32", "units": 2, "activation": "linear", "use_bias": true, "kernel_initializer":
{"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null},
"registered_name": null}, "bias_initializer": {"module": "keras.initializers", "class_name":
"Zeros", "config": {}, "registered_name": null}, "kernel_regularizer": null,
"bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null,
"bias_constraint": null}, "name": "dense_2", "inbound_nodes": [[["flatten_1", 0, 0, {}]]]}],
"input_layers": [["input_3", 0, 0]], "output_layers": [["dense_2", 0, 0]]}}
"""
KERAS_TRAINING_CONFIG = """
{"loss": "sparse_categorical_crossentropy", "metrics": [[{"class_name": "MeanMetricWrapper",
"config": {"name": "accuracy", "dtype": "float32", "fn": "sparse_categorical_accuracy"}}]],
"weighted_metrics": null, "loss_weights": null, "optimizer_config": {"class_name":
"Custom>Adam", "config": {"name": "Adam", "weight_decay": null, "clipnorm": null,
"global_clipnorm": null, "clipvalue": null, "use_ema": false, "ema_momentum": 0.99,
"ema_overwrite_frequency": null, "jit_compile": false, "is_legacy_optimizer": false,
"learning_rate": 0.009999999776482582, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
"amsgrad": false}}}
"""
# The weights of that model, as Keras stores them: {layer: [(weight name, shape)]}.
KERAS_WEIGHTS = {
    'input_3': [], 'flatten_1': [],
    'base': [('block1_conv1/kernel:0', (3, 3, 3, 4)), ('block1_conv1/bias:0', (4,)),
             ('bn/gamma:0', (4,)), ('bn/beta:0', (4,)), ('bn/moving_mean:0', (4,)),
             ('bn/moving_variance:0', (4,))],
    'dense_2': [('dense_2/kernel:0', (196, 2)), ('dense_2/bias:0', (2,))],
}


def write_like_keras(path, rng):
    """A whole-model file laid out as Keras 2.15's save_model_to_hdf5 lays it out."""
    values = {}
    with h5py.File(path, 'w') as f:
        f.attrs['backend'], f.attrs['keras_version'] = 'tensorflow', '2.15.0'
        f.attrs['model_config'] = KERAS_MODEL_CONFIG.encode('utf8')
        f.attrs['training_config'] = KERAS_TRAINING_CONFIG.encode('utf8')
        group = f.create_group('model_weights')
        group.attrs['layer_names'] = [n.encode() for n in ('input_3', 'base', 'flatten_1',
                                                          'dense_2')]
        group.attrs['backend'], group.attrs['keras_version'] = b'tensorflow', b'2.15.0'
        for layer, weights in sorted(KERAS_WEIGHTS.items()):
            g = group.create_group(layer)
            g.attrs['weight_names'] = [name.encode() for name, _ in weights]
            for name, shape in weights:
                values[name] = rng.uniform(0.5, 1.5, shape).astype(np.float32)
                g.create_dataset(name, data=values[name])
        group.create_group('top_level_model_weights').attrs['weight_names'] = []
        optimizer = f.create_group('optimizer_weights')
        optimizer.attrs['weight_names'] = [b'iteration:0']
        optimizer.create_dataset('iteration:0', data=np.int64(1))
    return values


def test_a_model_file_written_by_keras_loads(tmp_path):
    values = write_like_keras(tmp_path / 'keras.h5', np.random.default_rng(3))
    model = load_model(tmp_path / 'keras.h5')
    assert [(type(layer).__name__, layer.name, layer.trainable) for layer in model.layers] == [
        ('InputLayer', 'input_3', True), ('Model', 'base', False), ('Flatten', 'flatten_1', True),
        ('Dense', 'dense_2', True)]
    base = model.get_layer('base')
    assert [layer.name for layer in base.layers] == ['input_2', 'block1_conv1', 'bn',
                                                     'block1_pool']
    assert base.get_layer('bn').axis == 3 and base.get_layer('block1_conv1').padding == 'valid'
    for w in model.weights:
        np.testing.assert_array_equal(w.data, values[f'{w.name}:0'])
    assert model.optimizer.get_config()['learning_rate'] == 0.009999999776482582
    assert model.loss.name == 'sparse_categorical_crossentropy'
    # the same network built in minicnn, given the same weights, computes the same
    images = L.Input(shape=(16, 16, 3))
    h = L.Conv2D(4, 3, activation='relu')(images)
    h = L.MaxPooling2D()(L.BatchNormalization()(h))
    twin = Model(images, L.Dense(2)(L.Flatten()(h)))
    twin.set_weights(model.get_weights())
    x = samples((16, 16, 3))
    np.testing.assert_array_equal(model.predict(x), twin.predict(x))


def test_keras_weights_file_loads_by_order_and_by_name(tmp_path):
    values = write_like_keras(tmp_path / 'keras.h5', np.random.default_rng(4))
    model = load_model(tmp_path / 'keras.h5', compile=False)
    randomize(model)
    model.load_weights(tmp_path / 'keras.h5')  # a whole-model file's weights
    np.testing.assert_array_equal(model.get_layer('dense_2').get_weights()[0],
                                  values['dense_2/kernel:0'])
    randomize(model)
    model.load_weights(tmp_path / 'keras.h5', by_name=True)
    np.testing.assert_array_equal(model.get_layer('dense_2').get_weights()[0],
                                  values['dense_2/kernel:0'])


def test_by_name_leaves_other_layers_and_skips_mismatches(tmp_path):
    source = randomize(small_cnn())
    source.save_weights(tmp_path / 'w.h5')
    conv, dense = source.layers[0].name, source.layers[5].name
    target = Sequential([L.Conv2D(4, 3, padding='same', input_shape=(10, 10, 1), name=conv),
                         L.BatchNormalization(name='other'), L.Flatten(),
                         L.Dense(3, name=dense)])
    before = target.get_layer('other').get_weights()
    with pytest.raises(ValueError, match=rf"layer '{dense}' has weights of shapes "
                                         r"\[\(400, 3\), \(3,\)\], but the layer "
                                         rf"'{dense}' of .*w.h5 has \[\(100, 2\), \(2,\)\]"):
        target.load_weights(tmp_path / 'w.h5', by_name=True)
    np.testing.assert_array_equal(target.layers[0].get_weights()[1], np.zeros(4))  # all or none
    with pytest.warns(UserWarning, match=f"load_weights: skipping layer '{dense}'"):
        target.load_weights(tmp_path / 'w.h5', by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(target.layers[0].get_weights()[0],
                                  source.layers[0].get_weights()[0])
    for a, b in zip(target.get_layer('other').get_weights(), before):  # not in the file
        np.testing.assert_array_equal(a, b)


def test_by_order_counts_the_layers_with_weights(tmp_path):
    small_cnn().save_weights(tmp_path / 'w.h5')
    fewer = Sequential([L.Conv2D(4, 3, padding='same', input_shape=(10, 10, 1)), L.Flatten(),
                        L.Dense(2)])
    with pytest.raises(ValueError, match=r'holds weights for 3 layers .* the model has 2 layers '
                                         r'with weights'):
        fewer.load_weights(tmp_path / 'w.h5')


# -- files that are not right ---------------------------------------------------------------

def test_files_that_are_not_keras_hdf5(tmp_path):
    model = small_cnn()
    (tmp_path / 'text.h5').write_text('not an HDF5 file')
    with pytest.raises(KerasFileError, match='is not an HDF5 file'):
        model.load_weights(tmp_path / 'text.h5')
    with h5py.File(tmp_path / 'other.h5', 'w') as f:
        f.create_dataset('x', data=np.zeros(3))
    with pytest.raises(KerasFileError, match="an HDF5 file, but not in Keras's layout"):
        model.load_weights(tmp_path / 'other.h5')
    with pytest.raises(KerasFileError, match="not in Keras's layout"):
        load_model(tmp_path / 'other.h5')
    model.save_weights(tmp_path / 'w.h5')
    with pytest.raises(KerasFileError, match='not a whole-model file; it is a weights file'):
        load_model(tmp_path / 'w.h5')
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / 'missing.h5')


def test_keras_options_minicnn_lacks_are_errors():
    spec = {'class_name': 'Conv2D', 'config': {'name': 'c', 'filters': 2, 'kernel_size': [3, 3],
                                               'data_format': 'channels_first'}}
    with pytest.raises(keras_config.KerasConfigError,
                       match=r"layer 'c' \(Conv2D\) has data_format='channels_first'"):
        keras_config.layer_from_keras(spec)
    with pytest.raises(keras_config.KerasConfigError, match='a Keras LSTM, which minicnn'):
        keras_config.layer_from_keras({'class_name': 'LSTM', 'config': {'name': 'lstm'}})
    with pytest.raises(keras_config.KerasConfigError, match='written by Keras 3'):
        keras_config.layer_from_keras({'module': 'keras', 'class_name': 'Sequential',
                                       'config': {}})
    neutral = dict(spec, config={**spec['config'], 'data_format': 'channels_last',
                                 'kernel_regularizer': None, 'dtype': 'float32'})
    assert keras_config.layer_from_keras(neutral).filters == 2


def test_a_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    model = small_cnn()
    model.save_weights(tmp_path / 'w.h5')
    before = (tmp_path / 'w.h5').read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(h5py.Group, 'create_dataset', disk_full)
    for save in (model.save_weights, model.save):
        with pytest.raises(OSError, match='No space left'):
            save(tmp_path / 'w.h5')
    assert (tmp_path / 'w.h5').read_bytes() == before
    assert os.listdir(tmp_path) == ['w.h5']


def test_long_name_lists_are_split_as_keras_splits_them(tmp_path):
    names = [f'layer_with_a_rather_long_name_{k:05d}' for k in range(3000)]
    with h5py.File(tmp_path / 'a.h5', 'w') as f:
        hdf5.write_names(f, 'layer_names', names)
        assert 'layer_names' not in f.attrs and 'layer_names0' in f.attrs
        assert hdf5.read_names(f, 'layer_names') == names


def test_npz_files_and_keras_3_names(tmp_path):
    model = small_cnn()
    model.save_weights(tmp_path / 'w.npz')
    with pytest.raises(ValueError, match='by_name and skip_mismatch need the layer names'):
        model.load_weights(tmp_path / 'w.npz', by_name=True)
    with pytest.raises(ValueError, match=r'Keras 3 .keras name, a file of a whole model'):
        model.save_weights(tmp_path / 'm.keras')


def test_a_branching_model_s_layers_are_written_in_keras_s_order(tmp_path):
    """Keras matches a file's layers with its model's by order: a shortcut that
    minicnn's graph walk meets first comes after the main path's first layer."""
    images = L.Input(shape=(8, 8, 3), name='images')
    short = L.Conv2D(3, 3, padding='same', name='short')(images)
    main = L.Conv2D(3, 3, padding='same', name='main2')(L.Conv2D(3, 3, padding='same',
                                                                 name='main1')(images))
    model = randomize(Model(images, L.Add(name='add')([short, main])))
    assert [layer.name for layer in model.layers] == ['images', 'short', 'main1', 'main2', 'add']
    keras_order = ['images', 'main1', 'short', 'main2', 'add']
    model.save(tmp_path / 'm.h5')
    with h5py.File(tmp_path / 'm.h5', 'r') as f:
        assert attribute(f['model_weights'], 'layer_names') == keras_order
        config = json.loads(f.attrs['model_config'])
        assert [spec['name'] for spec in config['config']['layers']] == keras_order
    back = load_model(tmp_path / 'm.h5')
    x = samples((8, 8, 3))
    np.testing.assert_array_equal(back.predict(x), model.predict(x))
    assert_same_weights(back.get_layer('short'), model.get_layer('short'))
