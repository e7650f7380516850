"""Models of several inputs and outputs, as Keras users write them: data as lists
or dicts keyed by the Input and output layer names, a loss per output,
loss_weights, metrics per output, weighted_metrics and sample weights per
output, logged and returned under Keras 2's names and in its order."""
import numpy as np
import pytest

from minicnn import layers, losses, metrics, models, optimizers
from minicnn.training.inputs_outputs import Output, TotalLoss
from minicnn.tools.gradcheck import gradcheck

N = 12


def two_by_two(seed=0):
    """Inputs 'image' (4,) and 'meta' (3,); outputs 'label' (softmax over 3) and 'score' (1)."""
    image = layers.Input(shape=(4,), name='image')
    meta = layers.Input(shape=(3,), name='meta')
    h = layers.Concatenate()([layers.Dense(5, activation='tanh', name='body')(image), meta])
    label = layers.Dense(3, activation='softmax', name='label')(h)
    score = layers.Dense(1, name='score')(h)
    model = models.Model([image, meta], [label, score])
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype('float32') for w in model.weights])
    return model


@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    return {'image': rng.normal(size=(N, 4)).astype('float32'),
            'meta': rng.normal(size=(N, 3)).astype('float32'),
            'label': rng.integers(0, 3, N), 'score': rng.normal(size=(N, 1)).astype('float32'),
            'w': np.linspace(0.5, 2.0, N).astype('float32')}


def expected_losses(model, data, weights=None):
    """Keras's per-output losses computed by hand from predict: the sum over the
    batch of w_n l_n divided by N ("sum over batch size")."""
    probs, score = model.predict({'image': data['image'], 'meta': data['meta']})
    w = np.ones(N) if weights is None else weights
    probs = np.clip(probs.astype(np.float64), 1e-7, 1 - 1e-7)
    ce = -np.log(probs[np.arange(N), data['label']])
    se = ((score - data['score']) ** 2).mean(axis=1)
    return (w * ce).sum() / N, (w * se).sum() / N, probs, score


def test_dict_losses_and_loss_weights_give_keras_s_weighted_total(data):
    model = two_by_two()
    model.compile(optimizers.SGD(0.0), loss={'label': 'sparse_categorical_crossentropy',
                                             'score': 'mse'},
                  loss_weights={'label': 1.0, 'score': 0.25})
    assert model.metrics_names == ['loss', 'label_loss', 'score_loss']
    x = {'image': data['image'], 'meta': data['meta']}
    y = {'label': data['label'], 'score': data['score']}
    total, label_loss, score_loss = model.evaluate(x, y, batch_size=N, verbose=0)
    ce, se, _, _ = expected_losses(model, data)
    assert label_loss == pytest.approx(ce, rel=1e-5)
    assert score_loss == pytest.approx(se, rel=1e-5)
    assert total == pytest.approx(1.0 * label_loss + 0.25 * score_loss, rel=1e-6)


def test_per_output_metrics_and_sample_weights(data):
    model = two_by_two()
    model.compile(optimizers.SGD(0.0), loss=['sparse_categorical_crossentropy', 'mse'],
                  metrics={'label': ['accuracy'], 'score': ['mae']},
                  weighted_metrics=[[], ['mse']])
    assert model.metrics_names == ['loss', 'label_loss', 'score_loss', 'label_accuracy',
                                   'score_mae', 'score_mse']
    x, y = [data['image'], data['meta']], [data['label'], data['score']]
    sw = {'label': np.ones(N, 'float32'), 'score': data['w']}
    logs = model.evaluate(x, y, sample_weight=sw, batch_size=5, verbose=0, return_dict=True)
    ce, se, probs, score = expected_losses(model, data)
    se_weighted = (data['w'] * ((score - data['score']) ** 2)[:, 0]).sum() / N
    assert logs['label_loss'] == pytest.approx(ce, rel=1e-5)
    assert logs['score_loss'] == pytest.approx(se_weighted, rel=1e-5)
    assert logs['label_accuracy'] == pytest.approx((probs.argmax(1) == data['label']).mean())
    assert logs['score_mae'] == pytest.approx(np.abs(score - data['score']).mean(), rel=1e-5)
    # a weighted metric is Keras's weighted mean: sum w l / sum w
    assert logs['score_mse'] == pytest.approx(
        (data['w'] * ((score - data['score']) ** 2)[:, 0]).sum() / data['w'].sum(), rel=1e-5)
    # one array of sample weights weights every output, as in Keras
    both = model.evaluate(x, y, sample_weight=data['w'], verbose=0, return_dict=True)
    assert both['label_loss'] == pytest.approx(
        expected_losses(model, data, data['w'])[0], rel=1e-5)


def test_fit_logs_keras_2_names_and_lists_and_dicts_train_alike(data):
    histories = []
    for as_dict in (True, False):
        model = two_by_two()
        model.compile(optimizers.SGD(0.1),
                      loss={'label': 'sparse_categorical_crossentropy', 'score': 'mse'},
                      metrics={'label': 'accuracy'})
        x = {'image': data['image'], 'meta': data['meta']} if as_dict else \
            [data['image'], data['meta']]
        y = {'label': data['label'], 'score': data['score']} if as_dict else \
            [data['label'], data['score']]
        history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0,
                            validation_data=(x, y))
        histories.append(history.history)
    assert list(histories[0]) == ['loss', 'label_loss', 'score_loss', 'label_accuracy',
                                  'val_loss', 'val_label_loss', 'val_score_loss',
                                  'val_label_accuracy']
    assert histories[0] == histories[1]


def test_one_metric_list_applies_to_every_output(data):
    model = two_by_two()
    model.compile('sgd', loss='mse', metrics=['mae'])  # one loss and one list for all
    assert model.metrics_names == ['loss', 'label_loss', 'score_loss', 'label_mae', 'score_mae']
    y = [np.eye(3, dtype='float32')[data['label']], data['score']]
    values = model.evaluate([data['image'], data['meta']], y, verbose=0)
    assert values[0] == pytest.approx(values[1] + values[2], rel=1e-6)


def test_predict_returns_a_list_in_the_order_of_the_outputs(data):
    model = two_by_two()
    x = [data['image'], data['meta']]
    probs, score = model.predict(x, batch_size=5)
    assert probs.shape == (N, 3) and score.shape == (N, 1)
    direct = model(x)
    np.testing.assert_allclose(probs, direct[0].data, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(score, direct[1].data, rtol=1e-5, atol=1e-7)
    batch = model.predict_on_batch({'meta': data['meta'], 'image': data['image']})
    np.testing.assert_allclose(batch[1], score, rtol=1e-5, atol=1e-7)


def test_train_and_test_on_batch_return_keras_s_list(data):
    model = two_by_two()
    model.compile(optimizers.SGD(0.0), {'label': 'sparse_categorical_crossentropy',
                                        'score': 'mse'}, loss_weights=[2.0, 1.0])
    x, y = [data['image'], data['meta']], [data['label'], data['score']]
    tested = model.test_on_batch(x, y)
    trained = model.train_on_batch(x, y, return_dict=True)
    assert list(trained) == model.metrics_names
    assert tested == pytest.approx(list(trained.values()), rel=1e-6)
    assert tested[0] == pytest.approx(2.0 * tested[1] + tested[2], rel=1e-6)


def test_a_generator_of_dict_batches_trains(data):
    model = two_by_two()
    model.compile('sgd', {'label': 'sparse_categorical_crossentropy', 'score': 'mse'})

    def batches():
        while True:
            for start in range(0, N, 4):
                part = slice(start, start + 4)
                yield ({'image': data['image'][part], 'meta': data['meta'][part]},
                       {'label': data['label'][part], 'score': data['score'][part]})
    history = model.fit(batches(), steps_per_epoch=3, epochs=2, verbose=0)
    assert list(history.history) == ['loss', 'label_loss', 'score_loss']
    assert all(np.isfinite(v) for v in history.history['loss'])


@pytest.mark.parametrize('change, message', [
    (lambda x, y: ({**x, 'extra': x['meta']}, y), r"x has the key\(s\) \['extra'\].*'image', 'meta'"),
    (lambda x, y: (x, {'label': y['label']}), r"y gives no value for the output\(s\) \['score'\]"),
    (lambda x, y: ([x['image']], y), r'x is a list of 1, but the model has 2 inputs'),
    (lambda x, y: (x['image'], y), r"x is one ndarray, but the model has 2 inputs"),
    (lambda x, y: ({**x, 'meta': x['meta'][:5]}, y), r"x\['meta'\] has 5 samples but x\['image'\] has 12"),
    (lambda x, y: (x, {**y, 'score': y['score'][:7]}),
     r"y\['score'\] has 7 samples but x\['image'\] has 12"),
    (lambda x, y: ({**x, 'meta': x['meta'][:, :2]}, y),
     r"the input 'meta' expects arrays of shape \(None, 3\), got x of shape \(12, 2\)"),
    (lambda x, y: ({**x, 'meta': np.where(x['meta'] > 1, np.nan, x['meta'])}, y),
     r"x for the input 'meta' contains NaN or infinite values"),
    (lambda x, y: (x, {**y, 'score': np.where(y['score'] > 1, np.inf, y['score'])}),
     r"y for the output 'score' contains NaN or infinite values"),
])
def test_mismatched_names_lengths_and_shapes_are_named(data, change, message):
    model = two_by_two()
    model.compile('sgd', {'label': 'sparse_categorical_crossentropy', 'score': 'mse'})
    x = {'image': data['image'], 'meta': data['meta']}
    y = {'label': data['label'], 'score': data['score']}
    with pytest.raises(ValueError, match=message):
        model.fit(*change(x, y), verbose=0)


def test_compile_names_the_output_it_does_not_know():
    model = two_by_two()
    with pytest.raises(ValueError, match=r"loss has the key\(s\) \['scor'\].*'label', 'score'"):
        model.compile('sgd', {'label': 'mse', 'scor': 'mse'})
    with pytest.raises(ValueError, match=r"gives no loss for the output\(s\) \['score'\]"):
        model.compile('sgd', {'label': 'mse'})
    with pytest.raises(ValueError, match='loss_weights is a list of 3'):
        model.compile('sgd', 'mse', loss_weights=[1, 2, 3])
    with pytest.raises(ValueError, match='class_weight takes a model of one output'):
        model.compile('sgd', 'mse')
        model.fit([np.zeros((2, 4)), np.zeros((2, 3))], [np.zeros((2, 3)), np.zeros((2, 1))],
                  class_weight={0: 1.0}, verbose=0)


def test_one_output_refuses_loss_weights_and_takes_weighted_metrics():
    model = models.Sequential([layers.Dense(1, input_shape=(2,))])
    with pytest.raises(ValueError, match='loss_weights.*one output'):
        model.compile('sgd', 'mse', loss_weights=[0.5])
    model.compile('sgd', 'mse', metrics=['mse'], weighted_metrics=['mse'])
    assert model.metrics_names == ['loss', 'mse', 'weighted_mse']
    x, y, w = np.ones((4, 2), 'f4'), np.arange(4.0).reshape(4, 1), np.array([0, 0, 1, 3.0])
    logs = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    error = (model.predict(x) - y)[:, 0] ** 2
    assert logs['mse'] == pytest.approx(error.mean(), rel=1e-5)
    assert logs['weighted_mse'] == pytest.approx((w * error).sum() / w.sum(), rel=1e-5)


def test_the_gradient_of_a_two_output_loss_passes_gradcheck():
    rng = np.random.default_rng(3)
    labels, targets = np.eye(4)[rng.integers(0, 4, 5)], rng.normal(size=(5, 2))
    weights = [rng.uniform(0.5, 2, 5), None]
    total = TotalLoss([Output('a', losses.get('categorical_crossentropy'), 0.7, [], []),
                       Output('b', losses.get('mse'), 1.5, [], [])])

    def loss(logits, prediction):
        probs = logits.exp() / logits.exp().sum(axis=-1, keepdims=True)
        return total([labels, targets], [probs, prediction], weights)
    assert gradcheck(loss, rng.normal(size=(5, 4)), rng.normal(size=(5, 2)))


def test_metric_objects_given_once_are_copied_for_each_output(data):
    model = two_by_two()
    model.compile('sgd', 'mse', metrics=[metrics.MeanAbsoluteError(name='m')])
    assert model.metrics_names[-2:] == ['label_m', 'score_m']
    assert model.compiled_metrics[0] is not model.compiled_metrics[1]


def test_a_model_of_one_input_and_output_given_as_lists_of_one_trains():
    inputs = layers.Input(shape=(3,))
    model = models.Model([inputs], [layers.Dense(2, activation='softmax')(inputs)])
    model.compile(optimizers.SGD(0.1), 'sparse_categorical_crossentropy', ['accuracy'])
    x, y = np.random.default_rng(0).normal(size=(8, 3)).astype('f4'), np.arange(8) % 2
    history = model.fit(x, y, verbose=0, validation_data=([x], [y]))
    assert list(history.history) == ['loss', 'accuracy', 'val_loss', 'val_accuracy']
    (probs,) = model.predict(x)  # a list, as the model's call returns
    loss, accuracy = model.evaluate([x], y, verbose=0)
    expected = -np.log(np.clip(probs[np.arange(8), y], 1e-7, 1)).mean()
    assert loss == pytest.approx(expected, rel=1e-5)
