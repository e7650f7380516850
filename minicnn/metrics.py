"""Metrics by Keras name. ``accuracy`` (alias ``acc``): the share of samples
whose predicted class (arg-max of the output) is the true class."""
from minicnn.backend import get_array_module


def correct_count(y_true, y_pred):
    """How many rows of y_pred (N, K) pick the class of y_true (ids or rows), as
    a device scalar, so that counting never waits for the GPU."""
    xp = get_array_module(y_pred)
    if y_pred.shape[-1] == 1:  # one output: a yes/no prediction at 0.5
        predicted = (y_pred.reshape(-1) > 0.5)
        return (predicted == (y_true.reshape(-1) > 0.5)).sum()
    predicted = y_pred.argmax(axis=-1)
    truth = y_true.argmax(axis=-1) if y_true.ndim == 2 and y_true.shape[1] > 1 else y_true.reshape(-1)
    return (predicted == truth.astype(xp.int64)).sum()


METRIC_NAMES = ('accuracy', 'acc')


def get(identifier):
    """The name under which History logs the metric ('accuracy' or 'acc')."""
    name = str(identifier).lower()
    if name not in METRIC_NAMES:
        raise ValueError(f'unknown metric {identifier!r}; valid names: {sorted(METRIC_NAMES)}')
    return name
