"""The benchmark suite (benchmarks/) runs end to end in its tiny --quick mode,
and the PyTorch twins of the networks have the same layers as the originals."""
import json
import pathlib
import re
import sys

import numpy as np
import pytest

from minicnn import devices, kernels
from minicnn.recipes import cli, zoo

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # benchmarks/ is a folder of the checkout, not installed
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def global_settings(monkeypatch):
    """Put back what the suite switches: kernel choice, device and sys.argv."""
    choice, device = kernels.active_kernels(), devices.get_device()
    monkeypatch.setattr(sys, 'argv', list(sys.argv))
    yield
    kernels.use_kernels(choice)
    devices.set_device(device)


def run_suite(*args):
    """``minicnn bench ARGS``: benchmarks/run.py in this process."""
    cli.main(['bench', *args])


def test_quick_suite_writes_json_chart_and_tables(tmp_path, capsys, global_settings):
    # seed004 has every kind of op; the mlp starts with a Dense layer
    run_suite('--quick', '--models', 'mlp,cnn-seed004', '--out', str(tmp_path))
    record = json.loads((tmp_path / 'bench.json').read_text())
    impls = list(record['settings']['impls'])
    assert impls[:2] == ['numpy', 'numba']
    assert record['machine']['cores'] >= 1 and record['machine']['numpy'] == np.__version__

    ops = {r['op']: r['ms'] for r in record['ops']}
    assert {'im2col 32x32x3 3x3 same', 'col2im 32x32x3 3x3 same', 'dense 3072->1024',
            'conv2d 32x32x32 3x3->64 valid winograd', 'conv2d 32x32x32 3x3->64 valid im2col',
            'max_pool2d 30x30x64 2x2'} <= set(ops)
    assert all(list(ms) == impls for ms in ops.values())
    assert list(ops['conv2d 32x32x32 3x3->64 valid winograd']['numba']) == ['forward', 'backward']
    assert list(ops['im2col 32x32x3 3x3 same']['numba']) == ['forward']

    steps = record['steps']
    assert [(r['model'], r['impl']) for r in steps] == \
        [(m, i) for m in ('mlp', 'cnn-seed004') for i in impls]
    for r in steps:
        assert r['ms_per_step'] > 0 and r['images_per_s'] > 0 and r['peak_mb'] is not None
        assert r['seconds_per_epoch'] == pytest.approx(50_000 / 4 * r['ms_per_step'] / 1e3)

    assert (tmp_path / 'bench.png').read_bytes().startswith(b'\x89PNG')
    printed = capsys.readouterr().out.rstrip().splitlines()
    assert printed[-1].startswith('cnn-seed004') and 'ms/step' in '\n'.join(printed)


def test_torch_twins_match_the_zoo_networks():
    torch = pytest.importorskip('torch')
    from benchmarks import steps, timing, torch_models
    for name, twin in torch_models.TWINS.items():
        model, torch_model = zoo.get(name).build(), twin()
        assert sum(p.numel() for p in torch_model.parameters()) == model.count_params(), name
        x, _ = steps.random_batch(name, 2)
        images = torch.from_numpy(timing.nchw(x) if x.ndim == 4 else x)
        assert torch_model(images).shape == (2, 10), name


def write_fast_metrics(folder, accuracy, tta, seed, without, budget='short'):
    """A metrics.json as fast_recipe.train writes it, with the figures the table reads."""
    folder.mkdir(parents=True)
    (folder / 'metrics.json').write_text(json.dumps(
        {'budget': budget, 'seed': seed, 'without': without, 'test_accuracy': accuracy,
         'tta_test_accuracy': tta, 'seconds_per_epoch': 100.0}))


def test_fast_ablation_runs_missing_rows_only_and_compares_with_the_recipes_mean(
        tmp_path, monkeypatch, capsys):
    from benchmarks import fast_ablation

    short = tmp_path / 'short'
    write_fast_metrics(short / 'seed-0', 0.85, 0.86, seed=0, without=[])
    write_fast_metrics(short / 'without-dirac', 0.83, 0.84, seed=0, without=['dirac'])
    commands = []

    def fake_train(command, check):  # stands in for the 9-minute child process
        commands.append(command)
        out = pathlib.Path(command[command.index('--out') + 1])
        write_fast_metrics(out, 0.87, 0.88, seed=1, without=[])

    monkeypatch.setattr(fast_ablation.subprocess, 'run', fake_train)
    fast_ablation.main(['--rows', 'seed-0,seed-1,without-dirac', '--out', str(tmp_path)])
    assert [c[1:] for c in commands] == [['-m', 'minicnn', 'train', 'fast', '--budget', 'short',
                                          '--quiet', '--out', str(short / 'seed-1'),
                                          '--seed', '1']]
    printed = capsys.readouterr().out
    # the recipe's mean with TTA is 87%: seed 0 is 1 point below it, without dirac 3
    assert '| seed-0 | 85.00% | 86.00% | -1.00 | 100.0 |' in printed
    assert '| without-dirac | 83.00% | 84.00% | -3.00 | 100.0 |' in printed
    assert '| without-tta (the recipe runs, no TTA) | 86.00% (mean) | | -1.00 | |' in printed
    assert 'from 86.00% to 88.00%' in printed
    saved = json.loads((short / 'ablation.json').read_text())
    assert list(saved['runs']) == ['seed-0', 'seed-1', 'without-dirac']
    assert fast_ablation.train_options('without-label_smoothing') == \
        ['--without', 'label_smoothing', '--seed', '0']


def test_fast_ablation_refuses_unknown_rows_and_a_table_without_the_recipe(tmp_path, capsys):
    from benchmarks import fast_ablation
    for rows, message in [('seed-0,without-tta', "unknown rows ['without-tta']"),
                          ('without-dirac', 'at least one seed-N row')]:
        with pytest.raises(SystemExit):
            fast_ablation.main(['--rows', rows, '--out', str(tmp_path)])
        assert message in capsys.readouterr().err


def test_fast_ablation_refuses_a_metrics_file_of_another_run(tmp_path):
    from benchmarks import fast_ablation
    # a row's folder holding the full recipe's run, or another budget's, must not be read as it
    write_fast_metrics(tmp_path / 'short' / 'without-dirac', 0.86, 0.87, seed=0, without=[])
    write_fast_metrics(tmp_path / 'short' / 'seed-0', 0.86, 0.87, seed=0, without=[],
                       budget='full')
    write_fast_metrics(tmp_path / 'short' / 'seed-1', 0.86, 0.87, seed=1, without=[])
    for rows, found in [('seed-1,without-dirac', "('short', 0, [])"),
                        ('seed-0', "('full', 0, [])")]:
        with pytest.raises(ValueError, match=re.escape(found)):
            fast_ablation.main(['--rows', rows, '--out', str(tmp_path)])
