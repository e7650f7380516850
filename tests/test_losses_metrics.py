import numpy as np
import pytest

from minicnn import Tensor, gradcheck, losses, metrics
from minicnn import functional as F


def test_cross_entropy_on_probabilities_and_the_fused_one_agree(rng):
    logits = rng.standard_normal((5, 3))
    labels = np.array([0, 2, 1, 1, 0])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    loss = losses.get('sparse_categorical_crossentropy')
    on_p = loss(labels, Tensor(p)).data
    fused = F.softmax_cross_entropy(Tensor(logits), labels).data
    np.testing.assert_allclose(on_p, fused, rtol=1e-5)
    assert gradcheck(lambda q: loss(labels, q), p)


def test_categorical_cross_entropy_takes_one_hot_rows(rng):
    p = np.full((2, 4), 0.25)
    loss = losses.get('categorical_crossentropy')(np.eye(4)[[1, 3]], Tensor(p))
    np.testing.assert_allclose(loss.data, np.log(4), rtol=1e-6)


def test_mse_by_both_names(rng):
    a, b = rng.standard_normal((4, 1)), rng.standard_normal(4)
    for name in ('mse', 'mean_squared_error', 'MSE'):
        value = losses.get(name)(b, Tensor(a)).data
        np.testing.assert_allclose(value, ((a.reshape(-1) - b) ** 2).mean())


def test_unknown_loss():
    with pytest.raises(ValueError, match="unknown loss 'l1'"):
        losses.get('l1')


def test_accuracy_picks_the_matching_classes_and_reports_under_the_given_name():
    y_pred = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    for y_true in (np.array([1, 0, 0]), np.eye(2)[[1, 1, 1]], np.array([[1], [0], [0]])):
        assert metrics.get('accuracy')(y_true, y_pred) == pytest.approx(2 / 3)
    assert metrics.get('ACC').name == 'ACC' and metrics.get('accuracy').name == 'accuracy'


def test_softmax_cross_entropy_given_its_arguments_in_keras_order_says_so(rng):
    logits = rng.normal(size=(4, 3)).astype(np.float32)
    labels = np.eye(3, dtype=np.float32)[[0, 2, 1, 1]]
    F.softmax_cross_entropy(Tensor(logits), labels)  # logits first: fine
    with pytest.raises(ValueError, match=r'non-negative.*softmax_cross_entropy\(logits, labels\)'):
        F.softmax_cross_entropy(Tensor(labels), logits)  # y_true first, as Keras's losses
