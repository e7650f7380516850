"""Keras's losses and metrics, used as a Keras user uses them, each checked
against the value Keras gives: its documented examples and the numbers of
its own tests (keras-team/keras, keras/src/losses/losses_test.py and
keras/src/metrics/*_test.py)."""
import numpy as np
import pytest

from minicnn import Tensor, gradcheck, losses, metrics, training
from minicnn import functional as F
from minicnn.functional import loss_functions
from minicnn.layers import Dense
from minicnn.models import Sequential
from minicnn.optimizers import SGD

ONE_HOT = np.array([[0, 1, 0], [0, 0, 1]])
PROBABILITIES = np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
THREE_ROWS = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
THREE_LOGITS = np.array([[8.0, 1.0, 1.0], [0.0, 9.0, 1.0], [2.0, 3.0, 5.0]])
BINARY_TRUE = np.array([[0.0, 1.0], [0.0, 0.0]])
BINARY_PRED = np.array([[0.6, 0.4], [0.4, 0.6]])


def value(t):
    return float(t.data) if isinstance(t, Tensor) else float(t)


# -- losses: the documented values --------------------------------------------------

def test_categorical_crossentropy_function_is_per_sample_and_the_class_reduces_it():
    np.testing.assert_allclose(losses.categorical_crossentropy(ONE_HOT, PROBABILITIES).numpy(),
                               [0.0513, 2.303], atol=1e-3)
    cce = losses.CategoricalCrossentropy()
    assert value(cce(ONE_HOT, PROBABILITIES)) == pytest.approx(1.177, abs=1e-3)
    assert value(cce(ONE_HOT, PROBABILITIES, sample_weight=np.array([0.3, 0.7]))) == \
        pytest.approx(0.814, abs=1e-3)
    scce = losses.SparseCategoricalCrossentropy()
    assert value(scce(np.array([1, 2]), PROBABILITIES)) == pytest.approx(1.177, abs=1e-3)
    np.testing.assert_allclose(
        losses.sparse_categorical_crossentropy([1, 2], PROBABILITIES).numpy(), [0.0513, 2.303],
        atol=1e-3)


def test_probabilities_are_normalized_and_clipped_as_keras_does():
    unnormalized = np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]])
    assert value(losses.CategoricalCrossentropy()(THREE_ROWS, unnormalized)) == \
        pytest.approx(0.3239, abs=1e-4)
    assert value(losses.CategoricalCrossentropy()(THREE_ROWS, unnormalized, sample_weight=2.3)) \
        == pytest.approx(0.7449, abs=1e-3)
    zero_for_the_class = np.array([[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(losses.categorical_crossentropy([[0, 1, 0]], zero_for_the_class)
                               .numpy(), [-np.log(1e-7)], rtol=1e-6)


def test_cross_entropy_from_logits():
    cce = losses.CategoricalCrossentropy(from_logits=True)
    assert value(cce(THREE_ROWS, THREE_LOGITS)) == pytest.approx(0.0573, abs=1e-4)
    assert value(cce(THREE_ROWS, THREE_LOGITS, sample_weight=np.array([[1.2], [3.4], [5.6]]))) \
        == pytest.approx(0.31829, abs=1e-5)
    np.testing.assert_allclose(
        losses.categorical_crossentropy(THREE_ROWS, THREE_LOGITS, from_logits=True).numpy(),
        [0.001822, 0.000459, 0.169846], atol=1e-6)
    bce = losses.BinaryCrossentropy(from_logits=True)
    logits = np.array([-18.6, 0.51, 2.94, -12.8])
    assert value(bce(np.array([0, 1, 0, 0]), logits)) == pytest.approx(0.8654, abs=1e-4)
    assert value(bce(np.array([[0, 1], [0, 0]]), logits.reshape(2, 2))) == \
        pytest.approx(0.8654, abs=1e-4)
    assert value(bce(np.array([[0, 1], [0, 0]]), logits.reshape(2, 2), sample_weight=[0.8, 0.2])) \
        == pytest.approx(0.243, abs=1e-3)


def test_label_smoothing_as_keras():
    cce = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    assert value(cce(np.array([[1, 0, 0]]), np.array([[100.0, -100.0, -100.0]]))) == \
        pytest.approx(400.0 * 0.1 / 3.0)
    bce = losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)
    assert value(bce(np.array([[1, 0, 1]]), np.array([[10.0, -10.0, -10.0]]))) == \
        pytest.approx((10.0 + 5.0 * 0.1) / 3.0, abs=1e-4)
    p = np.array([[0.7, 0.2, 0.1]])
    smoothed = np.array([[1, 0, 0]]) * (1 - 0.3) + 0.3 / 3
    assert value(losses.CategoricalCrossentropy(label_smoothing=0.3)([[1, 0, 0]], p)) == \
        pytest.approx(-(smoothed * np.log(p)).sum())
    q = np.array([[0.8]])
    t = 1 * (1 - 0.3) + 0.3 / 2
    assert value(losses.BinaryCrossentropy(label_smoothing=0.3)([[1]], q)) == \
        pytest.approx(-(t * np.log(0.8) + (1 - t) * np.log(0.2)))


def test_binary_crossentropy_function():
    np.testing.assert_allclose(losses.binary_crossentropy(BINARY_TRUE, BINARY_PRED).numpy(),
                               [0.916, 0.714], atol=1e-3)


def test_regression_and_hinge_losses():
    assert value(losses.MeanSquaredError()([1.0, 0.0, 1.0], [0.9, 0.1, 0.8])) == \
        pytest.approx(0.02)
    y_true, y_pred = np.array([[1, 9, 2], [-5, -2, 6]]), np.array([[4, 8, 12], [8, 1, 3]], 'f4')
    mae = losses.MeanAbsoluteError()
    assert value(mae(y_true, y_pred)) == pytest.approx(5.5)
    assert value(mae(y_true, y_pred, sample_weight=np.array([[1.2], [3.4]]))) == \
        pytest.approx(81.4 / 6, rel=1e-5)
    assert value(losses.huber(BINARY_TRUE, BINARY_PRED).numpy().mean()) == pytest.approx(0.155)
    assert value(losses.Hinge()(BINARY_TRUE, BINARY_PRED)) == pytest.approx(1.3)
    assert value(losses.Hinge()(BINARY_TRUE, BINARY_PRED, sample_weight=[1, 0])) == \
        pytest.approx(0.55)
    np.testing.assert_allclose(losses.hinge(BINARY_TRUE, BINARY_PRED).numpy(), [1.1, 1.5])
    assert value(losses.SquaredHinge()(BINARY_TRUE, BINARY_PRED)) == pytest.approx(1.86)
    np.testing.assert_allclose(losses.squared_hinge(BINARY_TRUE, BINARY_PRED).numpy(), [1.46, 2.26])
    t = np.array([0.5, 0.8, 0.12, 0.7, 0.43, 0.8], 'f4').reshape(2, 3)
    p = np.array([0.4, 0.9, 0.12, 0.36, 0.3, 0.4], 'f4').reshape(2, 3)
    assert value(losses.KLDivergence()(t, p)) == pytest.approx((t * np.log(t / p)).sum() / 2,
                                                               rel=1e-5)


def test_huber_with_delta_follows_keras_formula():
    y_pred = np.array([[0.9, 0.2, 0.2], [0.8, 0.4, 3.6]])
    y_true = np.array([[1.0, 0, 1], [1, 0, 0]])
    error = np.abs(y_pred - y_true)
    quadratic = np.minimum(error, 2.0)
    expected = (0.5 * quadratic ** 2 + 2.0 * (error - quadratic)).mean()
    assert value(losses.Huber(delta=2.0)(y_true, y_pred)) == pytest.approx(expected)
    assert losses.Huber(delta=2.0).get_config() == {'name': 'huber_loss', 'delta': 2.0}


def test_hinge_takes_plus_minus_one_labels_unchanged():
    y_true = np.array([[-1.0, 1.0], [1.0, -1.0]])
    np.testing.assert_allclose(losses.hinge(y_true, BINARY_PRED).numpy(),
                               np.maximum(1 - y_true * BINARY_PRED, 0).mean(axis=1))


def test_a_categorical_loss_of_one_column_is_an_error_not_a_zero():
    with pytest.raises(ValueError, match='one column.*binary_crossentropy'):
        losses.categorical_crossentropy(np.ones((2, 1)), np.full((2, 1), 0.5))


def test_shapes_that_do_not_match_are_named():
    with pytest.raises(ValueError, match=r'y_true shape \(3, 1\) does not match y_pred shape '
                                         r'\(3, 3\)'):
        losses.BinaryCrossentropy()(np.array([[0], [1], [0]]), np.full((3, 3), 0.5))


# -- losses: gradients and stability -----------------------------------------------------

def test_the_new_functions_pass_gradcheck(rng):
    z, t = rng.standard_normal((4, 3)) * 3, rng.random((4, 3))
    assert gradcheck(lambda z: loss_functions.SigmoidBinaryCrossEntropy()(z, t), z)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    assert gradcheck(loss_functions.absolute_error, a, b)
    assert gradcheck(lambda a, b: loss_functions.huber_error(b, a, 0.7), a, b)
    assert gradcheck(lambda x: loss_functions.clip(x, -0.5, 0.5), a)
    w = np.array([0.5, 2.0, 1.0, 0.0])
    assert gradcheck(lambda z: F.loss_functions.sigmoid_binary_cross_entropy(z, t, w), z)


@pytest.mark.parametrize('loss, y_true', [
    (losses.CategoricalCrossentropy(label_smoothing=0.1), np.eye(3)[[0, 2, 1, 1]]),
    (losses.CategoricalCrossentropy(from_logits=True), np.eye(3)[[0, 2, 1, 1]]),
    (losses.SparseCategoricalCrossentropy(), np.array([0, 2, 1, 1])),
    (losses.BinaryCrossentropy(label_smoothing=0.2), np.array([[1, 0, 1]] * 4)),
    (losses.BinaryCrossentropy(from_logits=True), np.array([[1, 0, 1]] * 4)),
    (losses.MeanSquaredError(), np.full((4, 3), 0.3)),
    (losses.MeanAbsoluteError(), np.full((4, 3), 0.3)),
    (losses.Huber(delta=0.2), np.full((4, 3), 0.3)),
    (losses.Hinge(), np.array([[1, 0, 1]] * 4)),
    (losses.SquaredHinge(), np.array([[1, 0, 1]] * 4)),
    (losses.KLDivergence(), np.eye(3)[[0, 2, 1, 1]] * 0.8 + 0.2 / 3),
])
def test_every_loss_passes_gradcheck(loss, y_true, rng):
    y_pred = rng.uniform(0.1, 0.9, (4, 3))
    assert gradcheck(lambda p: loss(y_true, p, sample_weight=np.array([1.0, 0.5, 2.0, 0.0])),
                     y_pred)


def test_sigmoid_cross_entropy_is_exact_and_finite_for_huge_logits():
    z = Tensor(np.array([[1e4, -1e4, 1e4, -1e4]]), requires_grad=True)
    t = np.array([[1.0, 0.0, 0.0, 1.0]])
    loss = F.loss_functions.sigmoid_binary_cross_entropy(z, t)
    assert value(loss) == pytest.approx((0 + 0 + 1e4 + 1e4) / 4)
    loss.backward()
    np.testing.assert_allclose(z.grad, [[0, 0, 0.25, -0.25]])


# -- losses: names and compile -----------------------------------------------------------

@pytest.mark.parametrize('identifier, cls', [
    ('binary_crossentropy', losses.BinaryCrossentropy), ('bce', losses.BinaryCrossentropy),
    ('BinaryCrossentropy', losses.BinaryCrossentropy),
    ('categorical_crossentropy', losses.CategoricalCrossentropy),
    ('CategoricalCrossentropy', losses.CategoricalCrossentropy),
    ('sparse_categorical_crossentropy', losses.SparseCategoricalCrossentropy),
    ('SparseCategoricalCrossentropy', losses.SparseCategoricalCrossentropy),
    ('mse', losses.MeanSquaredError), ('MeanSquaredError', losses.MeanSquaredError),
    ('mae', losses.MeanAbsoluteError), ('mean_absolute_error', losses.MeanAbsoluteError),
    ('MeanAbsoluteError', losses.MeanAbsoluteError), ('huber', losses.Huber),
    ('Huber', losses.Huber), ('hinge', losses.Hinge), ('Hinge', losses.Hinge),
    ('squared_hinge', losses.SquaredHinge), ('SquaredHinge', losses.SquaredHinge),
    ('kld', losses.KLDivergence), ('kl_divergence', losses.KLDivergence),
    ('KLDivergence', losses.KLDivergence), ('kullback_leibler_divergence', losses.KLDivergence),
    (losses.Huber, losses.Huber),
])
def test_compile_takes_keras_loss_names_and_classes(identifier, cls):
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile('sgd', loss=identifier)
    assert type(model.loss) is cls


def test_compile_takes_a_loss_instance_and_a_plain_function():
    x, y = np.ones((4, 3), 'f4'), np.zeros((4, 2), 'f4')
    model = Sequential([Dense(2, input_shape=(3,), kernel_initializer='ones')])
    huber = losses.Huber(delta=0.5)
    model.compile('sgd', loss=huber)
    assert model.loss is huber
    assert model.evaluate(x, y, verbose=0) == pytest.approx(0.5 * 3 - 0.5 * 0.25)

    def sum_of_squares(y_true, y_pred):
        return ((y_pred - y_true) * (y_pred - y_true)).sum(axis=-1)
    model.compile('sgd', loss=sum_of_squares)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(2 * 9.0)


def test_a_loss_round_trips_through_serialize():
    for loss in (losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2),
                 losses.BinaryCrossentropy(label_smoothing=0.1), losses.Huber(delta=3.0),
                 losses.SparseCategoricalCrossentropy(from_logits=True), losses.KLDivergence()):
        twin = losses.get(losses.serialize(loss))
        assert type(twin) is type(loss) and twin.get_config() == loss.get_config()


def test_loss_arguments_are_checked():
    with pytest.raises(TypeError, match="did you mean 'label_smoothing'"):
        losses.CategoricalCrossentropy(label_smothing=0.1)
    with pytest.raises(TypeError, match="'reduction', a Keras argument that minicnn does not"):
        losses.Hinge(reduction='sum')
    with pytest.raises(ValueError, match=r'label_smoothing must be in \[0, 1\], got 1.5'):
        losses.BinaryCrossentropy(label_smoothing=1.5)
    with pytest.raises(ValueError, match='delta must be positive, got -1'):
        losses.Huber(delta=-1)
    with pytest.raises(ValueError, match=r"unknown loss 'hubber'; valid names: \[.*'huber'"):
        losses.get('hubber')


# -- the fused final activation -----------------------------------------------------------

def binary_model(kernel, bias=0.0):
    model = Sequential([Dense(1, activation='sigmoid', input_shape=(1,))])
    model.set_weights([np.array([[kernel]]), np.array([bias])])
    return model


def test_a_final_sigmoid_is_fused_into_binary_crossentropy_exactly():
    """z = -40 for a positive sample: Keras (TensorFlow) takes the logit the sigmoid
    came from and gives 40; a clipped probability would give -log(1e-7) = 16.1."""
    model = binary_model(-40.0)
    model.compile('sgd', 'binary_crossentropy')
    assert training.fused_activation(model) == 'sigmoid'
    assert model.evaluate(np.ones((1, 1)), np.ones(1), verbose=0) == pytest.approx(40.0, rel=1e-5)
    unfused = Sequential([Dense(1, activation='sigmoid', input_shape=(1,))])
    unfused.compile('sgd', losses.BinaryCrossentropy(from_logits=True))
    assert training.fused_activation(unfused) is None


def test_fused_and_unfused_binary_crossentropy_agree_with_sample_weights(rng):
    x, y = rng.standard_normal((16, 1)), rng.integers(0, 2, 16)
    w = rng.random(16)
    model = binary_model(1.5, -0.2)
    model.compile('sgd', losses.BinaryCrossentropy(label_smoothing=0.2))
    p = model.predict(x).astype(np.float64).reshape(-1)
    t = y * 0.8 + 0.1
    expected = (w * -(t * np.log(p) + (1 - t) * np.log(1 - p))).mean()
    assert model.evaluate(x, y, sample_weight=w, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_label_smoothing_reaches_the_fused_softmax(rng):
    x, y = rng.standard_normal((8, 4)).astype('f4'), rng.integers(0, 3, 8)
    model = Sequential([Dense(3, activation='softmax', input_shape=(4,))])
    model.compile('sgd', losses.CategoricalCrossentropy(label_smoothing=0.3))
    assert training.fuses_softmax(model)
    p = model.predict(x).astype(np.float64)
    rows = np.eye(3)[y] * 0.7 + 0.1
    assert model.evaluate(x, np.eye(3)[y], verbose=0) == \
        pytest.approx(-(rows * np.log(p)).sum(axis=1).mean(), rel=1e-5)


def test_from_logits_takes_the_model_outputs_as_logits(rng):
    x, y = rng.standard_normal((8, 4)).astype('f4'), rng.integers(0, 3, 8)
    model = Sequential([Dense(3, input_shape=(4,))])
    model.compile('sgd', losses.SparseCategoricalCrossentropy(from_logits=True))
    z = model.predict(x).astype(np.float64)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    assert model.evaluate(x, y, verbose=0) == pytest.approx(-log_p[np.arange(8), y].mean(),
                                                            rel=1e-5)


# -- metrics: the documented values -----------------------------------------------------

def fresh(metric, *args, **kwargs):
    metric.reset_state()
    return metric(*args, **kwargs)


def test_accuracy_metrics():
    m = metrics.BinaryAccuracy()
    assert fresh(m, [[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]) == 0.75
    assert fresh(m, [[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], sample_weight=[1, 0, 0, 1]) \
        == 0.5
    rows, scores = [[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]
    for m, y_true in [(metrics.CategoricalAccuracy(), rows),
                      (metrics.TopKCategoricalAccuracy(k=1), rows),
                      (metrics.SparseTopKCategoricalAccuracy(k=1), [2, 1])]:
        assert fresh(m, y_true, scores) == 0.5
        assert fresh(m, y_true, scores, sample_weight=[0.7, 0.3]) == pytest.approx(0.3)
    m = metrics.SparseCategoricalAccuracy()
    assert fresh(m, [[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]) == 0.5
    np.testing.assert_array_equal(
        metrics.top_k_categorical_accuracy(np.array(rows), np.array(scores), k=1), [0, 1])
    np.testing.assert_array_equal(
        metrics.top_k_categorical_accuracy(np.array(rows), np.array(scores), k=2), [1, 1])
    np.testing.assert_array_equal(
        metrics.sparse_top_k_categorical_accuracy(np.array([2, 1]), np.array(scores)), [1, 1])


def test_precision_recall_and_their_options():
    p, r = metrics.Precision(), metrics.Recall()
    assert fresh(p, [0, 1, 1, 1], [1, 0, 1, 1]) == pytest.approx(2 / 3)
    assert fresh(p, [0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0]) == 1.0
    assert fresh(r, [0, 1, 1, 1], [1, 0, 1, 1]) == pytest.approx(2 / 3)
    assert fresh(r, [0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0]) == 1.0
    assert metrics.Precision(top_k=2)([0, 0, 1, 1], [1, 1, 1, 1]) == 0.0  # ties: the first two
    assert metrics.Precision(top_k=4)([0, 0, 1, 1], [1, 1, 1, 1]) == 0.5
    np.testing.assert_allclose(metrics.Precision(thresholds=[0.5, 0.9])(
        [0, 1, 1], [0.6, 0.95, 0.2]), [0.5, 1.0])
    y_true, y_pred = np.eye(3)[[0, 1, 2, 1]], np.array([[.8, .1, .1], [.6, .3, .1], [.1, .1, .8],
                                                        [.2, .7, .1]])
    assert metrics.Recall(class_id=1)(y_true, y_pred) == 0.5  # class 1: one of two found


def test_auc_as_keras_computes_it():
    auc = metrics.AUC(num_thresholds=3)
    assert fresh(auc, [0, 0, 1, 1], [0, 0.5, 0.3, 0.9]) == 0.75
    assert fresh(auc, [0, 0, 1, 1], [0, 0.5, 0.3, 0.9], sample_weight=[1, 0, 0, 1]) == 1.0
    y_true, y_pred, w = [0, 0, 1, 1], np.array([0, 0.5, 0.3, 0.9]), [1, 2, 3, 4]
    assert metrics.AUC(num_thresholds=3)(y_true, y_pred, sample_weight=w) == \
        pytest.approx(0.7855, abs=1e-3)
    assert metrics.AUC(num_thresholds=3, summation_method='minoring')(
        y_true, y_pred, sample_weight=w) == pytest.approx(0.571, abs=1e-3)
    assert metrics.AUC(num_thresholds=3, curve='PR')(y_true, y_pred, sample_weight=w) == \
        pytest.approx(2.416 / 7 + 4 / 7, abs=1e-3)
    assert metrics.AUC(num_thresholds=3, curve='PR', summation_method='majoring')(
        y_true, y_pred, sample_weight=w) == pytest.approx(1.0)
    logits = -np.log(1.0 / (y_pred.astype('f4') + 1e-12) - 1.0)  # float32, as in Keras's test
    assert metrics.AUC(num_thresholds=3, from_logits=True)(y_true, logits) == \
        pytest.approx(0.75)
    assert metrics.AUC(thresholds=[0.5])(y_true, y_pred) == pytest.approx(0.75)


def test_auc_of_several_labels():
    y_pred = np.array([[0, 0.5, 0.3, 0.9], [0.1, 0.2, 0.3, 0.4]]).T
    y_true = np.array([[0, 0, 1, 1], [0, 0, 1, 1]]).T
    assert metrics.AUC(num_thresholds=5, multi_label=True)(y_true, y_pred) == \
        pytest.approx((0.875 + 1.0) / 2)
    assert metrics.AUC(num_thresholds=5, multi_label=True, label_weights=[0.75, 0.25])(
        y_true, y_pred) == pytest.approx(0.875 * 0.75 + 0.25)
    assert metrics.AUC(num_thresholds=5)(y_true, y_pred) == pytest.approx(1 - 3 / 32)
    assert metrics.AUC(num_thresholds=5, label_weights=[0.75, 0.25])(y_true, y_pred) == \
        pytest.approx(1.0 - (1.0 - 0.375) * 0.375 / 2.0)


def test_auc_defaults_and_config_are_keras_s():
    auc = metrics.AUC()
    assert auc.num_thresholds == 200 and auc.curve == 'ROC'
    assert auc.summation_method == 'interpolation'
    np.testing.assert_allclose(auc.thresholds[[0, 1, -1]], [-1e-7, 1 / 199, 1 + 1e-7])
    config = metrics.AUC(num_thresholds=100, curve='PR', summation_method='majoring', name='auc_1',
                         multi_label=True, num_labels=2, from_logits=True).get_config()
    assert 'thresholds' not in config
    assert metrics.AUC.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="curve must be one of.*got 'Invalid'"):
        metrics.AUC(curve='Invalid')
    with pytest.raises(ValueError, match='num_thresholds must be an integer > 1, got 1'):
        metrics.AUC(num_thresholds=1)


def test_regression_metrics():
    for m in (metrics.MeanSquaredError(), metrics.MeanAbsoluteError()):
        assert fresh(m, [[0, 1], [0, 0]], [[1, 1], [0, 0]]) == 0.25
        assert fresh(m, [[0, 1], [0, 0]], [[1, 1], [0, 0]], sample_weight=[1, 0]) == 0.5
        assert m.direction == 'down'


def test_a_metric_accumulates_until_reset():
    m = metrics.BinaryAccuracy()
    m.update_state([[1], [0]], [[0.9], [0.2]])
    m.update_state([[1], [1]], [[0.1], [0.2]])
    assert m.result() == 0.5
    m.reset_state()
    assert m.result() == 0.0
    m.update_state([[1]], [[0.7]])
    assert m.result() == 1.0


def test_update_state_keeps_arrays_and_result_reads_them():
    """The counts stay arrays of the outputs' device: result() alone converts them."""
    m = metrics.AUC()
    m.update_state(np.array([0, 1]), np.array([0.2, 0.7]))
    assert isinstance(m.tp, np.ndarray) and m.tp.shape == (200,)
    assert isinstance(m.result(), float)
    with pytest.raises(ValueError, match=r'y_true shape \(3,\) does not match y_pred shape '
                                         r'\(3, 2\).*one-hot rows'):
        m.update_state(np.array([0, 1, 1]), np.full((3, 2), 0.5))


# -- metrics: names, compile and the logs -------------------------------------------------

@pytest.mark.parametrize('identifier, cls', [
    ('binary_accuracy', metrics.BinaryAccuracy), ('BinaryAccuracy', metrics.BinaryAccuracy),
    ('categorical_accuracy', metrics.CategoricalAccuracy),
    ('sparse_categorical_accuracy', metrics.SparseCategoricalAccuracy),
    ('top_k_categorical_accuracy', metrics.TopKCategoricalAccuracy),
    ('sparse_top_k_categorical_accuracy', metrics.SparseTopKCategoricalAccuracy),
    ('precision', metrics.Precision), ('Recall', metrics.Recall), ('auc', metrics.AUC),
    ('AUC', metrics.AUC), ('mse', metrics.MeanSquaredError),
    ('mean_absolute_error', metrics.MeanAbsoluteError), ('MAE', metrics.MeanAbsoluteError),
])
def test_metric_names_give_their_class_named_as_given(identifier, cls):
    m = metrics.get(identifier)
    assert type(m) is cls and m.name == identifier
    assert metrics.TopKCategoricalAccuracy().fn_kwargs == {'k': 5}


def small_classifier(classes=3, activation='softmax'):
    return Sequential([Dense(classes, activation=activation, input_shape=(4,))])


@pytest.mark.parametrize('loss, labels, chosen', [
    ('sparse_categorical_crossentropy', lambda y: y, metrics.sparse_categorical_accuracy),
    ('sparse_categorical_crossentropy', lambda y: y[:, None], metrics.sparse_categorical_accuracy),
    ('categorical_crossentropy', lambda y: np.eye(3)[y], metrics.categorical_accuracy),
])
def test_accuracy_is_resolved_from_the_shapes_as_keras(loss, labels, chosen, rng):
    x, y = rng.standard_normal((12, 4)).astype('f4'), rng.integers(0, 3, 12)
    model = small_classifier()
    model.compile('sgd', loss, metrics=['accuracy'])
    _, accuracy = model.evaluate(x, labels(y), verbose=0)
    assert model.compiled_metrics[0].chosen is chosen
    assert accuracy == pytest.approx((model.predict(x).argmax(axis=1) == y).mean())


def test_accuracy_of_one_sigmoid_output_is_binary_accuracy(rng):
    x, y = rng.standard_normal((12, 1)).astype('f4'), rng.integers(0, 2, 12)
    model = binary_model(2.0, 0.3)
    model.compile('sgd', 'binary_crossentropy', metrics=['acc'])
    _, accuracy = model.evaluate(x, y, verbose=0)
    assert model.compiled_metrics[0].chosen is metrics.binary_accuracy
    assert accuracy == pytest.approx(((model.predict(x)[:, 0] > 0.5) == y).mean())


def test_several_metrics_their_names_and_evaluate_order(rng):
    x, y = rng.standard_normal((20, 1)).astype('f4'), rng.integers(0, 2, 20)
    model = binary_model(2.0, 0.3)
    model.compile(SGD(0.0), 'binary_crossentropy',
                  metrics=['accuracy', 'auc', metrics.Precision(name='p'), 'mse', 'accuracy'])
    assert model.metrics_names == ['loss', 'accuracy', 'auc', 'p', 'mse', 'accuracy_1']
    p = model.predict(x)[:, 0].astype(np.float64)
    results = model.evaluate(x, y, verbose=0)
    as_dict = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(as_dict) == model.metrics_names
    assert results == pytest.approx(list(as_dict.values()))
    expected_auc = metrics.AUC()(y, p)
    precision = ((p > 0.5) & (y == 1)).sum() / (p > 0.5).sum()
    assert as_dict['auc'] == pytest.approx(expected_auc)
    assert as_dict['p'] == pytest.approx(precision)
    assert as_dict['mse'] == pytest.approx(((p - y) ** 2).mean(), rel=1e-5)
    assert as_dict['accuracy'] == as_dict['accuracy_1'] == pytest.approx(((p > 0.5) == y).mean())


def test_history_keys_are_the_metric_names_with_val_prefixes(rng):
    x, y = rng.standard_normal((24, 4)).astype('f4'), rng.integers(0, 3, 24)
    model = small_classifier()
    model.compile('adam', 'categorical_crossentropy',
                  metrics=['acc', 'top_k_categorical_accuracy', metrics.AUC(name='auc')])
    history = model.fit(x, np.eye(3)[y], epochs=2, verbose=0, validation_split=0.25)
    assert sorted(history.history) == sorted(
        ['loss', 'acc', 'top_k_categorical_accuracy', 'auc', 'val_loss', 'val_acc',
         'val_top_k_categorical_accuracy', 'val_auc'])
    assert history.history['val_top_k_categorical_accuracy'] == [1.0, 1.0]  # k = 5 > 3 classes
    assert len(history.history['accuracy']) == 2  # the alias still answers


def test_validation_metrics_are_those_of_evaluate(rng):
    x, y = rng.standard_normal((32, 4)).astype('f4'), rng.integers(0, 3, 32)
    x_val, y_val = rng.standard_normal((16, 4)).astype('f4'), rng.integers(0, 3, 16)
    y, y_val = np.eye(3)[y], np.eye(3)[y_val]
    model = small_classifier()
    model.compile('adam', 'categorical_crossentropy', metrics=['accuracy', 'auc'])
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0, validation_data=(x_val, y_val))
    val_loss, val_accuracy, val_auc = model.evaluate(x_val, y_val, verbose=0)
    assert history.history['val_loss'][0] == pytest.approx(val_loss, rel=1e-6)
    assert history.history['val_accuracy'][0] == pytest.approx(val_accuracy)
    assert history.history['val_auc'][0] == pytest.approx(val_auc)


def test_training_metrics_cover_every_batch_of_the_epoch(rng):
    """With a learning rate of 0 the weights never change, so the epoch's
    accuracy is evaluate's on the same data, whatever the batching."""
    x, y = rng.standard_normal((30, 4)).astype('f4'), rng.integers(0, 3, 30)
    model = small_classifier()
    model.compile(SGD(0.0), 'categorical_crossentropy', metrics=['accuracy', 'mae'])
    history = model.fit(x, np.eye(3)[y], batch_size=7, epochs=1, verbose=0)
    loss, accuracy, mae = model.evaluate(x, np.eye(3)[y], verbose=0)
    assert history.history['accuracy'][0] == pytest.approx(accuracy)
    assert history.history['mae'][0] == pytest.approx(mae, rel=1e-6)
    assert mae == pytest.approx(np.abs(model.predict(x) - np.eye(3)[y]).mean(), rel=1e-5)
    assert history.history['loss'][0] == pytest.approx(loss, rel=1e-5)


def test_running_metrics_read_the_metrics_only_when_logs_are_asked_for():
    class Counting(metrics.BinaryAccuracy):
        reads = 0

        def result(self):
            Counting.reads += 1
            return super().result()
    running = training.RunningMetrics([(Counting(), None, False)])
    for _ in range(3):
        running.add(np.asarray(0.5), np.array([1, 0]), np.array([[0.9], [0.4]]))
    assert Counting.reads == 0
    assert running.logs()['binary_accuracy'] == 1.0 and Counting.reads == 1


def test_compile_metrics_must_be_a_list_of_known_metrics():
    model = small_classifier()
    with pytest.raises(ValueError, match=r"metrics must be a list.*got metrics='accuracy'"):
        model.compile('sgd', 'mse', metrics='accuracy')
    with pytest.raises(ValueError, match=r"unknown metric 'f1'; valid names: \[.*'auc'"):
        model.compile('sgd', 'mse', metrics=['f1'])
    with pytest.raises(TypeError, match="did you mean 'thresholds'"):
        metrics.Precision(threshold=0.3)
    with pytest.raises(TypeError, match="'from_sorted_ids', a Keras argument that minicnn"):
        metrics.SparseTopKCategoricalAccuracy(from_sorted_ids=True)
    with pytest.raises(ValueError, match='k must be a positive int, got 0'):
        metrics.TopKCategoricalAccuracy(k=0)
    with pytest.raises(ValueError, match=r'thresholds must lie in \[0, 1\], got 1.5'):
        metrics.Recall(thresholds=1.5)


def test_a_metric_round_trips_through_serialize():
    for m in (metrics.get('accuracy'), metrics.get('mse'), metrics.Precision(thresholds=[0.3, 0.6]),
              metrics.AUC(curve='PR', num_thresholds=50, name='pr'),
              metrics.TopKCategoricalAccuracy(k=2), metrics.BinaryAccuracy(threshold=0.7)):
        twin = metrics.get(metrics.serialize(m))
        assert type(twin) is type(m) and twin.name == m.name
        assert twin.get_config() == m.get_config()
