"""The one-pass Numba update rules (minicnn.kernels.optimizer_numba) against each
rule's reference_update, and which of the two ``update`` runs where."""
import copy
import functools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minicnn import Tensor, devices, kernels, optimizers
from minicnn.kernels import optimizer_numba

# Every variant of the three rules with a fast twin, built from drawn hyperparameters.
VARIANTS = {
    'sgd': lambda h: optimizers.SGD(h['lr']),
    'sgd momentum': lambda h: optimizers.SGD(h['lr'], momentum=h['beta']),
    'sgd nesterov': lambda h: optimizers.SGD(h['lr'], momentum=h['beta'], nesterov=True),
    'rmsprop': lambda h: optimizers.RMSprop(h['lr'], rho=h['beta'], epsilon=h['eps']),
    'rmsprop centered': lambda h: optimizers.RMSprop(h['lr'], rho=h['beta'], epsilon=h['eps'],
                                                     centered=True),
    'rmsprop momentum': lambda h: optimizers.RMSprop(h['lr'], rho=h['beta'], epsilon=h['eps'],
                                                     momentum=h['beta_2']),
    'rmsprop centered momentum': lambda h: optimizers.RMSprop(
        h['lr'], rho=h['beta'], epsilon=h['eps'], momentum=h['beta_2'], centered=True),
    'adam': lambda h: optimizers.Adam(h['lr'], beta_1=h['beta'], beta_2=h['beta_2'],
                                      epsilon=h['eps']),
    'adam amsgrad': lambda h: optimizers.Adam(h['lr'], beta_1=h['beta'], beta_2=h['beta_2'],
                                              epsilon=h['eps'], amsgrad=True),
    'adamw': lambda h: optimizers.AdamW(h['lr'], weight_decay=h['beta_2'] / 10),
}
TOLERANCE = {np.float32: dict(rtol=1e-6, atol=1e-7), np.float64: dict(rtol=1e-14, atol=1e-15)}

hyperparameters = st.fixed_dictionaries({
    'lr': st.floats(1e-4, 0.5), 'beta': st.floats(0.0, 0.999), 'beta_2': st.floats(0.5, 0.9999),
    'eps': st.sampled_from([1e-7, 1e-3, 1.0])})
shapes = st.lists(st.integers(1, 17), min_size=0, max_size=4).map(tuple)  # () too: a scalar weight


def train(opt, p0, grads, rule):
    """p and its slots after opt's ``rule`` method applied each gradient in turn, as
    ``Optimizer.step`` does (decay and weight decay included), on Tensor p0."""
    p = Tensor(p0.copy())
    # The instance attribute takes the method's place; the fast rule is handed the
    # Numba passes, as update does where p's kernel set has them.
    opt.update = (getattr(opt, rule) if rule == 'reference_update' else
                  functools.partial(opt.fast_update, optimizer_numba))
    for g in grads:
        p.grad = g
        opt.step([p])
    return p.data, opt._slots_for(p)


@settings(max_examples=40, deadline=None)
@given(variant=st.sampled_from(sorted(VARIANTS)), h=hyperparameters, shape=shapes,
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**32 - 1))
def test_fast_update_agrees_with_the_reference(variant, h, shape, dtype, seed):
    rng = np.random.default_rng(seed)
    p0 = rng.standard_normal(shape).astype(dtype)
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(4)]
    opt = VARIANTS[variant](h)
    fast, fast_slots = train(copy.deepcopy(opt), p0, grads, 'fast_update')
    reference, reference_slots = train(opt, p0, grads, 'reference_update')
    np.testing.assert_allclose(fast, reference, **TOLERANCE[dtype])
    assert fast.dtype == dtype and fast_slots.keys() == reference_slots.keys()
    for name in fast_slots:
        np.testing.assert_allclose(fast_slots[name], reference_slots[name], **TOLERANCE[dtype])


def spy_on_rules(monkeypatch, opt):
    """Record which of opt's two rules each update runs: a list of their names."""
    calls = []
    for rule in ('fast_update', 'reference_update'):
        method = getattr(opt, rule)
        monkeypatch.setattr(opt, rule, lambda *args, rule=rule, method=method:
                            (calls.append(rule), method(*args)))
    return calls


def one_step(opt, p):
    p.grad = np.ones_like(p.data)
    opt.step([p])


@pytest.mark.parametrize('variant', ['sgd momentum', 'rmsprop', 'adam'])
def test_numba_kernels_choose_the_fast_rule_and_numpy_ones_the_reference(
        monkeypatch, kernel_choice, variant):
    opt = VARIANTS[variant](dict(lr=0.1, beta=0.9, beta_2=0.99, eps=1e-7))
    calls = spy_on_rules(monkeypatch, opt)
    one_step(opt, Tensor(np.zeros((3, 2), np.float32)))
    assert calls == ['fast_update' if kernel_choice == 'numba' else 'reference_update']


def test_the_gpu_runs_the_reference(monkeypatch):
    """On the GPU kernels.for_array names cupy_gpu, and update takes the reference
    (what runs it on CuPy arrays is in test_gpu_runs_the_reference_on_cupy)."""
    monkeypatch.setitem(kernels._state, 'choice', 'numba')
    opt = optimizers.Adam()
    calls = spy_on_rules(monkeypatch, opt)
    monkeypatch.setattr(kernels, 'for_array', lambda x: kernels.cupy_gpu)
    one_step(opt, Tensor(np.zeros(3, np.float32)))
    assert calls == ['reference_update']


@pytest.mark.gpu
def test_gpu_runs_the_reference_on_cupy(monkeypatch):
    try:
        devices.set_device('gpu')
    except RuntimeError as err:
        pytest.skip(str(err))
    try:
        opt = optimizers.RMSprop(momentum=0.5)
        calls = spy_on_rules(monkeypatch, opt)
        p = Tensor(devices.cupy().zeros(3, dtype=np.float32))
        one_step(opt, p)
        assert calls == ['reference_update'] and devices.is_gpu_array(p.data)
    finally:
        devices.set_device('cpu')


def test_a_non_contiguous_parameter_takes_the_reference(monkeypatch):
    """The kernels write through flat views, which a strided p has not."""
    monkeypatch.setitem(kernels._state, 'choice', 'numba')
    opt = optimizers.SGD(0.1, momentum=0.9)
    calls = spy_on_rules(monkeypatch, opt)
    p = Tensor(np.zeros((4, 6), np.float32)[:, ::2])
    one_step(opt, p)
    assert calls == ['reference_update']
    np.testing.assert_allclose(p.data, -0.1)
