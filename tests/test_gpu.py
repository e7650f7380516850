"""The whole framework on the GPU (CuPy). Skipped, with the reason, where
CuPy or a CUDA device is missing."""
import numpy as np
import pytest

from minicnn import devices, gradcheck
from minicnn import functional as F
from minicnn.callbacks import LambdaCallback
from minicnn.layers import AveragePooling2D, Conv2D, Dense, Flatten, MaxPooling2D
from minicnn.models import Sequential
from minicnn.optimizers import Adam

from synthetic import plus_or_cross

pytestmark = pytest.mark.gpu


@pytest.fixture
def gpu():
    try:
        devices.set_device('gpu')
    except RuntimeError as err:
        pytest.skip(str(err))
    yield devices.cupy()
    devices.set_device('cpu')


FUNCTIONS = {
    'conv2d same stride 2': (lambda x, k, b: F.conv2d(x, k, b, strides=2, padding='same'),
                             [(2, 7, 6, 3), (3, 2, 3, 4), (4,)]),
    'conv2d valid': (lambda x, k: F.conv2d(x, k), [(1, 5, 5, 2), (3, 3, 2, 2)]),
    'max_pool2d': (lambda x: F.max_pool2d(x, 2, padding='same'), [(2, 5, 5, 2)]),
    'avg_pool2d': (lambda x: F.avg_pool2d(x, 3, 2, padding='same'), [(2, 5, 6, 2)]),
    'dense': (F.dense, [(3, 4), (4, 5), (5,)]),
    'relu': (F.relu, [(3, 5)]),
    'tanh': (F.tanh, [(3, 5)]),
    'sigmoid': (F.sigmoid, [(3, 5)]),
    'softmax': (F.softmax, [(3, 5)]),
    'log_softmax': (F.log_softmax, [(3, 5)]),
    'softmax_cross_entropy': (lambda z: F.softmax_cross_entropy(z, np.array([0, 2, 4])), [(3, 5)]),
}


@pytest.mark.parametrize('name', sorted(FUNCTIONS))
def test_gradcheck_in_float64_on_cupy(gpu, name):
    f, shapes = FUNCTIONS[name]
    rng = np.random.default_rng(0)
    inputs = [gpu.asarray(rng.standard_normal(s)) for s in shapes]
    if name == 'softmax_cross_entropy':
        labels = gpu.asarray(np.array([0, 2, 4]))
        f = (lambda z: F.softmax_cross_entropy(z, labels))
    assert gradcheck(f, *inputs)


def test_dropout_on_cupy(gpu):
    x = gpu.ones((100, 100), dtype=gpu.float32)
    y = F.dropout(x, 0.3).data
    assert type(y) is type(x) and abs(float((y == 0).mean()) - 0.3) < 0.02


def small_cnn():
    return Sequential([Conv2D(6, 3, padding='same', activation='relu', input_shape=(10, 10, 1)),
                       MaxPooling2D(), Conv2D(8, 3, activation='relu'), AveragePooling2D(),
                       Flatten(), Dense(2, activation='softmax')])


def test_same_training_on_gpu_and_cpu(gpu):
    x, y = plus_or_cross(64)
    devices.set_device('cpu')
    cpu_model = small_cnn()
    cpu_model.compile(Adam(0.01), 'sparse_categorical_crossentropy', ['accuracy'])
    devices.set_device('gpu')
    gpu_model = small_cnn()
    gpu_model.compile(Adam(0.01), 'sparse_categorical_crossentropy', ['accuracy'])
    gpu_model.set_weights(cpu_model.get_weights())
    devices.set_device('cpu')
    cpu_history = cpu_model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    devices.set_device('gpu')
    gpu_history = gpu_model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(gpu_history.history['loss'], cpu_history.history['loss'], rtol=1e-4)
    for a, b in zip(gpu_model.get_weights(), cpu_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)
    assert isinstance(gpu_model.predict(x), np.ndarray)


def test_a_model_moves_between_devices(gpu):
    x, y = plus_or_cross(32)
    model = small_cnn()
    model.compile('adam', 'sparse_categorical_crossentropy')
    model.fit(x, y, epochs=1, verbose=0)
    on_gpu = model.predict(x)
    devices.set_device('cpu')
    model.to('cpu')
    np.testing.assert_allclose(model.predict(x), on_gpu, rtol=1e-4, atol=1e-6)
    model.fit(x, y, epochs=1, verbose=0)  # the optimizer's slots follow the weights


def test_memory_pool_does_not_grow_after_epoch_two(gpu):
    x, y = plus_or_cross(256)
    pool = gpu.get_default_memory_pool()
    sizes = []
    model = small_cnn()
    model.compile('adam', 'sparse_categorical_crossentropy', ['accuracy'])
    model.fit(x, y, batch_size=32, epochs=5, verbose=0,
              callbacks=[LambdaCallback(on_epoch_end=lambda e, logs: sizes.append(pool.total_bytes()))])
    assert sizes[4] <= sizes[1], sizes
