"""Pictures of data, training and what a network has learned.

Each ``plot_*`` function draws one figure, saves it as a PNG at ``path``
and returns the path::

    plot_images(x[:16], y[:16], class_names=names, path='samples.png')
    plot_history(model.fit(...), 'history.png')
    plot_kernels(model.layers[0], 'kernels.png')
    plot_feature_maps(activations, 'maps.png')
    plot_before_after(image, convolved, 'edges.png')
    plot_graph(loss, 'graph.png', show_grads=True)      the autograd graph behind a tensor
    plot_saliency(x[:8], grad_cam(model, x[:8]), 'cam.png')
    plot_profile(minicnn.profiler.profile(model, x, y), 'profile.png')

Four functions look inside a network rather than draw: ``autograd_graph``
(the nodes and edges of the graph behind a tensor) and ``graph_dot`` (the
same as Graphviz text), ``saliency`` and ``grad_cam`` (which pixels a class
score depends on, computed with minicnn's own autograd). The graph of a
model's layers, rather than of its Functions, is Keras's ``utils.plot_model``
(minicnn/model_graph.py).

Figures are plain ``matplotlib.figure.Figure`` objects, not pyplot ones:
they render to PNG through Agg on any machine, display or not, and leave
the user's pyplot backend and open windows alone. pyplot is imported only
when a function is called with ``show=True``, and then it picks the backend
as it always does (a window where there is a display, Agg where there is
none).

Saving is atomic: the PNG is written to a hidden temporary file beside
``path`` and renamed over it, so an interrupted save leaves the old file or
nothing, never half a PNG.

Arrays may live on the GPU (CuPy) or in a ``Tensor``; they are copied to
NumPy first. Wrong shapes raise ``ValueError`` naming the argument and its
shape.
"""
import contextlib
import functools
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from minicnn import devices
from minicnn.autograd import Tensor, topological_order, no_grad
from minicnn.fileio import atomic_write
from minicnn.layers import Activation, Conv2D
from minicnn.models import Sequential

TILE_INCHES = 1.6   # width and height of one picture in a grid
WIDE_GRID = 8       # columns of kernel and feature-map grids


def plot_images(images, labels=None, class_names=None, *, path, ncols=4, title=None,
                show=False):
    """A grid of images, each titled with its label; returns ``path``.

    ``images`` has shape (N, H, W) (grayscale) or (N, H, W, C) with C 1 or
    3, uint8 (0..255) or float (see ``unit_range`` for how floats are
    shown). ``labels``, when given, are class indices of shape (N,) or
    (N, 1), or one-hot rows of shape (N, K); each image is titled with
    ``class_names[label]``, or with the bare index when ``class_names`` is
    None. ``path`` is keyword-only so that the optional labels can come
    before it.
    """
    images = _to_numpy(images)
    _check(images.ndim in (3, 4) and len(images) > 0 and _is_image(images[0]),
           'plot_images', 'images', images, '(N, H, W) or (N, H, W, C) with N > 0 and C 1 or 3')
    names = [''] * len(images)
    if labels is not None:
        names = _label_names(labels, class_names, len(images))
    tiles = [unit_range(_drop_single_channel(image)) for image in images]
    return _save(_tile_grid(tiles, names, ncols, title, show), path, show)


def plot_history(history, path, title=None, show=False):
    """Loss and accuracy per epoch, training against validation; returns ``path``.

    ``history`` is what ``fit`` returns (an object with a ``.history``
    dict) or such a dict itself, mapping 'loss', 'accuracy', 'val_loss' and
    'val_accuracy' (or the older 'acc' and 'val_acc') to one value per
    epoch. Any subset will do: there is one panel for each of loss and
    accuracy that has values, and epochs are counted from 1.
    """
    logs = getattr(history, 'history', history)
    if not isinstance(logs, Mapping):
        raise ValueError(f'plot_history: history must be a dict or have a .history dict, '
                         f'got {type(history).__name__}')
    panels = [(quantity, _curves(logs, names)) for quantity, names in
              (('loss', ('loss',)), ('accuracy', ('accuracy', 'acc')))]
    panels = [(quantity, curves) for quantity, curves in panels if curves]
    if not panels:
        raise ValueError(f'plot_history: history has no loss or accuracy values, '
                         f'got keys {sorted(logs)}')
    fig = _new_figure((5 * len(panels), 3.6), show)
    for i, (quantity, curves) in enumerate(panels, start=1):
        ax = fig.add_subplot(1, len(panels), i)
        for label, values in curves:
            ax.plot(np.arange(1, len(values) + 1), values, marker='o', markersize=3, label=label)
        ax.set_xlabel('epoch')
        ax.set_ylabel(quantity)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 2.5
        ax.legend()
    if title:
        fig.suptitle(title)
    return _save(fig, path, show)


def plot_kernels(kernel, path, title=None, show=False):
    """One small picture per output filter of a convolution; returns ``path``.

    ``kernel`` is the weight array of shape (kh, kw, in, out) (HWIO), or a
    conv layer: one with a ``.kernel`` attribute (a Tensor or an array) or
    a Keras-style ``get_weights()`` whose first entry is the kernel.

    Filters over 3 input channels are shown in colour, as RGB; any other
    number of input channels is averaged into one grayscale picture. Each
    filter is stretched to [0, 1] on its own, so the pictures show the
    pattern of each filter, not how large its weights are.
    """
    kernel = _kernel_array(kernel)
    _check(kernel.ndim == 4, 'plot_kernels', 'kernel', kernel, '(kh, kw, in, out)')
    filters = np.moveaxis(kernel, -1, 0)                  # (out, kh, kw, in)
    if kernel.shape[2] != 3:
        filters = filters.mean(axis=-1)                   # (out, kh, kw)
    tiles = [stretch(f) for f in filters]
    names = [str(i) for i in range(len(tiles))]
    return _save(_tile_grid(tiles, names, WIDE_GRID, title, show), path, show)


def plot_feature_maps(maps, path, title=None, max_maps=32, show=False):
    """The activations of one image at one layer, a grayscale picture per channel.

    ``maps`` has shape (H, W, C) or (1, H, W, C). The first ``max_maps``
    channels are shown, each titled with its index and stretched to [0, 1]
    on its own (so a weak map looks as bright as a strong one; a map that is
    constant, such as a dead ReLU, is black). Returns ``path``.
    """
    maps = _drop_batch_of_one(_to_numpy(maps))
    _check(maps.ndim == 3 and maps.shape[-1] > 0, 'plot_feature_maps', 'maps', maps,
           '(H, W, C) or (1, H, W, C)')
    channels = min(maps.shape[-1], max_maps)
    tiles = [stretch(maps[..., c]) for c in range(channels)]
    names = [str(c) for c in range(channels)]
    return _save(_tile_grid(tiles, names, WIDE_GRID, title, show), path, show)


def plot_before_after(before, after, path, titles=('original', 'after convolution'),
                      show=False):
    """An image and what a convolution made of it, side by side; returns ``path``.

    Each image has shape (H, W), (H, W, 1) or (H, W, 3), optionally with a
    leading batch axis of one; the two need not be the same size.
    Convolution outputs rarely lie in [0, 1], so they are usually stretched
    (see ``unit_range``).
    """
    if len(titles) != 2:
        raise ValueError(f'plot_before_after: titles must be two captions, got {titles!r}')
    pair = []
    for name, image in (('before', before), ('after', after)):
        image = _drop_batch_of_one(_to_numpy(image))
        _check(_is_image(image), 'plot_before_after', name, image,
               '(H, W) or (H, W, C) with C 1 or 3')
        pair.append(unit_range(_drop_single_channel(image)))
    fig = _new_figure((2 * 3.2, 3.4), show)
    for i, (image, caption) in enumerate(zip(pair, titles), start=1):
        _show_tile(fig.add_subplot(1, 2, i), image, caption)
    return _save(fig, path, show)


def grid_shape(n, ncols):
    """(rows, columns) of a grid of ``n`` pictures at most ``ncols`` wide."""
    if n < 1 or ncols < 1:
        raise ValueError(f'grid_shape: n and ncols must be positive, got n={n}, ncols={ncols}')
    cols = min(n, ncols)
    return -(-n // cols), cols


def stretch(values):
    """``values`` mapped linearly onto [0, 1]: the minimum black, the maximum white.

    A constant array has no contrast to stretch and becomes all zeros.
    """
    values = values.astype(np.float64)
    low, high = values.min(), values.max()
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def unit_range(image):
    """An image as floats in [0, 1] for display.

    Integer images in 0..255 (uint8 pictures) are divided by 255 and float
    images already in [0, 1] are kept, so pictures look as they are; any
    other values (standardised inputs, convolution outputs) are stretched.
    """
    low, high = image.min(), image.max()
    if image.dtype.kind in 'ui' and low >= 0 and high <= 255:
        return image / 255.0
    if image.dtype.kind == 'f' and low >= 0 and high <= 1:
        return image
    return stretch(image)


# --- the autograd graph --------------------------------------------------
#
# A Function keeps its inputs (``fn.inputs``) and each tensor it made keeps
# it (``t.creator``), so walking from a tensor back through creators and
# inputs finds every step that made it: the graph that ``backward`` runs
# through in reverse.

GRAPH_VALUES = 8     # show_values prints the tensors of at most this many elements
NODE_COLOURS = {'function': '#cfe2f3', 'weight': '#f9cb9c', 'constant': '#e6e6e6'}


@dataclass
class GraphNode:
    """One node of an autograd graph, as ``autograd_graph`` describes it.

    kind: 'function' (a Function, labelled with what made its output),
    'weight' (a leaf tensor that wants a gradient: a weight, or an input
    made a leaf with requires_grad=True) or 'constant' (a leaf that does
    not: the images, the labels). lines: the label, one line each. depth:
    the number of functions on the longest path from this node to the
    output, 0 for the function that made the output.
    """
    kind: str
    lines: list
    depth: int


def autograd_graph(tensor, show_values=False, show_grads=False):
    """The graph that made ``tensor``: (nodes, edges).

    nodes: {key: GraphNode}, one per Function and per leaf tensor that
    feeds one (the key is the object's id). edges: [(producer key, consumer
    key)], data flowing from the leaves through the functions to the
    output; an input used twice gives two edges. A function's label is its
    class name, its inputs' shapes and its output's shape; a leaf's its
    ``name`` (weights are named '<layer>/<weight>', e.g. 'conv2d/kernel')
    and shape.

    show_values adds the values of tensors with at most GRAPH_VALUES
    elements. show_grads adds gradient norms ||d tensor / d node||, the
    same ones ``tensor.backward()`` would compute (of ``tensor.sum()`` when
    it is not a scalar), for every function's output and every leaf that
    wants a gradient. They are computed on a copy of the graph, so the
    graph and each weight's ``.grad`` stay as they are.

    Draw before calling ``backward``: it releases the graph as it goes
    (``creator = None``), after which ``tensor`` is a lone leaf.
    """
    order = topological_order(tensor)      # tensor first, each before its inputs
    norms = _gradient_norms(tensor) if show_grads else {}
    nodes, edges = {}, []
    if tensor.creator is None:
        nodes[id(tensor)] = _leaf_node(tensor, 0, show_values, norms)
        return nodes, edges
    depth = {id(tensor.creator): 0}
    for t in order:
        fn = t.creator
        if fn is None:
            continue
        nodes[id(fn)] = GraphNode('function', _function_lines(fn, t, show_values, norms),
                                  depth[id(fn)])
        for x in fn.inputs:
            key = id(x.creator) if x.creator is not None else id(x)
            # every user of x comes before it in the order, so this max is final
            depth[key] = max(depth.get(key, 0), depth[id(fn)] + 1)
            edges.append((key, id(fn)))
            if x.creator is None:
                nodes[key] = _leaf_node(x, depth[key], show_values, norms)
    return nodes, edges


def graph_dot(tensor, show_values=False, show_grads=False):
    """The graph that made ``tensor`` as Graphviz DOT text (see ``autograd_graph``).

    Functions are blue boxes, leaves that want a gradient orange ellipses,
    constants grey ones; ``dot -Tpng graph.dot -o graph.png`` draws it.
    """
    nodes, edges = autograd_graph(tensor, show_values, show_grads)
    names = {key: f'n{i}' for i, key in enumerate(nodes)}
    lines = ['digraph autograd {', '  node [fontname="Helvetica", fontsize=10, style=filled];']
    for key, node in nodes.items():
        shape = 'box' if node.kind == 'function' else 'ellipse'
        lines.append(f'  {names[key]} [label="{_dot_label(node.lines)}", shape={shape}, '
                     f'fillcolor="{NODE_COLOURS[node.kind]}"];')
    lines += [f'  {names[a]} -> {names[b]};' for a, b in edges]
    return '\n'.join([*lines, '}']) + '\n'


def plot_graph(tensor, path=None, show_values=False, show_grads=False):
    """Draw the graph that made ``tensor`` as a PNG; returns the path.

    path defaults to 'graph.png' (as DeZero's ``plot_dot_graph``). Graphviz's
    ``dot`` draws it when it is on the PATH; without it matplotlib does, in
    layers by depth: the output at the bottom, each node one row above its
    highest user. See ``autograd_graph`` for the labels and options, and
    draw before ``backward``, which releases the graph.
    """
    path = os.fspath(path or 'graph.png')
    dot = shutil.which('dot')
    if dot is None:
        return _save(_graph_figure(*autograd_graph(tensor, show_values, show_grads)), path,
                     show=False)
    text = graph_dot(tensor, show_values, show_grads)
    png = subprocess.run([dot, '-Tpng'], input=text.encode(), capture_output=True,
                         check=True).stdout
    with atomic_write(path) as file:
        file.write(png)
    return path


# --- why the network decided ---------------------------------------------
#
# Both maps ask how a class score S_c, the last layer's output before its
# activation (the logit, before softmax), changes with something the
# network saw. The scores of the images in a batch are summed,
# S = sum_n S_{c_n}(x_n): a forward pass without training mixes no images,
# so dS / dx_n is image n's own gradient, and one backward pass gives all.

def saliency(model, x, class_index=None):
    """Saliency maps (Simonyan, Vedaldi and Zisserman 2014): (N, H, W).

    For images x (N, H, W, C) and class c_n of image n,

        M[n, i, j] = max_k | dS_{c_n} / dx[n, i, j, k] |

    how much the class score moves when pixel (i, j) changes, taking the
    channel where it moves most. class_index: None for each image's
    predicted class, an int for one class for all, or one class per image
    (N,). The maps are not normalised; the gradient comes from minicnn's
    autograd, with x a leaf tensor that wants a gradient.
    """
    grads, _ = _class_score_gradient(model, model.logits, x, class_index)
    return np.abs(grads).max(axis=-1)


def grad_cam(model, x, layer_name=None, class_index=None):
    """Grad-CAM maps (Selvaraju et al. 2017): (N, H, W), each in [0, 1].

    A (N, h, w, K) are the feature maps a layer makes of images x
    (N, H, W, C); by default the last Conv2D's, after the Activation layer
    that follows it if there is one (the rectified maps of the paper,
    whether the ReLU is the conv's ``activation=`` or a layer of its own).
    For class c_n of image n:

        alpha[n, k] = 1 / (h w) sum_{i, j} dS_{c_n} / dA[n, i, j, k]     (how much map k counts)
        L[n] = ReLU(sum_k alpha[n, k] A[n, :, :, k])                     (h, w)

    L is resized to (H, W) by bilinear interpolation and divided by its
    maximum (a map that is 0 everywhere stays 0). layer_name: a layer
    with (N, h, w, K) outputs; class_index as in ``saliency``. The
    gradient comes from minicnn's autograd, with A a leaf tensor that
    wants a gradient. The model must be a Sequential one, a chain of layers
    that can be cut after the feature maps.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f'grad_cam: needs a Sequential model (a chain of layers to cut after '
                        f'the feature maps), got {type(model).__name__}')
    last = _feature_layer(model, layer_name)
    with no_grad():
        maps = Tensor(x)
        for layer in model.layers[:last + 1]:
            maps = layer(maps)
    if maps.ndim != 4:
        raise ValueError(f"grad_cam: layer '{model.layers[last].name}' gives outputs of shape "
                         f"{maps.shape}; it needs one that gives feature maps (N, h, w, K)")
    scores_of = functools.partial(_logits_after, model, last)
    grads, _ = _class_score_gradient(model, scores_of, maps.data, class_index)
    features = devices.to_numpy(maps.data)
    alpha = grads.mean(axis=(1, 2))                                       # (N, K)
    cam = np.maximum(np.einsum('nhwk,nk->nhw', features, alpha), 0)      # (N, h, w)
    return np.stack([_over_max(m) for m in _resize_bilinear(cam, np.shape(x)[1:3])])


def plot_saliency(images, maps, path, titles=None, ncols=4, title=None, alpha=0.5, cmap='jet',
                  show=False):
    """Each image with its map laid over it in colour; returns ``path``.

    images: (N, H, W) or (N, H, W, C) with C 1 or 3, shown as ``plot_images``
    shows them; maps: (N, H, W) of non-negative values, such as ``saliency``
    or ``grad_cam`` returns, each divided by its maximum so that 0 is the
    colour map's low end and its largest value the high end. titles: one
    caption per image; alpha: how opaque the maps are.
    """
    images, maps = _to_numpy(images), _to_numpy(maps)
    _check(images.ndim in (3, 4) and len(images) > 0 and _is_image(images[0]),
           'plot_saliency', 'images', images, '(N, H, W) or (N, H, W, C) with N > 0 and C 1 or 3')
    _check(maps.shape == images.shape[:3], 'plot_saliency', 'maps', maps,
           f'{images.shape[:3]} to match the images')
    tiles = [(unit_range(_drop_single_channel(image)), _over_max(m))
             for image, m in zip(images, maps)]
    names = [''] * len(tiles) if titles is None else [str(t) for t in titles]
    draw = functools.partial(_show_overlay, alpha=alpha, cmap=cmap)
    return _save(_tile_grid(tiles, names, ncols, title, show, draw), path, show)


def plot_profile(rows, path, title=None, show=False):
    """Forward and backward milliseconds of each layer as horizontal bars; returns ``path``.

    rows: what ``minicnn.profiler.profile`` returns, dicts with 'layer',
    'type', 'forward_ms' and 'backward_ms', drawn top to bottom in order.
    """
    labels = [f"{r['layer']} ({r['type']})" for r in rows]
    y = np.arange(len(rows))
    fig = _new_figure((8, 1.0 + 0.3 * len(rows)), show)
    ax = fig.add_subplot()
    for offset, phase in ((-0.2, 'forward'), (0.2, 'backward')):
        ax.barh(y + offset, [r[f'{phase}_ms'] for r in rows], 0.4, label=phase)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()               # the first layer on top, as in a summary
    ax.set_xlabel('ms per step (median)')
    ax.legend()
    if title:
        ax.set_title(title)
    return _save(fig, path, show)


# --- helpers -------------------------------------------------------------

def _to_numpy(x):
    """A NumPy array from a NumPy or CuPy array, a Tensor (its ``.data``) or a list."""
    # ndarray has a .data attribute too (its raw buffer), so unwrap only non-arrays.
    if not isinstance(x, np.ndarray) and not devices.is_gpu_array(x) and hasattr(x, 'data'):
        x = x.data
    return devices.to_numpy(x)


def _check(ok, fn_name, name, array, expected):
    """Raise ValueError naming the argument and its shape unless ``ok``."""
    if not ok:
        raise ValueError(f'{fn_name}: {name} must have shape {expected}, '
                         f'got shape {tuple(array.shape)}')


def _is_image(array):
    """True for one grayscale (H, W) or (H, W, 1) image or one RGB (H, W, 3) image."""
    return array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (1, 3))


def _drop_single_channel(image):
    """(H, W, 1) as (H, W), which imshow draws in grayscale; others unchanged."""
    return image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image


def _drop_batch_of_one(array):
    """(1, H, W, C), a batch holding one image as layers return it, as (H, W, C)."""
    return array[0] if array.ndim == 4 and array.shape[0] == 1 else array


def _label_names(labels, class_names, n):
    """The title of each of ``n`` images from class indices or one-hot rows."""
    labels = _to_numpy(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    elif labels.ndim == 2:
        labels = labels.argmax(axis=1)      # one-hot: the position of the 1
    _check(labels.shape == (n,), 'plot_images', 'labels', labels,
           f'({n},), ({n}, 1) or ({n}, K) to match the {n} images')
    labels = labels.astype(int)
    if class_names is None:
        return [str(label) for label in labels]
    if labels.min() < 0 or labels.max() >= len(class_names):
        raise ValueError(f'plot_images: labels run from {labels.min()} to {labels.max()}, '
                         f'but there are {len(class_names)} class_names')
    return [str(class_names[label]) for label in labels]


def _curves(logs, names):
    """[(label, values)] of the training and validation curves of one quantity.

    ``names`` lists the keys the quantity may go by, newest first; the
    validation key is the same with a 'val_' prefix. Empty curves are left out.
    """
    curves = []
    for label, prefix in (('training', ''), ('validation', 'val_')):
        for name in names:
            values = logs.get(prefix + name, ())
            if len(values) > 0:
                curves.append((label, np.array([float(v) for v in values])))
                break
    return curves


def _kernel_array(kernel):
    """The HWIO weights of a conv layer, of its kernel Tensor, or of an array."""
    if hasattr(kernel, 'kernel'):
        kernel = kernel.kernel
    elif hasattr(kernel, 'get_weights'):
        # An unbuilt layer has no weights; None then fails the shape check.
        kernel = (kernel.get_weights() or [None])[0]
    return _to_numpy(kernel)


def _tile_grid(tiles, names, ncols, title, show, draw=None):
    """A figure with each tile drawn under its name in a grid; ``draw(ax, tile,
    name, fontsize)`` draws one, by default a [0, 1] image (``_show_tile``)."""
    draw = draw or _show_tile
    rows, cols = grid_shape(len(tiles), ncols)
    fig = _new_figure((TILE_INCHES * cols, TILE_INCHES * rows + (0.4 if title else 0)), show)
    # Only the tiles get axes: a grid's empty cells would be blank boxes.
    for i, (tile, name) in enumerate(zip(tiles, names), start=1):
        draw(fig.add_subplot(rows, cols, i), tile, name, fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def _show_tile(ax, image, caption, fontsize=None):
    """Draw a [0, 1] image (grayscale or RGB) without ticks, captioned."""
    # Fixed vmin/vmax keep 0 black and 1 white; 'nearest' keeps a 3x3 kernel as
    # 9 crisp squares instead of a blur.
    ax.imshow(image, cmap='gray', vmin=0, vmax=1, interpolation='nearest')
    ax.set_title(caption, fontsize=fontsize)
    ax.set_axis_off()


def _shape_text(shape):
    """(128, 32, 32, 3) as '128x32x32x3', () as 'scalar'."""
    return 'x'.join(str(n) for n in shape) or 'scalar'


def _value_lines(array, show_values):
    """The values of a small array as label lines; none for large arrays or when not asked."""
    if not show_values or array.size > GRAPH_VALUES:
        return []
    text = np.array2string(devices.to_numpy(array), precision=4, suppress_small=True,
                           prefix='= ')
    return ('= ' + text).splitlines()


def _grad_lines(key, norms):
    return [f'|grad| {norms[key]:.3g}'] if key in norms else []


def _function_lines(fn, out, show_values, norms):
    inputs = ', '.join(_shape_text(x.shape) for x in fn.inputs)
    return [type(fn).__name__, f'in {inputs}', f'out {_shape_text(out.shape)}',
            *_value_lines(out.data, show_values), *_grad_lines(id(fn), norms)]


def _leaf_node(t, depth, show_values, norms):
    kind = 'weight' if t.requires_grad else 'constant'
    lines = [t.name or ('leaf' if t.requires_grad else 'constant'), _shape_text(t.shape),
             *_value_lines(t.data, show_values), *_grad_lines(id(t), norms)]
    return GraphNode(kind, lines, depth)


class _NormRecorder:
    """Stands in for a Function in a copy of the graph: runs the Function's
    backward and notes the norm of the gradient it is given, that of its output.
    A Function's backward only reads what its forward kept, so running it once
    more leaves the real graph as it was."""

    def __init__(self, fn, inputs, norms):
        self.fn, self.inputs, self.norms = fn, inputs, norms

    def backward(self, gy):
        self.norms[id(self.fn)] = _norm(gy)
        return self.fn.backward(gy)


def _norm(array):
    return float(devices.get_array_module(array).linalg.norm(array.reshape(-1)))


def _gradient_norms(root):
    """{id of a Function or leaf: gradient norm} from ``backward`` run on a copy of
    root's graph: new Tensors sharing the arrays, each creator a _NormRecorder."""
    if not root.requires_grad:
        return {}
    copies = {}

    def copy_of(t):
        if id(t) not in copies:
            copies[id(t)] = Tensor(t.data, requires_grad=t.requires_grad)
        return copies[id(t)]

    norms = {}
    for t in topological_order(root):
        if t.creator is not None:
            copy_of(t).creator = _NormRecorder(t.creator, [copy_of(x) for x in t.creator.inputs],
                                               norms)
    copy_of(root).backward(devices.get_array_module(root.data).ones_like(root.data))
    norms.update((key, _norm(t.grad)) for key, t in copies.items()
                 if t.grad is not None and key not in norms)
    return norms


def _dot_label(lines):
    """Label lines as one DOT string: quotes and backslashes escaped, lines joined by \\n."""
    return r'\n'.join(line.replace('\\', '\\\\').replace('"', '\\"') for line in lines)


def _layered_positions(nodes, edges):
    """{key: (x, y)}: y is the node's depth (the output at the bottom, y = 0).

    Rows are placed from the output up, so a node's users, in rows below,
    are placed already. Each node goes to the mean x of its users, or one
    unit right of its left neighbour if that is nearer; a row is ordered by
    that mean, then by which input of its user the node is. So a chain of
    first inputs (the data's path) runs straight down, with each function's
    other inputs (its weights) beside it on the right.
    """
    users, slot, inputs_seen = {key: [] for key in nodes}, {}, {}
    for producer, consumer in edges:
        users[producer].append(consumer)
        slot.setdefault(producer, inputs_seen.get(consumer, 0))
        inputs_seen[consumer] = inputs_seen.get(consumer, 0) + 1
    rows = {}
    for key, node in nodes.items():
        rows.setdefault(node.depth, []).append(key)
    x = {}
    for depth in sorted(rows):
        wanted = {key: np.mean([x[u] for u in users[key]]) if users[key] else 0.0
                  for key in rows[depth]}
        left = -np.inf
        for key in sorted(rows[depth], key=lambda k: (wanted[k], slot.get(k, 0))):
            x[key] = left = max(wanted[key], left + 1)
    return {key: (x[key], node.depth) for key, node in nodes.items()}


def _graph_figure(nodes, edges):
    """The graph drawn with matplotlib: labelled boxes at ``_layered_positions``,
    arrows from producers to consumers."""
    positions = _layered_positions(nodes, edges)
    xs = [x for x, _ in positions.values()]
    depth = max(node.depth for node in nodes.values())
    most_lines = max(len(node.lines) for node in nodes.values())
    fig = _new_figure((2.8 * (max(xs) - min(xs) + 1), (0.3 + 0.15 * most_lines) * (depth + 1)),
                      show=False)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
    ax.set_ylim(-0.5, depth + 0.5)
    boxes = {key: ax.text(*positions[key], '\n'.join(node.lines), ha='center', va='center',
                          fontsize=7, bbox={'boxstyle': 'square' if node.kind == 'function'
                                            else 'round', 'fc': NODE_COLOURS[node.kind]})
             for key, node in nodes.items()}
    for producer, consumer in edges:
        # patchA/patchB clip the arrow at the two boxes' edges; an arrow that
        # skips rows bends, so as not to run hidden behind the boxes between
        skips = positions[producer][1] - positions[consumer][1] > 1
        ax.annotate('', xy=positions[consumer], xytext=positions[producer],
                    arrowprops={'arrowstyle': '->', 'color': '0.3',
                                'connectionstyle': f'arc3,rad={0.45 if skips else 0}',
                                'patchA': boxes[producer].get_bbox_patch(),
                                'patchB': boxes[consumer].get_bbox_patch()})
    return fig


@contextlib.contextmanager
def _weights_frozen(model):
    """Inside, the model's weights want no gradient: backward leaves their .grad
    alone and skips the work of computing it."""
    wanting = [w for w in model.weights if w.requires_grad]
    for w in wanting:
        w.requires_grad = False
    try:
        yield
    finally:
        for w in wanting:
            w.requires_grad = True


def _class_score_gradient(model, scores_of, inputs, class_index):
    """(dS / d inputs as a NumPy array shaped like inputs, the classes c (N,)), where
    ``scores_of(inputs)`` are the class scores (N, classes) before the final
    activation and S = sum_n scores[n, c_n]."""
    leaf = Tensor(inputs, requires_grad=True)
    with _weights_frozen(model):
        scores = scores_of(leaf)
        classes = _classes(devices.to_numpy(scores.data), class_index)
        pick = np.zeros(scores.shape, dtype=scores.dtype)
        pick[np.arange(len(classes)), classes] = 1
        (scores * Tensor(devices.to_device(pick, scores.device))).sum().backward()
    return devices.to_numpy(leaf.grad), classes


def _classes(scores, class_index):
    """One class per row of scores (N, K): the largest score's, or class_index
    (an int for all, or one per row), checked."""
    n, k = scores.shape
    if class_index is None:
        return scores.argmax(axis=1)
    classes = np.asarray(class_index)
    if classes.ndim > 1 or classes.size not in (1, n) or classes.dtype.kind not in 'iu' \
            or classes.min() < 0 or classes.max() >= k:
        raise ValueError(f'class_index must be a class id in [0, {k}) or {n} of them, '
                         f'got {class_index!r}')
    return np.broadcast_to(classes.reshape(-1), (n,))


def _logits_after(model, index, z):
    """The class scores that the layers after layer ``index`` of a Sequential model
    make of z, the last layer's without its activation."""
    *body, last = model.layers[index + 1:]
    for layer in body:
        z = layer(z)
    return last.pre_activation(z)


def _feature_layer(model, layer_name):
    """The index of the last layer whose output grad_cam takes as feature maps
    (see grad_cam); layers must follow it to make the class scores."""
    names = [layer.name for layer in model.layers]
    if layer_name is not None:
        if layer_name not in names:
            raise ValueError(f'grad_cam: no layer named {layer_name!r}; the layers are {names}')
        index = names.index(layer_name)
    else:
        convs = [i for i, layer in enumerate(model.layers) if isinstance(layer, Conv2D)]
        if not convs:
            raise ValueError('grad_cam: the model has no Conv2D layer; pass layer_name= of a '
                             'layer with (N, h, w, K) outputs')
        index = convs[-1]
        if index + 1 < len(names) and isinstance(model.layers[index + 1], Activation):
            index += 1
    if index == len(names) - 1:
        raise ValueError(f"grad_cam: '{names[index]}' is the last layer; the feature maps "
                         f"must come from a layer before the class scores")
    return index


def _resize_bilinear(maps, size):
    """(N, h, w) maps resized to (N, *size) by bilinear interpolation, one axis at a time."""
    for axis, new in zip((1, 2), size):
        maps = _interpolate_axis(maps, axis, new)
    return maps


def _interpolate_axis(values, axis, new):
    """values resampled to ``new`` points along axis, pixel centres aligned as
    PIL and OpenCV do: output pixel i reads the input at (i + 0.5) old / new - 0.5,
    clamped to the image, mixing its two neighbours linearly."""
    old = values.shape[axis]
    where = np.clip((np.arange(new) + 0.5) * old / new - 0.5, 0, old - 1)
    low = np.floor(where).astype(int)
    high = np.minimum(low + 1, old - 1)
    shape = [1] * values.ndim
    shape[axis] = new
    frac = (where - low).reshape(shape)
    return np.take(values, low, axis) * (1 - frac) + np.take(values, high, axis) * frac


def _over_max(values):
    """Non-negative values divided by their maximum, into [0, 1]; all zeros stay zeros."""
    values = values.astype(np.float64)
    top = values.max()
    return values / top if top > 0 else np.zeros_like(values)


def _show_overlay(ax, tile, caption, fontsize=None, alpha=0.5, cmap='jet'):
    """Draw an (image, map) tile: the image, and over it the [0, 1] map in colour."""
    image, heat = tile
    _show_tile(ax, image, caption, fontsize)
    ax.imshow(heat, cmap=cmap, vmin=0, vmax=1, alpha=alpha, interpolation='nearest')


def _pyplot():
    """matplotlib.pyplot, imported only to show a figure (the import picks a backend)."""
    import matplotlib.pyplot as plt
    return plt


def _new_figure(figsize, show):
    """A figure that pyplot manages only when it is to be shown."""
    make = _pyplot().figure if show else Figure
    return make(figsize=figsize, layout='constrained')


def _save(fig, path, show):
    """Write ``fig`` as a PNG at ``path`` atomically, show it if asked; return ``path``."""
    path = os.fspath(path)
    with atomic_write(path) as file:
        fig.savefig(file, format='png')
    if show:
        plt = _pyplot()
        plt.show()
        # Outside interactive mode show() returned only once the window was
        # closed (or at once, on Agg): drop the figure so it does not pile up.
        if not plt.isinteractive():
            plt.close(fig)
    return path
