"""Every example runs in its --quick mode on a tiny generated CIFAR-10 and
Fashion-MNIST, and writes what it promises."""
import gzip
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from minicnn.datasets import cifar10

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / 'examples'


def write_tiny_cifar10(folder, per_class=(6, 2)):
    rng = np.random.default_rng(0)
    for split, count in zip(('train', 'test'), per_class):
        for name in cifar10.CLASSES:
            (folder / split / name).mkdir(parents=True)
            for i in range(count):
                image = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
                Image.fromarray(image).save(folder / split / name / f'{i:04d}.png')


def write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b''.join(int(d).to_bytes(4, 'big') for d in array.shape)
    with gzip.open(path, 'wb') as f:
        f.write(header + array.astype(np.uint8).tobytes())


def write_tiny_fashion_mnist(folder, sizes=(60, 20)):
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True)
    for prefix, n in zip(('train', 't10k'), sizes):
        write_idx(folder / f'{prefix}-images-idx3-ubyte.gz', rng.integers(0, 256, (n, 28, 28)))
        write_idx(folder / f'{prefix}-labels-idx1-ubyte.gz', rng.integers(0, 10, n))


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('data')
    write_tiny_cifar10(root / 'cifar10')
    write_tiny_fashion_mnist(root / 'fashion-mnist')
    return root


def run_example(script, tmp_path, tiny_data, *args):
    env = {**os.environ, 'MINICNN_DATA': str(tiny_data), 'MINICNN_HOME': str(tmp_path / 'cache'),
           'MPLBACKEND': 'Agg'}
    out = tmp_path / 'out'
    result = subprocess.run([sys.executable, str(EXAMPLES / script), '--out', str(out), *args],
                            env=env, capture_output=True, text=True, timeout=300, cwd=EXAMPLES)
    assert result.returncode == 0, result.stdout + result.stderr
    return out, result.stdout


def non_empty_pngs(out):
    pngs = sorted(p.name for p in out.glob('*.png') if p.stat().st_size > 0)
    assert pngs, f'no picture in {out}'
    return pngs


@pytest.mark.parametrize('script,extra', [
    ('dense_baseline.py', []),
    ('fashion_mnist_cnn.py', []),
    ('cifar10_six_conv.py', []),
    ('cifar10_six_conv.py', ['--augment']),
    ('cifar10_seed004.py', []),
])
def test_training_examples_quick(script, extra, tmp_path, tiny_data):
    out, stdout = run_example(script, tmp_path, tiny_data, '--quick', *extra)
    metrics = json.loads((out / 'metrics.json').read_text())
    assert 0 <= metrics['test_accuracy'] <= 1 and metrics['epochs'] == 1
    assert metrics['seconds_per_epoch'] > 0 and metrics['device'] == 'cpu'
    assert f"test accuracy: {metrics['test_accuracy']:.4f}" in stdout
    assert 'curves.png' in non_empty_pngs(out)


def test_explore_cifar10(tmp_path, tiny_data):
    out, stdout = run_example('explore_cifar10.py', tmp_path, tiny_data)
    assert 'x_train (60, 32, 32, 3) uint8' in stdout and 'first labels:' in stdout
    assert non_empty_pngs(out) == ['grid.png']


def test_convolve_picture_prints_the_tutorial_shapes(tmp_path, tiny_data):
    out, stdout = run_example('convolve_picture.py', tmp_path, tiny_data)
    assert '(302, 403) -> (300, 401)' in stdout and '(302, 403) -> (296, 397)' in stdout
    assert '(None, 300, 401, 1)' in stdout
    assert non_empty_pngs(out) == ['blur.png', 'edges.png', 'random.png']


def test_inside_the_network(tmp_path, tiny_data):
    out, _ = run_example('inside_the_network.py', tmp_path, tiny_data, '--quick')
    pngs = non_empty_pngs(out)
    assert 'kernels.png' in pngs and 'image.png' in pngs
    assert len([p for p in pngs if p.startswith('maps_')]) == 4  # seed 004 has four convolutions
