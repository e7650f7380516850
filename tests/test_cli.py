"""The ``minicnn`` command: summary, info, train, Ctrl-C and --resume."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from minicnn.recipes import cli, experiment, fast_recipe
from minicnn.models import load_model


def minicnn(*args, env=None, **kwargs):
    return subprocess.run([sys.executable, '-m', 'minicnn', *args], capture_output=True,
                          text=True, timeout=300, env=env, **kwargs)


@pytest.fixture
def data_env(tiny_data, tmp_path):
    return {**os.environ, 'MINICNN_DATA': str(tiny_data), 'MINICNN_HOME': str(tmp_path / 'cache'),
            'MPLBACKEND': 'Agg'}


def test_summary_of_a_tutorial_network(capsys):
    cli.main(['summary', 'cnn-seed004'])
    out = capsys.readouterr().out
    assert 'Total params: 776,394' in out and '(None, 2, 2, 128)' in out


def test_info_through_python_dash_m():
    result = minicnn('info')
    assert result.returncode == 0, result.stderr
    assert 'NumPy' in result.stdout and 'Numba' in result.stdout and 'kernels:' in result.stdout


def test_unknown_model_lists_the_choices():
    result = minicnn('train', 'resnet')
    assert result.returncode != 0 and 'cnn-seed004' in result.stderr


def test_train_writes_metrics_curves_and_checkpoint(data_env, tmp_path):
    out = tmp_path / 'run'
    result = minicnn('train', 'cnn-seed002', '--subset', '40', '--epochs', '2', '--batch-size', '16',
                     '--out', str(out), '--quiet', env=data_env)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / 'metrics.json').read_text())
    assert metrics['epochs'] == 2 and len(metrics['history']['val_loss']) == 2
    assert 'test accuracy' in result.stdout and (out / 'curves.png').stat().st_size > 0
    assert load_model(out / 'checkpoint.minicnn').epochs_done == 2


def test_train_fast_on_tiny_data(data_env, tmp_path):
    out = tmp_path / 'fast'
    result = minicnn('train', '--subset', '48', '--epochs', '1', '--batch-size', '16',
                     '--without', 'lookahead', '--out', str(out), '--quiet', env=data_env)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / 'metrics.json').read_text())
    assert metrics['recipe'] == 'fast' and metrics['without'] == ['lookahead']
    assert metrics['train_images'] == 48 and metrics['epochs'] == 1
    assert f"{metrics['tta_test_accuracy']:.4f} with test-time augmentation" in result.stdout
    assert (out / 'whitening_filters.png').stat().st_size > 0


@pytest.mark.parametrize('args,message', [
    (['cnn-seed004', '--without', 'tta'], '--budget, --without and --seed belong to the fast'),
    (['cnn-seed004', '--seed', '3'], '--budget, --without and --seed belong to the fast'),
    (['fast', '--augment'], '--augment is for the tutorial networks'),
    (['fast', '--without', 'magic'], "unknown tricks in without: ['magic']"),
    (['--full', '--budget', 'narrow'], 'cannot be combined with --budget narrow'),
    (['--resume', 'somewhere', '--seed', '1'], '--resume continues a tutorial run'),
    (['--resume', 'somewhere', '--epochs', '3'], '--epochs cannot change them'),
    (['--resume', 'somewhere', '--out', 'x', '--augment'], '--out, --augment cannot change them'),
    (['mlp', '--resume', 'somewhere'], 'mlp cannot change them'),
])
def test_train_options_that_do_not_apply_are_refused(args, message, data_env):
    result = minicnn('train', *args, '--quiet', env=data_env)
    assert result.returncode != 0 and message in result.stderr


def test_ctrl_c_saves_and_resume_finishes_the_run(data_env, tmp_path):
    out = tmp_path / 'run'
    process = subprocess.Popen(
        [sys.executable, '-m', 'minicnn', 'train', 'cnn-seed004', '--epochs', '1000',
         '--batch-size', '8', '--out', str(out), '--quiet'],
        env=data_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    checkpoint = out / 'checkpoint.minicnn'
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert checkpoint.exists(), process.communicate()[1]
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert f'minicnn train --resume {out}' in stdout
    done = load_model(checkpoint).epochs_done
    assert 0 <= done < 1000 and not (out / "metrics.json").exists()

    run = json.loads((out / 'run.json').read_text())
    (out / 'run.json').write_text(json.dumps({**run, 'epochs': done + 1}))
    result = minicnn('train', '--resume', str(out), '--quiet', env=data_env)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / 'metrics.json').read_text())
    assert metrics['epochs'] == done + 1 and len(metrics['history']['loss']) == done + 1


def test_resume_of_a_folder_without_a_run(tmp_path):
    result = minicnn('train', '--resume', str(tmp_path))
    assert result.returncode != 0 and 'run.json is missing' in result.stderr


@pytest.mark.parametrize('args,message', [
    (['mlp', '--batch-size', '0'], 'argument --batch-size: must be a positive integer, got 0'),
    (['--epochs', '0'], 'argument --epochs: must be a positive integer, got 0'),
    (['mlp', '--subset', '-5'], 'argument --subset: must be a positive integer, got -5'),
    (['mlp', '--subset', '0'], 'argument --subset: must be a positive integer, got 0'),
    (['--seed', '-1'], 'argument --seed: must be a non-negative integer, got -1'),
    (['--epochs', '2.5'], "argument --epochs: must be an integer, got '2.5'"),
])
def test_numeric_options_are_checked_naming_option_and_value(args, message, capsys):
    with pytest.raises(SystemExit):
        cli.main(['train', *args])
    assert message in capsys.readouterr().err


@pytest.mark.parametrize('call,message', [
    (lambda: experiment.train('mlp', 'out', batch_size=0), 'train: batch_size .* got 0'),
    (lambda: experiment.train('mlp', 'out', epochs=0), 'train: epochs .* got 0'),
    (lambda: experiment.load('mnist', subset=-5), 'load: subset .* got -5'),
    (lambda: fast_recipe.train('out', epochs=0), 'fast_recipe.train: epochs .* got 0'),
    (lambda: fast_recipe.train('out', batch_size=0), 'batch_size must be a positive .* got 0'),
])
def test_a_zero_is_never_read_as_not_given(call, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=message):
        call()
    assert not (tmp_path / 'out').exists()


def test_check_memory_with_no_memory_available_refuses():
    with pytest.raises(MemoryError, match='0.0 GiB is available'):
        fast_recipe.check_memory(fast_recipe.fast_cnn(), 8, available=0)


@pytest.fixture
def tiny_env(tiny_data, tmp_path, monkeypatch):
    monkeypatch.setenv('MINICNN_DATA', str(tiny_data))
    monkeypatch.setenv('MINICNN_HOME', str(tmp_path / 'cache'))
    monkeypatch.setenv('MPLBACKEND', 'Agg')
    return tmp_path


def test_train_into_a_folder_holding_a_run_asks_for_overwrite(tiny_env):
    out = tiny_env / 'run'
    experiment.train('mlp', out, epochs=1, batch_size=16, subset=32, verbose=0)
    before = (out / 'run.json').read_text()
    with pytest.raises(experiment.RunFolderError, match=f'{out} holds an earlier run .*'
                       r'--resume .*--overwrite'):
        experiment.train('mlp', out, epochs=2, batch_size=16, subset=32, verbose=0)
    assert (out / 'run.json').read_text() == before
    _, metrics = experiment.train('mlp', out, epochs=2, batch_size=16, subset=32, verbose=0,
                                  overwrite=True)
    assert metrics['epochs'] == 2 and json.loads((out / 'run.json').read_text())['epochs'] == 2


def test_a_new_run_writes_its_checkpoint_before_its_run_json(tiny_env, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError('No space left on device')
    monkeypatch.setattr(experiment.saving, 'save_model', disk_full)
    with pytest.raises(OSError, match='No space left'):
        experiment.train('mlp', tiny_env / 'run', epochs=1, batch_size=16, subset=32, verbose=0)
    assert not (tiny_env / 'run' / 'run.json').exists()


def test_resume_refuses_a_checkpoint_of_another_recipe_naming_both(tiny_env):
    out = tiny_env / 'run'
    experiment.train('mlp', out, epochs=1, batch_size=16, subset=32, verbose=0)
    run = json.loads((out / 'run.json').read_text())
    (out / 'run.json').write_text(json.dumps({**run, 'name': 'cnn-seed002', 'epochs': 2}))
    with pytest.raises(experiment.RunFolderError,
                       match=r"run.json names the recipe 'cnn-seed002', but .*checkpoint.minicnn "
                             r"holds recipe 'mlp'.s network"):
        experiment.resume(out, verbose=0)


@pytest.mark.parametrize('text,message', [
    ('{"name": "mlp", "epo', 'run.json is corrupt, not the JSON'),
    ('[1, 2]', 'run.json is corrupt: name, epochs, batch_size, augment missing'),
    ('{"name": "mlp", "epochs": "3", "batch_size": 8, "augment": false}', 'epochs missing or'),
    ('{"name": "vgg", "epochs": 3, "batch_size": 8, "augment": false}', "names 'vgg', which"),
])
def test_a_corrupt_run_json_is_named(text, message, tmp_path):
    (tmp_path / 'run.json').write_text(text)
    (tmp_path / 'checkpoint.minicnn').write_bytes(b'')
    with pytest.raises(SystemExit) as exit:
        cli.main(['train', '--resume', str(tmp_path)])
    assert f'{tmp_path}/run.json' in exit.value.code and message in exit.value.code


@pytest.mark.parametrize('args,message', [
    (['fast'], 'holds an earlier run (metrics.json); start over with --overwrite'),
    (['--resume', '{out}', '--overwrite'], '--resume continues the run in its folder'),
])
def test_cli_run_folder_refusals(args, message, tmp_path):
    (tmp_path / 'metrics.json').write_text('{}')
    with pytest.raises(SystemExit) as exit:
        cli.main(['train', *[a.format(out=tmp_path) for a in args], '--out', str(tmp_path)])
    assert message in exit.value.code
