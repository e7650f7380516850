"""minicnn.optimizers: each rule against its formula worked by hand, Keras's
documented examples, PyTorch where the two rules agree, and the bookkeeping
(learning-rate decay, weight decay, dtypes, skipped parameters, state)."""
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


@pytest.mark.parametrize('name', ['sgd', 'SGD', 'RMSprop', 'rmsprop', 'Adam', 'ADAM'])
def test_get_by_name_in_any_case(name):
    opt = optimizers.get(name)
    assert type(opt).__name__.lower() == name.lower()
    assert opt is not optimizers.get(name)  # a fresh one every time


def test_get_returns_an_optimizer_as_is_and_lists_the_names_otherwise():
    opt = optimizers.SGD(0.3)
    assert optimizers.get(opt) is opt
    with pytest.raises(ValueError, match=r"'adagrad'.*\['adam', 'rmsprop', 'sgd'\]"):
        optimizers.get('adagrad')
    with pytest.raises(ValueError, match='unknown optimizer'):
        optimizers.get(None)


def test_get_config_holds_the_constructor_arguments():
    opt = optimizers.RMSprop(lr=0.02, momentum=0.5, centered=True, decay=0.1)
    config = opt.get_config()
    assert config == {'name': 'rmsprop', 'learning_rate': 0.02, 'weight_decay': None,
                      'decay': 0.1, 'rho': 0.9, 'momentum': 0.5, 'epsilon': 1e-7,
                      'centered': True}
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


def test_adam_weight_decay_matches_torch_adamw(torch):
    expected = run_torch(torch.optim.AdamW, GRADS, lr=0.01, eps=0, weight_decay=0.3)
    opt = optimizers.Adam(0.01, epsilon=0, weight_decay=0.3)
    np.testing.assert_allclose(run(opt, GRADS), expected, rtol=1e-13)
