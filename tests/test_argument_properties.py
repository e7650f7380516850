"""Property test: layers made from random, often invalid, arguments either work
or fail with minicnn's own error naming the argument, never with a bare
TypeError, IndexError or KeyError from deep inside Python or NumPy."""
import os
import traceback

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minicnn import layers as L

MINICNN = os.path.dirname(L.__file__).rsplit(os.sep, 1)[0]
# no deadline: the first example of a layer compiles its Numba kernels (seconds), and
# CI's shared 2-core host has taken 2.7 s for what takes 1 ms warm
BOUNDED = settings(max_examples=150, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow])

small_ints = st.integers(-3, 6)
scalars = st.one_of(small_ints, small_ints.map(np.int64), small_ints.map(np.int32),
                    st.floats(-2, 6), st.just(float('nan')),
                    st.just(float('inf')), st.none(), st.booleans(), st.text(max_size=3),
                    st.just(np.float32(0.5)))
values = st.one_of(scalars, st.tuples(scalars), st.tuples(scalars, scalars),
                   st.tuples(scalars, scalars, scalars), st.lists(small_ints, max_size=3),
                   st.just('same'), st.just('valid'), st.just('VALID'))

# layer, its arguments (each drawn from ``values``), the input shape to call it on
LAYERS = {
    L.Conv2D: (('filters', 'kernel_size', 'strides', 'padding', 'dilation_rate', 'groups'),
               (8, 8, 4)),
    L.Conv2DTranspose: (('filters', 'kernel_size', 'strides', 'padding'), (6, 6, 2)),
    L.DepthwiseConv2D: (('kernel_size', 'strides', 'padding', 'depth_multiplier'), (8, 8, 2)),
    L.SeparableConv2D: (('filters', 'kernel_size', 'strides', 'padding'), (8, 8, 2)),
    L.MaxPooling2D: (('pool_size', 'strides', 'padding'), (8, 8, 2)),
    L.AveragePooling2D: (('pool_size', 'strides', 'padding'), (8, 8, 2)),
    L.Dense: (('units',), (5,)),
    L.Dropout: (('rate',), (5,)),
    L.SpatialDropout2D: (('rate',), (4, 4, 2)),
    L.GaussianDropout: (('rate',), (5,)),
    L.GaussianNoise: (('stddev',), (5,)),
    L.Rescaling: (('scale', 'offset'), (5,)),
    L.ReLU: (('max_value', 'negative_slope', 'threshold'), (5,)),
    L.LeakyReLU: (('alpha',), (5,)),
    L.ELU: (('alpha',), (5,)),
    L.Softmax: (('axis',), (5,)),
    L.BatchNormalization: (('axis', 'momentum', 'epsilon'), (4, 4, 2)),
    L.UpSampling2D: (('size',), (4, 4, 2)),
    L.ZeroPadding2D: (('padding',), (4, 4, 2)),
    L.Cropping2D: (('cropping',), (6, 6, 2)),
    L.Reshape: (('target_shape',), (4, 4, 2)),
    L.Permute: (('dims',), (4, 4, 2)),
    L.RepeatVector: (('n',), (5,)),
    L.Flatten: ((), (4, 4, 2)),
}


def raised_by_minicnn(err):
    """Whether the innermost frame that raised ``err`` is minicnn's own code."""
    frames = traceback.extract_tb(err.__traceback__)
    return bool(frames) and frames[-1].filename.startswith(MINICNN)


def check_failure(err, names, where):
    assert isinstance(err, (ValueError, TypeError)), f'{where}: {type(err).__name__}: {err}'
    assert raised_by_minicnn(err), f'{where}: raised outside minicnn: {type(err).__name__}: {err}'
    message = str(err)
    assert any(name in message for name in names), f'{where}: names no argument: {message}'


@st.composite
def layer_calls(draw):
    """(layer class, keyword arguments, input shape)."""
    cls = draw(st.sampled_from(list(LAYERS)))
    names, shape = LAYERS[cls]
    chosen = draw(st.lists(st.sampled_from(names), unique=True)) if names else []
    required = {L.Conv2D: ('filters', 'kernel_size'), L.Conv2DTranspose: ('filters', 'kernel_size'),
                L.SeparableConv2D: ('filters', 'kernel_size'), L.DepthwiseConv2D: ('kernel_size',),
                L.Dense: ('units',), L.Dropout: ('rate',), L.SpatialDropout2D: ('rate',),
                L.GaussianDropout: ('rate',), L.GaussianNoise: ('stddev',),
                L.Rescaling: ('scale',), L.Reshape: ('target_shape',), L.Permute: ('dims',),
                L.RepeatVector: ('n',)}.get(cls, ())
    kwargs = {name: draw(values) for name in sorted(set(chosen) | set(required))}
    return cls, kwargs, shape


@BOUNDED
@given(layer_calls())
def test_layers_from_random_arguments(call):
    cls, kwargs, shape = call
    where = f'{cls.__name__}(**{kwargs!r})'
    try:
        layer = cls(**kwargs)
    except Exception as err:  # noqa: BLE001 (checking what was raised is the point)
        check_failure(err, kwargs, where)
        return
    try:
        out = layer(L.Input(shape=shape))
    except Exception as err:  # noqa: BLE001
        # an argument that fits no input of this shape: the error names the layer
        check_failure(err, [layer.name, cls.__name__, *kwargs], where + f' on {shape}')
        return
    x = np.random.default_rng(0).normal(size=(2, *shape)).astype(np.float32)
    y = layer(x, training=True) if cls is not L.Flatten else layer(x)
    assert tuple(np.asarray(y.data if hasattr(y, 'data') else y).shape[1:]) == out.shape[1:]


@BOUNDED
@given(st.one_of(values, st.tuples(small_ints, small_ints, small_ints)))
def test_input_shapes(shape):
    try:
        tensor = L.Input(shape=shape)
    except Exception as err:  # noqa: BLE001
        check_failure(err, ['shape'], f'Input(shape={shape!r})')
        return
    assert tensor.shape[1:] == tuple(int(d) for d in shape) and all(d > 0 for d in shape)


@pytest.mark.parametrize('value', [np.int64(3), np.int32(3), np.uint8(3)])
def test_numpy_integers_are_sizes(value):
    assert L.Dense(value).units == 3 and type(L.Dense(value).units) is int
