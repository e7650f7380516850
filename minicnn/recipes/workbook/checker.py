"""The checker: a learner's exercise file against minicnn's own functions.

``check(exercise, folder)`` loads the learner's file by its path and runs
four stages, stopping at the first failure with a ``CheckFailed`` that says
what is wrong and what to look at:

1. shapes: every result has the shape minicnn's has, on a small random case;
2. values: every result that is not a gradient equals minicnn's, within
   rtol 1e-5 (the first differing element, and a tiny counterexample);
3. gradients: every gradient equals central differences of minicnn's
   forward in float64, named (kernel, bias, input) and with the error's size;
4. edge cases: each of the exercise's other cases (a stride, padding, a
   batch of one, a non-square image, ...), every result against minicnn's.

Where a wrong result equals what a plausible mistake gives (a flipped
kernel, a missing 1/N, ...: the exercise's ``mistakes``, see ``catalog``),
or is minicnn's times a constant, the message says so. The exercises
themselves are described in ``catalog``; this module knows none of them.
"""
import importlib.util
import pathlib
import traceback
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

RTOL, ATOL = 1e-5, 1e-7


class CheckFailed(Exception):
    """A stage failed; ``str()`` is the message for the learner."""

    def __init__(self, stage, message):
        super().__init__(f'{stage}: {message}')
        self.stage = stage


@dataclass
class Mistake:
    """A plausible wrong version of a function (same arguments) and what to tell
    a learner whose results equal it."""
    hint: str
    function: Callable


@dataclass
class Part:
    """One function the learner writes.

    ``args`` name its arguments, read from a case (a dict of named values);
    ``outputs`` name its results. ``reference`` is minicnn's version. A result
    named in ``gradient_of`` is the gradient of ``forward(case)`` (minicnn's,
    an array) with respect to the argument named there, the forward's output
    weighted by ``case[upstream]`` (or unweighted, a scalar loss, for None).
    """
    name: str
    args: tuple
    outputs: tuple
    reference: Callable
    reference_name: str
    mistakes: tuple = ()
    gradient_of: dict = field(default_factory=dict)
    forward: Callable = None
    upstream: str = 'dy'


@dataclass
class Exercise:
    """A file of the workbook: its parts, in order, and its cases.

    ``cases(rng)`` gives a dict of named cases: 'basic' (small, random),
    'tiny' (the counterexample shown on a failure) and the edge cases.
    """
    name: str
    filename: str
    chapter: str
    parts: tuple
    cases: Callable


# -- loading ----------------------------------------------------------------

def load(path):
    """The learner's file as a module, loaded from its path (never imported by name)."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise CheckFailed('loading', f'{path} does not exist; `minicnn workbook start '
                                     f'{path.parent}` makes a fresh workbook there')
    spec = importlib.util.spec_from_file_location(f'workbook_{path.stem}', path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # a learner's file may fail in any way; say where
        raise CheckFailed('loading', f'{path} does not load: {_where(err, path)}') from None
    return module


def _where(err, path):
    """'ValueError: ... (line 12 of 05_conv2d_forward.py)': the learner's own line, if any."""
    lines = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == str(path)]
    line = getattr(err, 'lineno', None) if isinstance(err, SyntaxError) else \
        (lines[-1].lineno if lines else None)
    at = f' (line {line} of {path.name})' if line else ''
    return f'{type(err).__name__}: {err}{at}'


def call(function, part, case, path):
    """function on copies of the case's arguments, its results as a tuple of arrays."""
    args = [np.array(case[a], copy=True) if isinstance(case[a], np.ndarray) else case[a]
            for a in part.args]
    try:
        with np.errstate(all='ignore'):  # an overflow shows in the results, with a hint
            result = function(*args)
    except NotImplementedError:
        raise CheckFailed('not written yet', f'{part.name} raises NotImplementedError: '
                                             f'write its body in {path}') from None
    except Exception as err:
        raise CheckFailed('running', f'{part.name}({", ".join(part.args)}) raised '
                                     f'{_where(err, path)}, on {describe(case, part)}') from None
    return as_results(result, part)


def as_results(result, part):
    if len(part.outputs) == 1:
        result = (result,)
    elif not isinstance(result, (tuple, list)) or len(result) != len(part.outputs):
        got = f'a tuple of {len(result)}' if isinstance(result, (tuple, list)) else \
            type(result).__name__
        raise CheckFailed('shapes', f'{part.name} must return ({", ".join(part.outputs)}), '
                                    f'a tuple of {len(part.outputs)}; it returned {got}')
    return tuple(as_array(r, name, part) for r, name in zip(result, part.outputs))


def as_array(result, name, part):
    """One result as a float64 array (None stays None: check_shapes reports it)."""
    if result is None:
        return None
    try:
        return np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        raise CheckFailed('shapes', f'{part.name} gives {name} as a {type(result).__name__}, '
                                    f'which is not an array of numbers') from None


def describe(case, part):
    """The arguments of a case in a line: shapes of arrays, values of the rest."""
    def one(name):
        value = case[name]
        return f'{name} {value.shape}' if isinstance(value, np.ndarray) else f'{name}={value!r}'
    return ', '.join(one(a) for a in part.args if a in case)


# -- the stages ---------------------------------------------------------------

def check(exercise, folder):
    """Run the four stages on the learner's file in ``folder``; raise CheckFailed
    at the first failure, or return a line saying what passed."""
    path = pathlib.Path(folder) / exercise.filename
    module = load(path)
    functions = {}
    for part in exercise.parts:
        if not callable(getattr(module, part.name, None)):
            raise CheckFailed('loading', f'{path} has no function {part.name}; '
                                         f'the template defines it')
        functions[part.name] = getattr(module, part.name)
    cases = exercise.cases(np.random.default_rng(0))
    basic = cases['basic']
    mine = {p.name: call(functions[p.name], p, basic, path) for p in exercise.parts}
    theirs = {p.name: as_results(p.reference(*[basic[a] for a in p.args]), p)
              for p in exercise.parts}
    for part in exercise.parts:
        check_shapes(part, basic, mine[part.name], theirs[part.name])
    for part in exercise.parts:
        for k, name in enumerate(part.outputs):
            if name not in part.gradient_of:
                compare(exercise, part, k, 'values', basic, mine[part.name][k],
                        theirs[part.name][k], functions, path)
    for part in exercise.parts:
        if part.gradient_of:
            check_gradients(exercise, part, basic, mine[part.name], functions, path)
    edge_cases = [name for name in cases if name not in ('basic', 'tiny')]
    for case_name in edge_cases:
        case = cases[case_name]
        for part in exercise.parts:
            got = call(functions[part.name], part, case, path)
            want = as_results(part.reference(*[case[a] for a in part.args]), part)
            check_shapes(part, case, got, want, f'edge case {case_name!r}')
            for k in range(len(part.outputs)):
                compare(exercise, part, k, f'edge case {case_name!r}', case, got[k], want[k],
                        functions, path, show_tiny=False)
    stages = ['shapes']
    if any(name not in p.gradient_of for p in exercise.parts for name in p.outputs):
        stages.append('values')
    if any(p.gradient_of for p in exercise.parts):
        stages.append('gradients')
    return (f'{exercise.name}: passed ({", ".join(stages)}, {len(edge_cases)} edge cases: '
            f'{"; ".join(edge_cases)})')


def check_shapes(part, case, got, want, stage='shapes'):
    for name, g, w in zip(part.outputs, got, want):
        if g is None:
            raise CheckFailed(stage, f'{part.name} gives None for {name}: is a return missing?')
        if g.shape != w.shape:
            hint = recognise_shape(part, case, name, g.shape)
            raise CheckFailed(stage, f'{part.name} gives {name} of shape {g.shape}, minicnn '
                                     f'{w.shape}, for {describe(case, part)}' + hint)


def compare(exercise, part, k, stage, case, got, want, functions, path, show_tiny=True):
    """Raise if result k differs from minicnn's: the first differing element, a hint
    and (on the tiny case) a counterexample small enough to work by hand."""
    if close(got, want):
        return
    name = part.outputs[k]
    bad = ~np.isclose(got, want, rtol=RTOL, atol=ATOL)
    first = tuple(int(i) for i in np.argwhere(bad)[0]) if got.ndim else ()
    message = (f'{part.name} gives {name}{_index(first)} = {got[first]:.6g}, where minicnn '
               f'({part.reference_name}) gives {want[first]:.6g}; {int(bad.sum())} of {bad.size} '
               f'elements differ, by up to {np.abs(got - want).max():.3g}, for '
               f'{describe(case, part)}')
    message += recognise(part, case, k, got, want)
    if show_tiny:
        message += counterexample(exercise, part, k, functions[part.name], path)
    raise CheckFailed(stage, message)


def close(got, want):
    return bool(np.isfinite(got).all() and np.allclose(got, want, rtol=RTOL, atol=ATOL))


def _index(index):
    return f'[{", ".join(map(str, index))}]' if index else ''


def check_gradients(exercise, part, case, got, functions, path):
    """Each gradient against central differences of minicnn's forward, in float64."""
    wrong = []
    for k, name in enumerate(part.outputs):
        if name not in part.gradient_of:
            continue
        numeric = numeric_gradient(part.forward, case, part.gradient_of[name], part.upstream)
        if not close(got[k], numeric):
            wrong.append((k, name, numeric))
    if not wrong:
        return
    k, name, numeric = wrong[0]
    error = np.abs(got[k] - numeric)
    worst = np.unravel_index(np.argmax(error), error.shape)
    relative = error.max() / max(np.abs(numeric).max(), 1e-12)
    right = [n for n in part.gradient_of if n not in [w[1] for w in wrong]]
    message = (f'{name}, the gradient of {part.gradient_of[name]!r}, is wrong'
               + (f' (and so are {", ".join(w[1] for w in wrong[1:])})' if wrong[1:] else '')
               + f': at {name}{_index(worst)} yours is {got[k][worst]:.6g}, finite differences '
               f'of minicnn\'s forward give {numeric[worst]:.6g}; the largest error is '
               f'{error.max():.3g}, {relative:.2g} of the largest gradient'
               + (f'. {" and ".join(right)} {"is" if len(right) == 1 else "are"} right'
                  if right else '')
               + f'. On {describe(case, part)}')
    message += recognise(part, case, k, got[k], numeric)
    message += counterexample(exercise, part, k, functions[part.name], path)
    raise CheckFailed('gradients', message)


def numeric_gradient(forward, case, wrt, upstream, eps=1e-6):
    """d/d case[wrt] of sum(forward(case) * case[upstream]), by central differences."""
    case = {key: np.array(v, dtype=np.float64) if isinstance(v, np.ndarray) else v
            for key, v in case.items()}
    weights = 1.0 if upstream is None else case[upstream]
    x = case[wrt]
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + eps
        up = float((np.asarray(forward(case)) * weights).sum())
        x[i] = original - eps
        down = float((np.asarray(forward(case)) * weights).sum())
        x[i] = original
        grad[i] = (up - down) / (2 * eps)
    return grad


# -- recognising mistakes -------------------------------------------------------

def recognise_shape(part, case, name, shape):
    """The hint of the first mistake whose result has this (wrong) shape."""
    k = part.outputs.index(name)
    for mistake in part.mistakes:
        result = _mistaken(mistake, part, case)
        if result is not None and result[k] is not None and result[k].shape == shape:
            return f'.\n  hint: {mistake.hint}'
    return ''


def recognise(part, case, k, got, want):
    """A hint: the first mistake whose result k equals got, else got as a
    multiple of want (a sign, a missing 1/N) or not finite, else nothing."""
    for mistake in part.mistakes:
        result = _mistaken(mistake, part, case)
        if result is not None and result[k] is not None and result[k].shape == got.shape \
                and close(got, result[k]):
            return f'.\n  hint: {mistake.hint}'
    return multiple_hint(case, got, want)


def _mistaken(mistake, part, case):
    try:
        return as_results(mistake.function(*[case[a] for a in part.args]), part)
    except Exception:  # a mistake that cannot run on this case is simply not it
        return None


def multiple_hint(case, got, want):
    """If got = c * want for one constant c, say what c suggests."""
    if not np.isfinite(got).all():
        return ('.\n  hint: yours has inf or nan: exp of a large number overflows (subtract '
                'the largest value first), or a log or a division met 0')
    if not (want * want).sum():
        return ''
    c = float((got * want).sum() / (want * want).sum())
    if not np.allclose(got, c * want, rtol=RTOL, atol=ATOL):
        return ''
    n = batch_size(case)
    if np.isclose(c, -1):
        what = 'it is minus minicnn\'s everywhere: a sign is wrong'
    elif n > 1 and np.isclose(c, n):
        what = (f'it is {n} times minicnn\'s everywhere, {n} being the batch size: '
                f'a missing 1/N (a sum over the batch where minicnn takes the mean)')
    elif n > 1 and np.isclose(c, 1 / n):
        what = f'it is minicnn\'s divided by the batch size {n}: a 1/N too many'
    else:
        what = f'it is {c:.4g} times minicnn\'s everywhere: a constant factor is off'
    return f'.\n  hint: {what}'


def batch_size(case):
    arrays = [v for v in case.values() if isinstance(v, np.ndarray) and v.ndim >= 2]
    return arrays[0].shape[0] if arrays else 1


def counterexample(exercise, part, k, function, path):
    """The tiny case, worked: its inputs, minicnn's result k and the learner's,
    if they differ there too."""
    tiny = exercise.cases(np.random.default_rng(0))['tiny']
    try:
        got = call(function, part, tiny, path)[k]
    except CheckFailed as err:
        return f'\n  on the tiny case below it fails too: {err}'
    want = as_results(part.reference(*[tiny[a] for a in part.args]), part)[k]
    if part.outputs[k] in part.gradient_of:
        want = numeric_gradient(part.forward, tiny, part.gradient_of[part.outputs[k]],
                                part.upstream)
    if got is not None and got.shape == want.shape and close(got, want):
        return '\n  (on a tiny case it agrees: look at what the tiny case lacks)'
    lines = [_show(a, tiny[a]) for a in part.args]
    return ('\n  a tiny counterexample:\n' + '\n'.join(lines)
            + '\n' + _show(part.outputs[k], want, '  minicnn: ')
            + '\n' + _show(part.outputs[k], got, '  yours:   '))


def _show(name, value, lead='  '):
    """'lead name = value', an array's axes of length 1 indexed away:
    x[0, :, :, 0] = [[1, 2], ...], its rows aligned under the first."""
    if not isinstance(value, np.ndarray):
        return f'{lead}{name} = {value!r}'
    if value.ndim > 2 and 1 in value.shape:
        name += _index(['0' if n == 1 else ':' for n in value.shape])
        value = value.reshape([n for n in value.shape if n != 1])
    head = f'{lead}{name} = '
    text = np.array2string(value, precision=4, suppress_small=True, separator=', ')
    return head + text.replace('\n', '\n' + ' ' * len(head))
