"""benchmarks/airbench.py: its run-time changes to airbench, the child runner it
shares with benchmarks/fast_recipe.py, its table, and (where PyTorch and the
airbench package are installed) its --quick run of both sides."""
import importlib.util
import inspect
import json
import pathlib
import subprocess
import sys
import types

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # benchmarks/ is a folder of the checkout, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks import airbench as bench  # noqa: E402
from benchmarks.fast_recipe import run_child  # noqa: E402


def test_patched_replaces_and_puts_back_and_refuses_a_missing_name():
    owner = types.SimpleNamespace(__name__='owner', a=1, b=2)
    with bench.patched([bench.Patch(owner, 'a', 10, 'why'), bench.Patch(owner, 'b', 20, 'why')]):
        assert (owner.a, owner.b) == (10, 20)
    assert (owner.a, owner.b) == (1, 2)
    with pytest.raises(KeyError), bench.patched([bench.Patch(owner, 'a', 10, 'why')]):
        raise KeyError('inside')
    assert owner.a == 1
    with pytest.raises(AttributeError, match=r'nothing to patch at owner\.c'):
        with bench.patched([bench.Patch(owner, 'a', 10, 'why'), bench.Patch(owner, 'c', 3, 'why')]):
            pass
    assert owner.a == 1 and not hasattr(owner, 'c')   # nothing replaced
    assert bench.describe([bench.Patch(owner, 'a', 10, 'a reason'),
                           bench.Patch(bench.WallClockEvent, 'record', None, 'another')]) == \
        '  owner.a: a reason\n  benchmarks.airbench.WallClockEvent.record: another'


def test_wall_clock_event_gives_milliseconds_between_records(monkeypatch):
    clock = iter([1.0, 1.25])
    monkeypatch.setattr(bench.time, 'perf_counter', lambda: next(clock))
    start, end = bench.WallClockEvent(enable_timing=True), bench.WallClockEvent(enable_timing=True)
    start.record()
    end.record()
    assert start.elapsed_time(end) == pytest.approx(250.0)
    assert bench.nothing_to_wait_for() is None
    module = object()
    assert bench.unchanged(module) is module and bench.unchanged(module, 'cuda:0') is module


def test_torchvision_stand_in_normalizes_each_channel_and_refuses_to_download():
    torch = pytest.importorskip('torch')
    modules = bench.torchvision_stand_in()
    assert modules['torchvision'].transforms is modules['torchvision.transforms']
    mean, std = torch.tensor((0.4, 0.5, 0.6)), torch.tensor((0.2, 0.25, 0.3))
    images = torch.rand(4, 3, 5, 5)
    normalized = modules['torchvision.transforms'].Normalize(mean, std)(images)
    for c in range(3):
        assert torch.allclose(normalized[:, c], (images[:, c] - mean[c]) / std[c])
    with pytest.raises(RuntimeError, match='download CIFAR-10'):
        modules['torchvision.datasets'].CIFAR10('cifar10', download=True, train=True)


def test_run_child_passes_its_output_on_and_returns_its_last_line(capsys):
    record = run_child([sys.executable, '-c', 'print("progress"); print(\'{"answer": 42}\')'])
    assert record['answer'] == 42 and record['process_seconds'] > 0
    assert 'progress' in capsys.readouterr().out
    with pytest.raises(subprocess.CalledProcessError):
        run_child([sys.executable, '-c', 'raise SystemExit(3)'])


def peak_of_a_child(parent_mb, child_mb):
    """own_peak_mb in a bare Python that holds child_mb, started by one that holds parent_mb."""
    def holding(mb):
        return f'block = bytearray({mb} * 2**20); block[::4096] = b"x" * len(block[::4096])\n'
    child = 'import time\n' + inspect.getsource(bench.own_peak_mb) + holding(child_mb) \
        + 'print(own_peak_mb())'
    parent = 'import subprocess, sys\n' + holding(parent_mb) + \
        f'print(subprocess.run([sys.executable, "-c", {child!r}], capture_output=True, ' \
        f'text=True, check=True).stdout)'
    return float(subprocess.run([sys.executable, '-c', parent], capture_output=True, text=True,
                                check=True).stdout)


def test_a_child_reports_its_own_peak_memory_not_its_parents():
    # ru_maxrss would give the child the 300 MiB of the process that started it
    assert peak_of_a_child(300, 0) < 100
    assert 300 < peak_of_a_child(0, 300) < 400


def test_table_puts_minicnn_beside_airbench():
    records = [{'side': 'airbench', 'test_accuracy': 0.897, 'tta_test_accuracy': 0.9053,
                'steps': 476, 'seconds': 2400.0, 'peak_mb': 2000.0},
               {'side': 'minicnn', 'test_accuracy': 0.9, 'tta_test_accuracy': 0.908,
                'steps': 476, 'seconds': 1920.0, 'peak_mb': 3000.0}]
    lines = bench.table(records).splitlines()
    assert lines[0].split() == ['side', 'test', 'acc', 'with', 'TTA', 'steps', 'minutes',
                                'x', 'airbench', 'peak', 'MB', 'x', 'airbench']
    assert lines[2].split() == ['airbench', '89.70%', '90.53%', '476', '40.0', '1.00', '2000',
                                '1.00']
    assert lines[3].split() == ['minicnn', '90.00%', '90.80%', '476', '32.0', '0.800', '3000',
                                '1.50']
    assert bench.table(records[1:]).splitlines()[2].split()[-3:] == ['-', '3000', '-']


def tiny_cifar10(quick):
    """Random images in the place of CIFAR-10, QUICK's training size, a few test images."""
    rng = np.random.default_rng(0)
    n_train, n_test = bench.QUICK['train_images'], 200
    return [rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8),
            rng.integers(0, 10, n_train).astype(np.uint8),
            rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8),
            rng.integers(0, 10, n_test).astype(np.uint8)]


def test_quick_run_trains_both_sides_the_same_steps(tmp_path, monkeypatch, capsys):
    pytest.importorskip('torch')
    # airbench imports torchvision, which the script stands in for: look for it, don't import it
    if importlib.util.find_spec('airbench') is None:
        pytest.skip('the airbench package is not installed (pip install airbench==0.1.8 --no-deps)')
    monkeypatch.setattr(bench, 'load_cifar10', tiny_cifar10)
    bench.main(['--quick', '--out', str(tmp_path)])
    saved = json.loads((tmp_path / 'airbench.json').read_text())
    runs = {r['side']: r for r in saved['runs']}
    assert list(runs) == ['airbench', 'minicnn'] and saved['quick']
    assert runs['airbench']['airbench'] == '0.1.8'
    for run in runs.values():
        assert run['steps'] == 5                      # ceil(1.5 epochs * 3 batches)
        assert 0 <= run['test_accuracy'] <= 1 and 0 <= run['tta_test_accuracy'] <= 1
        assert run['seconds'] > 0 and run['peak_mb'] > 100
    table = capsys.readouterr().out.splitlines()[-2:]
    assert table[0].startswith('airbench') and table[1].startswith('minicnn')
