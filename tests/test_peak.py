"""benchmarks/peak.py: FLOPs counted as its docstring says, on layers small enough
to count by hand, and a --quick run whose fractions of the peak agree with its
times and FLOPs."""
import json
import os
import pathlib
import sys

import numpy as np
import pytest

from minicnn import devices
from minicnn.layers import Conv2D, Dense, Flatten, MaxPooling2D
from minicnn.models import Sequential

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # benchmarks/ is a folder of the checkout, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks import peak, report  # noqa: E402

N = 2  # images


def small_model(conv_trains=True):
    """(2, 6, 6, 4) -> conv 3x3 'same' to 5 -> 180 -> Dense 7 -> Dense 3, softmax."""
    model = Sequential([Conv2D(5, 3, padding='same', input_shape=(6, 6, 4)), Flatten(),
                        Dense(7), Dense(3, activation='softmax')])
    model.layers[0].trainable = conv_trains
    model.compile(optimizer='sgd', loss='categorical_crossentropy')
    return model


def counts(model):
    """{stage name: (forward FLOPs, backward FLOPs)}."""
    x = np.random.default_rng(0).random((N, 6, 6, 4), dtype=np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 2]]
    return {r['layer']: (r['forward_flops'], r['backward_flops'])
            for r in peak.counted_stages(model, x, y)}


def test_flops_of_a_convolution_and_dense_layers_follow_the_hand_count():
    model = small_model()
    conv, flatten, hidden, logits = model.layers
    got = counts(model)
    conv_flops = 2 * N * 6 * 6 * 3 * 3 * 4 * 5          # 2 N OH OW KH KW Cin Cout
    assert got[conv.name] == (conv_flops, conv_flops)   # d kernel only: the images want none
    assert got[hidden.name] == (2 * N * 180 * 7, 2 * 2 * N * 180 * 7)   # 2 N in out, twice back
    assert got[logits.name] == (2 * N * 7 * 3, 2 * 2 * N * 7 * 3)
    assert got[flatten.name] == (0, 0)
    assert got['loss'] == (N * 3, N * 3)                # one per logit


def test_a_frozen_first_layer_counts_no_backward_and_the_next_no_input_gradient():
    model = small_model(conv_trains=False)
    conv, _, hidden, logits = model.layers
    got = counts(model)
    assert got[conv.name] == (2 * N * 6 * 6 * 3 * 3 * 4 * 5, 0)
    assert got[hidden.name] == (2 * N * 180 * 7, 2 * N * 180 * 7)       # d kernel only
    assert got[logits.name][1] == 2 * got[logits.name][0]


def test_a_layer_before_any_trainable_weight_counts_no_backward():
    model = Sequential([MaxPooling2D(2, input_shape=(6, 6, 4)), Flatten(), Dense(3)])
    model.compile(optimizer='sgd', loss='mse')
    pool, _, dense = model.layers
    got = counts(model)
    assert got[pool.name] == (N * 3 * 3 * 4 * 2 * 2, 0)     # one per window element; no backward
    assert got[dense.name] == (2 * N * 36 * 3, 2 * N * 36 * 3)


def test_the_method_column_names_the_convolution_conv2d_runs():
    layer = Conv2D(8, 3, padding='same')
    layer.build((6, 6, 16))
    assert peak.conv_method(layer, (N, 6, 6, 16)) == 'winograd'
    few_channels = Conv2D(8, 3)
    few_channels.build((6, 6, 4))                        # below WINOGRAD_MIN_CHANNELS
    assert peak.conv_method(few_channels, (N, 6, 6, 4)) == 'im2col'


def fraction(flops, ms, peak_gflop_per_s):
    return flops / (ms / 1e3) / 1e9 / peak_gflop_per_s


def check_consistent(net, peak_rate):
    """Every fraction is its FLOPs over its time over the peak; the sums add up."""
    rows = net['layers']
    for r in rows:
        for phase in ('forward', 'backward'):
            flops, ms, got = r[f'{phase}_flops'], r[f'{phase}_ms'], r[f'{phase}_of_peak']
            assert got == (pytest.approx(fraction(flops, ms, peak_rate)) if flops else None)
    layers_ms = sum(r['forward_ms'] + r['backward_ms'] for r in rows)
    assert net['layers_total']['ms'] == pytest.approx(layers_ms)
    assert sum(r['share_of_layers_time'] for r in rows) == pytest.approx(1)
    step = net['step']
    assert step['flops'] == sum(r['forward_flops'] + r['backward_flops'] for r in rows) > 0
    assert step['of_peak'] == pytest.approx(fraction(step['flops'], step['ms'], peak_rate))


@pytest.fixture
def device():
    """Put back the device, which peak.main sets to the CPU."""
    before = devices.get_device()
    yield
    devices.set_device(before)


def test_quick_run_names_the_machine_and_its_fractions_agree_with_its_times(
        tmp_path, capsys, device):
    peak.main(['--quick', '--out', str(tmp_path)])
    assert [p.name for p in tmp_path.iterdir()] == ['peak.json']   # no temporary left
    record = json.loads((tmp_path / 'peak.json').read_text())
    machine = record['machine']
    assert machine['cpu'] == report.cpu_model() and machine['cores'] == os.cpu_count()
    assert machine['threads']['blas'] >= 1 and machine['threads']['numba'] >= 1
    measured = record['peak']
    assert measured['size'] == 128
    assert measured['gflop_per_s'] == pytest.approx(2 * 128 ** 3 / (measured['ms'] / 1e3) / 1e9)

    assert list(record['networks']) == ['fast_cnn', 'cnn-seed004']
    for net in record['networks'].values():
        assert net['batch_size'] == 4 and net['layers'][-1]['layer'] == 'loss'
        check_consistent(net, measured['gflop_per_s'])
    fast = {r['layer']: r for r in record['networks']['fast_cnn']['layers']}
    assert fast['whiten']['backward_flops'] == 0                 # frozen, as the recipe has it
    methods = [r['method'] for r in fast.values() if r['type'] == 'Conv2D']
    assert methods == ['im2col'] + ['winograd'] * 6            # the whitening 2x2, six 3x3

    printed = capsys.readouterr().out
    assert machine['cpu'] in printed and '--quick' in printed
    assert 'fast_cnn, batch 4' in printed and 'cnn-seed004, batch 4' in printed
    for net in record['networks'].values():
        for r in net['layers']:
            assert f"{r['layer']} ({r['type']})" in printed


def test_options_refuse_unknown_networks_and_non_positive_counts(capsys):
    for argv, message in [(['--networks', 'fast_cnn,vgg'], "unknown networks ['vgg']"),
                          (['--repeats', '0'], 'must be at least 1, got 0')]:
        with pytest.raises(SystemExit):
            peak.parse_args(argv)
        assert message in capsys.readouterr().err
