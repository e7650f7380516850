"""minicnn.applications.VGG16: Keras's architecture and names, its arguments,
preprocess_input, and Keras's published weights (a synthetic file of the same
layout, served over the loopback interface: no machine here reaches Keras's
storage)."""
import hashlib

import h5py
import numpy as np
import pytest

from minicnn.applications import VGG16, vgg16
from minicnn.datasets import DatasetError
from minicnn.layers import Input

from test_datasets import files_in, http_server

NO_TOP = 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5'
CONV_NAMES = ['block1_conv1', 'block1_conv2', 'block1_pool', 'block2_conv1', 'block2_conv2',
              'block2_pool', 'block3_conv1', 'block3_conv2', 'block3_conv3', 'block3_pool',
              'block4_conv1', 'block4_conv2', 'block4_conv3', 'block4_pool', 'block5_conv1',
              'block5_conv2', 'block5_conv3', 'block5_pool']
SMALL = (32, 32, 3)


@pytest.fixture(autouse=True)
def cache_folder(tmp_path, monkeypatch):
    """An empty cache, and no address that reaches Keras's storage."""
    monkeypatch.setenv('MINICNN_HOME', str(tmp_path / 'cache'))
    nowhere = (tmp_path / 'nowhere').as_uri()
    monkeypatch.setattr(vgg16, 'WEIGHTS_URL', f'{nowhere}/top.h5')
    monkeypatch.setattr(vgg16, 'WEIGHTS_URL_NO_TOP', f'{nowhere}/notop.h5')
    return tmp_path / 'cache'


@pytest.fixture(scope='module')
def published(tmp_path_factory):
    """(path, MD5, weights) of a file laid out as Keras's published notop file:
    layer_names with the Input first, each convolution's kernel and bias named
    as Keras 1 named them, and no keras_version attribute."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp('site') / NO_TOP
    weights = {}
    with h5py.File(path, 'w') as f:
        f.attrs['layer_names'] = [name.encode() for name in ['input_1', *CONV_NAMES]]
        channels = 3
        for name in CONV_NAMES:
            group = f.create_group(name)
            if name.endswith('pool'):
                group.attrs['weight_names'] = []
                continue
            filters = vgg16.BLOCKS[int(name[5]) - 1][0]
            kernel = rng.normal(0, 0.05, (3, 3, channels, filters)).astype(np.float32)
            bias = rng.normal(0, 0.05, filters).astype(np.float32)
            group.attrs['weight_names'] = [f'{name}_W_1:0'.encode(), f'{name}_b_1:0'.encode()]
            group.create_dataset(f'{name}_W_1:0', data=kernel)
            group.create_dataset(f'{name}_b_1:0', data=bias)
            weights[name], channels = (kernel, bias), filters
        f.create_group('input_1').attrs['weight_names'] = []
    return path, hashlib.md5(path.read_bytes()).hexdigest(), weights


def assert_has(model, weights):
    for name, arrays in weights.items():
        for ours, theirs in zip(model.get_layer(name).get_weights(), arrays):
            np.testing.assert_array_equal(ours, theirs)


# -- the architecture -------------------------------------------------------------------

def test_layers_and_parameter_counts_are_keras():
    model = VGG16(include_top=False)
    assert model.name == 'vgg16' and model.input_shape == (None, 224, 224, 3)
    assert [layer.name for layer in model.layers[1:]] == CONV_NAMES
    assert model.count_params() == 14_714_688
    assert model.output_shape == (None, 7, 7, 512)
    full = VGG16()  # 138M float32 weights, 553 MB: built in a few seconds
    assert [layer.name for layer in full.layers[-4:]] == ['flatten', 'fc1', 'fc2', 'predictions']
    assert full.count_params() == 138_357_544
    assert full.output_shape == (None, 1000) and full.layers[-1].activation_name == 'softmax'


@pytest.mark.parametrize('kwargs, shape', [
    ({'include_top': False, 'input_shape': SMALL}, (None, 1, 1, 512)),
    ({'include_top': False, 'input_shape': (64, 96, 1), 'pooling': 'avg'}, (None, 512)),
    ({'include_top': False, 'input_shape': SMALL, 'pooling': 'max'}, (None, 512)),
    ({'input_shape': SMALL, 'classes': 10, 'classifier_activation': None}, (None, 10)),
])
def test_output_shapes(kwargs, shape):
    model = VGG16(**kwargs)
    assert model.output_shape == shape
    x = np.random.default_rng(0).random((2, *model.input_shape[1:])).astype(np.float32)
    assert model.predict(x).shape == (2, *shape[1:])


def test_pooling_layers_are_keras_global_poolings():
    assert type(VGG16(include_top=False, input_shape=SMALL, pooling='avg').layers[-1]).__name__ \
        == 'GlobalAveragePooling2D'
    assert type(VGG16(include_top=False, input_shape=SMALL, pooling='max').layers[-1]).__name__ \
        == 'GlobalMaxPooling2D'


def test_input_tensor_is_built_on():
    images = Input(shape=SMALL)
    model = VGG16(include_top=False, input_tensor=images)
    assert model.inputs == [images]
    with pytest.raises(TypeError, match='input_tensor must be a SymbolicTensor'):
        VGG16(include_top=False, input_tensor=np.zeros((1, *SMALL)))


@pytest.mark.parametrize('kwargs, message', [
    ({'include_top': False, 'input_shape': (31, 64, 3)}, 'at least 32x32'),
    ({'include_top': False, 'input_shape': (64, 64)}, 'a tuple of three integers'),
    ({'weights': 'imagenet', 'input_shape': SMALL}, r'should be \(224, 224, 3\)'),
    ({'weights': 'imagenet', 'include_top': False, 'input_shape': (64, 64, 1)}, '3 channels'),
    ({'weights': 'imagenet', 'classes': 10}, '`classes` should be 1000'),
    ({'weights': 'nowhere.h5'}, 'the path to the weights file'),
    ({'weights': 'imagenet', 'classifier_activation': 'relu'}, 'only `None` and `softmax`'),
    ({'include_top': False, 'pooling': 'sum'}, "pooling must be None, 'avg' or 'max'"),
])
def test_arguments_are_checked_as_keras_checks_them(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VGG16(**kwargs)


def test_unusual_channel_counts_warn():
    with pytest.warns(UserWarning, match='usually expects 1 or 3 input channels'):
        VGG16(include_top=False, input_shape=(32, 32, 4))


# -- preprocess_input ---------------------------------------------------------------------

def test_preprocess_input_is_caffe_mode():
    x = np.random.default_rng(0).integers(0, 256, (2, 4, 5, 3)).astype(np.uint8)
    y = vgg16.preprocess_input(x)
    assert y.dtype == np.float32 and y.shape == x.shape
    bgr = x[..., ::-1].astype(np.float32)
    for c, mean in enumerate([103.939, 116.779, 123.68]):
        np.testing.assert_array_equal(y[..., c], bgr[..., c] - np.float32(mean))
    floats = x.astype(np.float64)
    assert vgg16.preprocess_input(floats).dtype == np.float64
    np.testing.assert_array_equal(floats, x)  # the input is left as it was
    with pytest.raises(ValueError, match='channels_last'):
        vgg16.preprocess_input(x, data_format='channels_first')


# -- Keras's weights ------------------------------------------------------------------------

def test_weights_from_a_keras_file(published):
    path, _, weights = published
    model = VGG16(include_top=False, weights=str(path), input_shape=SMALL, pooling='max')
    assert_has(model, weights)
    twin = VGG16(include_top=False, input_shape=SMALL, pooling='max')
    twin.set_weights(model.get_weights())
    x = vgg16.preprocess_input(np.random.default_rng(1).uniform(0, 255, (2, *SMALL)))
    np.testing.assert_array_equal(model.predict(x), twin.predict(x))


def test_imagenet_weights_download_once_into_the_cache(published, cache_folder, monkeypatch):
    path, md5, weights = published
    monkeypatch.setattr(vgg16, 'WEIGHTS_MD5_NO_TOP', md5)
    with http_server(path.parent) as url:
        monkeypatch.setattr(vgg16, 'WEIGHTS_URL_NO_TOP', url + NO_TOP)
        assert_has(VGG16(include_top=False, weights='imagenet', input_shape=SMALL), weights)
    assert files_in(cache_folder) == [f'models/{NO_TOP}']
    # the server is gone: the cached file, its hash checked again, is used
    assert_has(VGG16(include_top=False, weights='imagenet', input_shape=SMALL), weights)


def test_a_wrong_hash_keeps_nothing(published, cache_folder, monkeypatch):
    path, _, _ = published
    with http_server(path.parent) as url:
        monkeypatch.setattr(vgg16, 'WEIGHTS_URL_NO_TOP', url + NO_TOP)
        with pytest.raises(DatasetError, match=f'{NO_TOP}: MD5 checksum .* does not match the '
                                               f'published {vgg16.WEIGHTS_MD5_NO_TOP}'):
            VGG16(include_top=False, weights='imagenet', input_shape=SMALL)
    assert files_in(cache_folder) == []


def test_a_damaged_cached_file_is_downloaded_again(published, cache_folder, monkeypatch):
    path, md5, weights = published
    monkeypatch.setattr(vgg16, 'WEIGHTS_MD5_NO_TOP', md5)
    (cache_folder / 'models').mkdir(parents=True)
    (cache_folder / 'models' / NO_TOP).write_bytes(path.read_bytes()[:1000])  # cut short
    with http_server(path.parent) as url:
        monkeypatch.setattr(vgg16, 'WEIGHTS_URL_NO_TOP', url + NO_TOP)
        assert_has(VGG16(include_top=False, weights='imagenet', input_shape=SMALL), weights)
    assert (cache_folder / 'models' / NO_TOP).read_bytes() == path.read_bytes()

