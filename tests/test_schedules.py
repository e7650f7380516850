"""Learning-rate schedules: each against its formula worked by hand (the
reference functions of Keras's own tests), evaluated by the optimizer at its
step count, and saved with the optimizer."""
import math

import numpy as np
import pytest

from minicnn import Tensor, optimizers
from minicnn.layers import Dense
from minicnn.models import Sequential, load_model
from minicnn.optimizers import schedules
from minicnn.optimizers.schedules import (CosineDecay, CosineDecayRestarts, ExponentialDecay,
                                          InverseTimeDecay, PiecewiseConstantDecay,
                                          PolynomialDecay)


def test_both_import_paths_work():
    assert optimizers.schedules.ExponentialDecay is ExponentialDecay
    assert schedules.SCHEDULES['CosineDecay'] is CosineDecay


def test_exponential_decay():
    assert ExponentialDecay(0.05, 10, 0.96)(5) == pytest.approx(0.05 * 0.96 ** 0.5)
    staircase = ExponentialDecay(0.1, 3, 0.96, staircase=True)
    assert staircase(1) == staircase(2) == pytest.approx(0.1)
    assert staircase(100) == pytest.approx(0.1 * 0.96 ** (100 // 3))


def test_inverse_time_decay():
    for step in range(11):
        assert InverseTimeDecay(0.1, 10, 0.96)(step) == pytest.approx(0.1 / (1 + step / 10 * 0.96))
        assert InverseTimeDecay(0.1, 10, 0.96, staircase=True)(step) == \
            pytest.approx(0.1 / (1 + 0.96 * (step // 10)))


def test_piecewise_constant_decay():
    lr = PiecewiseConstantDecay([100, 110, 120], [1.0, 0.1, 0.01, 0.001])
    assert [lr(s) for s in (-999, 100, 105, 110, 120, 999)] == [1.0, 1.0, 0.1, 0.1, 0.01, 0.001]
    with pytest.raises(ValueError, match='boundaries must have one element less than values'):
        PiecewiseConstantDecay([1, 2], [0.1, 0.2])


def test_polynomial_decay():
    assert PolynomialDecay(0.05, 10, 0.0)(5) == pytest.approx(0.025)
    assert PolynomialDecay(0.05, 10, 0.001)(5) == pytest.approx((0.05 + 0.001) / 2)
    assert PolynomialDecay(0.05, 10, 0.001)(15) == pytest.approx(0.001)
    assert PolynomialDecay(0.05, 10, 0.001, cycle=True)(15) == \
        pytest.approx((0.05 - 0.001) * 0.25 + 0.001)
    assert PolynomialDecay(0.05, 10, 0.001, power=0.5, cycle=True)(15) == \
        pytest.approx((0.05 - 0.001) * 0.25 ** 0.5 + 0.001)
    assert PolynomialDecay(0.001, 10, cycle=True)(0) == pytest.approx(0.001)


def cosine_by_hand(step, decay_steps, alpha=0.0):
    fraction = min(step, decay_steps) / decay_steps
    return (1 - alpha) * 0.5 * (1 + math.cos(math.pi * fraction)) + alpha


def test_cosine_decay_and_its_warmup():
    for step in range(0, 1500, 250):
        assert CosineDecay(1.0, 1000)(step) == pytest.approx(cosine_by_hand(step, 1000))
        assert CosineDecay(1.0, 1000, alpha=0.1)(step) == \
            pytest.approx(cosine_by_hand(step, 1000, 0.1))
    warm = CosineDecay(0.0, 1000, warmup_target=10.0, warmup_steps=2000)
    for step in range(0, 3500, 250):
        expected = 10.0 * step / 2000 if step <= 2000 else 10.0 * cosine_by_hand(step - 2000, 1000)
        assert warm(step) == pytest.approx(expected)
    assert CosineDecay(0.5, 10, warmup_target=1.0, warmup_steps=4)(2) == pytest.approx(0.75)


def restarts_by_hand(step, decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0):
    peak = 1.0
    while step >= decay_steps:
        step -= decay_steps
        decay_steps *= t_mul
        peak *= m_mul
    return (1 - alpha) * peak * 0.5 * (1 + math.cos(math.pi * step / decay_steps)) + alpha


@pytest.mark.parametrize('settings', [{}, {'alpha': 0.1}, {'m_mul': 0.9}, {'t_mul': 1.0},
                                      {'t_mul': 3.0, 'm_mul': 0.5, 'alpha': 0.2}])
def test_cosine_decay_restarts(settings):
    lr = CosineDecayRestarts(1.0, 100, **settings)
    for step in range(0, 1500, 37):
        assert lr(step) == pytest.approx(restarts_by_hand(step, 100, **settings), abs=1e-9)


@pytest.mark.parametrize('schedule', [
    ExponentialDecay(0.05, 10, 0.96, staircase=True, name='my_ed'),
    InverseTimeDecay(0.05, 10, 0.96, staircase=True, name='my_itd'),
    PiecewiseConstantDecay(boundaries=[10, 20], values=[1, 2, 3], name='my_pcd'),
    PolynomialDecay(0.1, 100, end_learning_rate=0.005, power=1.0, cycle=False, name='my_ld'),
    CosineDecay(0.05, 10, alpha=0.1, warmup_target=0.2, warmup_steps=2, name='my_cd'),
    CosineDecayRestarts(0.05, 10, alpha=0.1, t_mul=3.0, m_mul=4.0, name='my_cdr'),
])
def test_config_round_trips(schedule):
    twin = schedules.deserialize(schedules.serialize(schedule))
    assert type(twin) is type(schedule) and twin.get_config() == schedule.get_config()
    assert [twin(s) for s in range(0, 40, 3)] == [schedule(s) for s in range(0, 40, 3)]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='decay_steps must be > 0, got decay_steps=0'):
        ExponentialDecay(0.1, 0, 0.9)
    with pytest.raises(ValueError, match='first_decay_steps must be > 0'):
        CosineDecayRestarts(0.1, -5)
    with pytest.raises(TypeError, match="did you mean 'decay_rate'"):
        ExponentialDecay(0.1, 10, decay_rat=0.9)
    with pytest.raises(ValueError, match="unknown learning-rate schedule"):
        schedules.deserialize({'class_name': 'OneCycle', 'config': {}})


def test_the_optimizer_evaluates_the_schedule_at_its_step_count():
    """SGD, p -= lr(t) g with t = 0, 1, 2: the rate of each step is the schedule's."""
    lr = ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt = optimizers.SGD(learning_rate=lr)
    p = Tensor(np.array([1.0]))
    for step in range(3):
        assert opt.learning_rate == pytest.approx(0.1 * 0.5 ** step)
        p.grad = np.array([1.0])
        opt.step([p])
    np.testing.assert_allclose(p.data, 1 - 0.1 * (1 + 0.5 + 0.25))
    with pytest.raises(TypeError, match='follows a schedule.*cannot be set to 0.3'):
        opt.learning_rate = 0.3


def test_keras_fit_with_an_exponentially_decaying_adam():
    """keras/src/optimizers/schedules/learning_rate_schedule_test.py, test_fit_lr_correctness."""
    model = Sequential([Dense(2, kernel_initializer='ones', bias_initializer='ones')])
    optimizer = optimizers.Adam(learning_rate=ExponentialDecay(0.05, decay_steps=1,
                                                               decay_rate=0.9))
    model.compile(optimizer=optimizer, loss='mse')
    x = y = np.arange(32).reshape((16, 2))
    history = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    assert optimizer.iterations == 4 * 3
    np.testing.assert_allclose(history.history['loss'],
                               [230.79457092285156, 128.30319213867188, 79.33648681640625],
                               rtol=5e-5)


def test_a_schedule_is_saved_with_the_model_and_resumes_where_it_was(tmp_path, rng):
    x, y = rng.standard_normal((8, 3)).astype('f4'), rng.standard_normal((8, 1)).astype('f4')
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizers.SGD(CosineDecay(0.1, 20, warmup_target=0.2, warmup_steps=5)), 'mse')
    model.fit(x, y, batch_size=2, epochs=2, verbose=0)
    model.save(tmp_path / 'm.minicnn')
    loaded = load_model(tmp_path / 'm.minicnn')
    assert isinstance(loaded.optimizer.schedule, CosineDecay)
    assert loaded.optimizer.schedule.get_config() == model.optimizer.schedule.get_config()
    assert loaded.optimizer.iterations == 8
    assert loaded.optimizer.learning_rate == model.optimizer.learning_rate
    for m in (model, loaded):
        m.fit(x, y, batch_size=2, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
