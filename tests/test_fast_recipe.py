"""The fast recipe's parts, each against a plain computation: Rescaling,
Dirac and patch-whitening initialisation, the piecewise-linear schedule,
Lookahead, batch translations and alternating flips, test-time augmentation,
the memory check, and the recipe end to end on tiny data."""
import json

import numpy as np
import pytest

from minicnn import Tensor, gradcheck
from minicnn.recipes import fast_recipe
from minicnn import functional as F
from minicnn import layers as L
from minicnn.callbacks import Lookahead
from minicnn.initializers import Dirac, patch_whitening
from minicnn.models import Sequential
from minicnn.optimizers import SGD
from minicnn.optimizers.schedules import PiecewiseLinearDecay, deserialize, serialize
from minicnn.preprocessing import augment
from minicnn.preprocessing.augment import (AlternatingFlip, AugmentedBatches, predict_with_tta,
                                           random_crops, reflect_pad)


def test_rescaling_is_x_times_scale_plus_offset_with_its_gradient(rng):
    x = rng.standard_normal((3, 4))
    layer = L.Rescaling(0.5, offset=-2.0)
    assert np.allclose(layer(Tensor(x)).data, 0.5 * x - 2.0)
    assert gradcheck(lambda t: layer(t), x)
    assert L.Rescaling.from_config(layer.get_config()).get_config() == layer.get_config()


def test_dirac_passes_the_first_channels_through(rng):
    x = rng.standard_normal((2, 5, 5, 3)).astype(np.float32)
    kernel = Dirac()((3, 3, 3, 5))
    y = F.conv2d(x, kernel, padding='same').data
    assert np.allclose(y[..., :3], x, atol=1e-6)
    assert np.abs(kernel[..., 3:]).sum() > 0          # the other filters drawn from the base
    narrow = Dirac()((3, 3, 4, 2))                      # fewer filters than channels
    assert np.allclose(F.conv2d(x[..., :2], narrow[:, :, :2], padding='same').data, x[..., :2],
                       atol=1e-6)
    dense = Dirac()((3, 5))
    assert np.array_equal(dense[:, :3], np.eye(3))
    from minicnn import initializers
    assert initializers.get(initializers.serialize(Dirac('he_normal'))).base == 'he_normal'
    with pytest.raises(ValueError, match=r'Dirac: a kernel .* got shape \(3,\)'):
        Dirac()((3,))


def test_patch_whitening_makes_patches_uncorrelated_with_unit_variance(rng):
    # correlated colour channels, so that whitening has work to do
    mix = np.array([[1.0, 0.8, 0.2], [0.0, 0.5, 0.9], [0.0, 0.0, 0.3]])
    images = (rng.standard_normal((300, 8, 8, 3)) @ mix).astype(np.float32)
    kernel = patch_whitening(images, patch_size=2, epsilon=1e-6)
    assert kernel.shape == (2, 2, 3, 24)
    assert np.allclose(kernel[..., 12:], -kernel[..., :12])
    outputs = F.conv2d(images.astype(np.float64), kernel[..., :12].astype(np.float64)).data
    rows = outputs.reshape(-1, 12)
    assert np.allclose(rows.T @ rows / len(rows), np.eye(12), atol=2e-3)
    assert np.linalg.norm(kernel[..., 0]) < np.linalg.norm(kernel[..., 11])  # largest first
    with pytest.raises(ValueError, match=r'patch_whitening: .* got shape \(8, 8, 3\)'):
        patch_whitening(images[0])


def test_piecewise_linear_decay():
    schedule = PiecewiseLinearDecay([0, 10, 110], [0.2, 1.0, 0.0])
    assert [schedule(s) for s in (0, 5, 10, 60, 110, 500)] == \
        pytest.approx([0.2, 0.6, 1.0, 0.5, 0.0, 0.0])
    assert deserialize(serialize(schedule))(60) == pytest.approx(0.5)
    assert PiecewiseLinearDecay([0, 0, 10], [1.0, 2.0, 0.0])(5) == pytest.approx(1.0)
    with pytest.raises(ValueError, match='boundaries must be non-decreasing'):
        PiecewiseLinearDecay([0, 10, 5], [1, 2, 3])
    with pytest.raises(ValueError, match='one per value'):
        PiecewiseLinearDecay([0, 10], [1, 2, 3])


def tiny_model():
    model = Sequential([L.Dense(3, input_shape=(4,)), L.BatchNormalization(),
                        L.Activation('softmax')])
    model.compile(optimizer=SGD(0.1), loss='categorical_crossentropy')
    return model


def test_lookahead_pulls_the_weights_back_every_k_steps(rng):
    x = rng.standard_normal((24, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 24)]
    with_lookahead, by_hand = tiny_model(), tiny_model()
    by_hand.set_weights(with_lookahead.get_weights())
    with_lookahead.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0,
                       callbacks=[Lookahead(every=2, decay=0.75)])
    slow = by_hand.get_weights()
    for step in range(12):
        start = 4 * (step % 6)
        by_hand.train_on_batch(x[start:start + 4], y[start:start + 4])
        if step % 2 == 1:
            slow = [0.75 * s + 0.25 * w for s, w in zip(slow, by_hand.get_weights())]
            by_hand.set_weights(slow)
    for a, b in zip(with_lookahead.get_weights(), slow):
        assert np.allclose(a, b, atol=1e-6)


def test_lookahead_with_decay_one_keeps_the_starting_weights_and_zero_changes_nothing(rng):
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 16)]
    model, plain = tiny_model(), tiny_model()
    plain.set_weights(model.get_weights())
    start = model.get_weights()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[Lookahead(every=3, decay=1.0)])
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), start))
    model.set_weights(start)
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0,
              callbacks=[Lookahead(every=1, decay=0.0)])
    plain.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert all(np.allclose(a, b) for a, b in zip(model.get_weights(), plain.get_weights()))
    with pytest.raises(ValueError, match='every must be a positive int'):
        Lookahead(every=0)


def test_random_crops_are_windows_of_the_padded_images(rng):
    x = rng.integers(0, 255, (6, 5, 7, 3)).astype(np.uint8)
    padded = reflect_pad(x, 2)
    assert padded.shape == (6, 9, 11, 3)
    assert np.array_equal(padded[:, 2:-2, 2:-2], x)
    assert np.array_equal(padded[:, 1, 2:-2], x[:, 1]) and np.array_equal(padded[:, 0], padded[:, 4])
    crops = random_crops(padded, (5, 7), np.random.default_rng(3))
    draw = np.random.default_rng(3)
    dy, dx = draw.integers(0, 5, 6), draw.integers(0, 5, 6)
    for n in range(6):
        assert np.array_equal(crops[n], padded[n, dy[n]:dy[n] + 5, dx[n]:dx[n] + 7])


def test_alternating_flip_shows_every_image_both_ways_every_two_epochs():
    flips = AlternatingFlip(1000, np.random.default_rng(0))
    assert 400 < flips.mask(0).sum() < 600
    assert np.array_equal(flips.mask(1), ~flips.mask(0))
    assert np.array_equal(flips.mask(2), flips.mask(0))
    random = AlternatingFlip(1000, np.random.default_rng(0), alternate=False)
    assert not np.array_equal(random.mask(0), random.mask(1))
    assert not np.array_equal(random.mask(1), ~random.mask(0))


def test_augmented_batches_cover_every_image_once_per_epoch(rng):
    x = rng.integers(0, 255, (10, 4, 4, 3)).astype(np.uint8)
    ids = np.arange(10)
    plain = AugmentedBatches(x, ids, 4, translate=0, flip=None)
    assert len(plain) == 3
    seen = [(images, batch_ids) for images, batch_ids in plain]
    assert sorted(np.concatenate([b for _, b in seen])) == list(range(10))
    assert all(np.array_equal(images, x[b]) for images, b in seen)
    flipping = AugmentedBatches(x, ids, 4, translate=0, flip='alternating',
                                preprocess=lambda images: images.astype(np.float32) / 255)
    epochs = []
    for _ in range(2):
        shown = {}
        for images, batch_ids in flipping:
            assert images.dtype == np.float32
            for image, i in zip(images, batch_ids):
                shown[i] = np.array_equal(image, x[i, :, ::-1] / np.float32(255))
        epochs.append(shown)
    assert all(epochs[0][i] != epochs[1][i] for i in range(10))
    with pytest.raises(ValueError, match="flip must be 'alternating', 'random' or None"):
        AugmentedBatches(x, ids, 4, flip='sometimes')


def test_augmented_batches_drop_the_remainder_and_stop_within_an_epoch(rng):
    x = rng.integers(0, 255, (10, 4, 4, 3)).astype(np.uint8)
    ids = np.arange(10)

    def sizes(batches, epochs):
        return [[len(b) for _, b in batches] for _ in range(epochs)]
    cut = AugmentedBatches(x, ids, 4, translate=0, flip=None, drop_remainder=True, epochs=2.4)
    assert (len(cut), cut.steps, cut.epochs_to_run) == (2, 5, 3)      # ceil(2.4 * 2) = 5
    assert sizes(cut, 4) == [[4, 4], [4, 4], [4], []]
    kept = AugmentedBatches(x, ids, 4, translate=0, flip=None, epochs=2)
    assert (len(kept), kept.steps) == (3, 6) and sizes(kept, 2) == [[4, 4, 2], [4, 4, 2]]
    whole = AugmentedBatches(x, ids, 4, translate=0, flip=None, drop_remainder=True)
    assert whole.steps is None and sizes(whole, 3) == [[4, 4]] * 3
    seen = [np.concatenate([b for _, b in whole]) for _ in range(2)]
    assert all(len(set(s)) == 8 for s in seen)              # 8 distinct images, 2 left out
    # airbench94: 9.9 epochs of 50,000 // 1024 = 48 batches; the short budget, whole epochs
    assert augment.total_steps(9.9, 48) == 476 and augment.total_steps(4, 196) == 784
    with pytest.raises(ValueError, match=r'drop_remainder=True with batch_size=11 larger than '
                                         r'the 10 images'):
        AugmentedBatches(x, ids, 11, drop_remainder=True)
    for epochs in (0, -1.5, float('nan'), float('inf'), '2'):
        with pytest.raises(ValueError, match='epochs must be None or a positive number'):
            AugmentedBatches(x, ids, 4, epochs=epochs)


def test_lookahead_reaches_the_end_of_its_decay_at_the_last_of_total_steps(rng):
    x = rng.standard_normal((12, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 12)]
    batches = AugmentedBatches(x, y, 4, translate=0, flip=None, epochs=1.5)   # 3 + 2 steps
    progress = []
    model = tiny_model()
    model.fit(batches, epochs=batches.epochs_to_run, verbose=0, callbacks=[
        Lookahead(every=1, decay=lambda p: progress.append(p) or 0.0, total_steps=batches.steps)])
    assert progress == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    with pytest.raises(ValueError, match='total_steps must be a positive int'):
        Lookahead(total_steps=0)


def test_the_full_budget_takes_airbenchs_step_count_and_ends_its_schedule_there(rng, tmp_path):
    data = tiny_cifar(rng, n_train=70, n_test=8)
    # full: drop the remainder, so 70 // 16 = 4 batches an epoch; ceil(1.6 * 4) = 7 steps
    model, metrics = fast_recipe.train(tmp_path, data, budget='full', widths=(4, 8, 8),
                                       epochs=1.6, batch_size=16, without=['tta'], verbose=0)
    assert metrics['steps'] == model.optimizer.iterations == 7
    assert metrics['epochs'] == 2 and metrics['budget_epochs'] == 1.6
    schedule, lr = model.optimizer.schedule, fast_recipe.LR_PER_1024 * 16 / 1024
    assert schedule.boundaries == [0, int(fast_recipe.WARMUP * 7), 7]
    assert schedule(model.optimizer.iterations) == pytest.approx(fast_recipe.END * lr)
    with pytest.raises(ValueError, match=r'fast_recipe.train: epochs must be a positive number'):
        fast_recipe.train(tmp_path, data, epochs=float('nan'))


def known_logits_model(rng, activation):
    """Flatten then Dense(3) with set weights: logits(x) = flatten(x) @ W + b, by hand."""
    model = Sequential([L.Flatten(input_shape=(6, 6, 1)), L.Dense(3, activation=activation)])
    kernel, bias = rng.standard_normal((36, 3)), rng.standard_normal(3)
    model.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    return model, lambda images: images.reshape(len(images), -1).astype(np.float64) @ kernel + bias


def six_view_mean(x, f):
    """airbench's weights: x and its mirror 1/4 each; x moved one pixel up-left and
    down-right (reflect padding), each both ways, 1/8 each; f of each view, averaged."""
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode='reflect')
    up_left, down_right = padded[:, :6, :6], padded[:, 2:, 2:]

    def both_ways(images):
        return (f(images) + f(images[:, :, ::-1])) / 2
    return 0.5 * both_ways(x) + 0.25 * both_ways(up_left) + 0.25 * both_ways(down_right)


def softmax_rows(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_predict_with_tta_is_the_softmax_of_the_views_mean_logits(rng):
    model, logits = known_logits_model(rng, 'softmax')
    x = 3 * rng.standard_normal((40, 6, 6, 1)).astype(np.float32)
    expected = softmax_rows(six_view_mean(x, logits))
    predictions = predict_with_tta(model, x, batch_size=7)
    assert np.allclose(predictions, expected, atol=1e-5)
    assert np.array_equal(predictions.argmax(1), expected.argmax(1))
    # not the mean of the probabilities, which this test would accept by mistake otherwise
    probabilities = six_view_mean(x, lambda images: softmax_rows(logits(images)))
    assert not np.allclose(predictions, probabilities, atol=1e-3)
    flip_only = (logits(x) + logits(x[:, :, ::-1])) / 2
    assert np.allclose(predict_with_tta(model, x, flip=True, shift=0), softmax_rows(flip_only),
                       atol=1e-5)
    assert np.allclose(predict_with_tta(model, x, flip=False, shift=0),
                       model.predict(x, verbose=0), atol=1e-6)
    with pytest.raises(ValueError, match='shifts without flips'):
        predict_with_tta(model, x, flip=False, shift=1)


def test_predict_with_tta_of_sigmoid_linear_and_other_models(rng):
    x = rng.standard_normal((9, 6, 6, 1)).astype(np.float32)
    sigmoid, logits = known_logits_model(rng, 'sigmoid')
    assert np.allclose(predict_with_tta(sigmoid, x), 1 / (1 + np.exp(-six_view_mean(x, logits))),
                       atol=1e-5)
    linear, logits = known_logits_model(rng, None)   # its outputs are its logits
    assert np.allclose(predict_with_tta(linear, x), six_view_mean(x, logits), atol=1e-5)
    relu, logits = known_logits_model(rng, 'relu')   # no logits: its outputs are averaged
    assert np.allclose(predict_with_tta(relu, x),
                       six_view_mean(x, lambda images: np.maximum(logits(images), 0)), atol=1e-5)


def test_check_memory_names_the_batch_size_and_the_estimate():
    model = fast_recipe.fast_cnn(widths=(8, 16, 16))
    needed = fast_recipe.step_memory_estimate(model, 1024)
    fast_recipe.check_memory(model, 1024, available=2 * needed)
    with pytest.raises(MemoryError, match=r'batch_size=1024 needs about .* GiB .* try '
                                          r'--batch-size 512 or less'):
        fast_recipe.check_memory(model, 1024, available=needed // 2)


def tiny_cifar(rng, n_train=64, n_test=32):
    def split(n):
        return (rng.integers(0, 255, (n, 32, 32, 3)).astype(np.uint8),
                rng.integers(0, 10, (n, 1)))
    return split(n_train), split(n_test)


def test_the_recipe_runs_whitens_and_keeps_the_whitening_frozen(rng, tmp_path):
    data = tiny_cifar(rng)
    model, metrics = fast_recipe.train(tmp_path, data, widths=(4, 8, 8), epochs=2, batch_size=16,
                                       verbose=0)
    normalize = fast_recipe.normalizer(*fast_recipe.channel_statistics(data[0][0]))
    expected = patch_whitening(normalize(data[0][0]))
    assert np.allclose(model.get_layer('whiten').get_weights()[0], expected)
    assert metrics['epochs'] == 2 and 0 <= metrics['tta_test_accuracy'] <= 1
    assert json.loads((tmp_path / 'metrics.json').read_text())['tta_test_accuracy'] == \
        metrics['tta_test_accuracy']
    assert (tmp_path / 'whitening_filters.png').stat().st_size > 0
    assert (tmp_path / 'curves.png').stat().st_size > 0


def test_the_recipe_without_tricks(rng, tmp_path):
    data = tiny_cifar(rng, 32, 16)
    model, metrics = fast_recipe.train(tmp_path, data, widths=(4, 8, 8), epochs=1, batch_size=16,
                                       without=['whitening', 'tta', 'batchnorm'], verbose=0)
    assert 'tta_test_accuracy' not in metrics and metrics['without'] == ['batchnorm', 'tta',
                                                                          'whitening']
    assert model.get_layer('whiten').kernel.requires_grad
    assert model.layers[3].scale                         # Keras's BatchNormalization
    assert not (tmp_path / 'whitening_filters.png').exists()
    with pytest.raises(ValueError, match=r"unknown tricks in without: \['lookahaed'\]"):
        fast_recipe.train(tmp_path, data, without=['lookahaed'])


@pytest.mark.parametrize('method', ['ChunkedConvolution', 'WinogradConvolution'])
def test_a_frozen_kernel_gets_no_gradient_and_the_bias_still_does(method, rng, monkeypatch):
    from minicnn.functional import conv
    from minicnn.kernels import winograd_numba

    def no_products(*args):
        raise AssertionError('a product that no gradient needs was computed')
    monkeypatch.setattr(conv.ChunkedConvolution, 'g_kernel', no_products)
    monkeypatch.setattr(conv.ChunkedConvolution, 'g_cols', no_products)
    monkeypatch.setattr(winograd_numba, 'kernel_gradient', no_products)
    monkeypatch.setattr(winograd_numba, 'input_gradient_transform', no_products)
    x = Tensor(rng.standard_normal((2, 5, 5, 3)))
    kernel = Tensor(rng.standard_normal((3, 3, 3, 4)), requires_grad=False)
    bias = Tensor(np.zeros(4), requires_grad=True)
    y = F.conv2d(x, kernel, bias, padding='same', method=getattr(conv, method))
    gy = rng.standard_normal(y.shape)
    y.backward(gy)
    assert kernel.grad is None and np.allclose(bias.grad, gy.sum(axis=(0, 1, 2)))


def test_freeze_after_trains_the_weights_for_the_first_epochs_only(rng):
    from minicnn.callbacks import LambdaCallback
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 16)]
    model = Sequential([L.Dense(3, input_shape=(4,), activation='softmax')])
    model.compile(optimizer=SGD(0.1), loss='categorical_crossentropy')
    bias = model.layers[0].bias
    start, after_epoch = bias.data.copy(), []
    model.fit(x, y, batch_size=4, epochs=3, verbose=0, callbacks=[
        fast_recipe.FreezeAfter([bias], 1),
        LambdaCallback(on_epoch_end=lambda epoch, logs: after_epoch.append(bias.data.copy()))])
    assert not np.allclose(after_epoch[0], start)
    assert np.array_equal(after_epoch[1], after_epoch[0]) and np.array_equal(bias.data, after_epoch[0])
    assert not bias.requires_grad


def test_weight_decay_shrinks_the_weights_as_fast_as_airbenchs_coupled_decay():
    """airbench (PyTorch SGD, Nesterov, loss summed over the batch) puts its decay
    into the gradient, where momentum carries it; minicnn decays decoupled. With
    no other gradient, both must shrink a weight by about the same factor per step
    (within 10%: the momentum buffer holds the decay of earlier, larger weights,
    so the coupled form decays a little faster than its steady-state rate)."""
    batch, momentum = 1024, fast_recipe.MOMENTUM
    lr = 11.5 / (1024 * (1 + 1 / (1 - momentum)))          # airbench's, per summed example
    decay = 0.0153 * batch / (1024 * (1 + 1 / (1 - momentum))) / lr
    w, buf = 1.0, 0.0
    for _ in range(300):                                   # PyTorch's Nesterov SGD on g = 0
        g = decay * w
        buf = momentum * buf + g
        w -= lr * (g + momentum * buf)
    airbench_rate = np.log(w) / 300
    minicnn_lr = fast_recipe.LR_PER_1024 * batch / 1024
    minicnn_rate = np.log(1 - minicnn_lr * fast_recipe.WEIGHT_DECAY)
    assert minicnn_rate == pytest.approx(airbench_rate, rel=0.1)
