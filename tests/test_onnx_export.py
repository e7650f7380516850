"""ONNX export (minicnn/interchange/onnx_export.py): for every layer type, and
for functional and nested models, ONNX Runtime computes what predict does,
for batches of any size, and onnx.checker accepts the file."""
import os

import numpy as np
import pytest

from minicnn import layers as L
from minicnn.interchange import onnx_export
from minicnn.layers.base import Layer
from minicnn.models import Model, Sequential

onnx = pytest.importorskip('onnx', reason='ONNX export needs onnx: pip install minicnn[onnx]')
ort = pytest.importorskip('onnxruntime',
                          reason='checking exports needs onnxruntime: pip install minicnn[onnx]')

IMAGES = (7, 8, 3)  # odd and even sizes: 'same' padding's odd pixel goes at the end
TOLERANCE = 1e-5


def stack(*layers, shape=IMAGES):
    return Sequential([L.InputLayer(input_shape=shape), *layers])


def randomize(model):
    """Random weights everywhere, BatchNormalization's statistics included."""
    rng = np.random.default_rng(7)
    for w in model.weights:
        w.data[...] = rng.uniform(0.5, 1.5, w.shape) if 'variance' in w.name else \
            rng.normal(0, 0.5, w.shape)
    return model


def assert_exports(model, tmp_path, shapes=(IMAGES,)):
    """Export, check the file, and run it on batches of 1 and 3 against predict."""
    path = tmp_path / 'model.onnx'
    model.export(path)
    onnx.checker.check_model(str(path), full_check=True)
    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    for n in (1, 3):
        rng = np.random.default_rng(n)
        xs = [rng.standard_normal((n, *shape)).astype(np.float32) for shape in shapes]
        feeds = {i.name: x for i, x in zip(session.get_inputs(), xs)}
        want = model(xs if len(xs) > 1 else xs[0]).data
        got = session.run(None, feeds)[0]
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=TOLERANCE, atol=TOLERANCE)


LAYERS = {
    'Conv2D same, strides 2': stack(L.Conv2D(4, 3, strides=2, padding='same', activation='relu')),
    'Conv2D valid, dilated': stack(L.Conv2D(4, 3, dilation_rate=2, activation='tanh')),
    'Conv2D groups': stack(L.Conv2D(6, (2, 3), groups=3, padding='same', activation='sigmoid')),
    'DepthwiseConv2D': stack(L.DepthwiseConv2D(3, strides=2, padding='same', depth_multiplier=2)),
    'SeparableConv2D': stack(L.SeparableConv2D(5, 3, padding='same', depth_multiplier=2)),
    'Conv2DTranspose valid': stack(L.Conv2DTranspose(4, 3, strides=2)),
    'Conv2DTranspose same': stack(L.Conv2DTranspose(4, 3, strides=2, padding='same')),
    'Conv2DTranspose output_padding': stack(L.Conv2DTranspose(4, 3, strides=2, padding='same',
                                                              output_padding=1)),
    'Conv2DTranspose kernel < strides': stack(L.Conv2DTranspose(4, 2, strides=3, padding='same')),
    'Dense': stack(L.Flatten(), L.Dense(5, activation='softmax')),
    'Dense no bias': stack(L.Dense(4, use_bias=False), shape=(6,)),
    'MaxPooling2D same': stack(L.MaxPooling2D(3, strides=2, padding='same')),
    'MaxPooling2D valid': stack(L.MaxPooling2D()),
    'AveragePooling2D same': stack(L.AveragePooling2D(3, strides=2, padding='same')),
    'AveragePooling2D valid': stack(L.AveragePooling2D(2)),
    'GlobalAveragePooling2D': stack(L.GlobalAveragePooling2D()),
    'GlobalMaxPooling2D keepdims': stack(L.GlobalMaxPooling2D(keepdims=True)),
    'BatchNormalization': stack(L.BatchNormalization(),
                                L.BatchNormalization(axis=1, center=False, scale=False)),
    'Flatten': stack(L.Flatten()),
    'Reshape': stack(L.Reshape((-1, 6))),
    'Permute': stack(L.Permute((3, 1, 2))),
    'RepeatVector': stack(L.RepeatVector(3), shape=(5,)),
    'ZeroPadding2D': stack(L.ZeroPadding2D(((1, 2), (0, 3)))),
    'Cropping2D': stack(L.Cropping2D(((1, 2), (0, 3)))),
    'UpSampling2D nearest': stack(L.UpSampling2D((2, 3))),
    'UpSampling2D bilinear': stack(L.UpSampling2D((2, 3), interpolation='bilinear')),
    'Dropout and noise': stack(L.Dropout(0.5), L.SpatialDropout2D(0.3), L.GaussianDropout(0.2),
                               L.GaussianNoise(1.0)),
    'ReLU': stack(L.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.2), L.ReLU()),
    'LeakyReLU and ELU': stack(L.LeakyReLU(0.1), L.ELU(0.5)),
    'PReLU': stack(L.PReLU(shared_axes=[1, 2])),
    'Softmax': stack(L.Softmax(), L.Softmax(axis=1)),
    'Rescaling': stack(L.Rescaling(1 / 9), L.Rescaling(2.0, offset=-1.0)),
    **{f'Activation {name}': stack(L.Activation(name)) for name in [
        'relu', 'leaky_relu', 'relu6', 'elu', 'selu', 'gelu', 'silu', 'swish', 'softplus',
        'softsign', 'hard_sigmoid', 'exponential', 'tanh', 'sigmoid', 'softmax',
        'log_softmax', 'linear']},
}


@pytest.mark.parametrize('name', LAYERS)
def test_layer(name, tmp_path):
    model = randomize(LAYERS[name])
    assert_exports(model, tmp_path, [model.sample_shape])


def test_every_layer_class_is_covered():
    bases = {'ImageLayer', 'WeightedLayer'}  # abstract: no model holds one
    python_functions = {'Lambda'}  # ONNX cannot hold a Python function: export refuses it
    minicnns = {name for name, cls in Layer.subclasses().items()
                if cls.__module__.startswith('minicnn.')}  # not the tests' own layers
    missing = minicnns - {cls.__name__ for cls in onnx_export.EXPORTERS} - bases \
        - python_functions
    assert not missing, f'add these layers to onnx_export.EXPORTERS: {sorted(missing)}'


def residual(images):
    h = L.Conv2D(4, 3, padding='same', activation='relu')(images)
    h = L.BatchNormalization()(L.Conv2D(4, 3, padding='same')(h))
    return L.Activation('relu')(L.Add()([h, images]))


def test_residual_functional_model(tmp_path):
    images = L.Input(shape=(6, 6, 4))
    h = residual(residual(images))
    merged = L.Concatenate()([h, L.Subtract()([h, images]), L.Multiply()([h, images]),
                              L.Maximum()([h, images]), L.Minimum()([h, images]),
                              L.Average()([h, images, h])])
    outputs = L.Dense(3, activation='softmax')(L.GlobalAveragePooling2D()(merged))
    assert_exports(randomize(Model(images, outputs)), tmp_path, [(6, 6, 4)])


def test_nested_models_and_two_inputs(tmp_path):
    inner = Sequential([L.Conv2D(4, 3, padding='same', input_shape=(6, 6, 4)), L.ReLU()])
    block_in = L.Input(shape=(6, 6, 4))
    block = Model(block_in, L.Add()([inner(block_in), block_in]), name='block')
    images, extra = L.Input(shape=(6, 6, 4)), L.Input(shape=(6, 6, 4))
    outputs = L.Flatten()(L.Subtract()([block(block(images)), extra]))  # called twice
    assert_exports(randomize(Model([images, extra], outputs)), tmp_path, [(6, 6, 4)] * 2)


def test_graph_has_a_dynamic_batch_and_nhwc_ends(tmp_path):
    model = stack(L.Conv2D(2, 3))
    model.export(tmp_path / 'm.onnx')
    graph = onnx.load(str(tmp_path / 'm.onnx')).graph
    dims = [[d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in (graph.input[0], graph.output[0])]
    assert dims == [['batch', 7, 8, 3], ['batch', 5, 6, 2]]


def test_unsupported_layers_and_formats_are_named(tmp_path):
    class Doubling(Layer):
        def forward(self, x, training):
            return x * 2

    with pytest.raises(NotImplementedError, match="layer 'twice' is a Doubling, which"):
        stack(Doubling(name='twice')).export(tmp_path / 'm.onnx')
    def doubled(x):
        return x * 2

    with pytest.raises(NotImplementedError, match="has the activation 'doubled'"):
        stack(L.Activation(doubled), shape=(3,)).export(tmp_path / 'm.onnx')
    with pytest.raises(ValueError, match="format 'tf_saved_model' is not implemented"):
        stack(L.Flatten()).export(tmp_path / 'm', format='tf_saved_model')
    assert os.listdir(tmp_path) == []  # nothing written


def test_a_lambda_layer_is_refused_by_name(tmp_path):
    model = Sequential([L.Input(shape=(3,)), L.Lambda(lambda t: t * 2)])
    with pytest.raises(NotImplementedError, match="'lambda' is a Lambda"):
        model.export(tmp_path / 'm.onnx')
