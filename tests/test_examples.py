"""Every example runs in its --quick mode on a tiny generated CIFAR-10 and
Fashion-MNIST, and writes what it promises."""
import json
import os
import pathlib
import subprocess
import sys

import pytest


EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / 'examples'


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


def test_batchnorm_comparison_quick(tmp_path, tiny_data):
    out, stdout = run_example('cifar10_batchnorm.py', tmp_path, tiny_data, '--quick')
    for run in ('plain', 'batchnorm'):
        metrics = json.loads((out / run / 'metrics.json').read_text())
        assert 0 <= metrics['test_accuracy'] <= 1 and metrics['epochs'] == 1
        assert 'curves.png' in non_empty_pngs(out / run)
    assert 'without BatchNormalization: test accuracy' in stdout
    assert 'with BatchNormalization: test accuracy' in stdout


def test_fast_recipe_example_quick(tmp_path, tiny_data):
    out, stdout = run_example('cifar10_fast.py', tmp_path, tiny_data, '--quick')
    metrics = json.loads((out / 'metrics.json').read_text())
    assert metrics['epochs'] == 1 and metrics['train_images'] == 60
    assert f"test accuracy: {metrics['test_accuracy']:.4f} without" in stdout
    assert f"test accuracy: {metrics['tta_test_accuracy']:.4f} with test-time" in stdout
    assert non_empty_pngs(out) == ['curves.png', 'whitening_filters.png']


def test_cats_vs_dogs_quick(tmp_path, tiny_data):
    out, stdout = run_example('cats_vs_dogs.py', tmp_path, tiny_data, '--quick')
    for run in ('scratch', 'pretraining', 'frozen', 'fine_tuned'):
        metrics = json.loads((out / run / 'metrics.json').read_text())
        assert 0 <= metrics['test_accuracy'] <= 1 and 'curves.png' in non_empty_pngs(out / run)
    assert (out / 'conv_base.h5').stat().st_size > 0 and 'comparison.png' in non_empty_pngs(out)
    assert 'base layers changed by fine-tuning: block3_conv1; unchanged: block1_conv1, ' \
           'block1_conv2, block2_conv1, block2_conv2' in stdout
    scratch = json.loads((out / 'scratch' / 'metrics.json').read_text())['test_accuracy']
    fine_tuned = json.loads((out / 'fine_tuned' / 'metrics.json').read_text())['test_accuracy']
    assert f'from scratch: test accuracy {scratch:.4f}; pretrained and fine-tuned: ' \
           f'{fine_tuned:.4f}' in stdout


def test_cats_vs_dogs_on_vgg16_weights(tmp_path, tiny_data):
    from minicnn.applications import VGG16
    weights = tmp_path / 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5'
    VGG16(include_top=False, input_shape=(32, 32, 3)).save_weights(str(weights))
    out, stdout = run_example('cats_vs_dogs.py', tmp_path, tiny_data, '--quick',
                              '--vgg16-weights', str(weights))
    assert 'base layers changed by fine-tuning: block5_conv1, block5_conv2, block5_conv3; ' \
           'unchanged: block1_conv1' in stdout
    assert not (out / 'pretraining').exists()


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
