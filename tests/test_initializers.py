"""minicnn.initializers: shapes and dtypes, the statistics of every random
initializer, fans, truncation, seeding, hand-written initializers, get() and
serialize()."""
import json
import math

import numpy as np
import pytest

from minicnn import Tensor, devices
from minicnn import initializers as init

# A conv kernel (kh, kw, in, out) big enough for tight statistics:
# fan_in = 5 * 5 * 64 = 1600, fan_out = 5 * 5 * 128 = 3200.
CONV = (5, 5, 64, 128)
FAN_IN, FAN_OUT = 1600, 3200


@pytest.mark.parametrize('shape,fans', [
    ((3, 5), (3, 5)),                  # dense kernel (in, out)
    ((3, 3, 4, 8), (36, 72)),          # conv kernel (kh, kw, in, out)
    ((2, 3, 4, 5, 6), (120, 144)),     # 3-d conv: the receptive field is 2 * 3 * 4
    ((7,), (7, 7)),                    # bias
    ((), (1, 1)),                      # scalar
])
def test_compute_fans(shape, fans):
    assert init.compute_fans(shape) == fans


@pytest.mark.parametrize('name', sorted(init.NAMES))
def test_shape_and_dtype_float32_by_default(name):
    initializer = init.get(name)
    w = initializer((3, 4))
    assert isinstance(w, np.ndarray)
    assert w.shape == (3, 4) and w.dtype == np.float32
    kernel = (3, 5) if name == 'identity' else (2, 2, 3, 5)  # identity: 2-D only, as Keras's
    assert initializer(kernel, dtype='float64').dtype == np.float64


def test_constants():
    np.testing.assert_array_equal(init.Zeros()((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(init.Ones()((4,)), np.ones(4))
    np.testing.assert_array_equal(init.Constant(0.5)((2,)), [0.5, 0.5])


def test_truncated_std_is_that_of_the_standard_normal_cut_at_two():
    """Var = 1 - 2 a phi(a) / (Phi(a) - Phi(-a)) for N(0, 1) truncated to [-a, a]."""
    a = 2.0
    density = math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
    mass = math.erf(a / math.sqrt(2))
    assert init.TRUNCATED_STD == pytest.approx(math.sqrt(1 - 2 * a * density / mass), rel=1e-12)


UNIFORM_LIMITS = {
    'glorot_uniform': math.sqrt(6 / (FAN_IN + FAN_OUT)),
    'he_uniform': math.sqrt(6 / FAN_IN),
}
NORMAL_STDS = {
    'glorot_normal': math.sqrt(2 / (FAN_IN + FAN_OUT)),
    'he_normal': math.sqrt(2 / FAN_IN),
    'lecun_normal': math.sqrt(1 / FAN_IN),
}


@pytest.mark.parametrize('name', sorted(UNIFORM_LIMITS))
def test_uniform_variance_scaling_fills_minus_limit_to_limit(name):
    limit = UNIFORM_LIMITS[name]
    w = init.get(name)(CONV, dtype='float64')
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.999 * limit
    assert w.std() == pytest.approx(limit / math.sqrt(3), rel=0.01)
    assert abs(w.mean()) < 0.01 * limit


@pytest.mark.parametrize('name', sorted(NORMAL_STDS))
def test_truncated_normals_have_the_asked_std_and_are_cut_at_two_widened_stds(name):
    std = NORMAL_STDS[name]
    w = init.get(name)(CONV, dtype='float64')
    assert w.std() == pytest.approx(std, rel=0.01)
    assert abs(w.mean()) < 0.01 * std
    bound = 2 * std / init.TRUNCATED_STD
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.99 * bound


def test_dense_kernels_use_in_and_out_as_fans():
    w = init.HeUniform()((400, 300))
    limit = math.sqrt(6 / 400)
    assert limit * 0.999 < np.abs(w).max() <= limit


def test_random_normal_and_uniform_defaults_and_arguments():
    w = init.RandomNormal()((400, 400))
    assert w.std() == pytest.approx(0.05, rel=0.01) and abs(w.mean()) < 1e-3
    w = init.RandomNormal(mean=1.0, stddev=2.0)((400, 400))
    assert w.std() == pytest.approx(2.0, rel=0.01) and w.mean() == pytest.approx(1.0, abs=0.02)
    w = init.RandomUniform()((400, 400))
    assert -0.05 <= w.min() < -0.0499 and 0.0499 < w.max() <= 0.05
    w = init.RandomUniform(minval=2.0, maxval=3.0)((400, 400))
    assert 2.0 <= w.min() < 2.001 and 2.999 < w.max() <= 3.0


@pytest.mark.parametrize('name', ['glorot_uniform', 'he_normal', 'random_normal',
                                  'random_uniform'])
def test_set_seed_repeats_the_draws(name):
    initializer = init.get(name)
    devices.set_seed(7)
    first, second = initializer((20, 30)), initializer((20, 30))
    devices.set_seed(7)
    np.testing.assert_array_equal(initializer((20, 30)), first)
    assert not np.array_equal(first, second)


def test_an_integer_seed_gives_the_same_values_at_every_call():
    seeded = init.GlorotNormal(seed=5)
    np.testing.assert_array_equal(seeded((10, 10)), seeded((10, 10)))
    assert not np.array_equal(seeded((10, 10)), init.GlorotNormal(seed=6)((10, 10)))


def test_random_initializers_refuse_integer_dtypes():
    with pytest.raises(ValueError, match='float dtype'):
        init.HeNormal()((3, 3), dtype='int32')


def test_variance_scaling_checks_its_arguments():
    with pytest.raises(ValueError, match='fan_avg'):
        init.VarianceScaling(mode='fan_mean')
    with pytest.raises(ValueError, match='uniform'):
        init.VarianceScaling(distribution='normal')


EDGE = [[[[-1.0]], [[0.0]], [[1.0]]]] * 3  # a 3x3 vertical-edge filter, shape (3, 3, 1, 1)


@pytest.mark.parametrize('wrap', [lambda e: e, np.array, lambda e: Tensor(np.array(e))],
                         ids=['list', 'ndarray', 'Tensor'])
def test_a_hand_written_filter_becomes_an_array(wrap):
    def edge_filter(shape, dtype=None):
        return wrap(EDGE)

    w = init.get(edge_filter)((3, 3, 1, 1))
    assert type(w) is np.ndarray and w.dtype == np.float32
    np.testing.assert_array_equal(w, EDGE)
    assert init.get(edge_filter)((3, 3, 1, 1), dtype='float64').dtype == np.float64


def test_the_function_gets_the_dtype_and_its_array_is_copied():
    kept = np.zeros((2, 2), dtype=np.float32)  # astype must copy even when no cast is needed
    seen = []

    def keep(shape, dtype=None):
        seen.append(dtype)
        return kept

    w = init.get(keep)((2, 2))
    w += 1  # as training does, in place
    np.testing.assert_array_equal(kept, 0)
    assert seen == [np.float32]


def test_a_wrong_shape_names_the_function_and_both_shapes():
    def edge_filter(shape, dtype=None):
        return EDGE

    with pytest.raises(ValueError, match=r"'edge_filter'.*\(3, 3, 1, 1\).*\(5, 5, 1, 1\)"):
        init.get(edge_filter)((5, 5, 1, 1))


@pytest.mark.parametrize('name,cls', [
    ('glorot_uniform', init.GlorotUniform), ('GlorotUniform', init.GlorotUniform),
    ('he_normal', init.HeNormal), ('HeNormal', init.HeNormal),
    ('lecun_normal', init.LecunNormal), ('random_uniform', init.RandomUniform),
    ('Zeros', init.Zeros),
])
def test_get_by_snake_or_camel_case_name(name, cls):
    assert type(init.get(name)) is cls


def test_get_returns_an_initializer_as_is():
    initializer = init.RandomNormal(stddev=1.0)
    assert init.get(initializer) is initializer


@pytest.mark.parametrize('bad', ['xavier', 3])
def test_unknown_identifiers_list_the_valid_names(bad):
    with pytest.raises(ValueError, match=r"unknown initializer.*'glorot_uniform'.*'zeros'"):
        init.get(bad)


@pytest.mark.parametrize('initializer', [
    init.RandomNormal(mean=1.0, stddev=2.0, seed=3), init.HeNormal(seed=5),
    init.VarianceScaling(2.0, 'fan_out', 'uniform', seed=4), init.Constant(0.25), init.Zeros(),
])
def test_serialize_survives_json_and_get_makes_a_twin(initializer):
    stored = json.loads(json.dumps(init.serialize(initializer)))
    assert stored['class_name'] == type(initializer).__name__
    twin = init.get(stored)
    assert type(twin) is type(initializer) and twin.get_config() == initializer.get_config()
    np.testing.assert_array_equal(twin((4, 5)), initializer((4, 5)))


def test_serialize_keeps_names_and_gives_a_function_by_its_name():
    def edge_filter(shape, dtype=None):
        return EDGE

    assert init.serialize('glorot_uniform') == 'glorot_uniform'
    assert init.serialize(edge_filter) == init.serialize(init.get(edge_filter)) == 'edge_filter'
    assert init.GlorotUniform(seed=1).get_config() == {'seed': 1}
