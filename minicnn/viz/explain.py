"""Why the network decided: saliency maps and Grad-CAM, computed with minicnn's
own autograd, and drawn over the images (``plot_saliency``).

Both maps ask how a class score S_c, the last layer's output before its
activation (the logit, before softmax), changes with something the
network saw. The scores of the images in a batch are summed,
S = sum_n S_{c_n}(x_n): a forward pass without training mixes no images,
so dS / dx_n is image n's own gradient, and one backward pass gives all.
"""
import contextlib
import functools

import numpy as np

from minicnn import devices
from minicnn.autograd import Tensor, no_grad
from minicnn.layers import Activation, Conv2D
from minicnn.models import Sequential
from minicnn.viz import plots

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
    images, maps = plots.to_numpy(images), plots.to_numpy(maps)
    plots.check_array(images.ndim in (3, 4) and len(images) > 0 and plots.is_image(images[0]),
           'plot_saliency', 'images', images, '(N, H, W) or (N, H, W, C) with N > 0 and C 1 or 3')
    plots.check_array(maps.shape == images.shape[:3], 'plot_saliency', 'maps', maps,
           f'{images.shape[:3]} to match the images')
    tiles = [(plots.unit_range(plots.drop_single_channel(image)), _over_max(m))
             for image, m in zip(images, maps)]
    names = [''] * len(tiles) if titles is None else [str(t) for t in titles]
    draw = functools.partial(_show_overlay, alpha=alpha, cmap=cmap)
    return plots.save_figure(plots.tile_grid(tiles, names, ncols, title, show, draw), path, show)


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
    plots.show_tile(ax, image, caption, fontsize)
    ax.imshow(heat, cmap=cmap, vmin=0, vmax=1, alpha=alpha, interpolation='nearest')
