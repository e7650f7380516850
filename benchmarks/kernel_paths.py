"""The Numba kernels' special paths against the general kernel each one stands beside.

    python benchmarks/kernel_paths.py            at the fast recipe's short budget
    python benchmarks/kernel_paths.py --quick    tiny sizes, a few rounds: does it run?

Two backward passes of the fast recipe's network (``zoo.fast_cnn`` at the
'short' budget's widths and batch size), each at every shape the network
gives it, float32 as in training:

    gelu backward      the float32 kernel (``_exp_neg_float32``: e^-t in float32
                       arithmetic the compiler vectorises) against the general
                       kernel (the C library's exp, one element at a time, in
                       float64)
    max-pool backward  the gather kernel for windows that never overlap
                       (every pixel written once, no zero-filling) against the
                       general scatter kernel on a zero-filled gradient

Both sides of a pair produce the same array (tests/test_kernels_numba.py
checks each against the reference) and allocate their output alike. They
take turns (``timing.round_robin``) so a slow spell of the shared machine
falls on both; the table gives the medians and new / general.
"""
import argparse
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: find the package
    sys.path.insert(0, str(ROOT))

import numba  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks import report, timing  # noqa: E402
from benchmarks.options import apply_presets, at_least  # noqa: E402
from minicnn.functional.geometry import window_geometry  # noqa: E402
from minicnn.kernels import numba_cpu  # noqa: E402
from minicnn.layers import MaxPooling2D  # noqa: E402
from minicnn.recipes import zoo  # noqa: E402


def network_shapes(widths, batch):
    """({input shape: its max-pool layer}, [GELU output shapes]) of fast_cnn, each shape once."""
    model = zoo.fast_cnn(widths=widths)
    pools, gelus = {}, {}
    shape = model.sample_shape
    for layer in model.layers:
        out_shape = layer.compute_output_shape(shape)
        if isinstance(layer, MaxPooling2D):
            pools.setdefault((batch, *shape), layer)
        if layer.get_config().get('activation') == 'gelu':
            gelus.setdefault((batch, *out_shape))
        shape = out_shape
    return pools, list(gelus)


def gelu_pair(shape, rng):
    """(general, new): two functions computing the same GELU gradient on float32 arrays."""
    x = 3 * rng.standard_normal(shape, dtype=np.float32)
    gy = rng.standard_normal(shape, dtype=np.float32)
    _, cdf = numba_cpu.gelu(x)

    def general():
        gx = np.empty_like(gy)
        numba_cpu._gelu_backward_kernel(gy.reshape(-1), x.reshape(-1), cdf.reshape(-1),
                                        gx.reshape(-1))
        return gx
    return general, lambda: numba_cpu.gelu_backward(gy, x, cdf)


def max_pool_pair(shape, layer, rng):
    """(general, new): two functions routing the same max-pool gradient."""
    window = layer.pool_size
    pad, _ = window_geometry('max_pool2d', shape, window, layer.strides, layer.padding)
    y, argmax = numba_cpu.max_pool(rng.standard_normal(shape, dtype=np.float32),
                                   window, layer.strides, pad)
    gy = rng.standard_normal(y.shape, dtype=np.float32)

    def general():
        gx = np.zeros(shape, dtype=gy.dtype)
        numba_cpu._max_pool_backward_kernel(gy, argmax, gx, window[1], *layer.strides,
                                            pad[0], pad[2])
        return gx
    return general, lambda: numba_cpu.max_pool_backward(gy, argmax, shape, window,
                                                        layer.strides, pad)


def timed(function):
    """function as a round_robin run: () -> (seconds,)."""
    def run():
        start = time.perf_counter()
        function()
        return (time.perf_counter() - start,)
    return run


def measure(name, pair, repeats):
    """{'op', 'general_ms', 'new_ms', 'new_over_general'}: medians of interleaved calls."""
    general, new = pair
    medians = timing.round_robin({'general': timed(general), 'new': timed(new)},
                                 warmup=3, repeats=repeats)
    (general_s,), (new_s,) = medians['general'], medians['new']
    return {'op': name, 'general_ms': 1e3 * general_s, 'new_ms': 1e3 * new_s,
            'new_over_general': report.ratio(new_s, general_s)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true', help='batch 8 and 3 rounds')
    parser.add_argument('--repeats', type=at_least(1), help='timed rounds (default 30)')
    args = apply_presets(parser.parse_args(argv), {'repeats': (30, 3)})
    budget = zoo.FAST_BUDGETS['short']
    batch, repeats = (8 if args.quick else budget['batch_size']), args.repeats
    pools, gelus = network_shapes(budget['widths'], batch)
    rng = np.random.default_rng(0)
    rows = []
    for shape in gelus:
        report.progress(f'gelu backward {shape}')
        rows.append(measure(f'gelu backward {shape}', gelu_pair(shape, rng), repeats))
    for shape, layer in pools.items():
        report.progress(f'max-pool backward {shape}')
        rows.append(measure(f'max-pool {layer.pool_size[0]} backward {shape}',
                            max_pool_pair(shape, layer, rng), repeats))
    machine = report.machine()
    print(f"{machine['cpu']}, {machine['cores']} cores, Numba {machine['numba']} on "
          f"{numba.get_num_threads()} threads; medians of {repeats} interleaved rounds")
    print(report.text_table(
        ['operation', 'general ms', 'new ms', 'new / general'],
        [[r['op'], report.number(r['general_ms']), report.number(r['new_ms']),
          report.number(r['new_over_general'])] for r in rows]))
    return rows


if __name__ == '__main__':
    main()
