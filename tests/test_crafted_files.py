"""Crafted and broken files: each loader checks what a file announces (shapes,
types, sizes) against what it expects before reading any data, and says what is
wrong in an error that names the file, within bounded memory."""
import json
import re
import tracemalloc

import h5py
import numpy as np
import pytest

from minicnn import layers as L
from minicnn.interchange.hdf5 import KerasFileError
from minicnn.models import Sequential, load_model

MEMORY_LIMIT = 200 * 2**20  # bytes a test may allocate on top of what it held before


class bounded_memory:
    """Fails the test when the block's allocations peak above MEMORY_LIMIT
    (NumPy reports its arrays to tracemalloc too)."""

    def __enter__(self):
        tracemalloc.start()
        return self

    def __exit__(self, *exc):
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < MEMORY_LIMIT, f'the block allocated {peak / 2**20:.0f} MiB at its peak'


def dense_model():
    return Sequential([L.Dense(3, input_shape=(4,), name='d')])


# -- HDF5 -------------------------------------------------------------------------------------

def test_h5_announcing_a_huge_kernel_is_refused_from_its_header(tmp_path):
    model = dense_model()
    model.save_weights(tmp_path / 'w.h5')
    with h5py.File(tmp_path / 'w.h5', 'r+') as f:
        del f['d/d/kernel:0']
        # chunked and never written: the file stays small, the dataset announces 3.6 TiB
        f['d/d'].create_dataset('kernel:0', shape=(10**6, 10**6), dtype='f4', chunks=(64, 64))
    assert (tmp_path / 'w.h5').stat().st_size < 20_000
    message = (rf"layer 'd' has weights of shapes \[\(4, 3\), \(3,\)\], but the layer 'd' of "
               rf"{re.escape(str(tmp_path / 'w.h5'))} has \[\(1000000, 1000000\), \(3,\)\]")
    with bounded_memory(), pytest.raises(ValueError, match=message):
        model.load_weights(tmp_path / 'w.h5')


def test_h5_weight_that_is_not_numbers(tmp_path):
    model = dense_model()
    model.save_weights(tmp_path / 'w.h5')
    with h5py.File(tmp_path / 'w.h5', 'r+') as f:
        del f['d/d/bias:0']
        f['d/d'].create_dataset('bias:0', data=np.array([b'a', b'b', b'c']))
    with pytest.raises(KerasFileError, match=r"w.h5: weight 'd/bias:0' of layer 'd' is not an "
                                             r"array of numbers"):
        model.load_weights(tmp_path / 'w.h5')


def test_truncated_h5_names_the_file(tmp_path):
    model = dense_model()
    model.save(tmp_path / 'm.h5')
    data = (tmp_path / 'm.h5').read_bytes()
    (tmp_path / 'm.h5').write_bytes(data[:len(data) // 2])
    for load in (model.load_weights, load_model):
        with pytest.raises(KerasFileError, match=r'm.h5 is damaged or not in Keras\'s layout'):
            load(tmp_path / 'm.h5')


def test_h5_naming_a_layer_group_it_lacks(tmp_path):
    model = dense_model()
    model.save_weights(tmp_path / 'w.h5')
    with h5py.File(tmp_path / 'w.h5', 'r+') as f:
        del f['d']
    with pytest.raises(KerasFileError, match=r"w.h5 is damaged or not in Keras's layout"):
        model.load_weights(tmp_path / 'w.h5')


@pytest.mark.parametrize('config, message', [
    (b'{"class_name": "Sequential", ', r'm.h5: model_config is not JSON text'),
    (b'\xff\xfe', r'm.h5: model_config is not JSON text'),
    (json.dumps({'config': {}}).encode(), r"m.h5: its model_config .* \(KeyError: 'class_name'\)"),
    (json.dumps({'class_name': 'Sequential', 'config': {'layers': [
        {'class_name': 'Dense', 'config': {'name': 'd', 'units': -3}}]}}).encode(),
     r'm.h5: .*Dense: units must be a positive int, got -3'),
])
def test_h5_model_config_that_is_wrong(tmp_path, config, message):
    dense_model().save(tmp_path / 'm.h5')
    with h5py.File(tmp_path / 'm.h5', 'r+') as f:
        f.attrs['model_config'] = np.void(config) if config.startswith(b'\xff') else config
    with pytest.raises(KerasFileError, match=message):
        load_model(tmp_path / 'm.h5')


def test_h5_training_config_that_is_not_json(tmp_path):
    model = dense_model()
    model.compile('sgd', 'mse')
    model.save(tmp_path / 'm.h5')
    with h5py.File(tmp_path / 'm.h5', 'r+') as f:
        f.attrs['training_config'] = b'{"loss": '
    with pytest.raises(KerasFileError, match=r'm.h5: training_config is not JSON text'):
        load_model(tmp_path / 'm.h5')
