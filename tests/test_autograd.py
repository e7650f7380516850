import numpy as np
import pytest

import minicnn as mc
from minicnn import Tensor, gradcheck


def test_value_used_twice_sums_its_gradients():
    x = Tensor(np.array([2.0, 3.0]), requires_grad=True)
    y = x * x + x  # dy/dx = 2x + 1
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [5.0, 7.0])


def test_diamond_graph_waits_for_every_path():
    # a feeds b and c, both feed d: a's gradient needs both paths summed first.
    a = Tensor(np.array(1.5), requires_grad=True)
    b = a * 2.0
    c = a * b  # uses a directly and through b
    d = b + c
    d.backward()
    np.testing.assert_allclose(a.grad, 2 + 4 * 1.5)


def test_broadcasting_reduces_gradients_to_input_shapes():
    a = Tensor(np.ones((4, 3)), requires_grad=True)
    b = Tensor(np.ones((3,)), requires_grad=True)
    c = Tensor(np.ones((4, 1)), requires_grad=True)
    ((a + b) * c).sum().backward()
    assert a.grad.shape == (4, 3) and b.grad.shape == (3,) and c.grad.shape == (4, 1)
    np.testing.assert_allclose(b.grad, [4.0, 4.0, 4.0])
    np.testing.assert_allclose(c.grad, [[6.0]] * 4)


def test_ten_thousand_op_chain_backpropagates():
    x = Tensor(np.array([1.0]), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y + 1.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0])


def test_no_grad_builds_no_graph():
    x = Tensor(np.ones(3), requires_grad=True)
    with mc.no_grad():
        y = (x * 2).sum()
    assert y.creator is None and not y.requires_grad
    z = (x * 2).sum()
    assert z.creator is not None


def test_backward_releases_the_graph_and_accumulates_into_leaves():
    x = Tensor(np.ones(2), requires_grad=True)
    y = (x * 3).sum()
    y.backward()
    assert y.creator is None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [6.0, 6.0])


def test_backward_needs_a_scalar_or_an_explicit_gradient():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match='scalar'):
        (x * 2).backward()
    (x * 2).backward(np.ones(3))
    np.testing.assert_allclose(x.grad, [2.0, 2.0, 2.0])


def test_dtypes_float32_by_default_float64_kept():
    assert Tensor([1, 2]).dtype == np.float32
    assert Tensor(np.arange(3)).dtype == np.float32
    assert Tensor(np.zeros(2)).dtype == np.float64
    x = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    (x * 2.5 + 1).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.shape == x.shape


def test_detach_cuts_the_graph():
    x = Tensor(np.ones(2), requires_grad=True)
    d = (x * 2).detach()
    assert d.creator is None and not d.requires_grad


OPERATOR_CASES = {
    'add': (lambda a, b: a + b, [(3, 4), (4,)]),
    'sub': (lambda a, b: a - b, [(3, 1), (1, 4)]),
    'mul': (lambda a, b: a * b, [(2, 3), (2, 3)]),
    'div': (lambda a, b: a / b, [(2, 3), (3,)]),
    'pow_scalar': (lambda a: a ** 3, [(2, 3)]),
    'pow_tensor': (lambda a, b: a ** b, [(2, 3), (2, 3)]),
    'rsub_rdiv': (lambda a: 2.0 - 1.0 / a, [(3,)]),
    'neg': (lambda a: -a, [(4,)]),
    'matmul': (lambda a, b: a @ b, [(3, 4), (4, 2)]),
    'getitem': (lambda a: a[1:, ::2], [(3, 5)]),
    'getitem_repeated': (lambda a: a[np.array([0, 0, 2])], [(3, 2)]),
    'sum_axis': (lambda a: a.sum(axis=1), [(3, 4)]),
    'sum_keepdims': (lambda a: a.sum(axis=(0, 2), keepdims=True), [(2, 3, 4)]),
    'mean': (lambda a: a.mean(axis=0), [(3, 4)]),
    'mean_all': (lambda a: a.mean(), [(3, 4)]),
    'max_axis': (lambda a: a.max(axis=-1), [(3, 4)]),
    'max_all': (lambda a: a.max(), [(3, 4)]),
    'reshape': (lambda a: a.reshape(6, 2), [(3, 4)]),
    'transpose': (lambda a: a.transpose(2, 0, 1), [(2, 3, 4)]),
    'T': (lambda a: a.T, [(2, 3)]),
    'exp': (lambda a: a.exp(), [(3,)]),
}


@pytest.mark.parametrize('name', sorted(OPERATOR_CASES))
def test_operator_gradients(name, rng):
    f, shapes = OPERATOR_CASES[name]
    # positive inputs keep log and pow well defined
    inputs = [rng.uniform(0.5, 2.0, size=s) for s in shapes]
    assert gradcheck(f, *inputs)


def test_log_gradient(rng):
    assert gradcheck(lambda a: a.log(), rng.uniform(0.5, 2.0, size=(5,)))


def test_gradcheck_catches_a_wrong_backward(rng):
    from minicnn.autograd import Function

    class WrongSquare(Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, gy):
            return (gy * self.x,)  # should be 2x

    with pytest.raises(mc.GradcheckError, match='input 0'):
        gradcheck(lambda x: WrongSquare()(x), rng.standard_normal((3,)))


@pytest.mark.parametrize('view', [lambda a: a[:, ::2], lambda a: a.T, lambda a: a[1:, :3]])
def test_gradcheck_of_sliced_and_transposed_arrays(view, rng):
    """A strided view's reshape(-1) is a copy: perturbing it once changed nothing."""
    x = rng.standard_normal((4, 6))
    before = x.copy()
    assert gradcheck(lambda a: (a * a).sum(), view(x))
    np.testing.assert_array_equal(x, before)  # the caller's array is left alone
