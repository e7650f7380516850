"""Keras metrics: functions, classes and names, as ``compile(metrics=[...])`` takes them.

A metric *function* gives one value per sample (or per output element),
from labels y_true and outputs y_pred (arrays, NumPy or CuPy):

    binary_accuracy                   y_true == (y_pred > threshold)
    categorical_accuracy              argmax y_true == argmax y_pred
    sparse_categorical_accuracy       y_true (a class id) == argmax y_pred
    top_k_categorical_accuracy        argmax y_true is among the k best-scored classes
    sparse_top_k_categorical_accuracy y_true is among the k best-scored classes
    mean_squared_error, mean_absolute_error   as in minicnn.losses

A metric *class* accumulates over the batches of an epoch, Keras's way::

    m = Precision()
    m.update_state(y_true, y_pred)      # once per batch (sample_weight optional)
    m.result()                          # the value over every batch so far
    m.reset_state()                     # fit does this at each epoch's start

Its state is arrays on the device that made y_pred, added to and never read
by ``update_state``: the GPU never waits for it. ``result()`` reads it back
(a float), which fit does only when the progress bar or the epoch end
needs a value (see ``training.RunningMetrics``).

The functions' classes (BinaryAccuracy, ...) average them, sample weights
w_n weighting sample n: sum_n w_n v_n / sum_n w_n. Precision, Recall and AUC
count true and false positives and negatives at thresholds instead.

In compile, 'accuracy' (or 'acc') means binary, sparse categorical or
categorical accuracy, chosen from the shapes of the first batch as Keras
does (``AccuracyFromShapes``); a metric reports under the name it was given.
"""
import numpy as np

from minicnn import backend, losses, missing
from minicnn.arguments import check_positive_int, keywords_checked
from minicnn.autograd import Tensor
from minicnn.devices import get_array_module, to_numpy
from minicnn.functional.loss_functions import per_sample
from minicnn.layers.base import unique_name
from minicnn.losses import labels_array, squeeze_or_expand_to_same_rank


# -- the per-sample functions --------------------------------------------------

def matches(truth, predicted):
    """1.0 where they are equal, else 0.0."""
    return (truth == predicted).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Per element: 1 where y_pred > threshold agrees with the 0/1 label."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return matches(y_true, (y_pred > threshold).astype(y_true.dtype))


def categorical_accuracy(y_true, y_pred):
    """Per sample: 1 where the arg-max of the one-hot row y_true is that of y_pred."""
    return matches(y_true.argmax(axis=-1), y_pred.argmax(axis=-1))


def class_ids(y_true):
    """Class ids (N,) from labels (N,) or (N, 1), as integers."""
    one_column = y_true.ndim == 2 and y_true.shape[-1] == 1
    return (y_true.reshape(-1) if one_column else y_true).astype(np.int64)


def sparse_categorical_accuracy(y_true, y_pred):
    """Per sample: 1 where the class id y_true is the arg-max of y_pred."""
    return matches(class_ids(y_true), y_pred.argmax(axis=-1))


def in_top_k(targets, predictions, k):
    """Whether each target class is among the k highest-scored of its row (N, K): fewer
    than k classes score higher than it (classes tied with it count in, as in Keras)."""
    xp = get_array_module(predictions)
    target_scores = xp.take_along_axis(predictions, targets[:, None], axis=-1)
    return ((predictions > target_scores).sum(axis=-1) < k).astype(np.float32)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Per sample: 1 where the class of the one-hot row y_true is among the k best."""
    return in_top_k(y_true.argmax(axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Per sample: 1 where the class id y_true is among the k best-scored classes."""
    return in_top_k(class_ids(y_true), y_pred, k)


mean_squared_error = losses.mean_squared_error
mean_absolute_error = losses.mean_absolute_error
mse = MSE = mean_squared_error  # Keras's short names
mae = MAE = mean_absolute_error
# The losses as metrics: Keras's metrics of these names are the losses' per-sample values.
binary_crossentropy = losses.binary_crossentropy
categorical_crossentropy = losses.categorical_crossentropy
sparse_categorical_crossentropy = losses.sparse_categorical_crossentropy
hinge, squared_hinge = losses.hinge, losses.squared_hinge
kl_divergence = kld = KLD = kullback_leibler_divergence = losses.kl_divergence


def accuracy(y_true, y_pred):
    """Per element: 1 where y_pred equals y_true exactly (Keras's Accuracy)."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return matches(y_true, y_pred)


def divide_no_nan(a, b):
    """a / b, and 0 where b is 0 (Keras's divide_no_nan): a rate of nothing is 0."""
    xp = get_array_module(a, b)
    b = xp.asarray(b, dtype=np.float64)
    return xp.where(b == 0, 0.0, xp.asarray(a) / xp.where(b == 0, 1.0, b))


def as_result(values):
    """A float for one value, a NumPy array for several (one per threshold)."""
    values = to_numpy(values)
    return float(values.item()) if values.size == 1 else values


# -- the classes -------------------------------------------------------------------

class Metric:
    """Keras's Metric: update_state, result, reset_state and a name.

    ``direction`` says whether larger values are better ('up') or smaller
    ('down'); callbacks with mode='auto' follow it.
    """
    direction = 'up'
    default_name = None  # for a class whose default name is made unique

    def __init__(self, name=None):
        self.name = name or unique_name(self.default_name)
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_state(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        """update_state(*args, **kwargs), then the result (Keras's shorthand)."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {'name': self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Mean(Metric):
    """The weighted mean of values over every update: sum w v / sum w (w = 1 without
    weights; values (N, ...) are averaged to one per sample first)."""
    default_name = 'mean'

    @keywords_checked
    def __init__(self, name=None):
        super().__init__(name)

    def update_state(self, values, sample_weight=None):
        values = values.data if isinstance(values, Tensor) else labels_array(values)
        if values.ndim > 1:
            values = values.mean(axis=tuple(range(1, values.ndim)))
        if sample_weight is None:
            self.total = self.total + values.sum()
            self.count = self.count + (values.size if values.ndim else 1)
            return
        weights = labels_array(sample_weight).reshape(values.shape).astype(values.dtype)
        self.total = self.total + (values * weights).sum()
        self.count = self.count + weights.sum()

    def result(self):
        return as_result(divide_no_nan(self.total, self.count))

    def reset_state(self):
        self.total, self.count = 0.0, 0


class MeanMetricWrapper(Mean):
    """The Mean of a per-sample function ``fn(y_true, y_pred, **kwargs)`` (how
    ``compile(metrics=[my_function])`` takes a function)."""

    def __init__(self, fn, name=None, **kwargs):
        super().__init__(name or fn.__name__)
        self.fn, self.fn_kwargs = fn, kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self.fn(labels_array(y_true), labels_array(y_pred), **self.fn_kwargs)
        super().update_state(values, sample_weight)

    def get_config(self):
        return {**super().get_config(), **self.fn_kwargs}


class BinaryAccuracy(MeanMetricWrapper):
    @keywords_checked
    def __init__(self, name='binary_accuracy', threshold=0.5):
        super().__init__(binary_accuracy, name, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    @keywords_checked
    def __init__(self, name='categorical_accuracy'):
        super().__init__(categorical_accuracy, name)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    @keywords_checked
    def __init__(self, name='sparse_categorical_accuracy'):
        super().__init__(sparse_categorical_accuracy, name)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    @keywords_checked
    def __init__(self, k=5, name='top_k_categorical_accuracy'):
        super().__init__(top_k_categorical_accuracy, name,
                         k=check_positive_int('TopKCategoricalAccuracy', 'k', k))


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    @keywords_checked
    def __init__(self, k=5, name='sparse_top_k_categorical_accuracy'):
        super().__init__(sparse_top_k_categorical_accuracy, name,
                         k=check_positive_int('SparseTopKCategoricalAccuracy', 'k', k))


class MeanSquaredError(MeanMetricWrapper):
    direction = 'down'

    @keywords_checked
    def __init__(self, name='mean_squared_error'):
        super().__init__(mean_squared_error, name)


class MeanAbsoluteError(MeanMetricWrapper):
    direction = 'down'

    @keywords_checked
    def __init__(self, name='mean_absolute_error'):
        super().__init__(mean_absolute_error, name)


class Accuracy(MeanMetricWrapper):
    """How often y_pred equals y_true exactly (not an arg-max: see 'accuracy')."""

    @keywords_checked
    def __init__(self, name='accuracy'):
        super().__init__(accuracy, name)


class LossMetric(MeanMetricWrapper):
    """The mean over every update of a loss's per-sample values (a loss as a metric)."""
    direction = 'down'


class BinaryCrossentropy(LossMetric):
    @keywords_checked
    def __init__(self, name='binary_crossentropy', from_logits=False, label_smoothing=0.0):
        super().__init__(binary_crossentropy, name, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(LossMetric):
    @keywords_checked
    def __init__(self, name='categorical_crossentropy', from_logits=False, label_smoothing=0.0):
        super().__init__(categorical_crossentropy, name, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class SparseCategoricalCrossentropy(LossMetric):
    @keywords_checked
    def __init__(self, name='sparse_categorical_crossentropy', from_logits=False):
        super().__init__(sparse_categorical_crossentropy, name, from_logits=from_logits)


class Hinge(LossMetric):
    @keywords_checked
    def __init__(self, name='hinge'):
        super().__init__(hinge, name)


class SquaredHinge(LossMetric):
    @keywords_checked
    def __init__(self, name='squared_hinge'):
        super().__init__(squared_hinge, name)


class KLDivergence(LossMetric):
    @keywords_checked
    def __init__(self, name='kullback_leibler_divergence'):
        super().__init__(kl_divergence, name)


class RootMeanSquaredError(MeanSquaredError):
    """sqrt of the mean squared error over every update (not a mean of square roots)."""

    @keywords_checked
    def __init__(self, name='root_mean_squared_error'):
        super().__init__(name)

    def result(self):
        return as_result(get_array_module(self.total).sqrt(divide_no_nan(self.total, self.count)))


ACCURACY_NAMES = ('accuracy', 'acc')


def accuracy_for_shapes(y_true, y_pred):
    """Keras's reading of 'accuracy': binary when y_pred has one column, sparse
    categorical when y_true has a lower rank or one column, else categorical."""
    if y_pred.shape[-1] == 1:
        return binary_accuracy
    if y_true.ndim < y_pred.ndim or y_true.shape[-1] == 1:
        return sparse_categorical_accuracy
    return categorical_accuracy


class AccuracyFromShapes(Mean):
    """What compile(metrics=['accuracy']) means: the accuracy that suits the labels,
    chosen at the first batch (``accuracy_for_shapes``)."""

    @keywords_checked
    def __init__(self, name='accuracy'):
        super().__init__(name)
        self.chosen = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = labels_array(y_true), labels_array(y_pred)
        self.chosen = self.chosen or accuracy_for_shapes(y_true, y_pred)
        super().update_state(self.chosen(y_true, y_pred), sample_weight)


# -- metrics that count true and false positives --------------------------------

def confusion_counts(y_true, y_pred, thresholds, sample_weight=None, per_label=False):
    """Weighted counts of true/false positives/negatives at each threshold t, a
    prediction counting as positive where y_pred > t and a label where y_true != 0.

    Every element of y_pred is one yes/no prediction (weighted by its sample's
    weight). Returns (tp, fp, tn, fn), each of shape (T,), or (T, labels) with
    per_label (one count per column of y_pred).
    """
    xp = get_array_module(y_pred)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, labels_array(y_true))
    if y_true.shape != y_pred.shape:
        raise ValueError(f'y_true shape {y_true.shape} does not match y_pred shape {y_pred.shape}: '
                         f'these metrics take one 0/1 label per prediction (one-hot rows, not '
                         f'class ids, for several classes)')
    weights = 1.0 if sample_weight is None else element_weights(sample_weight, y_pred.shape)
    if not per_label:
        y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1)
        weights = weights if sample_weight is None else weights.reshape(-1)
    dtype = y_pred.dtype if y_pred.dtype.kind == 'f' else np.float32  # Keras's: the float's
    t = xp.asarray(thresholds, dtype=dtype).reshape(-1, *[1] * y_pred.ndim)
    predicted, positive = y_pred[None] > t, (y_true != 0)[None]   # (T, N, ...)

    def count(mask):
        return (mask * weights).sum(axis=1)
    return (count(predicted & positive), count(predicted & ~positive),
            count(~predicted & ~positive), count(~predicted & positive))


def element_weights(sample_weight, shape):
    """One weight per element of an output of ``shape``: per-sample weights (N,)
    spread over each sample's elements, or weights of that shape as they are."""
    w = labels_array(sample_weight)
    w = w if w.ndim == len(shape) else per_sample(w, len(shape))
    return get_array_module(w).broadcast_to(w, shape)


def keep_top_k(y_pred, k):
    """y_pred with every score but each row's k best set to -1e10 (Keras's NEG_INF),
    so that only they can count as predicted. Of equal scores the first ones
    are the better, as in Keras's top_k."""
    xp = get_array_module(y_pred)
    places = xp.argsort(xp.argsort(-y_pred, axis=-1, kind='stable'), axis=-1)  # 0 = best
    return xp.where(places < k, y_pred, -1e10)


def check_thresholds(where, thresholds):
    values = [float(t) for t in np.atleast_1d(thresholds)]
    if not all(0 <= t <= 1 for t in values):
        raise ValueError(f'{where}: thresholds must lie in [0, 1], got {thresholds!r}')
    return values


class ThresholdCounts(Metric):
    """Precision and Recall: tp / (tp + fp) and tp / (tp + fn), counted at thresholds
    (default 0.5; with top_k, any score of the k best classes), of one column
    (class_id) or of every element."""
    counted = ()  # ('tp', and the count that tp is divided by with it)

    @keywords_checked
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None):
        where = type(self).__name__
        self.init_thresholds = thresholds
        self.thresholds = check_thresholds(where, thresholds) if thresholds is not None \
            else [0.5 if top_k is None else -1e10]
        self.top_k = None if top_k is None else check_positive_int(where, 'top_k', top_k)
        self.class_id = class_id
        super().__init__(name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = labels_array(y_true), labels_array(y_pred)
        if self.top_k is not None:
            y_pred = keep_top_k(y_pred, self.top_k)
        if self.class_id is not None:
            y_true, y_pred = y_true[..., self.class_id, None], y_pred[..., self.class_id, None]
        counts = dict(zip(('tp', 'fp', 'tn', 'fn'),
                          confusion_counts(y_true, y_pred, self.thresholds, sample_weight)))
        for name in self.counted:
            self.counts[name] = self.counts[name] + counts[name]

    def result(self):
        tp, other = (self.counts[name] for name in self.counted)
        return as_result(divide_no_nan(tp, tp + other))

    def reset_state(self):
        self.counts = {name: 0.0 for name in self.counted}

    def get_config(self):
        return {**super().get_config(), 'thresholds': self.init_thresholds, 'top_k': self.top_k,
                'class_id': self.class_id}


class Precision(ThresholdCounts):
    """tp / (tp + fp): of the predicted positives, the share that are positive."""
    default_name = 'precision'
    counted = ('tp', 'fp')


class Recall(ThresholdCounts):
    """tp / (tp + fn): of the positives, the share predicted positive."""
    default_name = 'recall'
    counted = ('tp', 'fn')


def auc_thresholds(num_thresholds, thresholds):
    """Keras's AUC thresholds: num_thresholds evenly spaced over [0, 1] (or the given
    ones, sorted), the ends moved to -eps and 1 + eps so that 0 and 1 fall inside."""
    if thresholds is not None:
        inner = sorted(check_thresholds('AUC', thresholds))
    else:
        if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) \
                or num_thresholds <= 1:
            raise ValueError(f'AUC: num_thresholds must be an integer > 1, got {num_thresholds!r}')
        inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    eps = backend.epsilon()
    return np.array([-eps, *inner, 1 + eps])


def pick(where, name, value, choices):
    """value (in any case) if it is one of choices, else a ValueError naming both."""
    if str(value).lower() not in choices:
        raise ValueError(f'{where}: {name} must be one of {list(choices)}, got {value!r}')
    return str(value).lower()


class AUC(Metric):
    """The area under the ROC curve (or, with curve='PR', the precision-recall curve;
    'PRGAIN', the precision-recall-gain curve of Flach & Kull, 2015),
    a Riemann sum over num_thresholds thresholds, as Keras computes it.

    At each threshold t_i the counts give the curve's point: for ROC
    (x, y) = (false positive rate, recall), for PR (recall, precision).
    The area is sum_i (x_i - x_{i+1}) * h_i, the heights h_i the mean
    ('interpolation'), min ('minoring') or max ('majoring') of y_i and
    y_{i+1}; PR with 'interpolation' integrates precision along its exact
    curve between the points (Davis & Goadrich, 2006), as Keras does.

    Predictions are clipped to [0, 1] (from_logits: sigmoid first). With
    multi_label each column is a label with its own curve, and the result is
    the mean of their areas (weighted by label_weights); otherwise every
    element is one prediction (label_weights weighting each column).
    """
    default_name = 'auc'

    @keywords_checked
    def __init__(self, num_thresholds=200, curve='ROC', summation_method='interpolation',
                 name=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        self.init_thresholds = thresholds
        self.thresholds = auc_thresholds(num_thresholds, thresholds)
        self.num_thresholds = len(self.thresholds)
        self.curve = pick('AUC', 'curve', curve, ('roc', 'pr', 'prgain')).upper()
        self.summation_method = pick('AUC', 'summation_method', summation_method,
                                     ('interpolation', 'minoring', 'majoring'))
        if num_labels is not None and not multi_label:
            raise ValueError(f'AUC: num_labels is needed only with multi_label=True, '
                             f'got num_labels={num_labels!r}')
        self.multi_label, self.num_labels = bool(multi_label), num_labels
        self.label_weights = None if label_weights is None else np.asarray(label_weights, float)
        self.from_logits = bool(from_logits)
        super().__init__(name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = labels_array(y_pred)
        xp = get_array_module(y_pred)
        if self.from_logits:
            y_pred = 0.5 * xp.tanh(0.5 * y_pred) + 0.5
        y_pred = xp.clip(y_pred, 0.0, 1.0)
        if self.label_weights is not None and not self.multi_label:  # weight each column
            weights = xp.broadcast_to(xp.asarray(self.label_weights), y_pred.shape)
            sample_weight = weights if sample_weight is None else \
                weights * element_weights(sample_weight, y_pred.shape)
        counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight, self.multi_label)
        self.tp, self.fp, self.tn, self.fn = (total + new for total, new in zip(
            (self.tp, self.fp, self.tn, self.fn), counts))

    def reset_state(self):
        self.tp = self.fp = self.tn = self.fn = 0.0

    def result(self):
        if np.ndim(self.tp) == 0:  # no batch yet
            return 0.0
        tp, fp, tn, fn = (to_numpy(count).astype(np.float64)
                          for count in (self.tp, self.fp, self.tn, self.fn))
        if self.curve == 'PR' and self.summation_method == 'interpolation':
            areas = interpolated_pr_auc(tp, fp, fn)
        else:
            x, y = curve_points(self.curve, tp, fp, tn, fn)
            areas = ((x[:-1] - x[1:]) * riemann_heights(self.summation_method, y)).sum(axis=0)
        if not self.multi_label:
            return float(areas)
        if self.label_weights is None:
            return float(np.mean(areas))
        return float(divide_no_nan((areas * self.label_weights).sum(), self.label_weights.sum()))

    def get_config(self):
        config = {**super().get_config(), 'num_thresholds': self.num_thresholds,
                  'curve': self.curve, 'summation_method': self.summation_method,
                  'multi_label': self.multi_label, 'num_labels': self.num_labels,
                  'from_logits': self.from_logits,
                  'label_weights': None if self.label_weights is None else
                  self.label_weights.tolist()}
        if self.init_thresholds is not None:  # they set num_thresholds: len + 2
            config['thresholds'] = self.init_thresholds
        return config


def curve_points(curve, tp, fp, tn, fn):
    """The (x, y) of each threshold's point on the ROC, PR or PR-gain curve."""
    recall = divide_no_nan(tp, tp + fn)
    if curve == 'ROC':
        return divide_no_nan(fp, fp + tn), recall
    if curve == 'PR':
        return recall, divide_no_nan(tp, tp + fp)
    # PR gain (Flach & Kull, 2015), with Keras's fixes where tp = 0 and below the base rate
    scale = divide_no_nan(tp + fn, tn + fp)
    recall_gain = np.where(tp == 0, 0.0, 1 - scale * divide_no_nan(fn, tp))
    precision_gain = np.where(tp == 0, 1.0, 1 - scale * divide_no_nan(fp, tp))
    return np.maximum(recall_gain, 0.0), precision_gain


def riemann_heights(summation_method, y):
    if summation_method == 'interpolation':
        return (y[:-1] + y[1:]) / 2
    return np.minimum(y[:-1], y[1:]) if summation_method == 'minoring' else \
        np.maximum(y[:-1], y[1:])


def interpolated_pr_auc(tp, fp, fn):
    """The area under the PR curve, precision integrated between thresholds with
    tp and p = tp + fp varying linearly (Keras's closed form of Davis & Goadrich):

        slope = dtp / dp,   intercept = tp_B - slope p_B
        area_i = slope (dtp + intercept log(p_A / p_B)) / (tp_B + fn_B)
    """
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    dp = p[:-1] - p[1:]
    slope = divide_no_nan(dtp, np.maximum(dp, 0))
    intercept = tp[1:] - slope * p[1:]
    ratio = np.where((p[:-1] > 0) & (p[1:] > 0), divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
    return divide_no_nan(slope * (dtp + intercept * np.log(ratio)),
                         np.maximum(tp[1:] + fn[1:], 0)).sum(axis=0)


# -- names ------------------------------------------------------------------------

CLASSES = {cls.__name__: cls for cls in (
    BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, Precision, Recall, AUC, MeanSquaredError, MeanAbsoluteError,
    Mean, Accuracy, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    Hinge, SquaredHinge, KLDivergence, RootMeanSquaredError)}

# Keras's snake_case names of the classes and the short aliases.
METRICS = {
    **CLASSES,
    'binary_accuracy': BinaryAccuracy, 'categorical_accuracy': CategoricalAccuracy,
    'sparse_categorical_accuracy': SparseCategoricalAccuracy,
    'top_k_categorical_accuracy': TopKCategoricalAccuracy,
    'sparse_top_k_categorical_accuracy': SparseTopKCategoricalAccuracy,
    'precision': Precision, 'recall': Recall, 'auc': AUC,
    'mean_squared_error': MeanSquaredError, 'mse': MeanSquaredError,
    'mean_absolute_error': MeanAbsoluteError, 'mae': MeanAbsoluteError,
    'binary_crossentropy': BinaryCrossentropy, 'categorical_crossentropy': CategoricalCrossentropy,
    'sparse_categorical_crossentropy': SparseCategoricalCrossentropy, 'hinge': Hinge,
    'squared_hinge': SquaredHinge, 'kl_divergence': KLDivergence, 'kld': KLDivergence,
    'kullback_leibler_divergence': KLDivergence,
}
_BY_LOWER_CASE = {name.lower(): cls for name, cls in METRICS.items()}


def get(identifier):
    """A Metric for a Keras name (named as given: 'acc' reports as 'acc'), a
    Metric (as is), a Metric class, a function f(y_true, y_pred) of per-sample
    values, or ``serialize``'s dict."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict) and identifier.get('class_name') in CLASSES:
        return CLASSES[identifier['class_name']].from_config(identifier.get('config', {}))
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str) and identifier.lower() in ACCURACY_NAMES:
        return AccuracyFromShapes(name=identifier)
    if isinstance(identifier, str) and identifier.lower() in _BY_LOWER_CASE:
        return _BY_LOWER_CASE[identifier.lower()](name=identifier)
    if callable(identifier) and not isinstance(identifier, type):
        return MeanMetricWrapper(identifier)
    raise ValueError(f'unknown metric {identifier!r}; valid names: '
                     f'{sorted([*ACCURACY_NAMES, *METRICS])}')


def serialize(metric):
    """What ``get`` rebuilds ``metric`` from: a name for 'accuracy' and for wrapped
    functions, else {'class_name', 'config'}."""
    if isinstance(metric, AccuracyFromShapes):
        return metric.name
    if type(metric) is MeanMetricWrapper:
        return metric.fn.__name__
    return {'class_name': type(metric).__name__, 'config': metric.get_config()}


def compiled(identifiers):
    """The Metrics for compile(metrics=[...]), reset, each name unique: a repeated
    name gets '_1', '_2', ... as Keras names the results."""
    if identifiers is None:
        return []
    if not isinstance(identifiers, (list, tuple)):
        raise ValueError(f'compile: metrics must be a list, e.g. [\'accuracy\'], '
                         f'got metrics={identifiers!r}')
    metrics, seen = [get(m) for m in identifiers], {}
    for m in metrics:
        count = seen.get(m.name, 0)
        seen[m.name] = count + 1
        m.name = f'{m.name}_{count}' if count else m.name
        m.reset_state()
    return metrics


missing.install(globals(), 'metrics')
