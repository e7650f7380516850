"""ONNX export: a minicnn model as an ONNX graph, for ONNX Runtime and other
inference engines.

    model.export('model.onnx')          # format='onnx', Keras 3's name for it

The graph takes what ``predict`` takes, NHWC float32 batches of any size
(the first axis is the symbolic 'batch'), and returns what ``predict``
returns; dropout and noise layers are the identity, as at inference.

An ONNX graph is a list of nodes, each an operator (Conv, MatMul, Relu, ...)
reading named values and writing new ones; weights are named constants
(initializers). Exporting runs the model's graph once, as ``Model._run``
does, but each layer appends nodes instead of computing: ``EXPORTERS`` maps
a layer class to its function ``emit(graph, layer, x) -> y``, x and y the
names of values (x a list for merge layers), and the layer's activation is
appended after it from ``ACTIVATIONS``. Exporting one more layer is one
more function and one more entry.

Layout: ONNX's convolutions and pooling take NCHW, minicnn's NHWC. Each of
those ops is put between two Transposes, to NCHW and back, so that every
value between layers is NHWC, as in minicnn. Keras's 'same' padding puts the
odd pixel at the end (bottom, right); the pads are written out explicitly,
from minicnn.functional.geometry, so the graph pads exactly as minicnn does.
"""
import math

import numpy as np

from minicnn import devices
from minicnn import layers as L
from minicnn.fileio import atomic_write
from minicnn.functional.conv import dilated_window
from minicnn.functional.conv_variants import transposed_geometry
from minicnn.functional.geometry import window_geometry

try:
    import onnx
    from onnx import helper, numpy_helper
except ImportError:  # an optional extra: pip install minicnn[onnx]
    onnx = None

OPSET = 17  # ONNX Runtime 1.16 and later run it
TO_NCHW, TO_NHWC = [0, 3, 1, 2], [0, 2, 3, 1]


class GraphBuilder:
    """The nodes and constants of the graph being built, every value named once."""

    def __init__(self):
        self.nodes, self.initializers, self.count = [], [], 0

    def fresh(self, hint):
        self.count += 1
        return f'{hint}:{self.count}'

    def op(self, op_type, inputs, **attributes):
        """Append one node; return the name of its output."""
        output = self.fresh(op_type)
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], name=output,
                                           **attributes))
        return output

    def constant(self, array, hint):
        """A float32 (or int64, for shapes) constant; return its name."""
        array = np.asarray(array)
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(
            array.astype(np.int64 if array.dtype.kind in 'iu' else np.float32), name))
        return name


def export(model, path):
    """Write ``model`` to ``path`` as an ONNX model, checked by onnx.checker."""
    if onnx is None:
        raise ImportError('export: ONNX export needs the onnx package: '
                          'pip install onnx (or minicnn[onnx])')
    model._require_built('export')
    if isinstance(model, L.model_class('Sequential')):
        input_names, output_names = ['input'], ['output']
    else:
        input_names = [t.layer.name for t in model.inputs]
        output_names = [f'{t.layer.name}_output' for t in model.outputs]
    graph = GraphBuilder()
    outputs = emit_model(graph, model, input_names if len(input_names) > 1 else input_names[0])
    for name, output_name in zip(_as_list(outputs), output_names):
        graph.nodes.append(helper.make_node('Identity', [name], [output_name]))
    in_shapes = _as_list(model.sample_shape)
    out_shapes = _as_list(model.compute_output_shape(model.sample_shape))
    onnx_model = helper.make_model(
        helper.make_graph(graph.nodes, model.name,
                          [_value_info(n, s) for n, s in zip(input_names, in_shapes)],
                          [_value_info(n, s) for n, s in zip(output_names, out_shapes)],
                          graph.initializers),
        opset_imports=[helper.make_opsetid('', OPSET)], producer_name='minicnn')
    onnx.checker.check_model(onnx_model, full_check=True)
    with atomic_write(path) as f:
        f.write(onnx_model.SerializeToString())


def _as_list(items):
    return items if isinstance(items, list) else [items]


def _value_info(name, sample_shape):
    """A float32 value of shape ('batch', *sample_shape): any batch size."""
    return helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT,
                                         ['batch', *sample_shape])


def emit_model(graph, model, x):
    """A (nested) model's nodes: x, y names (lists for several inputs or outputs)."""
    if isinstance(model, L.model_class('Sequential')):
        for layer in model.layers:
            x = emit_layer(graph, layer, x)
        return x
    xs = x if isinstance(x, list) else [x]
    values = {id(t): name for t, name in zip(model.inputs, xs)}
    for t in model.nodes:
        if id(t) not in values:
            inputs = [values[id(i)] for i in t.inputs] if isinstance(t.inputs, (list, tuple)) \
                else values[id(t.inputs)]
            values[id(t)] = emit_layer(graph, t.layer, inputs)
    outputs = [values[id(t)] for t in model.outputs]
    return outputs[0] if model.single_output else outputs


def emit_layer(graph, layer, x):
    """One layer's nodes, then its activation's."""
    emit = EXPORTERS.get(type(layer))
    if emit is None:
        raise NotImplementedError(
            f"export: layer '{layer.name}' is a {type(layer).__name__}, which minicnn's ONNX "
            f"export does not cover; it covers {sorted(cls.__name__ for cls in EXPORTERS)}")
    y = emit(graph, layer, x)
    if layer.activation is None:  # a nested model's layers applied their own
        return y
    return emit_activation(graph, layer, layer.activation_name, y)


def emit_activation(graph, layer, name, x):
    if name not in ACTIVATIONS:
        raise NotImplementedError(f"export: layer '{layer.name}' has the activation {name!r}, "
                                  f"which minicnn's ONNX export does not cover; it covers "
                                  f"{sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name](graph, x)


def value(weight):
    """A weight's values as a NumPy array."""
    return devices.to_numpy(weight.data)


# -- activations: (graph, x) -> y ---------------------------------------------------------

def _relu(graph, x, negative_slope=0.0, max_value=None, threshold=0.0):
    """minicnn's relu with Keras's options: x above threshold, else
    negative_slope * (x - threshold); then at most max_value."""
    if negative_slope == 0 and threshold == 0:
        y = graph.op('Relu', [x])
    else:
        t = graph.constant(np.float32(threshold), 'threshold')
        below = graph.op('Mul', [graph.constant(np.float32(negative_slope), 'slope'),
                                 graph.op('Sub', [x, t])])
        y = graph.op('Where', [graph.op('Greater', [x, t]), x, below])
    if max_value is None:
        return y
    return graph.op('Min', [y, graph.constant(np.float32(max_value), 'max_value')])


def _gelu(graph, x):
    """x Phi(x) = x/2 (1 + erf(x / sqrt 2)), the exact form (ONNX's Gelu needs opset 20)."""
    erf = graph.op('Erf', [graph.op('Mul', [x, graph.constant(np.float32(1 / math.sqrt(2)),
                                                              'inverse_sqrt2')])])
    half_x = graph.op('Mul', [x, graph.constant(np.float32(0.5), 'half')])
    return graph.op('Mul', [half_x, graph.op('Add', [erf, graph.constant(np.float32(1), 'one')])])


def _silu(graph, x):
    return graph.op('Mul', [x, graph.op('Sigmoid', [x])])


ACTIVATIONS = {
    'relu': _relu,
    'leaky_relu': lambda g, x: g.op('LeakyRelu', [x], alpha=0.2),
    'relu6': lambda g, x: _relu(g, x, max_value=6.0),
    'elu': lambda g, x: g.op('Elu', [x], alpha=1.0),
    'selu': lambda g, x: g.op('Selu', [x], alpha=1.6732632423543772, gamma=1.0507009873554805),
    'gelu': _gelu,
    'silu': _silu, 'swish': _silu,
    'softplus': lambda g, x: g.op('Softplus', [x]),
    'softsign': lambda g, x: g.op('Softsign', [x]),
    'hard_sigmoid': lambda g, x: g.op('HardSigmoid', [x], alpha=1 / 6, beta=0.5),
    'exponential': lambda g, x: g.op('Exp', [x]),
    'tanh': lambda g, x: g.op('Tanh', [x]),
    'sigmoid': lambda g, x: g.op('Sigmoid', [x]),
    'softmax': lambda g, x: g.op('Softmax', [x], axis=-1),
    'log_softmax': lambda g, x: g.op('LogSoftmax', [x], axis=-1),
}


# -- layers: (graph, layer, x) -> y --------------------------------------------------------

def _in_nchw(graph, op_type, x, inputs=(), **attributes):
    """``op_type`` on NHWC x, run in ONNX's NCHW between two Transposes."""
    y = graph.op(op_type, [graph.op('Transpose', [x], perm=TO_NCHW), *inputs], **attributes)
    return graph.op('Transpose', [y], perm=TO_NHWC)


def _window(layer, window, dilation=(1, 1)):
    """ONNX's window attributes for a minicnn layer: kernel_shape, strides, pads
    (top, left, bottom, right: Keras's 'same' puts the odd pixel at the end)."""
    (top, bottom, left, right), _ = window_geometry(
        layer.name, (None, *layer.sample_shape), dilated_window(window, dilation),
        layer.strides, layer.padding)
    return {'kernel_shape': list(window), 'strides': list(layer.strides),
            'pads': [top, left, bottom, right]}


def _bias(graph, layer):
    return [graph.constant(value(layer.bias), f'{layer.name}/bias')] if layer.use_bias else []


def conv2d(graph, layer, x):
    """kernel (kh, kw, C/G, F) -> ONNX's (F, C/G, kh, kw)."""
    kernel = graph.constant(value(layer.kernel).transpose(3, 2, 0, 1), f'{layer.name}/kernel')
    return _in_nchw(graph, 'Conv', x, [kernel, *_bias(graph, layer)], group=layer.groups,
                    dilations=list(layer.dilation_rate),
                    **_window(layer, layer.kernel_size, layer.dilation_rate))


def _depthwise(graph, layer, x, bias):
    """The depthwise convolution as a Conv with one group per channel:
    kernel (kh, kw, C, M) -> (C*M, 1, kh, kw), output channel c*M + m."""
    kh, kw, channels, multiplier = layer.depthwise_kernel.shape
    kernel = value(layer.depthwise_kernel).transpose(2, 3, 0, 1).reshape(
        channels * multiplier, 1, kh, kw)
    return graph.op('Conv', [x, graph.constant(kernel, f'{layer.name}/depthwise_kernel'), *bias],
                    group=channels, dilations=list(layer.dilation_rate),
                    **_window(layer, layer.kernel_size, layer.dilation_rate))


def depthwise_conv2d(graph, layer, x):
    y = _depthwise(graph, layer, graph.op('Transpose', [x], perm=TO_NCHW), _bias(graph, layer))
    return graph.op('Transpose', [y], perm=TO_NHWC)


def separable_conv2d(graph, layer, x):
    """The depthwise Conv, then a 1x1 Conv: pointwise (1, 1, C*M, F) -> (F, C*M, 1, 1)."""
    depthwise = _depthwise(graph, layer, graph.op('Transpose', [x], perm=TO_NCHW), [])
    pointwise = graph.constant(value(layer.pointwise_kernel).transpose(3, 2, 0, 1),
                               f'{layer.name}/pointwise_kernel')
    y = graph.op('Conv', [depthwise, pointwise, *_bias(graph, layer)], kernel_shape=[1, 1])
    return graph.op('Transpose', [y], perm=TO_NHWC)


def conv2d_transpose(graph, layer, x):
    """ConvTranspose: kernel (kh, kw, F, C) -> ONNX's (C, F, kh, kw). Its full
    output, (H - 1) s + span per axis, is cut to minicnn's by the pads (or
    extended by output_padding where minicnn's is longer)."""
    (_, out_h, out_w, _), (top, _, left, _) = transposed_geometry(
        (None, *layer.sample_shape), layer.kernel.shape, layer.strides, layer.padding,
        layer.output_padding, layer.dilation_rate)
    span = dilated_window(layer.kernel_size, layer.dilation_rate)
    ends = [(size - 1) * s + k - begin - out for size, s, k, begin, out in zip(
        layer.sample_shape[:2], layer.strides, span, (top, left), (out_h, out_w))]
    kernel = graph.constant(value(layer.kernel).transpose(3, 2, 0, 1), f'{layer.name}/kernel')
    return _in_nchw(graph, 'ConvTranspose', x, [kernel, *_bias(graph, layer)],
                    kernel_shape=list(layer.kernel_size), strides=list(layer.strides),
                    dilations=list(layer.dilation_rate),
                    pads=[top, left, max(ends[0], 0), max(ends[1], 0)],
                    output_padding=[max(-e, 0) for e in ends])


def dense(graph, layer, x):
    """x (N, in) @ kernel (in, units) + bias."""
    y = graph.op('MatMul', [x, graph.constant(value(layer.kernel), f'{layer.name}/kernel')])
    return graph.op('Add', [y, *_bias(graph, layer)]) if layer.use_bias else y


def max_pooling2d(graph, layer, x):
    # ONNX's MaxPool leaves the padding out of the max, as minicnn's -inf padding does
    return _in_nchw(graph, 'MaxPool', x, **_window(layer, layer.pool_size))


def average_pooling2d(graph, layer, x):
    # count_include_pad=0: a window's mean over its pixels inside the image, as Keras's
    return _in_nchw(graph, 'AveragePool', x, count_include_pad=0,
                    **_window(layer, layer.pool_size))


def global_pooling(op_type):
    def emit(graph, layer, x):
        return graph.op(op_type, [x], axes=[1, 2], keepdims=int(layer.keepdims))
    return emit


def batch_normalization(graph, layer, x):
    """Inference: x * scale + shift per feature, scale = gamma / sqrt(var + eps)
    and shift = beta - mean * scale, shaped to broadcast along ``axis``."""
    features = layer.moving_mean.shape[0]
    gamma = value(layer.gamma) if layer.gamma is not None else np.ones(features, np.float32)
    beta = value(layer.beta) if layer.beta is not None else np.zeros(features, np.float32)
    scale = gamma / np.sqrt(value(layer.moving_variance) + np.float32(layer.epsilon))
    shift = beta - value(layer.moving_mean) * scale
    rank = len(layer.sample_shape)
    shape = [features if axis == layer.axis % (rank + 1) - 1 else 1 for axis in range(rank)]
    y = graph.op('Mul', [x, graph.constant(scale.reshape(shape), f'{layer.name}/scale')])
    return graph.op('Add', [y, graph.constant(shift.reshape(shape), f'{layer.name}/shift')])


def flatten(graph, layer, x):
    return graph.op('Flatten', [x], axis=1)  # row-major, so NHWC order, as minicnn's


def reshape(graph, layer, x):
    shape = [-1, *layer.compute_output_shape(layer.sample_shape)]  # -1: the batch
    return graph.op('Reshape', [x, graph.constant(shape, f'{layer.name}/shape')])


def permute(graph, layer, x):
    return graph.op('Transpose', [x], perm=[0, *layer.dims])


def repeat_vector(graph, layer, x):
    """(N, F) -> (N, 1, F) -> (N, n, F)."""
    y = graph.op('Unsqueeze', [x, graph.constant([1], 'axis')])
    return graph.op('Tile', [y, graph.constant([1, layer.n, 1], f'{layer.name}/repeats')])


def zero_padding2d(graph, layer, x):
    (top, bottom), (left, right) = layer.padding
    pads = graph.constant([0, top, left, 0, 0, bottom, right, 0], f'{layer.name}/pads')
    return graph.op('Pad', [x, pads], mode='constant')


def cropping2d(graph, layer, x):
    (top, bottom), (left, right) = layer.cropping
    h, w, _ = layer.sample_shape
    return graph.op('Slice', [x, graph.constant([top, left], 'starts'),
                              graph.constant([h - bottom, w - right], 'ends'),
                              graph.constant([1, 2], 'axes')])


def upsampling2d(graph, layer, x):
    """Resize with TensorFlow's half-pixel centres, as minicnn's upsample2d;
    nearest rounds a half up, as minicnn's floor(s + 0.5)."""
    scales = graph.constant(np.array([1, *layer.size, 1], np.float32), f'{layer.name}/scales')
    mode = {'nearest': {'mode': 'nearest', 'nearest_mode': 'round_prefer_ceil'},
            'bilinear': {'mode': 'linear'}}[layer.interpolation]
    return graph.op('Resize', [x, '', scales], coordinate_transformation_mode='half_pixel',
                    **mode)


def identity(graph, layer, x):
    return x  # dropout and noise act only in training; an InputLayer passes x on


def chained(op_type):
    """A merge layer as a chain of a two-input ONNX op: ((x0 op x1) op x2) ..."""
    def emit(graph, layer, xs):
        y = xs[0]
        for x in xs[1:]:
            y = graph.op(op_type, [y, x])
        return y
    return emit


def variadic(op_type):
    """A merge layer as one ONNX op over all its inputs (Mean, Max)."""
    def emit(graph, layer, xs):
        return graph.op(op_type, xs)
    return emit


def concatenate(graph, layer, xs):
    return graph.op('Concat', xs, axis=layer.axis)  # NHWC on both sides: the same axis


def relu_layer(graph, layer, x):
    return _relu(graph, x, layer.negative_slope, layer.max_value, layer.threshold)


def softmax_layer(graph, layer, x):
    # along the last axis the layer is Activation('softmax'): emit_layer adds it
    return x if layer.axis == -1 else graph.op('Softmax', [x], axis=layer.axis)


def prelu(graph, layer, x):
    return graph.op('PRelu', [x, graph.constant(value(layer.alpha), f'{layer.name}/alpha')])


def rescaling(graph, layer, x):
    y = graph.op('Mul', [x, graph.constant(layer.scale, f'{layer.name}/scale')])
    return graph.op('Add', [y, graph.constant(layer.offset, f'{layer.name}/offset')])


EXPORTERS = {
    L.InputLayer: identity, L.Dropout: identity, L.SpatialDropout2D: identity,
    L.GaussianDropout: identity, L.GaussianNoise: identity, L.Activation: identity,
    L.Conv2D: conv2d, L.DepthwiseConv2D: depthwise_conv2d, L.SeparableConv2D: separable_conv2d,
    L.Conv2DTranspose: conv2d_transpose, L.Dense: dense,
    L.MaxPooling2D: max_pooling2d, L.AveragePooling2D: average_pooling2d,
    L.GlobalAveragePooling2D: global_pooling('ReduceMean'),
    L.GlobalMaxPooling2D: global_pooling('ReduceMax'),
    L.BatchNormalization: batch_normalization,
    L.Flatten: flatten, L.Reshape: reshape, L.Permute: permute, L.RepeatVector: repeat_vector,
    L.ZeroPadding2D: zero_padding2d, L.Cropping2D: cropping2d, L.UpSampling2D: upsampling2d,
    L.Add: chained('Add'), L.Subtract: chained('Sub'), L.Multiply: chained('Mul'),
    L.Average: variadic('Mean'), L.Maximum: variadic('Max'), L.Minimum: variadic('Min'), L.Concatenate: concatenate,
    L.ReLU: relu_layer, L.LeakyReLU: lambda g, layer, x: g.op('LeakyRelu', [x], alpha=layer.alpha),
    L.ELU: lambda g, layer, x: g.op('Elu', [x], alpha=layer.alpha),
    L.PReLU: prelu, L.Softmax: softmax_layer, L.Rescaling: rescaling,
    # the registered model classes (minicnn.models registers them; see saving.py)
    L.model_class('Sequential'): lambda g, model, x: emit_model(g, model, x),
    L.model_class('Model'): lambda g, model, x: emit_model(g, model, x),
}
