"""minicnn.optimizers: each rule against its formula worked by hand, Keras's
documented examples and the golden values of its tests, PyTorch where the two
rules agree, and the bookkeeping (learning-rate decay, clipping, weight decay,
dtypes, skipped parameters, state)."""
import math

import numpy as np
import pytest

from minicnn import Tensor
from minicnn import optimizers

P0 = np.array([0.5, -1.0, 2.0, 0.25])
GRADS = [np.array([0.3, -0.2, 1.5, -0.7]),
         np.array([-0.1, 0.4, 0.9, -0.2]),
         np.array([0.2, 0.1, -0.6, 0.8])]


def run(opt, grads, p0=P0, dtype=np.float64):
    """The values of a parameter starting at p0 after opt applied each gradient in turn."""
    p = Tensor(np.array(p0, dtype=dtype))
    for g in grads:
        p.grad = np.array(g, dtype=dtype)
        opt.step([p])
    return p.data


# The rules written out step by step, the way the Keras docs state them.

def sgd_by_hand(grads, lr, momentum=0.0, nesterov=False):
    p, v = P0.copy(), np.zeros_like(P0)
    for g in grads:
        v = momentum * v - lr * g
        p = p + (momentum * v - lr * g if nesterov else v)
    return p


def rmsprop_by_hand(grads, lr, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    p, s, m, v = P0.copy(), np.zeros_like(P0), np.zeros_like(P0), np.zeros_like(P0)
    for g in grads:
        s = rho * s + (1 - rho) * g ** 2
        m = rho * m + (1 - rho) * g
        step = lr * g / np.sqrt((s - m ** 2 if centered else s) + eps)
        v = momentum * v + step
        p = p - v
    return p


def adam_by_hand(grads, lr, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False):
    p, m, v, vhat = P0.copy(), np.zeros_like(P0), np.zeros_like(P0), np.zeros_like(P0)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        vhat = np.maximum(vhat, v)
        lr_t = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        p = p - lr_t * m / (np.sqrt(vhat if amsgrad else v) + eps)
    return p


def adagrad_by_hand(grads, lr, initial=0.1, eps=1e-7):
    p, a = P0.copy(), np.full_like(P0, initial)
    for g in grads:
        a = a + g ** 2
        p = p - lr * g / np.sqrt(a + eps)
    return p


def adadelta_by_hand(grads, lr, rho=0.95, eps=1e-7):
    p, grad_sq, delta_sq = P0.copy(), np.zeros_like(P0), np.zeros_like(P0)
    for g in grads:
        grad_sq = rho * grad_sq + (1 - rho) * g ** 2
        delta = -np.sqrt(delta_sq + eps) / np.sqrt(grad_sq + eps) * g
        delta_sq = rho * delta_sq + (1 - rho) * delta ** 2
        p = p + lr * delta
    return p


def adamax_by_hand(grads, lr, b1=0.9, b2=0.999, eps=1e-7):
    p, m, u = P0.copy(), np.zeros_like(P0), np.zeros_like(P0)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g))
        p = p - lr * m / ((1 - b1 ** t) * (u + eps))
    return p


def nadam_by_hand(grads, lr, b1=0.9, b2=0.999, eps=1e-7):
    """Keras's Nadam: momentum schedule mu_t = b1 (1 - 0.96^t / 2), P_t their product."""
    def mu(t):
        return b1 * (1 - 0.5 * 0.96 ** t)
    p, m, v, product = P0.copy(), np.zeros_like(P0), np.zeros_like(P0), 1.0
    for t, g in enumerate(grads, start=1):
        product *= mu(t)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        m_hat = mu(t + 1) * m / (1 - product * mu(t + 1)) + (1 - mu(t)) * g / (1 - product)
        p = p - lr * m_hat / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return p


def test_sgd_one_step_is_p_minus_lr_g():
    np.testing.assert_allclose(run(optimizers.SGD(0.1), GRADS[:1]), P0 - 0.1 * GRADS[0],
                               rtol=1e-15)


@pytest.mark.parametrize('nesterov', [False, True])
def test_sgd_momentum_three_steps(nesterov):
    opt = optimizers.SGD(0.1, momentum=0.9, nesterov=nesterov)
    np.testing.assert_allclose(run(opt, GRADS), sgd_by_hand(GRADS, 0.1, 0.9, nesterov), rtol=1e-13)


def test_nesterov_first_step_looks_ahead():
    """v1 = -lr g, so Nesterov's first step is -(1 + momentum) lr g."""
    opt = optimizers.SGD(0.1, momentum=0.9, nesterov=True)
    np.testing.assert_allclose(run(opt, GRADS[:1]), P0 - 1.9 * 0.1 * GRADS[0], rtol=1e-14)


def test_keras_documented_sgd_examples():
    """From keras.optimizers.SGD's docstring, on loss = var^2 / 2 (so g = var)."""
    var = Tensor(np.array(1.0))
    var.grad = var.data.copy()
    optimizers.SGD(learning_rate=0.1).step([var])
    assert var.data == pytest.approx(0.9)

    opt, var, deltas = optimizers.SGD(0.1, momentum=0.9), Tensor(np.array(1.0)), []
    for _ in range(2):
        before = float(var.data)
        var.grad = var.data.copy()
        opt.step([var])
        deltas.append(float(var.data) - before)
    assert deltas == pytest.approx([-0.1, -0.18])


def test_keras_documented_rmsprop_example():
    var = Tensor(np.array(10.0))
    var.grad = var.data.copy()
    optimizers.RMSprop(learning_rate=0.1).step([var])
    assert float(var.data) == pytest.approx(9.683772, abs=1e-6)


@pytest.mark.parametrize('centered', [False, True])
@pytest.mark.parametrize('momentum', [0.0, 0.8])
def test_rmsprop_three_steps(centered, momentum):
    opt = optimizers.RMSprop(0.01, rho=0.8, momentum=momentum, centered=centered)
    expected = rmsprop_by_hand(GRADS, 0.01, rho=0.8, momentum=momentum, centered=centered)
    np.testing.assert_allclose(run(opt, GRADS), expected, rtol=1e-13)


def test_rmsprop_epsilon_is_inside_the_square_root():
    """With g = 1e-4, s = (1 - rho) g^2 = 1e-9 is far below eps = 1e-7, so
    sqrt(s + eps) and sqrt(s) + eps give very different first steps."""
    g = np.full(4, 1e-4)
    expected = P0 - 0.1 * g / np.sqrt(0.1 * g ** 2 + 1e-7)
    np.testing.assert_allclose(run(optimizers.RMSprop(0.1), [g]), expected, rtol=1e-13)


@pytest.mark.parametrize('amsgrad', [False, True])
def test_adam_three_steps(amsgrad):
    # The third gradient is small, so v shrinks and amsgrad's max(vhat, v) matters.
    grads = GRADS[:2] + [0.01 * GRADS[2]]
    opt = optimizers.Adam(0.01, amsgrad=amsgrad)
    np.testing.assert_allclose(run(opt, grads), adam_by_hand(grads, 0.01, amsgrad=amsgrad),
                               rtol=1e-13)
    assert not np.allclose(adam_by_hand(grads, 0.01, amsgrad=True),
                           adam_by_hand(grads, 0.01, amsgrad=False))


def test_adam_first_step_is_about_lr_sign_g_with_keras_epsilon_hat():
    """After bias correction the first step is lr * g / (|g| + eps / sqrt(1 - beta_2)):
    about lr * sign(g), and for a gradient near eps Keras's eps-hat shows."""
    g = np.array([3.0, -0.5, 1e-6, -2e-7])
    expected = P0 - 0.01 * g / (np.abs(g) + 1e-7 / math.sqrt(1 - 0.999))
    np.testing.assert_allclose(run(optimizers.Adam(0.01), [g]), expected, rtol=1e-12)


@pytest.mark.parametrize('make, by_hand', [
    (lambda: optimizers.Adagrad(0.1), lambda g: adagrad_by_hand(g, 0.1)),
    (lambda: optimizers.Adagrad(0.1, initial_accumulator_value=0.5, epsilon=1e-3),
     lambda g: adagrad_by_hand(g, 0.1, 0.5, 1e-3)),
    (lambda: optimizers.Adadelta(1.0), lambda g: adadelta_by_hand(g, 1.0)),
    (lambda: optimizers.Adadelta(0.5, rho=0.8, epsilon=1e-4),
     lambda g: adadelta_by_hand(g, 0.5, 0.8, 1e-4)),
    (lambda: optimizers.Adamax(0.01), lambda g: adamax_by_hand(g, 0.01)),
    (lambda: optimizers.Adamax(0.02, beta_1=0.8, beta_2=0.9),
     lambda g: adamax_by_hand(g, 0.02, 0.8, 0.9)),
    (lambda: optimizers.Nadam(0.01), lambda g: nadam_by_hand(g, 0.01)),
    (lambda: optimizers.Nadam(0.05, beta_1=0.5, beta_2=0.67, epsilon=1e-5),
     lambda g: nadam_by_hand(g, 0.05, 0.5, 0.67, 1e-5)),
])
def test_the_new_rules_three_steps(make, by_hand):
    np.testing.assert_allclose(run(make(), GRADS), by_hand(GRADS), rtol=1e-12)


def test_adamw_is_adam_with_decoupled_weight_decay_of_0_004_by_default():
    opt = optimizers.AdamW(0.01)
    assert opt.weight_decay == 0.004
    p, m, v = P0.copy(), np.zeros_like(P0), np.zeros_like(P0)
    for t, g in enumerate(GRADS, start=1):
        p = p - 0.01 * 0.004 * p
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g ** 2
        p = p - 0.01 * math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t) * m / (np.sqrt(v) + 1e-7)
    np.testing.assert_allclose(run(opt, GRADS), p, rtol=1e-12)
    with pytest.raises(ValueError, match='weight_decay must be a number, got weight_decay=None'):
        optimizers.AdamW(weight_decay=None)


# Keras's own tests: one step of lr 0.5 on grads [1, 6, 7, 2] from [1, 2, 3, 4], then the
# golden trajectory (first grads 0.01, then 0.1 ... 1.0) of test_correctness_with_golden.
KERAS_SINGLE_STEPS = [
    (lambda: optimizers.Adagrad(0.5), [0.5233, 1.5007, 2.5005, 3.5061]),
    (lambda: optimizers.Adadelta(0.5), [0.9993, 1.9993, 2.9993, 3.9993]),
    (lambda: optimizers.Adamax(0.5), [0.5, 1.5, 2.5, 3.5]),
    (lambda: optimizers.Nadam(0.5), [0.4686, 1.4686, 2.4686, 3.4686]),
    (lambda: optimizers.AdamW(0.5), [0.4980, 1.4960, 2.494, 3.492]),
]


@pytest.mark.parametrize('make, expected', KERAS_SINGLE_STEPS)
def test_keras_single_step(make, expected):
    p = Tensor(np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32))
    p.grad = np.array([1.0, 6.0, 7.0, 2.0], dtype=np.float32)
    make().step([p])
    np.testing.assert_allclose(p.data, expected, rtol=1e-4, atol=1e-4)


KERAS_GOLDEN = [
    (lambda: optimizers.Adagrad(0.2, initial_accumulator_value=0.3, epsilon=1e-6), [
        [0.9963] * 10,
        [0.9604, 0.9278, 0.9003, 0.8784, 0.8615, 0.8487, 0.8388, 0.8313, 0.8255, 0.8209],
        [0.9251, 0.8629, 0.8137, 0.7768, 0.7497, 0.7298, 0.7151, 0.704, 0.6956, 0.6891],
        [0.8903, 0.8012, 0.7342, 0.6862, 0.6521, 0.6277, 0.6099, 0.5967, 0.5867, 0.579],
        [0.856, 0.7422, 0.6604, 0.6037, 0.5644, 0.5367, 0.5168, 0.5021, 0.491, 0.4825]]),
    (lambda: optimizers.Adadelta(1.0, rho=0.8, epsilon=1e-6),
     [[v] * 10 for v in (0.9978, 0.9947, 0.9915, 0.9882, 0.9849)]),
    (lambda: optimizers.Adamax(0.2, beta_1=0.85, beta_2=0.95, epsilon=1e-6), [
        [0.8] * 10,
        [0.6827, 0.6873, 0.6888, 0.6896, 0.6901, 0.6904, 0.6906, 0.6908, 0.6909, 0.691],
        [0.5333, 0.5407, 0.5431, 0.5444, 0.5451, 0.5456, 0.546, 0.5462, 0.5464, 0.5466],
        [0.368, 0.3773, 0.3804, 0.382, 0.3829, 0.3835, 0.384, 0.3843, 0.3846, 0.3848],
        [0.1933, 0.204, 0.2076, 0.2094, 0.2105, 0.2112, 0.2117, 0.2121, 0.2124, 0.2126]]),
    (lambda: optimizers.Nadam(0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5), [
        [0.4281] * 10,
        [-0.1738, -0.1731, -0.1726, -0.1723, -0.1721, -0.172, -0.1719, -0.1718, -0.1718, -0.1717],
        [-0.7115, -0.7103, -0.7096, -0.7092, -0.709, -0.7088, -0.7086, -0.7085, -0.7085, -0.7084],
        [-1.2335, -1.2322, -1.2313, -1.2309, -1.2306, -1.2304, -1.2302, -1.2301, -1.23, -1.2299],
        [-1.7492, -1.7478, -1.7469, -1.7464, -1.7461, -1.7459, -1.7457, -1.7456, -1.7455, -1.7454]]),
    (lambda: optimizers.AdamW(1.0, weight_decay=0.5, epsilon=2), [
        [0.4998] * 10,
        [0.2486, 0.2475, 0.2463, 0.2451, 0.244, 0.2428, 0.2417, 0.2405, 0.2394, 0.2382],
        [0.1223, 0.1198, 0.1174, 0.1149, 0.1124, 0.11, 0.1075, 0.1051, 0.1027, 0.1003],
        [0.0586, 0.0549, 0.0512, 0.0475, 0.0439, 0.0402, 0.0366, 0.033, 0.0294, 0.0258],
        [0.0263, 0.0215, 0.0167, 0.012, 0.0073, 0.0026, -0.0021, -0.0067, -0.0113, -0.0159]]),
]


@pytest.mark.parametrize('make, golden', KERAS_GOLDEN)
def test_keras_golden_trajectories(make, golden):
    opt, x = make(), Tensor(np.ones(10, dtype=np.float32))
    x.grad = np.full(10, 0.01, dtype=np.float32)
    opt.step([x])
    for expected in golden:
        np.testing.assert_allclose(x.data, expected, rtol=5e-4, atol=5e-4)
        x.grad = np.arange(0.1, 1.1, 0.1, dtype=np.float32)
        opt.step([x])


# -- clipping: Keras's _clip_gradients, before the weight decay ------------------------

def test_keras_clipping_examples():
    """optimizer_test.py: clipnorm 1 of [100, 100]; clipvalue 1; global_clipnorm 1."""
    for opt, grad, expected in [
            (optimizers.SGD(1.0, clipnorm=1), [100.0, 100.0], [2 ** 0.5 / 2] * 2),
            (optimizers.SGD(1.0, clipvalue=1), [100.0, -100.0], [1.0, -1.0]),
            (optimizers.SGD(1.0, global_clipnorm=1), [50.0, 100.0],
             np.array([50.0, 100.0]) / np.hypot(50.0, 100.0))]:
        p = Tensor(np.zeros(2))
        p.grad = np.array(grad)
        opt.step([p])
        np.testing.assert_allclose(-p.data, expected, rtol=1e-12)  # SGD lr 1: p = -g


def test_clipnorm_clips_each_gradient_and_global_clipnorm_all_together():
    small, large = np.array([0.3, 0.4]), np.array([3.0, 4.0])  # norms 0.5 and 5
    for clip, expected_small, expected_large in [
            ({'clipnorm': 1.0}, small, large / 5),
            ({'global_clipnorm': 1.0}, small / math.hypot(0.5, 5), large / math.hypot(0.5, 5))]:
        a, b = Tensor(np.zeros(2)), Tensor(np.zeros(2))
        a.grad, b.grad = small, large
        optimizers.SGD(1.0, **clip).step([a, b])
        np.testing.assert_allclose(-a.data, expected_small, rtol=1e-12)
        np.testing.assert_allclose(-b.data, expected_large, rtol=1e-12)


def test_clipping_leaves_the_weight_decay_alone():
    """Keras clips the gradients, then decays p by lr * wd * p: the decay is not clipped."""
    opt = optimizers.SGD(0.1, clipvalue=0.01, weight_decay=0.5)
    p = Tensor(np.array([10.0]))
    p.grad = np.array([5.0])
    opt.step([p])
    np.testing.assert_allclose(p.data, 10.0 - 0.1 * 0.5 * 10.0 - 0.1 * 0.01, rtol=1e-14)


def test_only_one_kind_of_clipping_and_positive_values():
    with pytest.raises(ValueError, match='only one of clipnorm, clipvalue and global_clipnorm'):
        optimizers.Adam(clipnorm=1.0, global_clipnorm=1.0)
    with pytest.raises(ValueError, match='clipvalue must be a positive number, got clipvalue=-1'):
        optimizers.SGD(clipvalue=-1)
    with pytest.raises(ValueError, match="learning_rate must be a number or a "
                                         "LearningRateSchedule, got learning_rate='fast'"):
        optimizers.SGD(learning_rate='fast')
    with pytest.raises(TypeError, match="Nadam() got an unknown keyword argument 'beta1'; did "
                                        "you mean 'beta_1'?".replace('(', r'\(')
                                        .replace(')', r'\)').replace('?', r'\?')):
        optimizers.Nadam(beta1=0.9)
    with pytest.raises(TypeError, match="'use_ema', a Keras argument that minicnn does not"):
        optimizers.AdamW(use_ema=True)


def test_lr_is_an_alias_of_learning_rate():
    assert optimizers.Adam(lr=0.5).learning_rate == 0.5
    assert optimizers.Adam().learning_rate == 0.001
    assert optimizers.SGD().learning_rate == 0.01
    with pytest.raises(TypeError, match='not both'):
        optimizers.SGD(learning_rate=0.01, lr=0.01)


def test_unknown_keywords_are_named():
    with pytest.raises(TypeError, match='momentun'):
        optimizers.SGD(0.1, momentun=0.9)


def test_sgd_momentum_out_of_range_is_refused():
    with pytest.raises(ValueError, match='momentum'):
        optimizers.SGD(momentum=1.5)


def test_time_based_decay_divides_the_rate_by_1_plus_decay_times_iterations():
    opt = optimizers.SGD(learning_rate=1.0, decay=0.5)
    ones = [np.ones(4)] * 3
    np.testing.assert_allclose(run(opt, ones), P0 - (1 + 1 / 1.5 + 1 / 2), rtol=1e-15)
    assert opt.iterations == 3
    assert opt.current_learning_rate == pytest.approx(1 / 2.5)


def test_weight_decay_shrinks_p_by_the_decayed_rate_before_the_update():
    opt = optimizers.SGD(learning_rate=0.1, weight_decay=0.2, decay=1.0)
    p1 = P0 - 0.1 * 0.2 * P0 - 0.1 * GRADS[0]
    p2 = p1 - 0.05 * 0.2 * p1 - 0.05 * GRADS[1]
    np.testing.assert_allclose(run(opt, GRADS[:2]), p2, rtol=1e-14)


def test_weight_decay_is_not_rescaled_by_adam():
    """g = 0: Adam's own step is zero, only the decay p -= lr * wd * p is left."""
    opt = optimizers.Adam(0.1, weight_decay=0.5)
    np.testing.assert_allclose(run(opt, [np.zeros(4)]), P0 * (1 - 0.05), rtol=1e-15)


ALL_VARIANTS = [
    optimizers.SGD, lambda: optimizers.SGD(momentum=0.9, nesterov=True),
    optimizers.RMSprop, lambda: optimizers.RMSprop(momentum=0.5, centered=True),
    optimizers.Adam, lambda: optimizers.Adam(amsgrad=True, weight_decay=0.01),
    optimizers.AdamW, optimizers.Adagrad, optimizers.Adadelta, optimizers.Adamax,
    optimizers.Nadam, lambda: optimizers.Nadam(global_clipnorm=0.5),
    lambda: optimizers.Adagrad(clipnorm=0.1), lambda: optimizers.Adamax(clipvalue=0.2),
]


@pytest.mark.parametrize('make', ALL_VARIANTS)
def test_updates_are_in_place_and_float32_stays_float32(make):
    opt = make()
    p = Tensor(np.ones(5, dtype=np.float32))
    data = p.data
    for g in GRADS[:2]:
        p.grad = np.linspace(-1, 1, 5)  # float64: cast to the parameter's dtype
        opt.step([p])
    assert p.data is data
    assert p.dtype == np.float32
    assert all(s.dtype == np.float32 for s in opt.get_state([p]).values() if s.ndim)


def test_parameters_without_a_gradient_are_skipped():
    opt = optimizers.Adam(0.1)
    a, b = Tensor(P0.copy()), Tensor(P0.copy())
    a.grad = GRADS[0]
    opt.step([a, b])
    np.testing.assert_array_equal(b.data, P0)
    assert not np.array_equal(a.data, P0)
    assert sorted(opt.get_state([a, b])) == ['iterations', 'm/0', 'v/0']
    assert opt.iterations == 1


def test_each_parameter_keeps_its_own_slots_when_the_list_changes():
    """Freezing a layer drops its weights from the list passed to step; the
    others must keep their own moments, not inherit their neighbours'."""
    a, b = Tensor(P0.copy()), Tensor(P0.copy())
    opt, alone = optimizers.Adam(0.1), optimizers.Adam(0.1)
    b_alone = Tensor(P0.copy())
    a.grad, b.grad, b_alone.grad = GRADS[0], GRADS[1], GRADS[1]
    opt.step([a, b])
    alone.step([b_alone])
    b.grad = b_alone.grad = GRADS[2]
    opt.step([b])            # a is frozen now: b is first in the list
    alone.step([b_alone])
    np.testing.assert_allclose(b.data, b_alone.data, rtol=1e-12)


def test_set_state_checks_the_parameters_it_is_given():
    opt = optimizers.Adam()
    p = Tensor(np.ones(3))
    p.grad = np.ones(3)
    opt.step([p])
    state = opt.get_state([p])
    with pytest.raises(ValueError, match=r"slot 'm' of parameter 0 \(None\) has shape \(3,\).*\(2, 2\)"):
        optimizers.Adam().set_state(state, [Tensor(np.ones((2, 2)))])
    with pytest.raises(ValueError, match='slots for parameter 0, but only 0 parameters'):
        optimizers.Adam().set_state(state, [])


@pytest.mark.parametrize('name', ['sgd', 'SGD', 'RMSprop', 'rmsprop', 'Adam', 'ADAM', 'adamw',
                                  'AdamW', 'adagrad', 'Adadelta', 'adamax', 'Nadam'])
def test_get_by_name_in_any_case(name):
    opt = optimizers.get(name)
    assert type(opt).__name__.lower() == name.lower()
    assert opt is not optimizers.get(name)  # a fresh one every time


def test_get_returns_an_optimizer_as_is_and_lists_the_names_otherwise():
    opt = optimizers.SGD(0.3)
    assert optimizers.get(opt) is opt
    with pytest.raises(ValueError, match=r"'adagrad2'.*\['adadelta', 'adagrad', 'adam', "
                                         r"'adamax', 'adamw', 'nadam', 'rmsprop', 'sgd'\]"):
        optimizers.get('adagrad2')
    with pytest.raises(ValueError, match='unknown optimizer'):
        optimizers.get(None)


def test_get_config_holds_the_constructor_arguments():
    opt = optimizers.RMSprop(lr=0.02, momentum=0.5, centered=True, decay=0.1, clipnorm=2)
    config = opt.get_config()
    assert config == {'name': 'rmsprop', 'learning_rate': 0.02, 'weight_decay': None,
                      'decay': 0.1, 'clipnorm': 2.0, 'clipvalue': None, 'global_clipnorm': None,
                      'rho': 0.9, 'momentum': 0.5, 'epsilon': 1e-7, 'centered': True}
    assert optimizers.RMSprop.from_config(config).get_config() == config


@pytest.mark.parametrize('make', ALL_VARIANTS)
def test_state_saved_with_savez_and_restored_gives_identical_steps(make, tmp_path):
    params = [Tensor(P0.copy()), Tensor(P0[:2].copy())]
    opt = make()
    for g in GRADS[:2]:
        params[0].grad, params[1].grad = g, g[:2]
        opt.step(params)
    np.savez(tmp_path / 'opt.npz', **opt.get_state(params))
    twin = make()
    twin_params = [Tensor(p.data.copy()) for p in params]
    twin.set_state(np.load(tmp_path / 'opt.npz'), twin_params)
    for ps, o in [(params, opt), (twin_params, twin)]:
        ps[0].grad, ps[1].grad = GRADS[2], GRADS[2][:2]
        o.step(ps)
    for p, q in zip(params, twin_params):
        np.testing.assert_array_equal(p.data, q.data)
    assert twin.iterations == opt.iterations == 3


def test_get_state_is_a_copy_and_set_state_refuses_foreign_slots():
    opt = optimizers.SGD(0.1, momentum=0.9)
    p = Tensor(P0.copy())
    p.grad = GRADS[0]
    opt.step([p])
    state = opt.get_state([p])
    p.grad = GRADS[1]
    opt.step([p])
    np.testing.assert_array_equal(state['v/0'], -0.1 * GRADS[0])
    with pytest.raises(ValueError, match=r"slot 'm'.*\('v',\)"):
        opt.set_state({'iterations': 1, 'm/0': np.zeros(4)}, [p])


# PyTorch, where its rule is the same as Keras's: SGD's velocity is -lr times
# PyTorch's buffer, and with eps = 0 RMSprop's and Adam's eps placements agree.

@pytest.fixture(scope='module')
def torch():
    return pytest.importorskip('torch')


def run_torch(optimizer_class, grads, **settings):
    """What a torch.optim optimizer makes of P0 and the gradients."""
    torch = pytest.importorskip('torch')
    p = torch.tensor(P0, requires_grad=True)
    opt = optimizer_class([p], **settings)
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
    return p.detach().numpy()


@pytest.mark.parametrize('nesterov', [False, True])
def test_sgd_matches_torch(torch, nesterov):
    expected = run_torch(torch.optim.SGD, GRADS, lr=0.1, momentum=0.9, nesterov=nesterov)
    np.testing.assert_allclose(run(optimizers.SGD(0.1, 0.9, nesterov), GRADS), expected,
                               rtol=1e-13)


@pytest.mark.parametrize('centered', [False, True])
@pytest.mark.parametrize('momentum', [0.0, 0.8])
def test_rmsprop_matches_torch_when_eps_is_zero(torch, centered, momentum):
    expected = run_torch(torch.optim.RMSprop, GRADS, lr=0.01, alpha=0.8, eps=0,
                         momentum=momentum, centered=centered)
    opt = optimizers.RMSprop(0.01, rho=0.8, momentum=momentum, epsilon=0, centered=centered)
    np.testing.assert_allclose(run(opt, GRADS), expected, rtol=1e-13)


@pytest.mark.parametrize('amsgrad', [False, True])
def test_adam_matches_torch_when_eps_is_zero(torch, amsgrad):
    grads = GRADS[:2] + [0.01 * GRADS[2]]
    expected = run_torch(torch.optim.Adam, grads, lr=0.01, eps=0, amsgrad=amsgrad)
    opt = optimizers.Adam(0.01, epsilon=0, amsgrad=amsgrad)
    np.testing.assert_allclose(run(opt, grads), expected, rtol=1e-13)


def test_new_rules_state_round_trips_through_get_config():
    for opt in (optimizers.Adagrad(0.3, initial_accumulator_value=0.2),
                optimizers.Adadelta(rho=0.7), optimizers.Adamax(beta_2=0.9),
                optimizers.Nadam(epsilon=1e-4), optimizers.AdamW(weight_decay=0.1, amsgrad=True)):
        assert type(opt).from_config(opt.get_config()).get_config() == opt.get_config()


def test_nadam_keeps_its_momentum_product_in_the_state():
    opt = optimizers.Nadam(0.01)
    run(opt, GRADS[:2])
    state = opt.get_state([])
    assert float(state['u_product']) == pytest.approx(
        0.9 * (1 - 0.5 * 0.96) * 0.9 * (1 - 0.5 * 0.96 ** 2))
    twin = optimizers.Nadam(0.01)
    twin.set_state(state, [])
    assert twin.u_product == opt.u_product and twin.iterations == 2


@pytest.mark.parametrize('make, torch_class, settings', [
    (lambda: optimizers.Adagrad(0.1, initial_accumulator_value=0.1, epsilon=0), 'Adagrad',
     {'lr': 0.1, 'initial_accumulator_value': 0.1, 'eps': 0}),
    (lambda: optimizers.Adadelta(0.5, rho=0.8, epsilon=1e-6), 'Adadelta',
     {'lr': 0.5, 'rho': 0.8, 'eps': 1e-6}),
    (lambda: optimizers.Adamax(0.01, epsilon=0), 'Adamax', {'lr': 0.01, 'eps': 0}),
    (lambda: optimizers.AdamW(0.01, weight_decay=0.1, epsilon=0), 'AdamW',
     {'lr': 0.01, 'weight_decay': 0.1, 'eps': 0}),
])
def test_new_rules_match_torch_where_they_agree(torch, make, torch_class, settings):
    """Adagrad and Adamax with eps = 0 (PyTorch adds eps elsewhere), Adadelta as is,
    AdamW with eps = 0. Nadam differs: PyTorch's momentum schedule is 0.96^(0.004 t)."""
    expected = run_torch(getattr(torch.optim, torch_class), GRADS, **settings)
    np.testing.assert_allclose(run(make(), GRADS), expected, rtol=1e-12)


def test_adam_weight_decay_matches_torch_adamw(torch):
    expected = run_torch(torch.optim.AdamW, GRADS, lr=0.01, eps=0, weight_decay=0.3)
    opt = optimizers.Adam(0.01, epsilon=0, weight_decay=0.3)
    np.testing.assert_allclose(run(opt, GRADS), expected, rtol=1e-13)
