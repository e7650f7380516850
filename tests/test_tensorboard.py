"""callbacks.TensorBoard: the event files read back with TensorBoard's own reader,
each value checked against what fit logged, with Keras 2's tags, folders and steps."""
import json
import sys

import numpy as np
import pytest

from minicnn import devices, tensorboard_events
from minicnn.callbacks import LambdaCallback, TensorBoard
from minicnn.interchange import keras_config
from minicnn.layers import Conv2D, Dense, Flatten
from minicnn.models import Sequential
from minicnn.optimizers import SGD
from minicnn.optimizers.schedules import ExponentialDecay

event_accumulator = pytest.importorskip(
    'tensorboard.backend.event_processing.event_accumulator')


def read(folder):
    """Everything TensorBoard's reader finds in one run folder (no sampling)."""
    reader = event_accumulator.EventAccumulator(
        str(folder), size_guidance={kind: 0 for kind in ('scalars', 'histograms', 'images',
                                                         'tensors')})
    reader.Reload()
    return reader


def scalars(reader, tag):
    """[(step, value)] of one scalar tag."""
    return [(e.step, e.value) for e in reader.Scalars(tag)]


def data(n=20, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 6, 6, 1)).astype('float32')
    return x, np.eye(2)[rng.integers(0, 2, n)].astype('float32')


def small_cnn(optimizer='adam'):
    model = Sequential([Conv2D(3, 3, input_shape=(6, 6, 1)), Flatten(),
                        Dense(2, activation='softmax')])
    model.compile(optimizer, 'categorical_crossentropy', metrics=['accuracy'])
    return model


def test_epoch_values_train_and_validation_equal_the_history(tmp_path):
    x, y = data()
    history = small_cnn().fit(x, y, batch_size=5, epochs=3, validation_split=0.2, verbose=0,
                              callbacks=[TensorBoard(log_dir=tmp_path)])
    train, validation = read(tmp_path / 'train'), read(tmp_path / 'validation')
    assert sorted(train.Tags()['scalars']) == ['epoch_accuracy', 'epoch_loss']
    assert sorted(validation.Tags()['scalars']) == [
        'epoch_accuracy', 'epoch_loss', 'evaluation_accuracy_vs_iterations',
        'evaluation_loss_vs_iterations']
    for name in ('loss', 'accuracy'):
        # event files hold float32
        expected = [(epoch, np.float32(v)) for epoch, v in enumerate(history.history[name])]
        assert scalars(train, f'epoch_{name}') == expected
        expected_val = [(epoch, np.float32(v))
                        for epoch, v in enumerate(history.history[f'val_{name}'])]
        assert scalars(validation, f'epoch_{name}') == expected_val
        # 16 training samples in batches of 5: 4 steps per epoch
        assert scalars(validation, f'evaluation_{name}_vs_iterations') == [
            (4 * (epoch + 1), v) for epoch, v in expected_val]


def test_without_validation_there_is_no_validation_folder(tmp_path):
    x, y = data()
    small_cnn().fit(x, y, epochs=1, verbose=0, callbacks=[TensorBoard(tmp_path)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ['train']


@pytest.mark.parametrize('update_freq, steps', [('batch', [1, 2, 3, 4, 5, 6, 7, 8]),
                                                (3, [3, 6])])
def test_batch_values_every_update_freq_batches(tmp_path, update_freq, steps):
    x, y = data()
    batch_logs = []
    record = LambdaCallback(on_batch_end=lambda batch, logs: batch_logs.append(dict(logs)))
    small_cnn().fit(x, y, batch_size=5, epochs=2, verbose=0,
                    callbacks=[TensorBoard(tmp_path, update_freq=update_freq), record])
    train = read(tmp_path / 'train')
    for name in ('loss', 'accuracy'):
        # step k is the k-th batch of this fit, counted from 1 across epochs
        assert scalars(train, f'batch_{name}') == [
            (k, np.float32(batch_logs[k - 1][name])) for k in steps]


def test_epoch_update_freq_writes_no_batch_values(tmp_path):
    x, y = data()
    small_cnn().fit(x, y, epochs=1, verbose=0, callbacks=[TensorBoard(tmp_path)])
    assert not [t for t in read(tmp_path / 'train').Tags()['scalars'] if t.startswith('batch_')]


def test_histograms_every_histogram_freq_epochs_describe_the_weights(tmp_path):
    x, y = data()
    model = small_cnn()
    seen = {}
    record = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.update(
        {epoch: [devices.to_numpy(w.data).copy() for w in model.weights]}))
    model.fit(x, y, epochs=3, verbose=0, callbacks=[TensorBoard(tmp_path, histogram_freq=2),
                                                    record])
    train = read(tmp_path / 'train')
    conv, dense = model.layers[0].name, model.layers[2].name
    tags = [f'{conv}/kernel_0/histogram', f'{conv}/bias_0/histogram',
            f'{dense}/kernel_0/histogram', f'{dense}/bias_0/histogram']
    assert sorted(train.Tags()['histograms']) == sorted(tags)
    for k, tag in enumerate(tags):
        events = train.Histograms(tag)
        assert [e.step for e in events] == [0, 2]  # epochs 0 and 2
        for event in events:
            weights, histogram = seen[event.step][k], event.histogram_value
            assert histogram.num == weights.size
            assert histogram.min == pytest.approx(weights.min())
            assert histogram.max == pytest.approx(weights.max())
            assert histogram.sum == pytest.approx(weights.sum(), abs=1e-5)
            assert histogram.sum_squares == pytest.approx((weights.astype('f8') ** 2).sum())
            # tf.summary.histogram's 30 equal buckets, each named by its right edge
            assert len(histogram.bucket) == 30 and sum(histogram.bucket) == weights.size
            assert histogram.bucket_limit[-1] == pytest.approx(weights.max())


def test_write_images_draws_the_weights_as_keras_2(tmp_path):
    x, y = data()
    model = small_cnn()
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[TensorBoard(tmp_path, histogram_freq=1, write_images=True)])
    conv = model.layers[0].name
    images = read(tmp_path / 'train').Tags()['images']
    # the (3, 3, 1, 3) kernel squeezes to (3, 3, 3): three 3 x 3 pictures
    assert sorted(t for t in images if t.startswith(f'{conv}/kernel')) == [
        f'{conv}/kernel_0/image/{k}' for k in range(3)]
    picture = read(tmp_path / 'train').Images(f'{conv}/kernel_0/image/0')[0]
    assert (picture.width, picture.height) == (3, 3)


def test_weight_pictures_follow_keras_2_shapes():
    pictures = tensorboard_events.weight_pictures
    assert [p.shape for p in pictures(np.zeros(5))] == [(5, 1, 1)]
    assert [p.shape for p in pictures(np.zeros((18, 2)))] == [(2, 18, 1)]  # wider than high
    assert [p.shape for p in pictures(np.zeros((3, 3, 1, 8)))] == [(3, 3, 1)] * 3
    assert [p.shape for p in pictures(np.zeros((3, 3, 2, 3)))] == [(3, 2, 3)] * 3
    assert pictures(np.zeros((3, 3, 2, 16))) == []  # Keras draws no such kernel
    # clipped to [0, 1], then bytes
    assert pictures(np.array([-1.0, 0.5, 2.0]))[0].ravel().tolist() == [0, 128, 255]


def test_write_graph_stores_the_keras_json_that_tensorboard_draws(tmp_path):
    x, y = data()
    model = small_cnn()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[TensorBoard(tmp_path)])
    train = read(tmp_path / 'train')
    assert train.PluginTagToContent('graph_keras_model') == {'keras': b'1'}
    stored = train.Tensors('keras')[0].tensor_proto.string_val[0]
    assert json.loads(stored) == json.loads(json.dumps(keras_config.layer_to_keras(model)))
    model.fit(x, y, epochs=1, verbose=0, callbacks=[TensorBoard(tmp_path / 'no_graph',
                                                                write_graph=False)])
    assert read(tmp_path / 'no_graph' / 'train').Tags()['tensors'] == []


def test_a_scheduled_learning_rate_and_steps_per_second_are_logged(tmp_path):
    x, y = data()
    schedule = ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    model = small_cnn(SGD(schedule))
    model.fit(x, y, batch_size=10, epochs=2, verbose=0,
              callbacks=[TensorBoard(tmp_path, write_steps_per_second=True, update_freq=1)])
    train = read(tmp_path / 'train')
    # the rate of the next step: 0.1 * 0.5^(batches done)
    assert scalars(train, 'epoch_learning_rate') == [(0, np.float32(0.1 * 0.5 ** 2)),
                                                     (1, np.float32(0.1 * 0.5 ** 4))]
    assert all(v > 0 for _, v in scalars(train, 'epoch_steps_per_second'))
    assert [step for step, _ in scalars(train, 'batch_steps_per_second')] == [1, 2, 3, 4]


@pytest.mark.parametrize('kwargs, message', [
    ({'profile_batch': 2}, "profile_batch=2 asks for TensorFlow's profiler"),
    ({'profile_batch': (10, 20)}, 'profile_batch=.10, 20.'),
    ({'embeddings_freq': 1}, "embeddings_freq=1 asks for TensorFlow's embedding projector"),
    ({'embeddings_metadata': 'meta.tsv'}, 'embeddings_metadata='),
    ({'update_freq': 0}, 'update_freq must be .batch., .epoch. or a whole number >= 1'),
    ({'update_freq': 'epochs'}, "update_freq='epochs'"),
    ({'histogram_freq': -1}, 'histogram_freq must be a whole number >= 0'),
    ({'histogram_freq': None}, 'histogram_freq=None'),
])
def test_keras_arguments_minicnn_lacks_are_refused_by_name(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        TensorBoard(tmp_path, **kwargs)


def test_an_unknown_or_tensorflow_1_argument_is_refused(tmp_path):
    with pytest.raises(TypeError, match='write_grads'):
        TensorBoard(tmp_path, write_grads=True)


def test_without_tensorboard_the_error_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, 'tensorboard', None)  # import fails as if not installed
    with pytest.raises(ImportError, match='needs the package tensorboard,'):
        TensorBoard(tmp_path)
