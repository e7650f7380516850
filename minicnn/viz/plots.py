"""The plots: data, training curves, kernels, feature maps and the profile,
each drawn on a plain matplotlib Figure and saved atomically (see
minicnn/viz/__init__.py); and the figure helpers the other viz modules share.
"""
import os
from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from minicnn import devices
from minicnn.fileio import atomic_write

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
    images = to_numpy(images)
    check_array(images.ndim in (3, 4) and len(images) > 0 and is_image(images[0]),
           'plot_images', 'images', images, '(N, H, W) or (N, H, W, C) with N > 0 and C 1 or 3')
    names = [''] * len(images)
    if labels is not None:
        names = _label_names(labels, class_names, len(images))
    tiles = [unit_range(drop_single_channel(image)) for image in images]
    return save_figure(tile_grid(tiles, names, ncols, title, show), path, show)


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
    fig = new_figure((5 * len(panels), 3.6), show)
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
    return save_figure(fig, path, show)


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
    check_array(kernel.ndim == 4, 'plot_kernels', 'kernel', kernel, '(kh, kw, in, out)')
    filters = np.moveaxis(kernel, -1, 0)                  # (out, kh, kw, in)
    if kernel.shape[2] != 3:
        filters = filters.mean(axis=-1)                   # (out, kh, kw)
    tiles = [stretch(f) for f in filters]
    names = [str(i) for i in range(len(tiles))]
    return save_figure(tile_grid(tiles, names, WIDE_GRID, title, show), path, show)


def plot_feature_maps(maps, path, title=None, max_maps=32, show=False):
    """The activations of one image at one layer, a grayscale picture per channel.

    ``maps`` has shape (H, W, C) or (1, H, W, C). The first ``max_maps``
    channels are shown, each titled with its index and stretched to [0, 1]
    on its own (so a weak map looks as bright as a strong one; a map that is
    constant, such as a dead ReLU, is black). Returns ``path``.
    """
    maps = _drop_batch_of_one(to_numpy(maps))
    check_array(maps.ndim == 3 and maps.shape[-1] > 0, 'plot_feature_maps', 'maps', maps,
           '(H, W, C) or (1, H, W, C)')
    channels = min(maps.shape[-1], max_maps)
    tiles = [stretch(maps[..., c]) for c in range(channels)]
    names = [str(c) for c in range(channels)]
    return save_figure(tile_grid(tiles, names, WIDE_GRID, title, show), path, show)


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
        image = _drop_batch_of_one(to_numpy(image))
        check_array(is_image(image), 'plot_before_after', name, image,
               '(H, W) or (H, W, C) with C 1 or 3')
        pair.append(unit_range(drop_single_channel(image)))
    fig = new_figure((2 * 3.2, 3.4), show)
    for i, (image, caption) in enumerate(zip(pair, titles), start=1):
        show_tile(fig.add_subplot(1, 2, i), image, caption)
    return save_figure(fig, path, show)


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


def plot_profile(rows, path, title=None, show=False):
    """Forward and backward milliseconds of each layer as horizontal bars; returns ``path``.

    rows: what ``minicnn.tools.profiler.profile`` returns, dicts with 'layer',
    'type', 'forward_ms' and 'backward_ms', drawn top to bottom in order.
    """
    labels = [f"{r['layer']} ({r['type']})" for r in rows]
    y = np.arange(len(rows))
    fig = new_figure((8, 1.0 + 0.3 * len(rows)), show)
    ax = fig.add_subplot()
    for offset, phase in ((-0.2, 'forward'), (0.2, 'backward')):
        ax.barh(y + offset, [r[f'{phase}_ms'] for r in rows], 0.4, label=phase)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()               # the first layer on top, as in a summary
    ax.set_xlabel('ms per step (median)')
    ax.legend()
    if title:
        ax.set_title(title)
    return save_figure(fig, path, show)


# --- helpers -------------------------------------------------------------

def to_numpy(x):
    """A NumPy array from a NumPy or CuPy array, a Tensor (its ``.data``) or a list."""
    # ndarray has a .data attribute too (its raw buffer), so unwrap only non-arrays.
    if not isinstance(x, np.ndarray) and not devices.is_gpu_array(x) and hasattr(x, 'data'):
        x = x.data
    return devices.to_numpy(x)


def check_array(ok, fn_name, name, array, expected):
    """Raise ValueError naming the argument and its shape unless ``ok``."""
    if not ok:
        raise ValueError(f'{fn_name}: {name} must have shape {expected}, '
                         f'got shape {tuple(array.shape)}')


def is_image(array):
    """True for one grayscale (H, W) or (H, W, 1) image or one RGB (H, W, 3) image."""
    return array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (1, 3))


def drop_single_channel(image):
    """(H, W, 1) as (H, W), which imshow draws in grayscale; others unchanged."""
    return image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image


def _drop_batch_of_one(array):
    """(1, H, W, C), a batch holding one image as layers return it, as (H, W, C)."""
    return array[0] if array.ndim == 4 and array.shape[0] == 1 else array


def _label_names(labels, class_names, n):
    """The title of each of ``n`` images from class indices or one-hot rows."""
    labels = to_numpy(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    elif labels.ndim == 2:
        labels = labels.argmax(axis=1)      # one-hot: the position of the 1
    check_array(labels.shape == (n,), 'plot_images', 'labels', labels,
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
    return to_numpy(kernel)


def tile_grid(tiles, names, ncols, title, show, draw=None):
    """A figure with each tile drawn under its name in a grid; ``draw(ax, tile,
    name, fontsize)`` draws one, by default a [0, 1] image (``show_tile``)."""
    draw = draw or show_tile
    rows, cols = grid_shape(len(tiles), ncols)
    fig = new_figure((TILE_INCHES * cols, TILE_INCHES * rows + (0.4 if title else 0)), show)
    # Only the tiles get axes: a grid's empty cells would be blank boxes.
    for i, (tile, name) in enumerate(zip(tiles, names), start=1):
        draw(fig.add_subplot(rows, cols, i), tile, name, fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def show_tile(ax, image, caption, fontsize=None):
    """Draw a [0, 1] image (grayscale or RGB) without ticks, captioned."""
    # Fixed vmin/vmax keep 0 black and 1 white; 'nearest' keeps a 3x3 kernel as
    # 9 crisp squares instead of a blur.
    ax.imshow(image, cmap='gray', vmin=0, vmax=1, interpolation='nearest')
    ax.set_title(caption, fontsize=fontsize)
    ax.set_axis_off()


def pyplot():
    """matplotlib.pyplot, imported only to show a figure (the import picks a backend)."""
    import matplotlib.pyplot as plt
    return plt


def new_figure(figsize, show):
    """A figure that pyplot manages only when it is to be shown."""
    make = pyplot().figure if show else Figure
    return make(figsize=figsize, layout='constrained')


def save_figure(fig, path, show):
    """Write ``fig`` as a PNG at ``path`` atomically, show it if asked; return ``path``."""
    path = os.fspath(path)
    with atomic_write(path) as file:
        fig.savefig(file, format='png')
    if show:
        plt = pyplot()
        plt.show()
        # Outside interactive mode show() returned only once the window was
        # closed (or at once, on Agg): drop the figure so it does not pile up.
        if not plt.isinteractive():
            plt.close(fig)
    return path
