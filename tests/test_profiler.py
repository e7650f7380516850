"""Tests of minicnn.tools.profiler: the layer-by-layer backward gives the whole
graph's gradients, FLOPs and kept bytes are what a hand count gives, a
profile changes nothing in the model, and the benchmark suite writes one."""
import json
import sys

import numpy as np
import pytest
from PIL import Image

from minicnn import devices, kernels, training
from minicnn.tools import profiler
from minicnn.recipes import cli
from minicnn.layers import Activation, Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D
from minicnn.models import Model, Sequential

RNG = np.random.default_rng(0)


def small_cnn(loss='categorical_crossentropy'):
    """Every kind of layer the tutorials use, small: (4, 8, 8, 2) -> (4, 3)."""
    model = Sequential([
        Conv2D(4, 3, padding='same', input_shape=(8, 8, 2)), Activation('relu'),
        MaxPooling2D(2), Dropout(0.5),
        Conv2D(5, 3, activation='relu'), Flatten(),
        Dense(6, activation='tanh'), Dense(3), Activation('softmax'),
    ])
    model.compile(optimizer='sgd', loss=loss)
    return model


def batch(n=4):
    labels = np.eye(3, dtype=np.float32)[RNG.integers(0, 3, n)]
    return RNG.random((n, 8, 8, 2), dtype=np.float32), labels


def gradients(model):
    return [w.grad.copy() for w in model.weights]


@pytest.mark.parametrize('loss', ['categorical_crossentropy', 'mse'])  # fused softmax, and not
def test_layer_by_layer_backward_gives_the_whole_graph_gradients(loss):
    model, (x, y) = small_cnn(loss), batch()
    devices.set_seed(7)                       # the same dropout masks in both runs
    whole, _ = training.loss_and_outputs(model, x, y, None, training=True)
    whole.backward()
    expected = gradients(model)
    for w in model.weights:
        w.grad = None
    devices.set_seed(7)
    profiler.chained_step(model, x, y)
    for got, want in zip(gradients(model), expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_profile_changes_neither_weights_nor_their_gradients():
    model, (x, y) = small_cnn(), batch()
    before = model.get_weights()
    marks = [np.full(w.shape, 3.0, np.float32) for w in model.weights]
    for w, mark in zip(model.weights, marks):
        w.grad = mark
    profiler.profile(model, x, y, steps=2, print_fn=lambda text: None)
    for w, old, mark in zip(model.weights, before, marks):
        np.testing.assert_array_equal(w.data, old)
        assert w.grad is mark


def test_profile_has_a_row_per_layer_and_one_for_the_loss():
    model, (x, y) = small_cnn(), batch()
    printed = []
    rows = profiler.profile(model, x, y, steps=3, print_fn=printed.append)
    assert [r['layer'] for r in rows] == [layer.name for layer in model.layers] + ['loss']
    assert rows[-1]['type'] == 'softmax_cross_entropy'
    assert [r['output_shape'] for r in rows[:3]] == [[4, 8, 8, 4], [4, 8, 8, 4], [4, 4, 4, 4]]
    assert rows[-1]['output_shape'] == []
    assert all(r['forward_ms'] >= 0 and r['backward_ms'] >= 0 for r in rows)
    assert rows[0]['forward_ms'] > 0 and rows[0]['backward_ms'] > 0
    (table,) = printed
    lines = table.splitlines()
    assert lines[0].startswith('layer (type)') and 'fwd ms' in lines[0]
    for layer in model.layers:
        assert any(line.startswith(f'{layer.name} ({type(layer).__name__})') for line in lines)
    assert any(line.startswith('total') for line in lines)


def test_flops_follow_the_hand_count():
    model, (x, y) = small_cnn(), batch()
    rows = {r['layer']: r for r in profiler.profile(model, x, y, steps=1, print_fn=lambda t: 0)}
    conv1, relu, pool, drop, conv2, flat, tanh_dense, logits, softmax = model.layers
    assert rows[conv1.name]['flops'] == 2 * 4 * 8 * 8 * 3 * 3 * 2 * 4     # 2 N OH OW KH KW Cin Cout
    assert rows[conv2.name]['flops'] == 2 * 4 * 2 * 2 * 3 * 3 * 4 * 5
    assert rows[tanh_dense.name]['flops'] == 2 * 4 * 20 * 6                # 2 N in out
    assert rows[logits.name]['flops'] == 2 * 4 * 6 * 3
    assert rows[relu.name]['flops'] == 4 * 8 * 8 * 4                       # one per element
    assert rows[pool.name]['flops'] == 4 * 4 * 4 * 4 * 2 * 2               # one per window element
    assert rows[flat.name]['flops'] == 0
    assert rows[softmax.name]['flops'] == 0         # its softmax is done inside the loss
    assert rows['loss']['flops'] == 4 * 3
    assert rows[conv1.name]['flops_counted'] == 'multiply-adds'
    conv = rows[conv1.name]
    assert conv['gflop_per_s'] == pytest.approx(conv['flops'] / conv['forward_ms'] / 1e6)
    assert rows[flat.name]['gflop_per_s'] is None


def test_kept_bytes_are_the_arrays_backward_needs():
    # Dense keeps its input, ReLU its output; the fused loss its targets and log-softmax.
    model = Sequential([Dense(5, activation='relu', input_shape=(3,)),
                        Dense(2, activation='softmax')])
    model.compile(optimizer='sgd', loss='categorical_crossentropy')
    x, y = RNG.random((4, 3), dtype=np.float32), np.eye(2, dtype=np.float32)[[0, 1, 1, 0]]
    printed = []
    rows = profiler.profile(model, x, y, steps=1, print_fn=printed.append)
    assert [r['kept_bytes'] for r in rows] == [4 * 3 * 4 + 4 * 5 * 4, 4 * 5 * 4, 2 * 4 * 2 * 4]
    # the total counts the ReLU output that the second Dense keeps too only once; the links
    # hold the first Dense's output (ReLU's input), the logits and the labels
    total = next(line for line in printed[0].splitlines() if line.startswith('total'))
    assert total.split()[-1] == f'{(48 + 80 + 64) / 2 ** 20:.2f}'
    assert f'hold {(80 + 32 + 32) / 2 ** 20:.2f} MB more' in printed[0]


def test_profile_draws_the_times(tmp_path):
    model, (x, y) = small_cnn(), batch()
    path = tmp_path / 'profile.png'
    profiler.profile(model, x, y, steps=1, print_fn=lambda t: 0, path=path)
    with Image.open(path) as image:
        assert image.format == 'PNG'


def test_profile_needs_a_compiled_sequential_model():
    model = Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(RuntimeError, match='compile'):
        profiler.profile(model, np.zeros((2, 3)), np.zeros((2, 2)))
    inputs = Input(shape=(3,))
    with pytest.raises(TypeError, match='Sequential'):
        profiler.profile(Model(inputs, Dense(2)(inputs)), np.zeros((2, 3)), np.zeros((2, 2)))


def test_the_benchmark_suite_writes_the_profile(tmp_path, monkeypatch):
    choice, device = kernels.active_kernels(), devices.get_device()
    monkeypatch.setattr(sys, 'argv', list(sys.argv))      # the suite sets it
    try:
        cli.main(['bench', '--quick', '--only', 'profile', '--models', 'cnn-seed004',
                  '--no-torch', '--out', str(tmp_path)])
    finally:
        kernels.use_kernels(choice)
        devices.set_device(device)
    rows = json.loads((tmp_path / 'bench.json').read_text())['profile']['cnn-seed004']
    assert rows[0]['type'] == 'Conv2D' and rows[-1]['layer'] == 'loss'
    table = (tmp_path / 'profile.txt').read_text()
    assert table.startswith('Profile of cnn-seed004: one training step, batch 4')
    assert sum(line.startswith(f"{r['layer']} (") for line in table.splitlines()
               for r in rows) == len(rows)
    assert (tmp_path / 'profile-cnn-seed004.png').read_bytes().startswith(b'\x89PNG')
    assert not (tmp_path / 'bench.png').exists()          # no ops or steps to chart


def test_flops_of_the_convolution_variants():
    from minicnn.layers import Conv2DTranspose, DepthwiseConv2D, SeparableConv2D
    from minicnn.tools.profiler import convolution_flops
    grouped = Conv2D(6, 3, groups=2)
    grouped.build((8, 8, 4))
    assert convolution_flops(grouped, (2, 8, 8, 4), (2, 6, 6, 6)) == 2 * 2 * 6 * 6 * 6 * 9 * 2
    transposed = Conv2DTranspose(5, 3, strides=2)
    assert convolution_flops(transposed, (2, 4, 4, 3), (2, 9, 9, 5)) == 2 * 2 * 4 * 4 * 3 * 9 * 5
    depthwise = DepthwiseConv2D(3, depth_multiplier=2)
    assert convolution_flops(depthwise, (2, 8, 8, 4), (2, 6, 6, 8)) == 2 * 2 * 6 * 6 * 8 * 9
    separable = SeparableConv2D(7, 3)
    assert convolution_flops(separable, (2, 8, 8, 4), (2, 6, 6, 7)) == \
        2 * 2 * 6 * 6 * 4 * 9 + 2 * 2 * 6 * 6 * 4 * 7
