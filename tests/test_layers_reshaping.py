"""ZeroPadding2D, Cropping2D, UpSampling2D, Reshape, Permute, RepeatVector and
global pooling: loops and hand-computed cases, finite differences, shapes and configs."""
import inspect

import numpy as np
import pytest

from minicnn import Tensor, gradcheck, layers
from minicnn import functional as F
from minicnn.layers import (Cropping2D, Dense, GlobalAveragePooling2D, GlobalAvgPool2D,
                            GlobalMaxPool2D, GlobalMaxPooling2D, Permute, RepeatVector, Reshape,
                            UpSampling2D, ZeroPadding2D)
from minicnn.models import Sequential


def defaults(cls):
    return {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()
            if p.default is not inspect.Parameter.empty}


def test_keras_defaults_and_aliases():
    assert defaults(ZeroPadding2D) == {'padding': (1, 1)}
    assert defaults(Cropping2D) == {'cropping': ((0, 0), (0, 0))}
    assert defaults(UpSampling2D) == {'size': (2, 2), 'interpolation': 'nearest'}
    assert defaults(GlobalAveragePooling2D) == defaults(GlobalMaxPooling2D) == {'keepdims': False}
    assert GlobalAvgPool2D is GlobalAveragePooling2D and GlobalMaxPool2D is GlobalMaxPooling2D


# -- zero padding and cropping -------------------------------------------------

def loop_zero_pad(x, top, bottom, left, right):
    n, h, w, c = x.shape
    y = np.zeros((n, top + h + bottom, left + w + right, c))
    for b in range(n):
        for i in range(h):
            for j in range(w):
                for ch in range(c):
                    y[b, top + i, left + j, ch] = x[b, i, j, ch]
    return y


@pytest.mark.parametrize('padding,amounts', [
    (1, (1, 1, 1, 1)), ((2, 0), (2, 2, 0, 0)), (((0, 3), (1, 2)), (0, 3, 1, 2))])
def test_zero_padding_matches_the_loops(padding, amounts, rng):
    x = rng.standard_normal((2, 3, 5, 2))
    layer = ZeroPadding2D(padding)
    y = layer(x).data
    np.testing.assert_array_equal(y, loop_zero_pad(x, *amounts))
    assert y.shape[1:] == layer.compute_output_shape(x.shape[1:])


@pytest.mark.parametrize('shape', [(1, 1, 1, 1), (2, 3, 4, 3), (1, 5, 2, 1)])
def test_padding_and_cropping_gradcheck(shape, rng):
    x = rng.standard_normal(shape)
    assert gradcheck(lambda x: F.zero_pad2d(x, ((1, 2), (0, 3))), x)
    big = rng.standard_normal((shape[0], shape[1] + 3, shape[2] + 2, shape[3]))
    assert gradcheck(lambda x: F.crop2d(x, ((2, 1), (0, 2))), big)


def test_cropping_undoes_padding(rng):
    x = rng.standard_normal((2, 4, 3, 2))
    border = ((1, 2), (3, 0))
    np.testing.assert_array_equal(Cropping2D(border)(ZeroPadding2D(border)(x)).data, x)
    assert Cropping2D(((1, 0), (0, 1)))(x).shape == (2, 3, 2, 2)


@pytest.mark.parametrize('make,message', [
    (lambda: ZeroPadding2D(-1), r'ZeroPadding2D: padding must be a non-negative int.*got -1'),
    (lambda: ZeroPadding2D((1, 2, 3)), r'padding .*got \(1, 2, 3\)'),
    (lambda: ZeroPadding2D('same'), r"padding .*got 'same'"),
    (lambda: Cropping2D(((1, -1), (0, 0))), r'Cropping2D: cropping .*got \(\(1, -1\), \(0, 0\)\)'),
    (lambda: UpSampling2D(0), r'UpSampling2D: size must be a positive int.*got 0'),
    (lambda: UpSampling2D(interpolation='bicubic'), r"interpolation must be one of .*'bicubic'"),
    (lambda: Reshape((2, -1, -1)), r'Reshape: target_shape .*\(2, -1, -1\)'),
    (lambda: Permute((0, 1)), r'Permute: dims must be a permutation .*\(0, 1\)'),
    (lambda: RepeatVector(0), r'RepeatVector: n must be a positive int, got 0'),
])
def test_bad_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_cropping_everything_names_the_layer():
    with pytest.raises(ValueError, match=r"layer 'crop'.*\(None, 4, 4, 1\)"):
        Cropping2D(((2, 2), (0, 0)), name='crop')(np.zeros((1, 4, 4, 1)))


# -- upsampling -----------------------------------------------------------------

def loop_upsample(x, size, interpolation):
    """Each output pixel from its input coordinate s = (o + 0.5) / factor - 0.5,
    as tf.image.resize computes it (half-pixel centres)."""
    n, h, w, c = x.shape
    y = np.zeros((n, h * size[0], w * size[1], c))

    def taps(o, factor, length):
        """[(input index, weight), ...] of output index o along one axis."""
        s = (o + 0.5) / factor - 0.5
        if interpolation == 'nearest':
            return [(min(int(np.floor((o + 0.5) / factor)), length - 1), 1.0)]
        below = int(np.floor(s))
        t = s - below
        return [(min(max(below, 0), length - 1), 1 - t), (min(max(below + 1, 0), length - 1), t)]
    for i in range(y.shape[1]):
        for j in range(y.shape[2]):
            for r, wr in taps(i, size[0], h):
                for q, wq in taps(j, size[1], w):
                    y[:, i, j, :] += wr * wq * x[:, r, q, :]
    return y


@pytest.mark.parametrize('interpolation', ['nearest', 'bilinear'])
@pytest.mark.parametrize('x_shape,size', [((2, 3, 4, 2), (2, 2)), ((1, 1, 5, 1), (3, 2)),
                                          ((1, 4, 1, 3), (1, 3))])
def test_upsampling_matches_the_loops_and_gradcheck(interpolation, x_shape, size, rng):
    x = rng.standard_normal(x_shape)
    layer = UpSampling2D(size, interpolation=interpolation)
    y = layer(x).data
    np.testing.assert_allclose(y, loop_upsample(x, size, interpolation), rtol=1e-12, atol=1e-12)
    assert y.shape[1:] == layer.compute_output_shape(x_shape[1:])
    assert gradcheck(lambda x: F.upsample2d(x, size, interpolation), x)


def test_nearest_upsampling_repeats_each_pixel(rng):
    x = rng.standard_normal((2, 3, 2, 4)).astype(np.float32)
    np.testing.assert_array_equal(UpSampling2D((2, 3))(x).data, x.repeat(2, axis=1).repeat(3, axis=2))


def test_bilinear_upsampling_of_a_2x2_image_by_hand():
    # Half-pixel centres: output pixel 1 of each axis sits at input coordinate 0.25, so it
    # is 3/4 of pixel 0 and 1/4 of pixel 1; output 0 falls before pixel 0 and copies it.
    x = np.array([[0.0, 1.0], [2.0, 3.0]]).reshape(1, 2, 2, 1)
    expected = [[0.0, 0.25, 0.75, 1.0],
                [0.5, 0.75, 1.25, 1.5],
                [1.5, 1.75, 2.25, 2.5],
                [2.0, 2.25, 2.75, 3.0]]
    np.testing.assert_allclose(UpSampling2D(interpolation='bilinear')(x).data[0, :, :, 0], expected)


# -- Reshape, Permute, RepeatVector ------------------------------------------------

def test_reshape_infers_one_axis_and_checks_sizes(rng):
    x = rng.standard_normal((2, 3, 4, 2))
    layer = Reshape((4, -1))
    assert layer(x).shape == (2, 4, 6) and layer.compute_output_shape((3, 4, 2)) == (4, 6)
    np.testing.assert_array_equal(layer(x).data, x.reshape(2, 4, 6))
    assert Reshape((24,))(x).shape == (2, 24)
    with pytest.raises(ValueError, match=r"layer 'r' cannot reshape inputs of shape "
                                         r"\(None, 3, 4, 2\) \(24 values each\) to \(None, 5, -1\)"):
        Reshape((5, -1), name='r')(x)
    with pytest.raises(ValueError, match=r'\(None, 3, 4, 2\).*\(None, 5, 5\)'):
        Reshape((5, 5))(x)


def test_permute_is_one_based_as_in_keras(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    np.testing.assert_array_equal(Permute((3, 1, 2))(x).data, x.transpose(0, 3, 1, 2))
    assert Permute((2, 1)).compute_output_shape((3, 4)) == (4, 3)
    with pytest.raises(ValueError, match=r"layer 'p' expects inputs of rank 3 for dims \(2, 1\), "
                                         r"got input shape \(None, 3, 4, 5\)"):
        Permute((2, 1), name='p')(x)


def test_repeat_vector_and_its_gradient(rng):
    x = rng.standard_normal((2, 3))
    y = RepeatVector(4)(x).data
    assert y.shape == (2, 4, 3) and all((y[:, k] == x).all() for k in range(4))
    assert gradcheck(lambda x: F.repeat_vector(x, 3), x)
    assert gradcheck(lambda x: F.repeat_vector(x, 1), rng.standard_normal((1, 5)))


def test_reshape_and_permute_pass_gradients_back(rng):
    reshape, permute = Reshape((6, 2)), Permute((2, 1))
    assert gradcheck(lambda x: permute(reshape(x)), rng.standard_normal((2, 3, 4)))
    model = Sequential([Reshape((6, 2), input_shape=(3, 4)), Permute((2, 1)), Reshape((12,)),
                        Dense(1)])
    assert model.output_shape == (None, 1) and model(np.ones((5, 3, 4))).shape == (5, 1)


# -- global pooling -----------------------------------------------------------

def loop_global_pool(x, reduce):
    n, h, w, c = x.shape
    return np.array([[reduce([x[b, i, j, ch] for i in range(h) for j in range(w)])
                      for ch in range(c)] for b in range(n)])


@pytest.mark.parametrize('cls,function,reduce', [
    (GlobalAveragePooling2D, F.global_avg_pool2d, lambda v: sum(v) / len(v)),
    (GlobalMaxPooling2D, F.global_max_pool2d, max)])
@pytest.mark.parametrize('shape', [(1, 1, 1, 1), (2, 3, 5, 4), (3, 7, 2, 1)])
def test_global_pooling_matches_the_loops_and_gradcheck(cls, function, reduce, shape, rng):
    x = rng.standard_normal(shape)
    y = cls()(x).data
    np.testing.assert_allclose(y, loop_global_pool(x, reduce), rtol=1e-12)
    assert cls(keepdims=True)(x).shape == (shape[0], 1, 1, shape[3])
    assert cls().compute_output_shape(shape[1:]) == (shape[3],)
    assert cls(keepdims=True).compute_output_shape(shape[1:]) == (1, 1, shape[3])
    assert gradcheck(lambda x: function(x), x)
    assert gradcheck(lambda x: function(x, keepdims=True), x)


def test_global_max_shares_the_gradient_among_ties_as_keras():
    x = Tensor(np.array([1.0, 3.0, 3.0, 0.0]).reshape(1, 2, 2, 1), requires_grad=True)
    F.global_max_pool2d(x).backward(np.ones((1, 1)))
    np.testing.assert_array_equal(x.grad.ravel(), [0, 0.5, 0.5, 0])


# -- every layer: wrong rank, shapes and config ------------------------------------

IMAGE_LAYERS = [ZeroPadding2D(((1, 0), (2, 3))), Cropping2D(((1, 0), (0, 2))),
                UpSampling2D((2, 3), interpolation='bilinear'), GlobalAveragePooling2D(),
                GlobalMaxPooling2D(keepdims=True)]


@pytest.mark.parametrize('layer', IMAGE_LAYERS, ids=lambda layer: type(layer).__name__)
def test_image_layers_name_themselves_and_both_shapes_on_the_wrong_rank(layer):
    twin = type(layer)(**{**layer.get_config(), 'name': 'odd_one'})
    with pytest.raises(ValueError, match=r"layer 'odd_one' expects inputs \(None, H, W, C\), "
                                         r"got input shape \(None, 5\)"):
        twin(np.zeros((2, 5)))


ALL_LAYERS = [*IMAGE_LAYERS, Reshape((-1, 3)), Permute((3, 1, 2))]


@pytest.mark.parametrize('layer', ALL_LAYERS, ids=lambda layer: type(layer).__name__)
def test_output_shapes_and_config_round_trip(layer, rng):
    x = rng.standard_normal((2, 4, 6, 3)).astype(np.float32)
    twin = layers.from_config(type(layer).__name__, {**layer.get_config(), 'name': 'twin'})
    y = twin(x)
    assert y.shape[1:] == twin.compute_output_shape(x.shape[1:]) == twin.output_shape[1:]
    np.testing.assert_array_equal(y.data, layer(x).data)
    assert twin.get_config() == {**layer.get_config(), 'name': 'twin',
                                 'input_shape': [4, 6, 3]}
    assert y.dtype == np.float32


def test_repeat_vector_config_and_rank():
    layer = RepeatVector(3, name='rv')
    assert layers.from_config('RepeatVector', layer.get_config()).n == 3
    with pytest.raises(ValueError, match=r"layer 'rv' expects inputs \(None, features\), "
                                         r"got input shape \(None, 2, 2\)"):
        layer(np.zeros((1, 2, 2)))


def test_unknown_keywords_are_refused():
    with pytest.raises(TypeError, match="'paddin'.*did you mean 'padding'"):
        ZeroPadding2D(paddin=2)
    with pytest.raises(TypeError, match="'interpolation'"):
        Cropping2D(interpolation='nearest')
