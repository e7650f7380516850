"""benchmarks/kernel_paths.py: the shapes it takes from the fast recipe's network,
and a --quick run whose two sides of each pair give the same array."""
import pathlib
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # benchmarks/ is a folder of the checkout, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks import kernel_paths  # noqa: E402


def test_shapes_are_the_fast_networks_pool_inputs_and_gelu_outputs():
    pools, gelus = kernel_paths.network_shapes((64, 128, 128), batch=5)
    # 32 -> whiten 2x2 -> 31 -> pool 2 -> 15 -> pool 2 -> 7 -> pool 2 -> 3 -> pool 3 -> 1
    assert {shape: layer.pool_size for shape, layer in pools.items()} == {
        (5, 31, 31, 64): (2, 2), (5, 15, 15, 128): (2, 2), (5, 7, 7, 128): (2, 2),
        (5, 3, 3, 128): (3, 3)}
    assert gelus == [(5, 31, 31, 24), (5, 15, 15, 64), (5, 7, 7, 128), (5, 3, 3, 128)]


def test_both_sides_of_each_pair_compute_the_same_gradient():
    rng = np.random.default_rng(0)
    pools, gelus = kernel_paths.network_shapes((4, 6, 6), batch=2)
    pairs = [kernel_paths.gelu_pair(shape, rng) for shape in gelus]
    pairs += [kernel_paths.max_pool_pair(shape, layer, rng) for shape, layer in pools.items()]
    for general, new in pairs:
        np.testing.assert_allclose(new(), general(), rtol=1e-5, atol=1e-6)


def test_quick_run_prints_one_row_per_shape(capsys):
    rows = kernel_paths.main(['--quick'])
    assert len(rows) == 8
    assert all(r['general_ms'] > 0 and r['new_ms'] > 0 for r in rows)
    assert 'new / general' in capsys.readouterr().out


def test_quick_keeps_a_repeats_given_with_it_and_refuses_zero(capsys):
    kernel_paths.main(['--quick', '--repeats', '2'])
    assert 'medians of 2 interleaved rounds' in capsys.readouterr().out
    with pytest.raises(SystemExit):
        kernel_paths.main(['--repeats', '0'])
