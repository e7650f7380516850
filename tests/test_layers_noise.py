"""SpatialDropout2D, GaussianDropout and GaussianNoise: active while training only,
the statistics they promise, a gradient through the same draw, and seedable."""
import numpy as np
import pytest

from minicnn import devices, gradcheck, layers
from minicnn import functional as F
from minicnn.layers import GaussianDropout, GaussianNoise, SpatialDropout2D


def seeded(function, *args):
    """function with the generator reseeded before every call: the same draw each time,
    so that finite differences see the function the gradient is of."""
    def call(x):
        devices.set_seed(5)
        return function(x, *args)
    return call


def test_spatial_dropout_drops_whole_channels():
    x = np.ones((64, 5, 4, 16))
    y = SpatialDropout2D(0.25)(x, training=True).data
    per_channel = y.reshape(64, 20, 16)
    assert (per_channel == per_channel[:, :1]).all()  # one value over H and W
    assert set(np.unique(y)) == {0.0, 1 / 0.75}
    assert abs((per_channel[:, 0] == 0).mean() - 0.25) < 0.05


def test_gaussian_dropout_keeps_the_mean_with_dropouts_variance():
    y = GaussianDropout(0.2)(np.ones((400, 500)), training=True).data
    assert abs(y.mean() - 1) < 0.01 and abs(y.var() - 0.2 / 0.8) < 0.01


def test_gaussian_noise_adds_the_stddev():
    x = np.full((400, 500), 3.0)
    noise = GaussianNoise(0.5)(x, training=True).data - x
    assert abs(noise.mean()) < 0.01 and abs(noise.std() - 0.5) < 0.01


@pytest.mark.parametrize('layer', [SpatialDropout2D(0.5), GaussianDropout(0.5), GaussianNoise(1.0)],
                         ids=lambda layer: type(layer).__name__)
def test_identity_when_not_training_and_config_round_trip(layer, rng):
    x = rng.standard_normal((2, 3, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(layer(x).data, x)
    assert layer(x, training=True).dtype == np.float32
    config = layer.get_config()
    assert layers.from_config(type(layer).__name__, {**config, 'name': 'twin'}).get_config() == \
        {**config, 'name': 'twin', 'input_shape': [3, 3, 4]}


@pytest.mark.parametrize('function,args', [(F.spatial_dropout2d, (0.4,)),
                                           (F.gaussian_dropout, (0.3,)),
                                           (F.gaussian_noise, (0.7,))])
@pytest.mark.parametrize('shape', [(1, 1, 1, 1), (3, 2, 5, 4)])
def test_gradcheck_through_the_same_draw(function, args, shape, rng):
    assert gradcheck(seeded(function, *args), rng.standard_normal(shape))


def test_the_draws_follow_set_seed():
    draws = [seeded(F.spatial_dropout2d, 0.5)(np.ones((4, 2, 2, 8))).data for _ in range(2)]
    np.testing.assert_array_equal(*draws)


@pytest.mark.parametrize('make,message', [
    (lambda: SpatialDropout2D(-0.1), r'SpatialDropout2D: rate must be in \[0, 1\), got -0.1'),
    (lambda: SpatialDropout2D(1), r'SpatialDropout2D: rate must be in \[0, 1\), got 1'),
    (lambda: GaussianDropout(1.5), r'GaussianDropout: rate must be in \[0, 1\), got 1.5'),
    (lambda: GaussianNoise(-1), r'GaussianNoise: stddev must be non-negative, got -1'),
])
def test_bad_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_spatial_dropout_on_the_wrong_rank_names_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"layer 'sd' expects inputs \(None, H, W, C\), "
                                         r"got input shape \(None, 8\)"):
        SpatialDropout2D(0.5, name='sd')(np.zeros((2, 8)))
