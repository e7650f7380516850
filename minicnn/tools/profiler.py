"""Where a training step's time and memory go, layer by layer.

    rows = profile(model, x, y, steps=5)        prints a table, returns its rows

For each layer, and for the loss, the table gives: the output shape, the
forward and backward milliseconds, the forward pass's floating-point
operations (FLOPs) and the rate achieved, and the bytes of arrays kept for
backward. The step is the one ``fit`` runs on a batch (``train_step``),
with dropout active and, when the model ends in softmax and the loss is a
cross-entropy, softmax fused into the loss (``loss_and_outputs``); but
without the optimizer's update: the model's weights are not changed, and
each weight's ``.grad`` is put back as it was.

Timing each layer's backward apart. ``loss.backward()`` runs the whole
graph in one go. So the profiler runs the layers as a chain of separate
graphs: layer i's input is a fresh leaf, ``Tensor(y_{i-1}.data,
requires_grad=True)``, holding the same array as the previous output.
Backward then goes one graph at a time, from the loss back:

    loss.backward()                   d loss / d logits lands in the logits' leaf .grad
    y_i.backward(leaf_{i+1}.grad)     for i = last, ..., 0, each timed

Each call backpropagates exactly the gradient the whole graph would pass
through y_i, so the weights get the same gradients (the tests check it).
The images need no gradient, as in training: the first layer's input is a
plain constant, and its backward does not compute d loss / d images.
Times are medians over ``steps`` steps after one warm-up step (which
compiles Numba's kernels and maps memory).

FLOPs of the forward pass, counted by the layer's kind:

    Conv2D          2 N OH OW KH KW Cin Cout   a multiply and an add per weight and output
    Dense           2 N in out                 the same
    pooling         N OH OW C PH PW            a comparison (max) or an addition (average)
                                               per window element
    Flatten         0                          a reshape moves no numbers
    anything else   one per element            of the input or the output, the larger:
                                               Activation, Dropout, the loss (one per logit)

The bias and an activation inside a Conv2D or Dense layer are left out of
its count (one operation per output element, small beside the products),
though their time is in the layer's row. GFLOP/s is forward FLOPs over
forward time: how close the layer comes to the machine's arithmetic peak.

Memory kept for backward: the arrays the layer's Functions keep on
``self`` for their backward (a Conv2D its input, a ReLU its output, a
max pooling its arg-max, a dropout its mask), found by walking the layer's
graph and summing the ``nbytes`` of the array attributes of each Function.
Views count as the array they view, each array once per row, and weights
are left out (they exist with or without a graph). A ReLU keeps its output
and the next Conv2D keeps the same array as its input, so rows may share
an array: the total counts each once. The total line also says how much
more the graph's links hold: a Function's ``inputs`` keep their arrays
alive until backward too, such as a Conv2D's output before its ReLU.
MB are 2**20 bytes.
"""
import functools
import math
import statistics
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from minicnn import devices, viz
from minicnn import functional as F
from minicnn.arguments import check_positive_int
from minicnn.autograd import Tensor, topological_order
from minicnn.layers import (Activation, AveragePooling2D, Conv2D, Conv2DTranspose, Dense,
                            DepthwiseConv2D, Flatten, MaxPooling2D, SeparableConv2D)
from minicnn.models import Sequential
from minicnn.training import as_labels, as_model_input, fuses_softmax

MB = 2 ** 20


@dataclass
class Stage:
    """One row of the profile: a layer or the loss, and its forward, Tensor -> Tensor."""
    name: str
    kind: str
    run: Callable
    layer: object = None    # None for the loss
    activated: bool = True  # False for a last layer whose softmax is fused into the loss


@dataclass
class StageTimes:
    """What one step measured of one stage: seconds forward and backward, the
    output's shape, and {array id: bytes} of the arrays its Functions keep on
    self (``kept``) and of their inputs' arrays (``linked``)."""
    forward_s: float
    backward_s: float
    shape: tuple
    kept: dict
    linked: dict


def stages(model, y):
    """The layers, then the loss, as a training step runs them on labels y.

    When softmax is fused into the cross-entropy, the last layer stops at
    its logits and the loss is ``softmax_cross_entropy`` (as in
    ``training.loss_and_outputs``).
    """
    fused = fuses_softmax(model)
    *body, last = model.layers
    rows = [Stage(layer.name, type(layer).__name__, functools.partial(layer, training=True),
                  layer) for layer in body]
    last_run = last.pre_activation if fused else last
    rows.append(Stage(last.name, type(last).__name__, functools.partial(last_run, training=True),
                      last, activated=not fused))
    if fused:
        return [*rows, Stage('loss', 'softmax_cross_entropy',
                             lambda logits: F.softmax_cross_entropy(logits, y))]
    return [*rows, Stage('loss', model.loss.name, lambda outputs: model.loss(y, outputs))]


def chained_step(model, x, y):
    """One training step without the update, each stage a graph of its own
    (see the module docstring); a StageTimes per stage.

    x: a batch of inputs, y its labels, on the model's device. Leaves every
    weight's .grad as ``loss.backward()`` on the whole graph would.
    """
    weights = {id(_buffer(w.data)) for w in model.weights}
    inputs, outputs, forward = [], [], []
    leaf = Tensor(x)                                  # the images need no gradient
    for stage in stages(model, y):
        start = _clock()
        out = stage.run(leaf)
        forward.append(_clock() - start)
        inputs.append(leaf)
        outputs.append(out)
        leaf = Tensor(out.data, requires_grad=out.requires_grad)
    held = [_held_arrays(out, weights) for out in outputs]   # before backward frees the graphs
    backward, grad = [], None                         # None: d loss / d loss = 1
    for inp, out in zip(reversed(inputs), reversed(outputs)):
        start = _clock()
        if out.requires_grad:                         # else nothing before it wants a gradient
            out.backward(grad)
        backward.append(_clock() - start)
        grad = inp.grad
    return [StageTimes(f, b, tuple(out.shape), kept, linked) for f, b, out, (kept, linked)
            in zip(forward, reversed(backward), outputs, held)]


def profile(model, x, y, steps=5, print_fn=print, path=None):
    """Time and measure every layer of a compiled Sequential model's training step on (x, y).

    x: a batch (N, *input shape), y: its labels as ``fit`` takes them.
    Runs one warm-up step and ``steps`` measured ones (no optimizer update:
    the weights and their .grad are left as they were), prints the table
    with ``print_fn`` and, with ``path``, draws the forward and backward
    times as a bar chart (``viz.plot_profile``). Returns one dict per layer
    and one for the loss: 'layer', 'type', 'output_shape', 'forward_ms',
    'backward_ms' (medians), 'flops' (forward), 'flops_counted' (which rule
    of the module docstring), 'gflop_per_s' (None for no FLOPs) and
    'kept_bytes'.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f'profile: times a Sequential model, a chain of layers, got '
                        f'{type(model).__name__}')
    if model.loss is None:
        raise RuntimeError("profile: compile the model first (the profile times its loss), "
                           "e.g. model.compile(optimizer='adam', loss='categorical_crossentropy')")
    check_positive_int('profile', 'steps', steps)
    x, y = as_model_input(x), as_labels(y)
    if not model.built:
        model.build(x.shape[1:])
    saved = [w.grad for w in model.weights]
    try:
        measured = [_step(model, x, y) for _ in range(steps + 1)][1:]  # the first warms up
    finally:
        for w, grad in zip(model.weights, saved):
            w.grad = grad
    rows = [_row(stage, in_shape, times) for stage, in_shape, times in
            zip(stages(model, y), _input_shapes(x.shape, measured[-1]), zip(*measured))]
    print_fn(format_table(rows, measured[-1], steps))
    if path is not None:
        viz.plot_profile(rows, path, title=f'{model.name}: one training step, batch {len(x)}')
    return rows


def forward_flops(layer, in_shape, out_shape, activated=True):
    """(FLOPs of the forward pass, how counted) for a layer (None: the loss); the
    shapes include the batch axis. The rules are in the module docstring; an
    Activation layer whose softmax went into the loss (activated=False) does none."""
    outputs = math.prod(out_shape)
    if isinstance(layer, (Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D)):
        return convolution_flops(layer, in_shape, out_shape), 'multiply-adds'
    if isinstance(layer, Dense):
        return 2 * outputs * in_shape[-1], 'multiply-adds'
    if isinstance(layer, (MaxPooling2D, AveragePooling2D)):
        return outputs * math.prod(layer.pool_size), 'window elements'
    if isinstance(layer, Flatten) or (isinstance(layer, Activation) and not activated):
        return 0, 'none'
    return max(math.prod(in_shape), outputs), 'per element'


def convolution_flops(layer, in_shape, out_shape):
    """2 x the multiply-adds of a convolution layer's forward pass.

    Each output of Conv2D sums kh*kw*C/groups products; Conv2DTranspose
    spreads each input pixel's C values over kh*kw*filters outputs; a
    depthwise convolution's output sums kh*kw products, and a separable one
    adds a 1x1 convolution over the C*depth_multiplier channels.
    """
    window = math.prod(layer.kernel_size)
    if isinstance(layer, Conv2DTranspose):
        return 2 * math.prod(in_shape) * window * layer.filters
    if isinstance(layer, Conv2D):
        return 2 * math.prod(out_shape) * window * in_shape[-1] // layer.groups
    depthwise_outputs = math.prod(out_shape[:-1]) * in_shape[-1] * layer.depth_multiplier
    pointwise = 2 * depthwise_outputs * layer.filters if isinstance(layer, SeparableConv2D) else 0
    return 2 * depthwise_outputs * window + pointwise


def format_table(rows, last_step, steps):
    """The profile as text: a line per row, a total, and what the columns mean.
    last_step: the StageTimes of one step, for the memory totals."""
    headers = ['layer (type)', 'output shape', 'fwd ms', 'bwd ms', 'MFLOP', 'GFLOP/s',
               'kept MB', 'FLOPs counted']
    cells = [[f"{r['layer']} ({r['type']})", str(tuple(r['output_shape'])),
              f"{r['forward_ms']:.2f}", f"{r['backward_ms']:.2f}", f"{r['flops'] / 1e6:,.1f}",
              _rate(r['gflop_per_s']), f"{r['kept_bytes'] / MB:.2f}", r['flops_counted']]
             for r in rows]
    kept = _union(times.kept for times in last_step)
    linked = {k: v for k, v in _union(times.linked for times in last_step).items()
              if k not in kept}
    forward_s = sum(r['forward_ms'] for r in rows) / 1e3
    flops = sum(r['flops'] for r in rows)
    cells.append(['total', '', f'{forward_s * 1e3:.2f}',
                  f"{sum(r['backward_ms'] for r in rows):.2f}", f'{flops / 1e6:,.1f}',
                  _rate(flops / forward_s / 1e9), f'{sum(kept.values()) / MB:.2f}', ''])
    widths = [max(len(row[i]) for row in [headers, *cells]) for i in range(len(headers))]

    def line(row):
        return '  '.join(c.ljust(w) if i in (0, 1, 7) else c.rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    rule = '-' * len(line(headers))
    linked_mb = sum(linked.values()) / MB
    return '\n'.join([
        line(headers), rule, *map(line, cells[:-1]), rule, line(cells[-1]),
        f'ms: medians of {steps} measured steps after one warm-up step. MFLOP: of the forward '
        'pass; GFLOP/s',
        '= forward FLOPs / forward time. kept: arrays the Functions keep for backward, weights '
        'left out;',
        f"the total counts each array once, and the graph's links (Function.inputs) hold "
        f'{linked_mb:.2f} MB more.',
        'See minicnn/tools/profiler.py for how each column is measured.'])


# -- helpers -------------------------------------------------------------------

def _step(model, x, y):
    """chained_step with every .grad cleared first, as train_step clears them."""
    for w in model.weights:
        w.grad = None
    return chained_step(model, x, y)


def _clock():
    """perf_counter once the GPU, when it is in use, has finished its queued work."""
    if devices.get_device() == 'gpu':   # CuPy calls return before the GPU is done
        devices.cupy().cuda.Device().synchronize()
    return time.perf_counter()


def _input_shapes(x_shape, step):
    """Each stage's input shape: the batch's, then the previous stage's output's."""
    return [tuple(x_shape), *(times.shape for times in step[:-1])]


def _row(stage, in_shape, times):
    """The table row of a stage from its StageTimes of every measured step."""
    forward_s = statistics.median(t.forward_s for t in times)
    shape = times[-1].shape
    flops, counted = forward_flops(stage.layer, in_shape, shape, stage.activated)
    return {'layer': stage.name, 'type': stage.kind, 'output_shape': list(shape),
            'forward_ms': 1e3 * forward_s,
            'backward_ms': 1e3 * statistics.median(t.backward_s for t in times),
            'flops': flops, 'flops_counted': counted,
            'gflop_per_s': flops / forward_s / 1e9 if flops and forward_s > 0 else None,
            'kept_bytes': sum(times[-1].kept.values())}


def _rate(gflop_per_s):
    return '-' if gflop_per_s is None else f'{gflop_per_s:.2f}'


def _union(dicts):
    merged = {}
    for d in dicts:
        merged.update(d)
    return merged


def _is_array(value):
    return isinstance(value, np.ndarray) or devices.is_gpu_array(value)


def _buffer(array):
    """The array that owns the memory a view looks into (the array itself if it owns it)."""
    while _is_array(array.base):
        array = array.base
    return array


def _held_arrays(out, weights):
    """(kept, linked) for the Functions that made ``out``: {array id: bytes} of the
    arrays they keep on self, and of their inputs' arrays; weights left out."""
    kept, linked = {}, {}
    for t in topological_order(out):
        if t.creator is None:
            continue
        _add_arrays(kept, vars(t.creator).values(), weights)
        _add_arrays(linked, (x.data for x in t.creator.inputs), weights)
    return kept, linked


def _add_arrays(sizes, values, weights):
    """Add each array among values to sizes as {id of its buffer: its buffer's bytes}."""
    for value in values:
        if _is_array(value):
            buffer = _buffer(value)
            if id(buffer) not in weights:
                sizes[id(buffer)] = buffer.nbytes
