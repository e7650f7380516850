"""Where fit's batches come from: its inputs adapted to one interface.

fit takes four kinds of x, and each becomes a "batch source" whose
``epoch()`` yields one epoch's batches as (x, y, sample_weight) triples:

  arrays x, y               ArrayBatches     shuffled anew every pass
  a Sequence                SequenceBatches  len() batches by index (keras.utils.Sequence)
  a re-iterable             IterableBatches  iter() starts a fresh pass (a DataLoader,
                                             a tf.data.Dataset)
  a one-shot iterator       IterableBatches  one stream across epochs (a generator, flow())

``steps`` is the number of batches an epoch takes (None: until the pass ends),
``continuing`` whether epochs share one stream, which can run dry.
"""
import itertools
import math

import numpy as np

from minicnn import devices


def is_array(x):
    return hasattr(x, 'shape') and hasattr(x, 'dtype')


def is_arrays(x):
    """An array, or the list of arrays of a model's several inputs (minicnn/training/inputs_outputs.py)."""
    return is_array(x) or (isinstance(x, list) and bool(x) and all(is_array(a) for a in x))


def num_samples(x):
    return len(x[0] if isinstance(x, list) else x)


def take(array, idx):
    """array[idx] with the index on the array's device (CuPy wants a CuPy index);
    of each array of a list (several inputs or outputs), None kept."""
    if isinstance(array, list):
        return [None if a is None else take(a, idx) for a in array]
    return array[devices.get_array_module(array).asarray(idx)]


def rows(array, start, stop):
    """array[start:stop], of each array of a list, None kept."""
    if isinstance(array, list):
        return [None if a is None else a[start:stop] for a in array]
    return None if array is None else array[start:stop]


class ArrayBatches:
    """Batches of x, y (and weights w); the order drawn from minicnn's CPU generator.

    Without steps_per_epoch an epoch is one pass over the data. With it, an
    epoch takes the next steps_per_epoch batches from an endless run of
    passes, each shuffled anew (tf.keras 2's repeated data set).
    """

    def __init__(self, x, y, w, batch_size, shuffle, steps_per_epoch=None):
        self.x, self.y, self.w = x, y, w
        self.batch_size, self.shuffle = batch_size, shuffle
        self.steps = steps_per_epoch or math.ceil(num_samples(x) / batch_size)
        self.continuing = False  # the stream below never runs dry
        self.stream = self.endless_passes() if steps_per_epoch else None

    def one_pass(self):
        n = num_samples(self.x)
        order = devices.rng('cpu').permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            idx = order[start:start + self.batch_size]
            if self.shuffle:
                idx = np.sort(idx)  # reads memory in order; a batch's gradient is the same
            yield (take(self.x, idx), take(self.y, idx),
                   None if self.w is None else take(self.w, idx))

    def endless_passes(self):
        while True:
            yield from self.one_pass()

    def epoch(self):
        return self.one_pass() if self.stream is None else itertools.islice(self.stream, self.steps)


class SequenceBatches:
    """``seq[i]`` for i in range(len(seq)), shuffled when asked, then ``seq.on_epoch_end()``."""

    def __init__(self, seq, shuffle, steps_per_epoch, where):
        if steps_per_epoch is not None and steps_per_epoch > len(seq):
            raise ValueError(f'{where}: steps_per_epoch={steps_per_epoch} is more than the '
                             f'{len(seq)} batches the Sequence holds')
        self.seq, self.shuffle = seq, shuffle
        self.steps = steps_per_epoch or len(seq)
        self.continuing = False

    def epoch(self):
        order = devices.rng('cpu').permutation(len(self.seq)) if self.shuffle \
            else range(len(self.seq))
        for i in order[:self.steps]:
            yield self.seq[int(i)]
        if hasattr(self.seq, 'on_epoch_end'):
            self.seq.on_epoch_end()


class IterableBatches:
    """Batches from ``iter(data)``.

    A re-iterable (no ``__next__``) starts a fresh pass every epoch, unless
    steps_per_epoch asks for a different number of batches than one pass
    holds: then, as for a one-shot iterator, all epochs draw from one
    stream, which may run dry.
    """

    def __init__(self, data, steps_per_epoch, where):
        length = len(data) if hasattr(data, '__len__') else None
        one_shot = hasattr(data, '__next__')
        if steps_per_epoch is None and length is None and one_shot:
            raise ValueError(f'{where}: steps_per_epoch is required for a generator or '
                             f'iterator without len()')
        self.data = data
        self.steps = steps_per_epoch or length
        self.continuing = one_shot or (steps_per_epoch is not None and steps_per_epoch != length)
        self.stream = iter(data) if self.continuing else None

    def epoch(self):
        batches = self.stream if self.continuing else iter(self.data)
        return batches if self.steps is None else itertools.islice(batches, self.steps)


def batch_source(x, y, sample_weight, batch_size, shuffle, steps_per_epoch, where):
    """The batch source for fit's x (see the table above)."""
    if is_arrays(x):
        return ArrayBatches(x, y, sample_weight, batch_size, shuffle, steps_per_epoch)
    if y is not None or sample_weight is not None:
        raise ValueError(f'{where}: y and sample_weight must be None when x is a generator, '
                         f'Sequence or data set (its batches carry them), got '
                         f'{type(x).__name__} with y or sample_weight')
    if hasattr(x, '__getitem__') and hasattr(x, '__len__') and not hasattr(x, '__next__'):
        return SequenceBatches(x, shuffle, steps_per_epoch, where)
    if hasattr(x, '__iter__'):
        return IterableBatches(x, steps_per_epoch, where)
    raise TypeError(f'{where}: x must be an array, a Sequence, an iterable of batches or an '
                    f'iterator, got {type(x).__name__}')


def unpack_batch(batch, where):
    """(x, y, w) from a batch (x, y) or (x, y, sample_weight)."""
    if isinstance(batch, (tuple, list)) and len(batch) in (2, 3):
        return (*batch, None) if len(batch) == 2 else tuple(batch)
    kind = f'a {type(batch).__name__} of length {len(batch)}' \
        if isinstance(batch, (tuple, list)) else f'a {type(batch).__name__}'
    raise ValueError(f'{where}: each batch must be a tuple (x, y) or (x, y, sample_weight), '
                     f'got {kind}')


def split_validation(x, y, w, validation_split, validation_data):
    """Keras takes the validation part from the end of x, y (and w) before shuffling.

    Returns x, y, w for training and (x_val, y_val, w_val), batches of
    validation data (a generator, Sequence or data set) as given, or None.
    """
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)):
            return x, y, w, validation_data
        if len(validation_data) not in (2, 3) or not (is_arrays(validation_data[0]) or
                                                      isinstance(validation_data[0], dict)):
            raise ValueError('fit: validation_data must be a tuple (x_val, y_val) or '
                             '(x_val, y_val, val_sample_weight) of arrays, or a generator, '
                             'Sequence or data set of batches')
        x_val, y_val, *w_val = validation_data
        return x, y, w, (x_val, y_val, w_val[0] if w_val else None)
    if not validation_split:
        return x, y, w, None
    if not 0 < validation_split < 1 or not is_arrays(x):
        raise ValueError(f'fit: validation_split must be in (0, 1) and needs array inputs, '
                         f'got {validation_split!r}')
    cut, n = int(num_samples(x) * (1 - validation_split)), num_samples(x)
    return (rows(x, 0, cut), rows(y, 0, cut), rows(w, 0, cut),
            (rows(x, cut, n), rows(y, cut, n), rows(w, cut, n)))
