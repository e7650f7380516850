"""A model's graph of layers drawn as Keras draws it: ``utils.plot_model`` and
``utils.model_to_dot`` (Keras 2's), through pydot and Graphviz.

One box per layer, an arrow for each tensor one layer's call hands to
another's. This is the model's graph, one level above the autograd graph of
Functions that ``minicnn.viz.plot_graph`` draws behind a tensor.

Each box is a Graphviz "record": fields separated by '|', ``{...}`` turning a
row into a column and back. With every option on, Keras 2's label is::

    T | {name | {Conv2D | relu} | float32} | {input: | output:} |
        {{(None, 28, 28, 1)} | {(None, 26, 26, 32)}}      (one line, without the spaces)

A Sequential model is drawn with the InputLayer Keras 2 gives it,
'<first layer>_input'. An InputLayer's shapes are lists of one shape, as
Keras 2 shows them; a layer called twice (shared) is one box with the arrows of
both calls.
"""
import os
import shutil

from minicnn.fileio import atomic_write
from minicnn.interchange.keras_config import DTYPE, keras_type_name
from minicnn.layers import Activation, model_class
from minicnn.layers.base import WeightedLayer, with_batch_axis
from minicnn.layers.input_layer import InputLayer


def _pydot(where):
    try:
        import pydot
    except ImportError as err:
        raise ImportError(f'{where} needs the package pydot, which is not installed '
                          f'(pip install pydot), and Graphviz\'s program dot') from err
    return pydot


class Box:
    """One layer of the drawing: its input and output shapes (Keras's, batch axis
    None) and the layers whose outputs it takes, once per call."""

    def __init__(self, layer, input_shape, output_shape):
        self.layer, self.input_shape, self.output_shape = layer, input_shape, output_shape
        self.sources = []


def layer_boxes(model):
    """{id(layer): Box}, in the model's order."""
    boxes = {}

    def add(layer, input_shape, output_shape, sources):
        # a shared layer keeps its first call's shapes: minicnn's calls all have the same
        boxes.setdefault(id(layer), Box(layer, input_shape, output_shape)).sources += sources

    if isinstance(model, model_class('Sequential')):
        model._require_built('plot_model')
        first = model.layers[0].name if model.layers else model.name
        previous = InputLayer(input_shape=model.sample_shape, name=f'{first}_input')
        shape = with_batch_axis(model.sample_shape)
        add(previous, [shape], [shape], [])
        for layer in model.layers:
            output = with_batch_axis(layer.compute_output_shape(shape[1:]))
            add(layer, shape, output, [previous])
            shape, previous = output, layer
        return boxes
    model._require_graph('plot_model', NotImplementedError)
    for t in model.nodes:
        if t.inputs == ():  # an Input: no call made it
            add(t.layer, [t.shape], [t.shape], [])
        elif isinstance(t.inputs, (list, tuple)):
            add(t.layer, [i.shape for i in t.inputs], t.shape, [i.layer for i in t.inputs])
        else:
            add(t.layer, t.inputs.shape, t.shape, [t.inputs.layer])
    return boxes


def _shape_text(shape):
    """A shape as Keras 2 prints it, braces escaped for the record."""
    return str(shape).replace('{', r'\{').replace('}', r'\}')


def _has_activation(layer):
    """Keras's layers with an activation (Dense, the convolutions, Activation), and
    any other minicnn layer that was given one."""
    if isinstance(layer, model_class('Model')):
        return False
    return isinstance(layer, (WeightedLayer, Activation)) or layer.activation_name != 'linear'


def layer_label(box, show_shapes, show_dtype, show_layer_names, show_layer_activations,
                show_trainable):
    """The record label of one layer, field by field as Keras 2 builds it."""
    layer = box.layer
    label = keras_type_name(layer)
    if show_layer_activations and _has_activation(layer):
        label = f'{{{label}|{layer.activation_name}}}'
    if show_layer_names:
        label = f'{layer.name}|{label}'
    if show_dtype:
        label = f'{label}|{DTYPE}'
    if show_shapes:
        label = (f'{{{label}}}|{{input:|output:}}|'
                 f'{{{{{_shape_text(box.input_shape)}}}|{{{_shape_text(box.output_shape)}}}}}')
    if show_trainable:
        label = f"{'T' if layer.trainable else 'NT'}|{label}"
    return label


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True,
                 rankdir='TB', expand_nested=False, dpi=96, subgraph=False, layer_range=None,
                 show_layer_activations=False, show_trainable=False):
    """The model's graph as a ``pydot.Dot`` (a ``pydot.Cluster`` with subgraph=True).

    expand_nested draws a model used as a layer as a dashed cluster of its own
    layers, the arrows into and out of it going to its first and last layer.
    layer_range (Keras 2's drawing of a part of the model) is not implemented.
    """
    pydot = _pydot('model_to_dot')
    if layer_range is not None:
        raise ValueError(f'model_to_dot: layer_range={layer_range!r} (drawing a part of the '
                         f'model) is not implemented in minicnn; draw the whole model')
    if rankdir not in ('TB', 'LR', 'BT', 'RL'):
        raise ValueError(f"model_to_dot: rankdir must be 'TB', 'LR', 'BT' or 'RL', got "
                         f"rankdir={rankdir!r}")
    options = (show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable)
    if subgraph:
        dot = _cluster(pydot, model)
    else:
        dot = pydot.Dot(rankdir=rankdir, concentrate=True, dpi=dpi)
        dot.set_node_defaults(shape='record')
    _add_layers(pydot, dot, model, '', options, expand_nested)
    return dot


def _cluster(pydot, model):
    return pydot.Cluster(graph_name=model.name, style='dashed', label=model.name, labeljust='l')


def _add_layers(pydot, dot, model, scope, options, expand_nested):
    """A node per layer of ``model`` and an arrow per tensor passed; a node is named
    by the path of model names to it ('base/block1_conv1'), unique in the drawing."""
    for box in layer_boxes(model).values():
        layer = box.layer
        if expand_nested and isinstance(layer, model_class('Model')):
            cluster = _cluster(pydot, layer)
            _add_layers(pydot, cluster, layer, f'{scope}{layer.name}/', options, expand_nested)
            dot.add_subgraph(cluster)
        else:
            dot.add_node(pydot.Node(scope + layer.name, label=layer_label(box, *options)))
        for source in box.sources:
            # an arrow into a drawn-out model goes to its first layer, one out of it from its last
            tail = node_name(source, scope, expand_nested, -1)
            head = node_name(layer, scope, expand_nested, 0)
            if not dot.get_edge(tail, head):
                dot.add_edge(pydot.Edge(tail, head))


def node_name(layer, scope, expand_nested, end):
    """The node standing for ``layer``: its own, or with expand_nested for a model
    the node of its first (end=0) or last (end=-1) layer, itself perhaps a model."""
    if expand_nested and isinstance(layer, model_class('Model')):
        inner = list(layer_boxes(layer).values())[end].layer
        return node_name(inner, f'{scope}{layer.name}/', expand_nested, end)
    return scope + layer.name


def plot_model(model, to_file='model.png', show_shapes=False, show_dtype=False,
               show_layer_names=True, rankdir='TB', expand_nested=False, dpi=96,
               layer_range=None, show_layer_activations=False, show_trainable=False):
    """Draw the model's graph into ``to_file`` (Keras 2's ``utils.plot_model``),
    the format named by its extension (png without one), written atomically.

    Needs pydot and Graphviz's program ``dot``. Returns an IPython Image of
    the file where IPython is installed (a notebook shows it), as Keras does.
    """
    pydot = _pydot('plot_model')
    if shutil.which('dot') is None:
        raise ImportError("plot_model needs Graphviz's program dot, which is not on the PATH "
                          "(install Graphviz: apt-get install graphviz, brew install graphviz "
                          "or conda install graphviz)")
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:] or 'png'
    graph = model_to_dot(model, show_shapes, show_dtype, show_layer_names, rankdir,
                         expand_nested, dpi, layer_range=layer_range,
                         show_layer_activations=show_layer_activations,
                         show_trainable=show_trainable)
    if extension not in pydot.Dot().formats:
        raise ValueError(f'plot_model: to_file={to_file!r} asks for the format '
                         f'{extension!r}, which Graphviz does not write (png, pdf, svg, ...)')
    image = graph.create(prog='dot', format=extension)
    with atomic_write(to_file) as f:
        f.write(image)
    try:
        from IPython import display
    except ImportError:
        return None
    return display.Image(filename=to_file)
