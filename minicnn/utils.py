"""Small helpers of the Keras API: one-hot labels, seeding and Sequence; and
Keras's drawing of a model, plot_model (minicnn/interchange/graphviz.py)."""
import numpy as np

from minicnn import devices, missing
from minicnn.preprocessing.image_files import array_to_img, img_to_array, load_img, save_img  # noqa: F401
from minicnn.interchange.graphviz import model_to_dot, plot_model  # noqa: F401  Keras's utils names


def to_categorical(y, num_classes=None, dtype='float32'):
    """Class ids (N,) or (N, 1) -> one-hot rows (N, num_classes)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.ndim != 1:
        raise ValueError(f'to_categorical: y must have shape (N,) or (N, 1), got {y.shape}')
    if y.size and (y.min() < 0 or (y != np.round(y)).any()):
        raise ValueError('to_categorical: class ids must be non-negative whole numbers')
    ids = y.astype(np.int64)
    num_classes = int(ids.max()) + 1 if num_classes is None else num_classes
    if ids.size and ids.max() >= num_classes:
        raise ValueError(f'to_categorical: class id {int(ids.max())} does not fit '
                         f'num_classes={num_classes}')
    out = np.zeros((ids.size, num_classes), dtype=dtype)
    out[np.arange(ids.size), ids] = 1
    return out


def normalize(x, axis=-1, order=2):
    """x divided by its ``order``-norm along ``axis`` (Keras's utils.normalize);
    a zero vector stays zero."""
    x = np.asarray(x)
    norms = np.atleast_1d(np.linalg.norm(x, order, axis))
    norms[norms == 0] = 1
    return x / np.expand_dims(norms, axis)


def set_seed(seed):
    """Seed every generator minicnn draws from: weights, dropout, shuffling, augmentation."""
    devices.set_seed(seed)


class Sequence:
    """Keras's ``utils.Sequence``: a data set of batches read by index.

    A subclass writes ``__len__`` (batches per epoch) and ``__getitem__(i)``
    (batch i as (x, y) or (x, y, sample_weight)). ``fit`` asks for every
    index once per epoch, in a shuffled order unless ``shuffle=False``, then
    calls ``on_epoch_end``.
    """

    def __len__(self):
        raise NotImplementedError

    def __getitem__(self, index):
        raise NotImplementedError

    def on_epoch_end(self):
        """Called after every epoch; override to reshuffle or reload."""


set_random_seed = set_seed  # tf.keras's name

missing.install(globals(), 'utils')
