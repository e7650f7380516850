"""The layout rules of the package (issue 23), checked on its source."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                'benchmarks'))
import house  # noqa: E402


def test_the_core_imports_nothing_from_the_recipes_wing():
    graph = house.import_graph()
    offenders = sorted((m, t) for m, targets in graph.items()
                       if not m.startswith(('minicnn.recipes', 'minicnn.__main__'))
                       for t in targets
                       if t.startswith('minicnn.recipes'))
    assert offenders == []



def test_functional_files_hold_the_math_not_the_thread_plumbing():
    assert house.functional_importing_threads() == []


def test_the_only_import_circle_is_the_tensor_operators():
    # autograd <-> functional: Tensor's operators are the functional ops,
    # attached when minicnn.functional is imported (see autograd.py).
    for component in house.cycles(house.import_graph()):
        assert 'minicnn.autograd' in component and all(
            m == 'minicnn.autograd' or m.startswith('minicnn.functional') for m in component), \
            component


def test_the_top_level_stays_small():
    # Issue 23: at most 16 modules beside the packages, so that the folder
    # listing reads as the architecture (a new concept goes into its package).
    assert len(house.top_level_modules()) <= 16, house.top_level_modules()
