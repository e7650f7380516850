"""How close minicnn's CPU training steps come to the machine's arithmetic peak, layer by layer.

    python benchmarks/peak.py                 the table, and bench-results/peak/peak.json
    python benchmarks/peak.py --quick         tiny sizes, one round: does it run?

The peak is measured here, not written in: a float32 matrix product
C = A @ B of two 2048x2048 matrices by NumPy (its BLAS, OpenBLAS), on the
threads NumPy's products use in minicnn; 2 n^3 FLOPs each (n^2 outputs of n
multiply-adds). Its median rate is the peak every fraction below is of.

Two networks, in training mode on random pixels and one-hot labels:

    fast_cnn      the fast recipe's network (``zoo.fast_cnn``) at the 'short'
                  budget's widths and batch size (``zoo.FAST_BUDGETS``), with
                  the recipe's optimizer and loss; its whitening layer is
                  frozen, kernel and bias, as in the recipe after its first
                  epoch (``fast_recipe.FreezeAfter``), so nothing before the
                  first block has a backward
    cnn-seed004   the seed-004 CNN (``zoo.cnn_seed004``), batch 128, with its
                  recipe's optimizer

For each layer (and the loss): its nominal FLOPs forward and backward, its
time forward and backward, the rate (GFLOP/s) and the fraction of the peak.
Then the whole training step (``training.train_step``: forward, backward,
the optimizer's update): its time, its FLOPs (the layers' forward and
backward FLOPs; the update's few operations per weight are not counted)
and its fraction of the peak.

How FLOPs are counted (nominal):

    forward     ``minicnn.tools.profiler.forward_flops``: 2 per multiply-add
                of a convolution or Dense layer as a direct convolution
                computes it (2 N OH OW KH KW Cin Cout; 2 N in out), even where
                Winograd's F(2x2, 3x3) does 2.25 times fewer multiplications:
                a Winograd layer can exceed 100% of the peak. Padding's
                zeros count as they enter the sums; bias and an activation
                inside the layer are left out. Pooling: one per window
                element; other layers and the loss: one per element;
                Flatten: none
    backward    input gradient + weight gradient. A convolution or Dense
                layer: its forward count for d input (the same multiply-adds,
                transposed) if its input wants a gradient, plus as much again
                for d kernel if the kernel trains. So twice the forward for
                a layer inside the network, once for the first (the images
                want no gradient), none for a frozen first layer. Any other
                layer: its forward count, if its backward runs at all

Timing. Layers are timed by the project's profiler
(``profiler.chained_step``: each layer a graph of its own, so its backward
is timed apart; no optimizer update). The matrix product, each network's
layer-by-layer step and each network's ``train_step`` take turns, one call
each per round (``timing.round_robin``), so that a slow spell of a shared
machine falls on all alike; every time is the median of the rounds, after
the warm-up rounds (Numba's compilation, memory mapping). The sum of the
layers' times need not equal the step's: the step adds the update and
runs one graph, not a chain.

Writes --out/peak.json (atomically) and prints the tables; both name the
processor, its cores, and the threads of the matrix products and of
Numba's kernels.
"""
import argparse
import math
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: find the package
    sys.path.insert(0, str(ROOT))

from benchmarks import report, timing  # noqa: E402  (imports minicnn first)
from benchmarks.options import apply_presets, at_least, names_among  # noqa: E402
import numba  # noqa: E402,I100
import numpy as np  # noqa: E402
import threadpoolctl  # noqa: E402
from minicnn import devices, kernels, training  # noqa: E402
from minicnn.functional.conv import WinogradConvolution, fastest_method  # noqa: E402
from minicnn.layers import Conv2D  # noqa: E402
from minicnn.losses import CategoricalCrossentropy  # noqa: E402
from minicnn.recipes import fast_recipe, zoo  # noqa: E402
from minicnn.tools import profiler  # noqa: E402

CLASSES = 10
TRAINING_IMAGES = 50_000  # CIFAR-10's, for the fast recipe's schedule
PRESETS = {  # option: (default, with --quick)
    'repeats': (20, 1),
    'warmup': (2, 1),
    'peak_size': (2048, 128),
    'batch_size': (None, 4),  # None: each network's own
}


# -- the peak ----------------------------------------------------------------

def matmul_flops(n):
    """2 n^3: n^2 outputs, each a sum of n products."""
    return 2 * n ** 3


def matmul_runner(n):
    """A function timing one float32 (n, n) @ (n, n) product into a ready output."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    out = np.empty((n, n), np.float32)

    def run():
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        return (time.perf_counter() - start,)
    return run


def threads_used():
    """{'blas': threads of NumPy's matrix products, 'numba': of minicnn's Numba kernels}."""
    blas = [pool['num_threads'] for pool in threadpoolctl.threadpool_info()
            if pool['user_api'] == 'blas']
    return {'blas': blas[0] if blas else None, 'numba': numba.get_num_threads()}


# -- the networks ------------------------------------------------------------

def fast_network(batch_size=None):
    """(compiled fast_cnn at the short budget, its batch size); see the module docstring."""
    preset = zoo.FAST_BUDGETS['short']
    batch_size = batch_size or preset['batch_size']
    model = zoo.fast_cnn(widths=preset['widths'])
    model.get_layer('whiten').trainable = False
    steps = math.ceil(TRAINING_IMAGES / preset['batch_size']) * preset['epochs']
    model.compile(optimizer=fast_recipe.optimizer(steps, preset['batch_size']),
                  loss=CategoricalCrossentropy(label_smoothing=fast_recipe.LABEL_SMOOTHING))
    return model, batch_size


def seed004_network(batch_size=None):
    """(compiled seed-004 CNN, batch 128 or batch_size)."""
    recipe = zoo.get('cnn-seed004')
    model = recipe.build()
    model.compile(optimizer=recipe.optimizer(), loss=recipe.loss)
    return model, batch_size or 128


NETWORKS = {'fast_cnn': fast_network, 'cnn-seed004': seed004_network}


def random_batch(model, batch_size):
    """(images in [0, 1), one-hot labels) for model, seeded."""
    rng = np.random.default_rng(0)
    x = rng.random((batch_size, *model.sample_shape), dtype=np.float32)
    return x, np.eye(CLASSES, dtype=np.float32)[rng.integers(0, CLASSES, batch_size)]


# -- counting ----------------------------------------------------------------

def conv_method(layer, in_shape):
    """'winograd' or 'im2col': the method ``conv2d`` picks for a Conv2D layer's input."""
    probe = np.empty((0, *in_shape[1:]), np.float32)  # fastest_method reads shapes and device
    method = fastest_method(probe, layer.kernel.data, layer.strides, layer.dilation_rate,
                            layer.groups)
    return 'winograd' if method is WinogradConvolution else 'im2col'


def trains(weights):
    """Whether any of the weights gets a gradient (a frozen one does not)."""
    return any(w.requires_grad for w in weights)


def backward_flops(forward, counted, input_wants_gradient, kernel_trains, runs):
    """The backward count of the module docstring, from the forward count and
    how it was counted (``profiler.forward_flops``'s 'multiply-adds' for the
    products); ``runs``: whether the stage's backward runs at all."""
    if counted == 'multiply-adds':
        return forward * (int(input_wants_gradient) + int(kernel_trains))
    return forward if runs else 0


def counted_stages(model, x, y):
    """Each stage of a training step (``profiler.stages``: the layers, then the
    loss) with its nominal FLOPs: a dict per stage with 'layer', 'type',
    'method' (of a Conv2D), 'output_shape', 'counted', 'forward_flops' and
    'backward_flops'. Runs one untimed step (``profiler.chained_step``) for
    the shapes, leaving every weight's .grad as it was."""
    saved = [w.grad for w in model.weights]
    try:
        out_shapes = [t.shape for t in profiler.chained_step(model, x, y)]
    finally:
        for w, grad in zip(model.weights, saved):
            w.grad = grad
    rows, wants_gradient = [], False      # the images want none
    for stage, in_shape, out_shape in zip(profiler.stages(model, y),
                                          [x.shape, *out_shapes[:-1]], out_shapes):
        weights = stage.layer.weights if stage.layer is not None else []
        bias = getattr(stage.layer, 'bias', None)
        forward, counted = profiler.forward_flops(stage.layer, in_shape, out_shape,
                                                  stage.activated)
        has_weights = trains(weights)
        rows.append({
            'layer': stage.name, 'type': stage.kind,
            'method': conv_method(stage.layer, in_shape) if isinstance(stage.layer, Conv2D)
            else None,
            'output_shape': list(out_shape), 'counted': counted, 'forward_flops': forward,
            'backward_flops': backward_flops(
                forward, counted, wants_gradient, trains(w for w in weights if w is not bias),
                runs=wants_gradient or has_weights)})
        wants_gradient = wants_gradient or has_weights
    return rows


# -- timing ------------------------------------------------------------------

def layers_runner(model, x, y):
    """A function timing one layer-by-layer step: (forward s, backward s) of each stage, flat."""
    def run():
        for w in model.weights:
            w.zero_grad()  # as train_step does: backward then stores, rather than adds
        return tuple(s for times in profiler.chained_step(model, x, y)
                     for s in (times.forward_s, times.backward_s))
    return run


def step_runner(model, x, y):
    """A function timing one ``train_step``; refuses a step whose loss is not
    finite, which train_step would answer without backward or update."""
    def run():
        start = time.perf_counter()
        loss, _ = training.train_step(model, x, y)
        seconds = time.perf_counter() - start
        if not math.isfinite(float(loss)):
            raise FloatingPointError(f'peak: the loss of {model.name} became {float(loss)}: '
                                     f'that step skipped its backward and update')
        return (seconds,)
    return run


def rate(flops, seconds):
    """GFLOP/s, or None where nothing was counted or timed."""
    return flops / seconds / 1e9 if flops and seconds > 0 else None


def of_peak(flops, seconds, peak_gflop_per_s):
    """The fraction of the peak: the rate over the peak's rate."""
    achieved = rate(flops, seconds)
    return None if achieved is None else achieved / peak_gflop_per_s


def network_record(rows, layer_seconds, step_seconds, batch_size, peak):
    """The record of one network: its rows with times, rates and fractions; the
    layers' sums; the step. layer_seconds: (forward, backward) per stage, flat."""
    for row, (fwd, bwd) in zip(rows, zip(layer_seconds[::2], layer_seconds[1::2])):
        row.update(forward_ms=1e3 * fwd, backward_ms=1e3 * bwd)
        for phase, seconds in (('forward', fwd), ('backward', bwd)):
            flops = row[f'{phase}_flops']
            row[f'{phase}_gflop_per_s'] = rate(flops, seconds)
            row[f'{phase}_of_peak'] = of_peak(flops, seconds, peak)
    layers_ms = sum(r['forward_ms'] + r['backward_ms'] for r in rows)
    for row in rows:
        row['share_of_layers_time'] = (row['forward_ms'] + row['backward_ms']) / layers_ms
    flops = sum(r['forward_flops'] + r['backward_flops'] for r in rows)
    return {
        'batch_size': batch_size, 'layers': rows,
        'layers_total': {'ms': layers_ms, 'flops': flops,
                         'gflop_per_s': rate(flops, layers_ms / 1e3),
                         'of_peak': of_peak(flops, layers_ms / 1e3, peak)},
        'step': {'ms': 1e3 * step_seconds, 'flops': flops,
                 'gflop_per_s': rate(flops, step_seconds),
                 'of_peak': of_peak(flops, step_seconds, peak)},
    }


def measure(networks, batch_size, peak_size, warmup, repeats):
    """The record: the peak and every network's layers and step, timed in turns."""
    built, runs = {}, {'peak': matmul_runner(peak_size)}
    for name in networks:
        model, batch = NETWORKS[name](batch_size)
        x, y = random_batch(model, batch)
        built[name] = (counted_stages(model, x, y), batch)
        runs[f'{name} layers'] = layers_runner(model, x, y)
        runs[f'{name} step'] = step_runner(model, x, y)
    report.progress(f"peak: {warmup} warm-up and {repeats} timed rounds of {', '.join(runs)}")
    medians = timing.round_robin(runs, warmup, repeats)
    (peak_seconds,) = medians['peak']
    peak = rate(matmul_flops(peak_size), peak_seconds)
    return {
        'peak': {'size': peak_size, 'ms': 1e3 * peak_seconds, 'gflop_per_s': peak},
        'networks': {name: network_record(rows, medians[f'{name} layers'],
                                          medians[f'{name} step'][0], batch, peak)
                     for name, (rows, batch) in built.items()},
    }


# -- showing -----------------------------------------------------------------

def machine_line(machine):
    threads = machine['threads']
    return (f"{machine['cpu']}, {machine['cores']} cores; {threads['blas']} threads for matrix "
            f"products ({machine['blas']}), {threads['numba']} for Numba's kernels")


def percent(fraction):
    return '-' if fraction is None else f'{100 * fraction:.1f}'


def pair(a, b, show):
    return f'{show(a)} / {show(b)}'


def network_table(name, net):
    """A network's rows as text: forward / backward in each column, then the step."""
    rows = [[f"{r['layer']} ({r['type']})", r['method'] or '', str(tuple(r['output_shape'])),
             pair(r['forward_flops'] / 1e6, r['backward_flops'] / 1e6, report.number),
             pair(r['forward_ms'], r['backward_ms'], report.number),
             pair(r['forward_gflop_per_s'], r['backward_gflop_per_s'], report.number),
             pair(r['forward_of_peak'], r['backward_of_peak'], percent),
             percent(r['share_of_layers_time'])] for r in net['layers']]
    for label, total in (('all layers', net['layers_total']),
                         ('training step (train_step)', net['step'])):
        rows.append([label, '', '', report.number(total['flops'] / 1e6),
                     report.number(total['ms']), report.number(total['gflop_per_s']),
                     percent(total['of_peak']), ''])
    headers = ['layer (type)', 'conv', 'output shape', 'MFLOP f / b', 'ms f / b',
               'GFLOP/s f / b', '% peak f / b', '% time']
    return f"{name}, batch {net['batch_size']}\n" + report.text_table(headers, rows)


def tables(record):
    settings, peak = record['settings'], record['peak']
    head = (f"Fraction of peak on {machine_line(record['machine'])}.\n"
            f"Peak: float32 {peak['size']}x{peak['size']} @ {peak['size']}x{peak['size']} "
            f"(NumPy), {peak['gflop_per_s']:.1f} GFLOP/s ({peak['ms']:.1f} ms). Medians of "
            f"{settings['repeats']} interleaved rounds after {settings['warmup']} warm-up.\n"
            f"FLOPs nominal (2 per multiply-add, direct convolution even where Winograd runs: "
            f"a winograd layer can pass 100%);\nf / b = forward / backward; % time = of the "
            f"layers' sum; step FLOPs = the layers' forward + backward (see benchmarks/peak.py).")
    if settings['quick']:
        head += '\n--quick: tiny sizes and one round; these numbers say nothing.'
    return '\n\n'.join([head, *(network_table(name, net)
                                for name, net in record['networks'].items())])


# -- the script --------------------------------------------------------------

def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog='benchmarks/peak.py', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true',
                        help='batch 4, a 128x128 product, one warm-up and one timed round')
    parser.add_argument('--networks', type=names_among(NETWORKS, 'networks'),
                        default=list(NETWORKS),
                        help=f"comma-separated, from {','.join(NETWORKS)} (default: both)")
    parser.add_argument('--repeats', type=at_least(1), help='timed rounds (default 20)')
    parser.add_argument('--warmup', type=at_least(0), help='untimed rounds first (default 2)')
    parser.add_argument('--peak-size', type=at_least(1),
                        help='n of the n x n product (default 2048)')
    parser.add_argument('--batch-size', type=at_least(1),
                        help="for every network (default: each one's own, 256 and 128)")
    parser.add_argument('--out', default='bench-results/peak',
                        help='folder for peak.json (default: bench-results/peak)')
    return apply_presets(parser.parse_args(argv), PRESETS)


def main(argv=None):
    args = parse_args(argv)
    devices.set_device('cpu')  # the peak is the CPU's
    machine = {**report.machine(), 'threads': threads_used(), 'kernels': kernels.active_kernels()}
    record = {'machine': machine, 'settings': vars(args),
              **measure(args.networks, args.batch_size, args.peak_size, args.warmup,
                        args.repeats)}
    path = pathlib.Path(args.out) / 'peak.json'
    report.write_json(path, record)
    print(f'wrote {path}\n\n{tables(record)}')
    return record


if __name__ == '__main__':
    main()
