"""The workbook: every exercise filled with minicnn's own solution passes; planted
mistakes, written as a learner would make them, fail at the right stage with
the right hint; the commands start, check and train as the README says."""
import dataclasses
import inspect
import pathlib
import textwrap
import types

import numpy as np
import pytest

from minicnn import functional as F
from minicnn.recipes import zoo
from minicnn.recipes.cli import main
from minicnn.recipes.workbook import cli, solutions
from minicnn.recipes.workbook.catalog import EXERCISES
from minicnn.recipes.workbook.checker import CheckFailed, check, load
from minicnn.recipes.workbook.hooks import Workbook, WorkbookConvolution
from minicnn.recipes.workbook.side_by_side import SETUPS, setup_for, train_side_by_side

ANSWERS = pathlib.Path(__file__).resolve().parent / 'workbook_answers'
SOLVED = 'import numpy as np\nfrom minicnn.recipes.workbook.solutions import *  # noqa\n'


def fill(folder, name, source=''):
    """Write exercise ``name`` as the solutions, with ``source`` (a learner's
    wrong version of some function) written after them."""
    folder.mkdir(exist_ok=True)
    (folder / EXERCISES[name].filename).write_text(SOLVED + textwrap.dedent(source))


@pytest.mark.parametrize('name', EXERCISES)
def test_the_solutions_pass(name, tmp_path):
    fill(tmp_path, name)
    assert check(EXERCISES[name], tmp_path).startswith(f'{name}: passed')


@pytest.mark.parametrize('name', EXERCISES)
def test_a_learners_own_answers_pass(name):
    """Answers written from the docstrings alone, in plain NumPy (tests/workbook_answers)."""
    assert check(EXERCISES[name], ANSWERS).startswith(f'{name}: passed')


PLANTED = {
    'relu': [
        ('values', 'not their absolute value', 'def relu_forward(x): return np.abs(x)'),
        ('gradients', 'multiply by dy', 'def relu_backward(dy, x): return (x > 0) * 1.0'),
        ('gradients', 'the gradient there is 0', 'def relu_backward(dy, x): return dy.copy()'),
    ],
    'dense': [
        ('shapes', 'is a return missing', 'def dense_forward(x, kernel, bias): x @ kernel + bias'),
        ('shapes', 'a tuple of 3', """
            def dense_backward(dy, x, kernel):
                return dy @ kernel.T, x.T @ dy"""),
        ('running', 'line 5 of 02_dense.py', """
            def dense_forward(x, kernel, bias):
                return x @ kernel.T + bias"""),
        ('values', 'add the bias', 'def dense_forward(x, kernel, bias): return x @ kernel'),
        ('shapes', 'wrong axis', '''
            def dense_backward(dy, x, kernel):
                return dy @ kernel.T, x.T @ dy, dy.sum(axis=1)'''),
        ('shapes', 'yours is transposed', '''
            def dense_backward(dy, x, kernel):
                return dy @ kernel.T, dy.T @ x, dy.sum(axis=0)'''),
        ('gradients', 'a sign is wrong', '''
            def dense_backward(dy, x, kernel):
                return -dy @ kernel.T, x.T @ dy, dy.sum(axis=0)'''),
        ('gradients', 'not its mean', '''
            def dense_backward(dy, x, kernel):
                return dy @ kernel.T, x.T @ dy, dy.mean(axis=0)'''),
    ],
    'im2col': [
        ('shapes', 'off-by-one', '''
            def im2col(x, window, strides, pad):
                xp = np.pad(x, ((0, 0), pad[:2], pad[2:], (0, 0)))
                oh = (xp.shape[1] - window[0]) // strides[0]
                ow = (xp.shape[2] - window[1]) // strides[1]
                cols = np.zeros((len(x), oh, ow, *window, x.shape[3]))
                for r in range(oh):
                    for s in range(ow):
                        cols[:, r, s] = xp[:, r * strides[0]:r * strides[0] + window[0],
                                           s * strides[1]:s * strides[1] + window[1]]
                return cols'''),
        ('shapes', "axes are swapped", '''
            _right = im2col
            def im2col(x, window, strides, pad):
                return _right(x, window, strides, pad).transpose(0, 1, 2, 4, 3, 5)'''),
        ('edge case', 'moves by the strides', '''
            _right = im2col
            def im2col(x, window, strides, pad):
                return _right(x, window, (1, 1), pad)'''),
    ],
    'conv2d_forward': [
        ('values', 'flipped', '''
            _right = conv2d_forward
            def conv2d_forward(x, kernel, bias, strides, pad):
                return _right(x, kernel[::-1, ::-1], bias, strides, pad)'''),
        ('values', 'transposed', '''
            def conv2d_forward(x, kernel, bias, strides, pad):
                xp = np.pad(x, ((0, 0), pad[:2], pad[2:], (0, 0)))
                kh, kw, c, f = kernel.shape
                oh = (xp.shape[1] - kh) // strides[0] + 1
                ow = (xp.shape[2] - kw) // strides[1] + 1
                y = np.zeros((len(x), oh, ow, f)) + bias
                for i in range(kh):
                    for j in range(kw):
                        patch = xp[:, i:i + strides[0] * (oh - 1) + 1:strides[0],
                                   j:j + strides[1] * (ow - 1) + 1:strides[1]]
                        y += patch @ kernel[j, i]
                return y'''),
        ('values', 'add the bias', '''
            _right = conv2d_forward
            def conv2d_forward(x, kernel, bias, strides, pad):
                return _right(x, kernel, 0 * bias, strides, pad)'''),
    ],
    'conv2d_backward': [
        ('gradients', 'the kernel as it is', '''
            _right = conv2d_backward
            def conv2d_backward(dy, x, kernel, strides, pad):
                dx = _right(dy, x, kernel[::-1, ::-1], strides, pad)[0]
                return (dx, *_right(dy, x, kernel, strides, pad)[1:])'''),
        ('gradients', 'transposed', '''
            _right = conv2d_backward
            def conv2d_backward(dy, x, kernel, strides, pad):
                dx, dk, db = _right(dy, x, kernel, strides, pad)
                return dx, dk.transpose(1, 0, 2, 3), db'''),
        ('shapes', 'wrong axes', '''
            _right = conv2d_backward
            def conv2d_backward(dy, x, kernel, strides, pad):
                dx, dk, db = _right(dy, x, kernel, strides, pad)
                return dx, dk, dy.sum(axis=(1, 2, 3))'''),
        ('gradients', 'it is not averaged', '''
            _right = conv2d_backward
            def conv2d_backward(dy, x, kernel, strides, pad):
                dx, dk, db = _right(dy, x, kernel, strides, pad)
                return dx, dk / len(x), db'''),
        ('edge case', 'cut the padding off', '''
            _right = conv2d_backward
            def conv2d_backward(dy, x, kernel, strides, pad):
                dx, dk, db = _right(dy, np.pad(x, ((0, 0), pad[:2], pad[2:], (0, 0))), kernel,
                                    strides, (0, 0, 0, 0))
                return dx, dk, db'''),
    ],
    'max_pool': [
        ('edge case', 'pad with -inf', '''
            _right = max_pool_forward
            def max_pool_forward(x, window, strides, pad):
                return _right(np.pad(x, ((0, 0), pad[:2], pad[2:], (0, 0))), window, strides,
                              (0, 0, 0, 0))'''),
        ('gradients', 'only the maximum', '''
            def max_pool_backward(dy, x, window, strides, pad):
                dx = np.zeros(x.shape)
                for r in range(dy.shape[1]):
                    for s in range(dy.shape[2]):
                        dx[:, r * strides[0]:r * strides[0] + window[0],
                           s * strides[1]:s * strides[1] + window[1]] += dy[:, r:r + 1, s:s + 1]
                return dx'''),
        ('edge case', 'first', '''
            def max_pool_backward(dy, x, window, strides, pad):
                xp = np.pad(x, ((0, 0), pad[:2], pad[2:], (0, 0)), constant_values=-np.inf)
                dxp = np.zeros(xp.shape)
                for r in range(dy.shape[1]):
                    for s in range(dy.shape[2]):
                        rows = slice(r * strides[0], r * strides[0] + window[0])
                        cols = slice(s * strides[1], s * strides[1] + window[1])
                        hit = xp[:, rows, cols] == xp[:, rows, cols].max(axis=(1, 2), keepdims=True)
                        dxp[:, rows, cols] += hit * dy[:, r:r + 1, s:s + 1]
                return dxp[:, pad[0]:pad[0] + x.shape[1], pad[2]:pad[2] + x.shape[2]]'''),
    ],
    'softmax_cross_entropy': [
        ('values', 'missing 1/N', '''
            _right = softmax_cross_entropy
            def softmax_cross_entropy(logits, targets):
                loss, d = _right(logits, targets)
                return loss * len(logits), d'''),
        ('gradients', 'the sign is wrong', '''
            _right = softmax_cross_entropy
            def softmax_cross_entropy(logits, targets):
                loss, d = _right(logits, targets)
                return loss, -d'''),
        ('values', 'each row', '''
            def softmax_cross_entropy(logits, targets):
                p = np.exp(logits) / np.exp(logits).sum(axis=0, keepdims=True)
                return -(targets * np.log(p)).sum() / len(logits), (p - targets) / len(logits)'''),
        ('edge case', 'inf or nan', '''
            def softmax_cross_entropy(logits, targets):
                p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
                return -(targets * np.log(p)).sum() / len(logits), (p - targets) / len(logits)'''),
    ],
    'sgd_momentum': [
        ('values', "PyTorch's form", '''
            def sgd_momentum_step(p, g, v, learning_rate, momentum):
                v = momentum * v + g
                return p - learning_rate * v, v'''),
        ('values', 'already points downhill', '''
            def sgd_momentum_step(p, g, v, learning_rate, momentum):
                v = momentum * v - learning_rate * g
                return p - v, v'''),
    ],
    'adam': [
        ('values', 'without bias correction', '''
            def adam_step(p, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
                m = beta_1 * m + (1 - beta_1) * g
                v = beta_2 * v + (1 - beta_2) * g * g
                return p - learning_rate * m / (np.sqrt(v) + epsilon), m, v'''),
        ('edge case', 'as PyTorch does', '''
            def adam_step(p, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
                m = beta_1 * m + (1 - beta_1) * g
                v = beta_2 * v + (1 - beta_2) * g * g
                m_hat, v_hat = m / (1 - beta_1 ** t), v / (1 - beta_2 ** t)
                return p - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), m, v'''),
    ],
    'dropout': [
        ('values', 'does not scale', '''
            def dropout_forward(x, rate, training, uniform):
                return x * (uniform >= rate) if training else x'''),
        ('values', 'keeps those below rate', '''
            def dropout_forward(x, rate, training, uniform):
                return x * (uniform < rate) / (1 - rate) if training else x'''),
        ('edge case', 'the identity', '''
            def dropout_forward(x, rate, training, uniform):
                return x * (uniform >= rate) / (1 - rate)'''),
        ('gradients', 'scaled by 1 / (1 - rate)', '''
            def dropout_backward(dy, rate, uniform):
                return dy * (uniform >= rate)'''),
    ],
    'batchnorm': [
        ('values', 'not M - 1', '''
            def batchnorm_forward(x, gamma, beta, epsilon):
                axes = tuple(range(x.ndim - 1))
                mean, var = x.mean(axis=axes), x.var(axis=axes, ddof=1)
                return gamma * (x - mean) / np.sqrt(var + epsilon) + beta, mean, var'''),
        ('shapes', 'every other axis', '''
            def batchnorm_forward(x, gamma, beta, epsilon):
                mean, var = x.mean(axis=0), x.var(axis=0)
                return gamma * (x - mean) / np.sqrt(var + epsilon) + beta, mean, var'''),
        ('gradients', 'pass gradient too', '''
            def batchnorm_backward(dy, x, gamma, epsilon):
                axes = tuple(range(x.ndim - 1))
                std = np.sqrt(x.var(axis=axes) + epsilon)
                xhat = (x - x.mean(axis=axes)) / std
                return dy * gamma / std, (dy * xhat).sum(axis=axes), dy.sum(axis=axes)'''),
    ],
}


@pytest.mark.parametrize('name, stage, hint, source',
                         [(name, *planted) for name, all_planted in PLANTED.items()
                          for planted in all_planted],
                         ids=lambda v: v if isinstance(v, str) and len(v) < 30 else '')
def test_a_planted_mistake_fails_with_its_hint(name, stage, hint, source, tmp_path):
    fill(tmp_path, name, source)
    with pytest.raises(CheckFailed) as failure:
        check(EXERCISES[name], tmp_path)
    assert failure.value.stage.startswith(stage), str(failure.value)
    assert hint in str(failure.value), str(failure.value)


def test_start_copies_fresh_templates_and_refuses_to_overwrite(tmp_path, capsys):
    folder = tmp_path / 'work'
    main(['workbook', 'start', str(folder)])
    assert sorted(p.name for p in folder.iterdir()) == \
        sorted(e.filename for e in EXERCISES.values())
    (folder / '01_relu.py').write_text('# my work\n')
    with pytest.raises(SystemExit, match='--force'):
        main(['workbook', 'start', str(folder)])
    assert (folder / '01_relu.py').read_text() == '# my work\n'
    main(['workbook', 'start', str(folder), '--force'])
    assert 'raise NotImplementedError' in (folder / '01_relu.py').read_text()


def test_every_template_says_not_written_yet(tmp_path, capsys):
    main(['workbook', 'start', str(tmp_path)])
    with pytest.raises(SystemExit):
        main(['workbook', 'check', 'all', str(tmp_path)])
    out = capsys.readouterr().out
    assert out.count('not written yet') == len(EXERCISES)
    assert f'0 of {len(EXERCISES)} exercises pass' in out


def test_the_templates_declare_what_the_checker_calls():
    """Every template's functions, with the arguments the checker passes, in order."""
    for exercise in EXERCISES.values():
        module = load(cli.TEMPLATES / exercise.filename)
        for part in exercise.parts:
            assert tuple(inspect.signature(getattr(module, part.name)).parameters) == part.args
            assert inspect.signature(getattr(solutions, part.name)).parameters.keys() == \
                inspect.signature(getattr(module, part.name)).parameters.keys()


def test_each_tour_chapter_links_to_its_exercises():
    tour = pathlib.Path(__file__).resolve().parent.parent / 'docs' / 'tour'
    for exercise in EXERCISES.values():
        link = f'](../../minicnn/recipes/workbook/exercises/{exercise.filename})'
        assert link in (tour / exercise.chapter).read_text(), (exercise.name, exercise.chapter)


def test_training_with_the_solutions_gives_minicnns_curve(tmp_path, tiny_data, monkeypatch,
                                                          capsys):
    monkeypatch.setenv('MINICNN_DATA', str(tiny_data))
    monkeypatch.setenv('MINICNN_HOME', str(tmp_path / 'cache'))
    for name in EXERCISES:
        fill(tmp_path, name)
    main(['workbook', 'train', str(tmp_path), '--steps', '2', '--batch-size', '4'])
    out = capsys.readouterr().out
    assert 'no place for your sgd_momentum, batchnorm' in out
    assert 'the other step of both will take about' in out
    gap = float(out.split('the curves are at most ')[1].split(' apart')[0])
    assert gap < 1e-4
    assert (tmp_path / 'curves-all.png').read_bytes()[:4] == b'\x89PNG'


def test_the_exercises_seed_004_lacks_train_another_setup():
    assert setup_for(['batchnorm']) is SETUPS['fast_cnn']
    assert setup_for(['sgd_momentum']) is SETUPS['cnn-seed004, SGD']
    assert setup_for(['sgd_momentum', 'relu']) is SETUPS['cnn-seed004']


@pytest.mark.parametrize('name', ['batchnorm', 'sgd_momentum'])
def test_batchnorm_and_sgd_train_as_minicnns_do(name, tmp_path):
    calls = []
    small = dataclasses.replace(SETUPS['fast_cnn'], build=lambda: zoo.fast_cnn(
        widths=(8, 8, 8), batchnorm='keras'))
    yours, theirs = train_side_by_side(spied([name], calls), tmp_path / 'curves.png',
                                       batches=tiny_batches(steps=2), setup=small,
                                       say=lambda line: None)
    assert np.allclose(yours, theirs, rtol=1e-4)
    assert set(calls) == {p.name for p in EXERCISES[name].parts}


def test_seed_004_calls_every_function_of_the_learners_it_has_a_place_for(tmp_path):
    calls, names = [], [name for name in EXERCISES if name not in ('batchnorm', 'sgd_momentum')]
    said = []
    train_side_by_side(spied(names, calls), tmp_path / 'curves.png',
                       batches=tiny_batches(steps=1), say=said.append)
    assert set(calls) == {p.name for name in names for p in EXERCISES[name].parts} - {'im2col'}
    assert any('your im2col is not called' in line for line in said)


@pytest.mark.parametrize('learners', [['im2col'], ['im2col', 'conv2d_backward'],
                                      ['conv2d_forward']])
def test_a_convolution_with_some_of_the_learners_functions_is_minicnns(learners):
    """WorkbookConvolution mixes the learner's functions with minicnn's: same results."""
    calls, rng = [], np.random.default_rng(0)
    x, kernel, bias = (rng.standard_normal(s) for s in [(2, 5, 6, 3), (3, 2, 3, 4), (4,)])
    dy = rng.standard_normal((2, 3, 3, 4))
    conv = WorkbookConvolution(Workbook(spied(learners, calls)), (2, 2), 'same')
    y, grads = solutions.forward_and_gradients(conv, [x, kernel, bias], dy)
    y_minicnn, grads_minicnn = solutions.forward_and_gradients(
        lambda *inputs: F.conv2d(*inputs, strides=2, padding='same'), [x, kernel, bias], dy)
    assert np.allclose(y, y_minicnn)
    assert all(np.allclose(a, b) for a, b in zip(grads, grads_minicnn))
    assert set(calls) == set(learners)


def spied(names, calls):
    """Learner's modules for these exercises: minicnn's solutions, each call noted in calls."""
    def spy(function):
        def noted(*args):
            calls.append(function.__name__)
            return function(*args)
        return noted
    return {name: types.SimpleNamespace(**{p.name: spy(getattr(solutions, p.name))
                                           for p in EXERCISES[name].parts}) for name in names}


def test_a_wrong_gradient_makes_the_curves_part(tmp_path):
    fill(tmp_path, 'relu', 'def relu_backward(dy, x): return dy')
    yours, theirs = train_side_by_side({'relu': load(tmp_path / '01_relu.py')},
                                       tmp_path / 'curves.png', batches=tiny_batches(steps=2),
                                       say=lambda line: None)
    assert yours[0] == theirs[0]  # the same start
    assert abs(yours[-1] - theirs[-1]) > 1e-3


def tiny_batches(steps, batch_size=2):
    """Random images in [0, 1] and one-hot rows: enough to tell two curves apart."""
    rng = np.random.default_rng(0)
    return [(rng.random((batch_size, 32, 32, 3), dtype=np.float32),
             np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch_size)])
            for _ in range(steps)]
