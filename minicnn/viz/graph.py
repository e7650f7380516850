"""The autograd graph behind a tensor: its nodes and edges (``autograd_graph``),
the same as Graphviz text (``graph_dot``), and drawn (``plot_graph``).

A Function keeps its inputs (``fn.inputs``) and each tensor it made keeps
it (``t.creator``), so walking from a tensor back through creators and
inputs finds every step that made it: the graph that ``backward`` runs
through in reverse.
"""
import os
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np

from minicnn import devices
from minicnn.autograd import Tensor, topological_order
from minicnn.fileio import atomic_write
from minicnn.viz import plots

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
        return plots.save_figure(_graph_figure(*autograd_graph(tensor, show_values, show_grads)), path,
                     show=False)
    text = graph_dot(tensor, show_values, show_grads)
    png = subprocess.run([dot, '-Tpng'], input=text.encode(), capture_output=True,
                         check=True).stdout
    with atomic_write(path) as file:
        file.write(png)
    return path


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
    fig = plots.new_figure((2.8 * (max(xs) - min(xs) + 1), (0.3 + 0.15 * most_lines) * (depth + 1)),
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
