"""Keras 2's public names, walked one by one (the list: tests/data/keras2_public_api.json,
taken from tf-keras's API golden files; its header says from where).

Each name must exist at the same import path in minicnn and either work (and
then some test names it) or be a refusal that raises MissingFeatureError
naming it when used. None may end in AttributeError or ImportError. The
README's coverage table is made from the same walk and must match it.
"""
import importlib
import json
import pathlib
import re

import numpy as np
import pytest

import minicnn
from minicnn.missing import MissingFeatureError, is_refused

TESTS = pathlib.Path(__file__).parent
KERAS2 = json.loads((TESTS / 'data' / 'keras2_public_api.json').read_text())
API, MEMBERS = KERAS2['modules'], KERAS2['members']
README = TESTS.parent / 'README.md'
BEGIN, END = '<!-- keras-api-coverage: begin -->', '<!-- keras-api-coverage: end -->'


def minicnn_module(module):
    return minicnn if module == 'keras' else importlib.import_module(f'minicnn.{module}')


def lookup(module, name):
    """(the object, None), or (None, the error) when the module itself is a refusal."""
    try:
        return getattr(minicnn_module(module), name), None
    except MissingFeatureError as error:
        return None, error


def keras_path(module, name):
    return f'keras.{name}' if module == 'keras' else f'keras.{module}.{name}'


@pytest.fixture(scope='module')
def tests_words():
    """Every word of the other test files: a name minicnn implements must be among them."""
    return {word for path in TESTS.glob('*.py') if path.name != pathlib.Path(__file__).name
            for word in re.findall(r'\w+', path.read_text())}


def problem(module, name, kind, tests_words):
    """What is wrong with Keras's ``module.name`` in minicnn, or None."""
    try:
        obj, error = lookup(module, name)
    except (AttributeError, ImportError) as err:
        return f'{keras_path(module, name)}: {type(err).__name__}: {err}'
    if error is not None:  # a refused module: reading any name from it refuses
        return None if is_refused(minicnn_module(module)) else f'{module}: {error}'
    if not is_refused(obj):
        if name not in tests_words:
            return f'minicnn.{module}.{name} exists, but no test uses it'
        return None
    uses = [('use', (lambda: obj.load_data) if kind == 'module' else obj)]
    if kind == 'class':
        uses.append(('subclass', lambda: type('Custom', (obj,), {})))
    for what, use in uses:
        try:
            use()
        except MissingFeatureError as err:
            if keras_path(module, name) not in str(err):
                return f'{keras_path(module, name)}: {what} raised {err!r}, not naming it'
        else:
            return f'{keras_path(module, name)}: {what} did not refuse'
    return None


@pytest.mark.parametrize('module', list(API))
def test_every_keras_name_works_or_is_refused_at_use(module, tests_words):
    problems = [problem(module, name, kind, tests_words) for name, kind in API[module].items()]
    assert [p for p in problems if p] == []


def coverage_rows():
    """Per module: Keras's count, how many minicnn implements, how many it refuses."""
    rows = []
    for module, names in API.items():
        refused = sum(1 for name in names if lookup(module, name)[1] is not None
                      or is_refused(lookup(module, name)[0]))
        rows.append((module, len(names), len(names) - refused, refused))
    return rows


def coverage_table():
    lines = ['| Keras 2 module | Keras names | in minicnn | refused, with a reason |',
             '|---|---:|---:|---:|']
    lines += [f'| `{m}` | {n} | {done} | {refused} |' for m, n, done, refused in coverage_rows()]
    total = [sum(row[i] for row in coverage_rows()) for i in (1, 2, 3)]
    lines.append(f'| all | {total[0]} | {total[1]} | {total[2]} |')
    return '\n'.join(lines)


def test_the_readme_coverage_table_is_the_walks():
    text = README.read_text()
    assert BEGIN in text and END in text, f'README.md lacks the markers {BEGIN} ... {END}'
    found = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert found == coverage_table(), \
        f'README.md coverage table is out of date (python {__file__} rewrites it); it should ' \
        f'read:\n{coverage_table()}'


def compiled_model_and_layer():
    inputs = minicnn.Input((4,))
    dense = minicnn.layers.Dense(2)
    model = minicnn.Model(inputs, dense(inputs))
    model.compile(optimizer='sgd', loss='mse')
    return model, dense


@pytest.mark.parametrize('keras_class', list(MEMBERS))
def test_every_keras_member_of_model_and_layer_works_or_is_refused_at_use(keras_class):
    model, dense = compiled_model_and_layer()
    obj = model if keras_class == 'Model' else dense
    problems = []
    for name in MEMBERS[keras_class]:
        try:
            getattr(obj, name)
        except MissingFeatureError as err:
            if f'{type(obj).__name__}.{name} ' not in str(err):
                problems.append(f'{keras_class}.{name}: refused without naming it: {err}')
        except AttributeError as err:
            problems.append(f'{keras_class}.{name}: AttributeError: {err}')
    assert problems == []


def test_keras_members_minicnn_has_one_way_of_doing_give_keras_values():
    model, dense = compiled_model_and_layer()
    assert (dense.dtype, dense.compute_dtype, dense.variable_dtype) == ('float32',) * 3
    assert (dense.supports_masking, dense.stateful, dense.input_spec) == (False, False, None)
    assert model.run_eagerly is True
    assert [w is v for w, v in zip(model.variables, model.weights)] == [True, True]
    dense.trainable = False
    assert dense.trainable_variables == [] and len(dense.non_trainable_variables) == 2
    extra = dense.add_variable('extra', (3,), initializer='ones')
    assert extra.data.tolist() == [1, 1, 1] and any(w is extra for w in dense.weights)


def test_a_refused_member_says_why_and_a_subclass_may_still_define_it():
    model, dense = compiled_model_and_layer()
    with pytest.raises(MissingFeatureError, match=r"Model.add_loss \(Keras's keras.layers.Layer"
                                                  r".add_loss\) is not in minicnn: minicnn trains"):
        model.add_loss(0.0)
    with pytest.raises(MissingFeatureError, match='Model.evaluate_generator'):
        model.evaluate_generator(iter([]))

    class Doubled(minicnn.layers.Layer):
        def call(self, inputs):
            return inputs * 2
    assert Doubled()(np.ones((1, 2), np.float32)).numpy().tolist() == [[2, 2]]


def test_a_member_both_defined_and_refused_is_an_error():
    from minicnn import missing

    class Defines:
        def add_loss(self, loss):
            pass
    with pytest.raises(ValueError, match='Defines.add_loss is both defined and refused'):
        missing.install_members(Defines, 'layers.Layer')


def test_a_refused_layer_imports_and_says_why_at_use():
    from minicnn.layers import LSTM
    with pytest.raises(MissingFeatureError, match='keras.layers.LSTM.*recurrent'):
        LSTM(32)
    with pytest.raises(MissingFeatureError, match='keras.layers.LSTM'):
        class MyLSTM(LSTM):
            pass
    with pytest.raises(MissingFeatureError, match='keras.layers.LSTM'):
        LSTM.from_config({})
    assert not isinstance(minicnn.layers.Dense(2), LSTM)


def test_a_refused_submodule_imports_and_says_why_at_use():
    import minicnn.datasets.imdb
    from minicnn.datasets import imdb
    assert imdb is minicnn.datasets.imdb
    with pytest.raises(MissingFeatureError, match='keras.datasets.imdb.load_data'):
        imdb.load_data()
    with pytest.raises(MissingFeatureError, match='keras.applications.resnet50.ResNet50'):
        from minicnn.applications.resnet50 import ResNet50  # noqa: F401


def test_a_name_both_defined_and_refused_is_an_error():
    from minicnn import missing
    namespace = {'__name__': 'minicnn.layers', 'LSTM': object()}
    with pytest.raises(ValueError, match='both defined and refused'):
        missing.install(namespace, 'layers')


if __name__ == '__main__':  # python tests/test_keras_api_coverage.py: rewrite the README's table
    before, rest = README.read_text().split(BEGIN, 1)
    README.write_text(f'{before}{BEGIN}\n{coverage_table()}\n{END}{rest.split(END, 1)[1]}')
