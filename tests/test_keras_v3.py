"""Keras 3's .keras files (minicnn/interchange/keras_v3.py): the layout field by
field, round trips, Keras's order of a branching model's layers, files that are
not right, and both directions against real Keras 3 where it is installed."""
import importlib.util
import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile

import h5py
import numpy as np
import pytest

from minicnn import devices
from minicnn import layers as L
from minicnn.interchange import keras_config, keras_v3
from minicnn.interchange.keras_config import KerasConfigError
from minicnn.interchange.keras_v3 import KerasZipError
from minicnn.losses import CategoricalCrossentropy
from minicnn.models import Model, Sequential, load_model
from minicnn.optimizers import SGD, Adam
from minicnn.optimizers.schedules import ExponentialDecay, PiecewiseLinearDecay


def randomize(model, seed=1):
    """Every weight random, BatchNormalization's statistics included (variances positive)."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.data[...] = rng.uniform(0.5, 1.5, w.shape) if 'variance' in w.name else \
            rng.normal(0, 0.5, w.shape)
    return model


def small_cnn():
    return randomize(Sequential([
        L.Conv2D(4, 3, activation='relu', input_shape=(10, 10, 1)), L.BatchNormalization(),
        L.MaxPooling2D(), L.Dropout(0.3), L.Flatten(), L.Dense(2, activation='softmax')]))


def branching():
    """A shortcut convolution beside a conv-BN-conv path: Keras lists the path's first
    convolution before the shortcut, minicnn's graph walk the other way round."""
    images = L.Input(shape=(8, 8, 3), name='images')
    short = L.Conv2D(3, 1, name='short')(images)
    h = L.Conv2D(3, 3, padding='same', name='main1')(images)
    h = L.Conv2D(3, 3, padding='same', name='main2')(L.BatchNormalization(name='bn')(h))
    h = L.Flatten(name='flat')(L.AveragePooling2D(name='pool')(L.Add(name='add')([short, h])))
    return randomize(Model(images, L.Dense(2, name='out')(L.Dropout(0.2, name='drop')(h)),
                           name='branching'))


def every_layer():
    """One model with every kind of layer minicnn has (its twin is in KERAS_SIDE)."""
    images = L.Input(shape=(8, 8, 3))
    a = L.Conv2D(4, 3, padding='same', activation='relu')(images)
    b = L.SeparableConv2D(4, 3, padding='same')(images)
    c = L.Conv2D(4, 1)(L.DepthwiseConv2D(3, padding='same')(L.ZeroPadding2D(0)(images)))
    h = L.Maximum()([L.Average()([L.Multiply()([L.Subtract()([L.Add()([a, b]), c]), a]), b]), c])
    h = L.Concatenate()([h, a])
    h = L.ReLU(max_value=6.0)(L.ELU()(L.LeakyReLU()(L.PReLU()(L.BatchNormalization()(h)))))
    h = L.Dropout(0.1)(L.GaussianDropout(0.1)(L.GaussianNoise(0.1)(L.SpatialDropout2D(0.1)(h))))
    h = L.Conv2DTranspose(3, 3, strides=2, padding='same')(h)
    h = L.AveragePooling2D(2)(L.MaxPooling2D()(L.UpSampling2D()(L.Cropping2D(2)(h))))
    h = L.Permute((2, 1, 3))(L.Rescaling(0.5, offset=0.1)(h))
    h = L.Concatenate()([L.GlobalAveragePooling2D()(h), L.GlobalMaxPooling2D()(h)])
    h = L.Activation('tanh')(L.Flatten()(L.Reshape((2, 3))(h)))
    return randomize(Model(images, L.Softmax()(L.Dense(3)(h))))


def samples(shape, seed=0):
    return np.random.default_rng(seed).random((3, *shape)).astype(np.float32)


def members(path):
    """{name: bytes} of a zip file."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def weights_file(path):
    return h5py.File(io.BytesIO(members(path)[keras_v3.WEIGHTS]), 'r')


def rewrite(path, **replaced):
    """The zip at ``path`` again, with some members' bytes replaced."""
    contents = {**members(path), **replaced}
    with zipfile.ZipFile(path, 'w') as archive:
        for name, data in contents.items():
            archive.writestr(name, data)


# -- the layout, field by field -----------------------------------------------------

def test_the_archive_holds_keras_3_s_three_members_stored(tmp_path):
    model = small_cnn()
    model.compile(Adam(0.01), 'categorical_crossentropy', metrics=['accuracy'])
    model.save(tmp_path / 'm.keras')
    with zipfile.ZipFile(tmp_path / 'm.keras') as archive:
        assert archive.namelist() == ['metadata.json', 'config.json', 'model.weights.h5']
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}
    metadata = json.loads(members(tmp_path / 'm.keras')['metadata.json'])
    assert sorted(metadata) == ['date_saved', 'keras_version']
    assert metadata['keras_version'].startswith('3.')


def test_config_is_keras_3_s_serialized_model(tmp_path):
    model = small_cnn()
    model.compile(Adam(0.01), CategoricalCrossentropy(label_smoothing=0.1), metrics=['accuracy'])
    model.save(tmp_path / 'm.keras')
    config = json.loads(members(tmp_path / 'm.keras')['config.json'])
    assert (config['module'], config['class_name'], config['registered_name']) == \
        ('keras', 'Sequential', None)
    assert config['build_config'] == {'input_shape': [None, 10, 10, 1]}
    first, conv = config['config']['layers'][:2]
    assert first['class_name'] == 'InputLayer'
    assert first['config']['batch_shape'] == [None, 10, 10, 1]
    assert conv['module'] == 'keras.layers' and conv['class_name'] == 'Conv2D'
    assert conv['config']['dtype']['config'] == {'name': 'float32'}
    assert conv['config']['kernel_size'] == [3, 3] and conv['config']['activation'] == 'relu'
    assert conv['build_config'] == {'input_shape': [None, 10, 10, 1]}
    compiled = config['compile_config']
    assert compiled['optimizer']['class_name'] == 'Adam'
    assert compiled['optimizer']['config']['learning_rate'] == pytest.approx(0.01)
    assert 'decay' not in compiled['optimizer']['config']  # Keras 3's optimizers refuse it
    assert compiled['loss']['class_name'] == 'CategoricalCrossentropy'
    assert compiled['loss']['config']['label_smoothing'] == 0.1
    assert compiled['metrics'] == ['accuracy']


def test_weights_are_in_keras_3_s_groups_named_by_class(tmp_path):
    model = small_cnn()
    model.save(tmp_path / 'm.keras')
    conv, bn, dense = model.layers[0], model.layers[1], model.layers[5]
    with weights_file(tmp_path / 'm.keras') as f:
        assert sorted(f['layers']) == ['batch_normalization', 'conv2d', 'dense', 'dropout',
                                       'flatten', 'max_pooling2d']
        assert f['vars'].attrs['name'] == model.name
        assert f['layers/conv2d/vars'].attrs['name'] == conv.name
        np.testing.assert_array_equal(f['layers/conv2d/vars/0'], devices.to_numpy(conv.kernel.data))
        # gamma, beta, moving mean, moving variance
        for k, weight in enumerate(bn.weights):
            np.testing.assert_array_equal(f[f'layers/batch_normalization/vars/{k}'],
                                          devices.to_numpy(weight.data))
        assert f['layers/dense/vars/0'].shape == dense.weights[0].shape
        assert len(f['layers/flatten/vars']) == 0
        assert 'optimizer' not in f  # not compiled


def test_a_compiled_model_writes_the_optimizer_s_counters(tmp_path):
    model = small_cnn()
    model.compile(SGD(0.05), 'mse')
    model.save(tmp_path / 'm.keras')
    with weights_file(tmp_path / 'm.keras') as f:
        assert f['optimizer/vars'].attrs['name'] == 'sgd'
        assert int(f['optimizer/vars/0'][()]) == 0
        assert float(f['optimizer/vars/1'][()]) == pytest.approx(0.05)


def test_a_functional_model_lists_its_layers_in_keras_s_order(tmp_path):
    model = branching()
    # minicnn walks the graph shortcut first; Keras 3 (3.15, checked) lists it so:
    assert [layer.name for layer in keras_config.keras_layers(model)] == [
        'images', 'main1', 'bn', 'short', 'main2', 'add', 'pool', 'flat', 'drop', 'out']
    model.save(tmp_path / 'm.keras')
    config = json.loads(members(tmp_path / 'm.keras')['config.json'])['config']
    assert [s['name'] for s in config['layers']][:5] == ['images', 'main1', 'bn', 'short', 'main2']
    assert config['input_layers'] == ['images', 0, 0]
    assert config['output_layers'] == ['out', 0, 0]
    add = config['layers'][5]
    assert [t['config']['keras_history'] for t in add['inbound_nodes'][0]['args'][0]] == [
        ['short', 0, 0], ['main2', 0, 0]]
    with weights_file(tmp_path / 'm.keras') as f:
        # the second Conv2D in Keras's order is the 1 x 1 shortcut
        assert f['layers/conv2d_1/vars'].attrs['name'] == 'short'
        assert f['layers/conv2d_1/vars/0'].shape == (1, 1, 3, 3)


def test_options_keras_3_dropped_or_renamed_are_written_its_way(tmp_path):
    model = every_layer()
    model.save(tmp_path / 'm.keras')
    specs = {s['class_name']: s['config']
             for s in json.loads(members(tmp_path / 'm.keras')['config.json'])['config']['layers']}
    assert not {'groups', 'kernel_regularizer', 'kernel_constraint'} & set(specs['SeparableConv2D'])
    assert 'groups' not in specs['DepthwiseConv2D'] and 'groups' not in specs['Conv2DTranspose']
    assert not {'trainable', 'noise_shape'} & set(specs['SpatialDropout2D'])
    # Keras 2's alpha is Keras 3's negative_slope, whose default is 0.2, not 0.3: written out
    assert specs['LeakyReLU']['negative_slope'] == 0.3 and 'alpha' not in specs['LeakyReLU']
    back = load_model(tmp_path / 'm.keras')
    x = samples((8, 8, 3))
    np.testing.assert_array_equal(back.predict(x), model.predict(x))


# -- round trips ----------------------------------------------------------------------

@pytest.mark.parametrize('make, shape', [(small_cnn, (10, 10, 1)), (branching, (8, 8, 3))])
def test_a_model_comes_back_the_same(tmp_path, make, shape):
    model = make()
    model.compile(Adam(0.01), CategoricalCrossentropy(label_smoothing=0.1), metrics=['accuracy'])
    model.save(tmp_path / 'm.keras')
    back = load_model(tmp_path / 'm.keras')
    assert [layer.name for layer in back.layers] == [layer.name for layer in model.layers]
    for a, b in zip(model.weights, back.weights):
        np.testing.assert_array_equal(devices.to_numpy(a.data), devices.to_numpy(b.data))
    x = samples(shape)
    np.testing.assert_array_equal(back.predict(x), model.predict(x))
    assert type(back.optimizer) is Adam
    assert back.optimizer.learning_rate == pytest.approx(0.01)
    assert back.loss.label_smoothing == 0.1
    assert [m.name for m in back.compiled_metrics] == ['accuracy']
    assert load_model(tmp_path / 'm.keras', compile=False).optimizer is None


def test_a_nested_model_comes_back_the_same(tmp_path):
    inner = branching()
    x = L.Input(shape=(8, 8, 3))
    model = randomize(Model(x, L.Dense(1)(inner(x))))
    model.save(tmp_path / 'm.keras')
    with weights_file(tmp_path / 'm.keras') as f:
        assert f['layers/functional/layers/conv2d_1/vars/0'].shape == (1, 1, 3, 3)
    back = load_model(tmp_path / 'm.keras')
    np.testing.assert_array_equal(back.predict(samples((8, 8, 3))),
                                  model.predict(samples((8, 8, 3))))


def test_time_based_decay_cannot_be_written_and_nothing_is(tmp_path):
    model = small_cnn()
    model.compile(SGD(0.1, decay=0.01), 'mse')
    with pytest.raises(ValueError, match=r"decay=0.01 .*no Keras 3 equivalent"):
        model.save(tmp_path / 'm.keras')
    assert list(tmp_path.iterdir()) == []


def test_a_keras_schedule_goes_as_a_keras_object_and_minicnn_s_own_is_refused(tmp_path):
    model = small_cnn()
    model.compile(SGD(ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5), momentum=0.9), 'mse')
    model.save(tmp_path / 'm.keras')
    rate = json.loads(members(tmp_path / 'm.keras')['config.json'])['compile_config'][
        'optimizer']['config']['learning_rate']
    assert (rate['module'], rate['class_name']) == ('keras.optimizers.schedules',
                                                    'ExponentialDecay')
    back = load_model(tmp_path / 'm.keras').optimizer
    assert back.schedule.get_config() == model.optimizer.schedule.get_config()
    model.compile(SGD(PiecewiseLinearDecay([0, 10], [0.1, 0.0])), 'mse')
    with pytest.raises(ValueError, match="PiecewiseLinearDecay is minicnn's own"):
        model.save(tmp_path / 'other.keras')
    assert not (tmp_path / 'other.keras').exists()


# -- files that are not right -----------------------------------------------------------

def test_a_file_that_is_not_a_zip_is_named(tmp_path):
    (tmp_path / 'm.keras').write_text('not a zip')
    with pytest.raises(KerasZipError, match=r"m\.keras is not a Keras \.keras file"):
        load_model(tmp_path / 'm.keras')


def test_a_truncated_file_is_named(tmp_path):
    small_cnn().save(tmp_path / 'm.keras')
    data = (tmp_path / 'm.keras').read_bytes()
    for cut in (len(data) // 2, len(data) - 30):
        (tmp_path / 'cut.keras').write_bytes(data[:cut])
        with pytest.raises(KerasZipError, match=r'cut\.keras'):
            load_model(tmp_path / 'cut.keras')


def test_a_damaged_member_is_named(tmp_path):
    small_cnn().save(tmp_path / 'm.keras')
    data = bytearray((tmp_path / 'm.keras').read_bytes())
    at = data.index(b'"class_name"')  # inside config.json: its checksum no longer matches
    data[at:at + 5] = b'XXXXX'
    (tmp_path / 'm.keras').write_bytes(bytes(data))
    with pytest.raises(KerasZipError, match=r'm\.keras: the member config\.json is damaged'):
        load_model(tmp_path / 'm.keras')


def test_a_missing_member_is_named(tmp_path):
    with zipfile.ZipFile(tmp_path / 'm.keras', 'w') as archive:
        archive.writestr('config.json', '{}')
    with pytest.raises(KerasZipError, match='has no model.weights.h5'):
        load_model(tmp_path / 'm.keras')


def test_a_member_that_expands_too_far_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(keras_v3, 'MAX_MEMBER_BYTES', 1000)
    small_cnn().save(tmp_path / 'm.keras')
    contents = members(tmp_path / 'm.keras')
    with zipfile.ZipFile(tmp_path / 'bomb.keras', 'w', zipfile.ZIP_DEFLATED) as archive:
        archive.writestr('config.json', contents['config.json'])  # > 1000 bytes
        archive.writestr('model.weights.h5', bytes(10 ** 6))
    with pytest.raises(KerasZipError, match=r'config\.json declares \d+ bytes, more than the '
                                            r'1000'):
        load_model(tmp_path / 'bomb.keras')
    monkeypatch.setattr(keras_v3, 'MAX_MEMBER_BYTES', 10 ** 5)
    with pytest.raises(KerasZipError, match=r'model\.weights\.h5 declares 1000000 bytes.*zip '
                                            r'bomb'):
        load_model(tmp_path / 'bomb.keras')


def test_weights_that_do_not_fit_name_the_layer_and_shapes(tmp_path):
    model = small_cnn()
    model.save(tmp_path / 'm.keras')
    weights = io.BytesIO(members(tmp_path / 'm.keras')[keras_v3.WEIGHTS])
    with h5py.File(weights, 'a') as f:
        del f['layers/dense/vars/0']
        f['layers/dense/vars/0'] = np.zeros((5, 2), np.float32)
    rewrite(tmp_path / 'm.keras', **{keras_v3.WEIGHTS: weights.getvalue()})
    with pytest.raises(KerasZipError, match=rf"layer '{model.layers[5].name}' weight 0 .* "
                                            rf"shape \(64, 2\), but layers/dense/vars/0 in the "
                                            rf"file is of shape \(5, 2\)"):
        load_model(tmp_path / 'm.keras')


def test_a_keras_3_option_minicnn_lacks_is_refused_by_name(tmp_path):
    small_cnn().save(tmp_path / 'm.keras')
    config = json.loads(members(tmp_path / 'm.keras')['config.json'])
    config['config']['layers'][2]['config']['synchronized'] = True
    rewrite(tmp_path / 'm.keras', **{'config.json': json.dumps(config)})
    with pytest.raises(KerasConfigError, match=r'synchronized=True, which minicnn does not '
                                               r'implement'):
        load_model(tmp_path / 'm.keras')


# -- against real Keras 3 ----------------------------------------------------------------

KERAS_SIDE = textwrap.dedent('''
    import os, sys
    os.environ['KERAS_BACKEND'] = 'torch'
    import keras, numpy as np
    folder = sys.argv[1]
    # minicnn's files, read by Keras
    for name in ('sequential', 'functional', 'nested', 'every_layer'):
        model = keras.models.load_model(f'{folder}/minicnn_{name}.keras')
        x = np.load(f'{folder}/x_{name}.npy')
        np.save(f'{folder}/keras_reads_{name}.npy', model.predict(x, verbose=0))
    # Keras's HDF5 layout too, whose layers Keras matches by their order in the file
    model = keras.models.load_model(f'{folder}/minicnn_functional.h5')
    np.save(f'{folder}/keras_reads_functional_h5.npy',
            model.predict(np.load(f'{folder}/x_functional.npy'), verbose=0))
    # Keras's own files, for minicnn to read
    rng = np.random.default_rng(0)
    def randomize(model):
        for v in model.weights:
            v.assign(rng.uniform(0.5, 1.5, v.shape) if 'variance' in v.path
                     else rng.normal(0, 0.5, v.shape))
        return model
    seq = randomize(keras.Sequential([
        keras.Input((10, 10, 1)), keras.layers.Conv2D(4, 3, activation='relu'),
        keras.layers.BatchNormalization(), keras.layers.MaxPooling2D(),
        keras.layers.Dropout(0.3), keras.layers.Flatten(),
        keras.layers.Dense(2, activation='softmax')]))
    seq.compile(keras.optimizers.Adam(0.01), 'categorical_crossentropy', metrics=['accuracy'])
    images = keras.Input((8, 8, 3))
    short = keras.layers.Conv2D(3, 1)(images)
    h = keras.layers.Conv2D(3, 3, padding='same')(images)
    h = keras.layers.Conv2D(3, 3, padding='same')(keras.layers.BatchNormalization()(h))
    h = keras.layers.GlobalAveragePooling2D()(keras.layers.Add()([short, h]))
    fun = randomize(keras.Model(images, keras.layers.Dense(2)(keras.layers.Dropout(0.2)(h))))
    L = keras.layers  # every_layer() of the test, in Keras
    images = keras.Input((8, 8, 3))
    a = L.Conv2D(4, 3, padding='same', activation='relu')(images)
    b = L.SeparableConv2D(4, 3, padding='same')(images)
    c = L.Conv2D(4, 1)(L.DepthwiseConv2D(3, padding='same')(L.ZeroPadding2D(0)(images)))
    h = L.Maximum()([L.Average()([L.Multiply()([L.Subtract()([L.Add()([a, b]), c]), a]), b]), c])
    h = L.Concatenate()([h, a])
    h = L.ReLU(max_value=6.0)(L.ELU()(L.LeakyReLU()(L.PReLU()(L.BatchNormalization()(h)))))
    h = L.Dropout(0.1)(L.GaussianDropout(0.1)(L.GaussianNoise(0.1)(L.SpatialDropout2D(0.1)(h))))
    h = L.Conv2DTranspose(3, 3, strides=2, padding='same')(h)
    h = L.AveragePooling2D(2)(L.MaxPooling2D()(L.UpSampling2D()(L.Cropping2D(2)(h))))
    h = L.Permute((2, 1, 3))(L.Rescaling(0.5, offset=0.1)(h))
    h = L.Concatenate()([L.GlobalAveragePooling2D()(h), L.GlobalMaxPooling2D()(h)])
    h = L.Activation('tanh')(L.Flatten()(L.Reshape((2, 3))(h)))
    every = randomize(keras.Model(images, L.Softmax()(L.Dense(3)(h))))
    for name, model in (('sequential', seq), ('functional', fun), ('every_layer', every)):
        model.save(f'{folder}/keras_{name}.keras')
        x = np.load(f'{folder}/x_{name}.npy')
        np.save(f'{folder}/keras_predicts_{name}.npy', model.predict(x, verbose=0))
''')


@pytest.mark.skipif(importlib.util.find_spec('keras') is None or
                    importlib.util.find_spec('torch') is None,
                    reason='Keras 3 with its torch backend is not installed')
def test_files_go_both_ways_with_real_keras_3(tmp_path):
    """.keras files both ways, and minicnn's .h5 of a branching model read by Keras
    (its layers in Keras's order). Keras runs in a process of its own: importing torch here would change the
    threads minicnn set up for this one (minicnn/kernels/threads.py)."""
    models = {'sequential': small_cnn(), 'functional': branching(), 'every_layer': every_layer()}
    models['sequential'].compile(Adam(0.01), 'categorical_crossentropy', metrics=['accuracy'])
    x = L.Input(shape=(8, 8, 3))
    nested = randomize(Model(x, L.Dense(1)(branching()(x))))
    for name, model in [*models.items(), ('nested', nested)]:
        model.save(tmp_path / f'minicnn_{name}.keras')
        np.save(tmp_path / f'x_{name}.npy', samples(model.sample_shape))
    models['functional'].save(tmp_path / 'minicnn_functional.h5')
    (tmp_path / 'keras_side.py').write_text(KERAS_SIDE)
    run = subprocess.run([sys.executable, str(tmp_path / 'keras_side.py'), str(tmp_path)],
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, 'KERAS_BACKEND': 'torch'})
    assert run.returncode == 0, run.stderr[-3000:]
    for name, model in models.items():
        x = np.load(tmp_path / f'x_{name}.npy')
        np.testing.assert_allclose(np.load(tmp_path / f'keras_reads_{name}.npy'),
                                   model.predict(x), atol=1e-5)
        ours = load_model(tmp_path / f'keras_{name}.keras')  # Keras's own file
        np.testing.assert_allclose(ours.predict(x),
                                   np.load(tmp_path / f'keras_predicts_{name}.npy'), atol=1e-5)
    x = np.load(tmp_path / 'x_functional.npy')
    np.testing.assert_allclose(np.load(tmp_path / 'keras_reads_functional_h5.npy'),
                               models['functional'].predict(x), atol=1e-5)
    x = np.load(tmp_path / 'x_nested.npy')
    np.testing.assert_allclose(np.load(tmp_path / 'keras_reads_nested.npy'), nested.predict(x),
                               atol=1e-5)
    compiled = load_model(tmp_path / 'keras_sequential.keras')
    assert type(compiled.optimizer) is Adam
    assert compiled.optimizer.learning_rate == pytest.approx(0.01)
    assert [m.name for m in compiled.compiled_metrics] == ['accuracy']
