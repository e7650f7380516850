"""Pictures of data, training and what a network has learned.

    plots      data, training curves, kernels, feature maps, the profile
    graph      the autograd graph behind a tensor
    explain    saliency and Grad-CAM: which pixels a class score depends on

Each ``plot_*`` function draws one figure, saves it as a PNG at ``path``
and returns the path::

    plot_images(x[:16], y[:16], class_names=names, path='samples.png')
    plot_history(model.fit(...), 'history.png')
    plot_kernels(model.layers[0], 'kernels.png')
    plot_feature_maps(activations, 'maps.png')
    plot_before_after(image, convolved, 'edges.png')
    plot_graph(loss, 'graph.png', show_grads=True)      the autograd graph behind a tensor
    plot_saliency(x[:8], grad_cam(model, x[:8]), 'cam.png')
    plot_profile(minicnn.tools.profiler.profile(model, x, y), 'profile.png')

Four functions look inside a network rather than draw: ``autograd_graph``
(the nodes and edges of the graph behind a tensor) and ``graph_dot`` (the
same as Graphviz text), ``saliency`` and ``grad_cam`` (which pixels a class
score depends on, computed with minicnn's own autograd).

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
from minicnn.viz.explain import grad_cam, plot_saliency, saliency
from minicnn.viz.graph import GraphNode, autograd_graph, graph_dot, plot_graph
from minicnn.viz.plots import (grid_shape, plot_before_after, plot_feature_maps, plot_history,
                               plot_images, plot_kernels, plot_profile, stretch, unit_range)

__all__ = ['plot_images', 'plot_history', 'plot_kernels', 'plot_feature_maps',
           'plot_before_after', 'plot_profile', 'grid_shape', 'stretch', 'unit_range',
           'autograd_graph', 'graph_dot', 'plot_graph', 'GraphNode',
           'saliency', 'grad_cam', 'plot_saliency']
