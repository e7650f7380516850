"""Long runs must not grow: each step's graph is freed, and every epoch does
the same work. Deterministic proxies stand in for wall-clock time (which the
benchmarks measure): traced memory, live tensors, and function calls."""
import gc
import tracemalloc

import numpy as np

from minicnn import autograd
from minicnn.callbacks import Callback
from minicnn.layers import Dense, Dropout
from minicnn.models import Sequential
from minicnn.training import train_step


def small_model(features=8):
    model = Sequential([Dense(16, activation='relu', input_shape=(features,)), Dropout(0.2),
                        Dense(2, activation='softmax')])
    model.compile('adam', 'sparse_categorical_crossentropy', ['accuracy'])
    return model


def live_tensors():
    gc.collect()
    # type(), not isinstance(): isinstance dereferences a weakref proxy, and a dead
    # one (another library's, e.g. PyTorch's when it is imported) raises ReferenceError
    return sum(issubclass(type(o), autograd.Tensor) for o in gc.get_objects())


def array_bytes():
    """Bytes of NumPy array data alive now (NumPy reports its buffers to tracemalloc)."""
    domain = tracemalloc.DomainFilter(True, np.lib.tracemalloc_domain)
    return sum(s.size for s in tracemalloc.take_snapshot().filter_traces([domain]).statistics('filename'))


def profile_step(model, x, y):
    """(peak bytes above the start of the step, array bytes after it, live tensors after it).

    The peak is taken relative to the step's start: CPython keeps freed small
    objects on free lists for reuse, and those lists fill up over the first
    thousand steps without anything leaking."""
    start = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    train_step(model, x, y)
    return tracemalloc.get_traced_memory()[1] - start, array_bytes(), live_tensors()


def test_peak_memory_at_step_10_equals_step_2000():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 32)).astype(np.float32)
    y = rng.integers(0, 2, 64)
    model = small_model(features=32)
    tracemalloc.start()
    try:
        for _ in range(9):
            train_step(model, x, y)
        peak_10, arrays_10, tensors_10 = profile_step(model, x, y)
        for _ in range(10, 1999):
            train_step(model, x, y)
        peak_2000, arrays_2000, tensors_2000 = profile_step(model, x, y)
    finally:
        tracemalloc.stop()
    assert abs(peak_2000 - peak_10) <= 0.02 * peak_10, (peak_10, peak_2000)
    assert arrays_2000 == arrays_10 and tensors_2000 == tensors_10


class PerEpoch(Callback):
    """Function calls, traced memory and live tensors at the end of each epoch."""

    def __init__(self, calls):
        super().__init__()
        self.calls, self.rows = calls, []

    def on_epoch_end(self, epoch, logs=None):
        self.rows.append((self.calls[0], tracemalloc.get_traced_memory()[0], live_tensors()))
        self.calls[0] = 0


def test_twenty_epochs_do_the_same_work_each(monkeypatch):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 8)).astype(np.float32)
    y = rng.integers(0, 2, 64)
    calls = [0]
    original = autograd.Function.__call__

    def counting(self, *inputs):
        calls[0] += 1
        return original(self, *inputs)
    monkeypatch.setattr(autograd.Function, '__call__', counting)
    recorder = PerEpoch(calls)
    model = small_model()
    tracemalloc.start()
    try:
        model.fit(x, y, batch_size=8, epochs=20, verbose=0, callbacks=[recorder])
    finally:
        tracemalloc.stop()
    counts, memory, tensors = zip(*recorder.rows[1:])  # epoch 1 creates optimizer slots
    assert len(set(counts)) == 1 and counts[0] > 0
    assert len(set(tensors)) == 1
    # The history grows by a few floats per epoch; nothing else may.
    assert memory[-1] - memory[0] < 20_000, memory
