"""Single operations at the shapes of the tutorial networks' layers.

For each chosen model: every Conv2D and MaxPooling2D layer, the first
Dense layer (the largest), and im2col and col2im alone at the first
layer's shapes; then the loss. Layers that two models share are timed
once. Inputs are random float32 arrays with the batch size in front.

An ``Op`` holds its function twice, as minicnn and as PyTorch call it, and
one set of input arrays in minicnn's layouts; PyTorch gets the same values
in its own layouts (NCHW images, OIHW kernels, (out, in) dense weights),
converted before any timing.

Forward and backward are timed apart: forward is the call (which, in
minicnn, also keeps what backward needs), backward is ``out.backward(ones)``
down to the inputs that want a gradient. As in the networks, the images
fed to a first layer want none, so that layer's backward skips col2im.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np

from benchmarks import report, timing
from benchmarks.timing import nchw
from minicnn import functional as F
from minicnn import kernels
from minicnn.recipes import zoo
from minicnn.functional.conv import ChunkedConvolution, WinogradConvolution, fastest_method
from minicnn.functional.geometry import window_geometry
from minicnn.layers import Conv2D, Dense, MaxPooling2D

try:  # PyTorch is optional: without it, its column is left out
    import torch.nn.functional as tnf
except ImportError:
    tnf = None

CLASSES = 10
METHOD_NAMES = {ChunkedConvolution: 'im2col', WinogradConvolution: 'winograd'}
_rng = np.random.default_rng(0)


@dataclass
class Op:
    """One operation at one set of shapes, in both frameworks."""
    name: str
    arrays: tuple          # the inputs, in minicnn's layouts
    needs_grad: tuple      # which inputs want a gradient
    minicnn: Callable      # the op on minicnn Tensors
    torch: Callable        # the op on PyTorch tensors
    to_torch: Callable     # arrays -> the same values in PyTorch's layouts
    backward: bool = True  # False: time the forward call only


def random_array(shape):
    """Standard normal float32 values (the same ones at every run)."""
    return _rng.standard_normal(shape, dtype=np.float32)


def hwc(x_shape):
    """'32x32x3' for a batch of 32x32 images of 3 channels."""
    return 'x'.join(map(str, x_shape[1:]))


def torch_padding(padding, window, strides):
    """PyTorch's padding for Keras's 'valid' or 'same' (stride 1, odd window)."""
    if padding == 'valid':
        return 0
    if padding == 'same' and strides == (1, 1) and all(k % 2 for k in window):
        return tuple(k // 2 for k in window)
    raise ValueError(f'no symmetric PyTorch padding for {padding!r} with window {window}, '
                     f'strides {strides}')


def conv_ops(x_shape, layer, first):
    """conv2d at a Conv2D layer's shapes, by the method conv2d picks and, where
    that is Winograd's, by im2col as well; a first layer's images want no gradient."""
    (kh, kw), f = layer.kernel_size, layer.filters
    pad = torch_padding(layer.padding, layer.kernel_size, layer.strides)
    arrays = (random_array(x_shape), random_array((kh, kw, x_shape[3], f)), random_array((f,)))
    picked = fastest_method(arrays[0], arrays[1], layer.strides, layer.dilation_rate, layer.groups)
    methods = [picked] if picked is ChunkedConvolution else [picked, ChunkedConvolution]
    for method in methods:
        yield Op(
            f'conv2d {hwc(x_shape)} {kh}x{kw}->{f} {layer.padding} {METHOD_NAMES[method]}',
            arrays, needs_grad=(not first, True, True),
            minicnn=lambda x, k, b, method=method: F.conv2d(
                x, k, b, layer.strides, layer.padding, method=method),
            torch=lambda x, k, b: tnf.conv2d(x, k, b, layer.strides, pad),
            to_torch=lambda x, k, b: (nchw(x), k.transpose(3, 2, 0, 1), b))


def unfold_ops(x_shape, layer):
    """im2col and col2im (forward only) at a convolution's shapes; PyTorch's
    unfold and fold are the same operations in NCHW."""
    window, strides, padding = layer.kernel_size, layer.strides, layer.padding
    pad, (oh, ow) = window_geometry('im2col', x_shape, window, strides, padding)
    torch_pad = torch_padding(padding, window, strides)
    n, h, w, c = x_shape
    where = f'{hwc(x_shape)} {window[0]}x{window[1]} {padding}'
    im2col = Op(
        f'im2col {where}', (random_array(x_shape),), (False,),
        minicnn=lambda x: kernels.for_array(x.data).im2col(x.data, window, strides, pad),
        torch=lambda x: tnf.unfold(x, window, padding=torch_pad, stride=strides),
        to_torch=lambda x: (nchw(x),), backward=False)
    col2im = Op(
        f'col2im {where}', (random_array((n, oh, ow, *window, c)),), (False,),
        minicnn=lambda cols: kernels.for_array(cols.data).col2im(
            cols.data, x_shape, window, strides, pad),
        torch=lambda cols: tnf.fold(cols, (h, w), window, padding=torch_pad, stride=strides),
        # (N, OH, OW, kh, kw, C) -> unfold's (N, C * kh * kw, OH * OW)
        to_torch=lambda cols: (cols.transpose(0, 5, 3, 4, 1, 2).reshape(n, -1, oh * ow),),
        backward=False)
    return [im2col, col2im]


def max_pool_op(x_shape, layer):
    """max_pool2d at a MaxPooling2D layer's shapes."""
    pad = torch_padding(layer.padding, layer.pool_size, layer.strides)
    return Op(
        f'max_pool2d {hwc(x_shape)} {layer.pool_size[0]}x{layer.pool_size[1]}',
        arrays=(random_array(x_shape),), needs_grad=(True,),
        minicnn=lambda x: F.max_pool2d(x, layer.pool_size, layer.strides, layer.padding),
        torch=lambda x: tnf.max_pool2d(x, layer.pool_size, layer.strides, pad),
        to_torch=lambda x: (nchw(x),))


def dense_op(x_shape, layer, first):
    """dense at a Dense layer's shapes; a first layer's inputs want no gradient."""
    n_in, n_out = x_shape[1], layer.units
    return Op(
        f'dense {n_in}->{n_out}',
        arrays=(random_array(x_shape), random_array((n_in, n_out)), random_array((n_out,))),
        needs_grad=(not first, True, True),
        minicnn=F.dense,
        torch=lambda x, k, b: tnf.linear(x, k, b),
        to_torch=lambda x, k, b: (x, k.T, b))


def loss_op(batch):
    """Softmax and cross-entropy, fused, of a batch of logits against one-hot rows."""
    labels = np.eye(CLASSES, dtype=np.float32)[_rng.integers(0, CLASSES, batch)]
    return Op(
        f'softmax_cross_entropy {CLASSES} classes',
        arrays=(random_array((batch, CLASSES)), labels), needs_grad=(True, False),
        minicnn=F.softmax_cross_entropy,
        torch=lambda logits, rows: tnf.cross_entropy(logits, rows),  # rows of probabilities
        to_torch=lambda logits, rows: (logits, rows))


def layer_ops(model_name, batch):
    """The ops of one zoo model's layers (see the module docstring)."""
    model = zoo.get(model_name).build()
    shape, dense_seen = model.sample_shape, False
    for i, layer in enumerate(model.layers):
        x_shape = (batch, *shape)
        if isinstance(layer, Conv2D):
            yield from conv_ops(x_shape, layer, first=i == 0)
            if i == 0:
                yield from unfold_ops(x_shape, layer)
        elif isinstance(layer, MaxPooling2D):
            yield max_pool_op(x_shape, layer)
        elif isinstance(layer, Dense) and not dense_seen:
            yield dense_op(x_shape, layer, first=i == 0)
            dense_seen = True
        shape = layer.compute_output_shape(shape)


def suite(models, batch):
    """Every op of the models, each shape once, and the loss."""
    ops = {}
    for model_name in models:
        for op in layer_ops(model_name, batch):
            ops.setdefault(op.name, op)
    return [*ops.values(), loss_op(batch)]


def op_runner(op, impl):
    """A function that times one call of op (forward, then backward) with impl."""
    if impl.framework == 'torch':
        fn, arrays = op.torch, op.to_torch(*op.arrays)
    else:
        fn, arrays = op.minicnn, op.arrays
    inputs = [impl.tensor(a, wants) for a, wants in zip(arrays, op.needs_grad)]

    def run():
        impl.activate()
        for t in inputs:
            t.grad = None  # or backward would add to the last call's gradients
        start = impl.clock()
        out = fn(*inputs)
        forward = impl.clock() - start
        if not op.backward:
            return (forward,)
        grad = impl.ones_like(out)
        start = impl.clock()
        out.backward(grad)
        return forward, impl.clock() - start
    return run


def run(impls, models, batch, warmup, repeats):
    """Time every op with every impl; a list of {'op', 'ms': {impl: {'forward', 'backward'}}}."""
    results, ops = [], suite(models, batch)
    for i, op in enumerate(ops, 1):
        report.progress(f'ops {i}/{len(ops)}: {op.name}')
        medians = timing.round_robin({impl.name: op_runner(op, impl) for impl in impls},
                                     warmup, repeats)
        results.append({'op': op.name, 'ms': {
            name: dict(zip(('forward', 'backward'), (1e3 * s for s in seconds)))
            for name, seconds in medians.items()}})
    return results
