"""TensorBoard's event files: what ``callbacks.TensorBoard`` writes, as records
TensorBoard reads.

An event file (``events.out.tfevents.<time>.<host>``) is a sequence of
records, each an ``Event`` protocol buffer holding a step number and a
``Summary``: a list of values, each a tag ('epoch_loss', 'conv2d/kernel_0/
histogram') with a scalar, a histogram, an image or a tensor. TensorBoard
draws every tag of a folder as one curve (or picture) over the steps, and
puts the folders of one log_dir side by side ('train' and 'validation').

The records are written by the package tensorboardX, which needs no
TensorFlow; this module builds the values Keras 2 would write and leaves
the file format to it.
"""
import json

import numpy as np

WRITER_PACKAGE = 'tensorboardX'
KERAS_GRAPH_PLUGIN = 'graph_keras_model'  # TensorBoard's name for a Keras model's JSON
HISTOGRAM_BUCKETS = 30                    # what tf.summary.histogram uses by default
IMAGES_PER_WEIGHT = 3                     # tf.summary.image's max_outputs default


def _tensorboardx(where):
    try:
        import tensorboardX
    except ImportError as err:
        raise ImportError(f"{where}: writing TensorBoard's event files needs the package "
                          f"{WRITER_PACKAGE}, which is not installed (pip install "
                          f"{WRITER_PACKAGE}, or pip install minicnn[tensorboard])") from err
    return tensorboardX


def require_writer(where):
    """Raise ImportError naming the package now, rather than at the first epoch's end."""
    _tensorboardx(where)


def event_writer(folder):
    """A writer of one event file in ``folder`` (made if missing): ``add_summary(s, step)``."""
    return _tensorboardx('TensorBoard').FileWriter(folder)


def scalar(tag, value):
    return _tensorboardx('TensorBoard').summary.scalar(tag, float(value))


def histogram(tag, values):
    """The distribution of ``values``: count, sum, sum of squares, min, max and
    HISTOGRAM_BUCKETS equal-width buckets between min and max."""
    values = np.asarray(values, dtype=np.float64).ravel()
    return _tensorboardx('TensorBoard').summary.histogram(tag, values, bins=HISTOGRAM_BUCKETS)


def images(tag, pictures):
    """One summary per picture (H, W, C) of uint8, tagged ``tag/0``, ``tag/1``, ...
    (TensorFlow 1's names for several images under one tag)."""
    summary = _tensorboardx('TensorBoard').summary
    return [summary.image(f'{tag}/{k}', picture, dataformats='HWC')
            for k, picture in enumerate(pictures)]


def weight_pictures(weight):
    """The pictures Keras 2 draws of a weight with ``write_images``: [(H, W, C)] uint8.

    Keras squeezes the weight, then: a vector (n,) is one n x 1 picture; a
    matrix is one picture, turned to be wider than high; a 3-axis weight
    (a kernel with one input channel, (h, w, c)) is c pictures h x w; a
    4-axis one is read as a batch of pictures (N, H, W, C) only when C is 1,
    3 or 4, and otherwise not drawn. At most IMAGES_PER_WEIGHT are kept. A
    float picture becomes bytes as TensorFlow converts it: clipped to
    [0, 1], times 255, rounded.
    """
    w = np.squeeze(np.asarray(weight, dtype=np.float64))
    if w.ndim == 1:
        batch = w.reshape(1, w.size, 1, 1)
    elif w.ndim == 2:
        w = w.T if w.shape[0] > w.shape[1] else w
        batch = w.reshape(1, *w.shape, 1)
    elif w.ndim == 3:
        batch = w.transpose(2, 0, 1)[..., None]
    elif w.ndim == 4 and w.shape[-1] in (1, 3, 4):
        batch = w
    else:
        return []
    return [np.floor(np.clip(p, 0, 1) * 255 + 0.5).astype(np.uint8)
            for p in batch[:IMAGES_PER_WEIGHT]]


def keras_model(tag, model_config):
    """A Keras model's JSON (its ``to_json()``), which TensorBoard's Graphs tab
    draws as the model's conceptual graph: a string tensor marked with the
    plugin name 'graph_keras_model', content version b'1'."""
    require_writer('TensorBoard')
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboardX.proto.tensor_pb2 import TensorProto
    from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name=KERAS_GRAPH_PLUGIN, content=b'1'))
    tensor = TensorProto(dtype='DT_STRING', tensor_shape=TensorShapeProto(),
                         string_val=[json.dumps(model_config).encode('utf8')])
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=tensor)])
