"""TensorBoard's event files: what ``callbacks.TensorBoard`` writes, as records
TensorBoard reads.

An event file (``events.out.tfevents.<time>.<host>...``) is a sequence of
records, each an ``Event`` protocol buffer holding a time, a step number and
a ``Summary``: a list of values, each a tag ('epoch_loss',
'conv2d/kernel_0/histogram') with a number, a histogram, an image or a
tensor. TensorBoard draws every tag of a folder as one curve (or picture)
over the steps, and puts the folders of one log_dir side by side ('train'
and 'validation').

The package tensorboard writes the records (its EventFileWriter, the one
PyTorch's SummaryWriter uses) and defines the protocol buffers; neither
needs TensorFlow. This module fills in the values Keras 2 would write.
"""
import io
import json
import time

import numpy as np
from PIL import Image

WRITER_PACKAGE = 'tensorboard'
KERAS_GRAPH_PLUGIN = 'graph_keras_model'  # TensorBoard's name for a Keras model's JSON
HISTOGRAM_BUCKETS = 30                    # what tf.summary.histogram uses by default
IMAGES_PER_WEIGHT = 3                     # tf.summary.image's max_outputs default


def _protos(where='TensorBoard'):
    """tensorboard's protocol buffer modules; ImportError naming the package if it is missing."""
    try:
        import tensorboard  # noqa: F401  first, so that a missing package fails here
        from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, \
            tensor_shape_pb2, types_pb2
    except ImportError as err:
        raise ImportError(f"{where}: writing TensorBoard's event files needs the package "
                          f"{WRITER_PACKAGE}, which is not installed (pip install "
                          f"{WRITER_PACKAGE}, or pip install minicnn[tensorboard])") from err
    return event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2


def require_writer(where):
    """Raise ImportError naming the package now, rather than at the first epoch's end."""
    _protos(where)


class EventWriter:
    """One event file in ``folder`` (made if missing): summaries at steps."""

    def __init__(self, folder):
        event_pb2 = _protos()[0]
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
        self.event, self.file = event_pb2.Event, EventFileWriter(folder)

    def add_summary(self, summary, step):
        self.file.add_event(self.event(wall_time=time.time(), step=int(step), summary=summary))

    def flush(self):
        self.file.flush()

    def close(self):
        self.file.close()


def _summary(value):
    return _protos()[1].Summary(value=[value])


def scalar(tag, value):
    return _summary(_protos()[1].Summary.Value(tag=tag, simple_value=float(value)))


def histogram(tag, values):
    """The distribution of ``values``: count, sum, sum of squares, min, max and the
    counts of HISTOGRAM_BUCKETS equal-width buckets between min and max, each
    given by its right edge (``bucket_limit``)."""
    summary_pb2 = _protos()[1]
    values = np.asarray(values, dtype=np.float64).ravel()
    counts, edges = np.histogram(values, bins=HISTOGRAM_BUCKETS)
    proto = summary_pb2.HistogramProto(
        min=values.min(), max=values.max(), num=values.size, sum=values.sum(),
        sum_squares=np.dot(values, values), bucket_limit=edges[1:].tolist(),
        bucket=counts.tolist())
    return _summary(summary_pb2.Summary.Value(tag=tag, histo=proto))


def images(tag, pictures):
    """One summary per picture (H, W, C) of uint8, as PNG, tagged ``tag/0``,
    ``tag/1``, ... (TensorFlow 1's names for several images under one tag)."""
    summary_pb2 = _protos()[1]
    out = []
    for k, picture in enumerate(pictures):
        png = io.BytesIO()
        Image.fromarray(picture[..., 0] if picture.shape[-1] == 1 else picture).save(png, 'PNG')
        image = summary_pb2.Summary.Image(height=picture.shape[0], width=picture.shape[1],
                                          colorspace=picture.shape[2],
                                          encoded_image_string=png.getvalue())
        out.append(_summary(summary_pb2.Summary.Value(tag=f'{tag}/{k}', image=image)))
    return out


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
    _, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2 = _protos()
    metadata = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(
        plugin_name=KERAS_GRAPH_PLUGIN, content=b'1'))
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING,
                                    tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                                    string_val=[json.dumps(model_config).encode('utf8')])
    return _summary(summary_pb2.Summary.Value(tag=tag, metadata=metadata, tensor=tensor))
