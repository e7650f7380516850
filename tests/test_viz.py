"""Tests of minicnn.viz: every plot writes a real PNG, grids hold the right
pictures, bad shapes are named in the error, and saving is atomic; the
autograd graph has the right nodes, and saliency and Grad-CAM maps equal
hand computations."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from minicnn import viz
from minicnn.autograd import Tensor
from minicnn.layers import Activation, Conv2D, Dense, Flatten, Input, MaxPooling2D
from minicnn.models import Model, Sequential

RNG = np.random.default_rng(0)


@pytest.fixture
def figures(monkeypatch):
    """The figures the plot functions save, in order (they are saved as usual)."""
    saved = []
    real_save = viz.plots.save_figure

    def recording_save(fig, path, show):
        saved.append(fig)
        return real_save(fig, path, show)

    monkeypatch.setattr(viz.plots, 'save_figure', recording_save)
    return saved


def assert_png(path):
    """path names a non-empty PNG that Pillow can decode."""
    assert os.path.getsize(path) > 0
    with Image.open(path) as image:
        assert image.format == 'PNG'
        image.load()                      # decodes every pixel: a truncated file fails
        assert image.width > 0 and image.height > 0


def captions(fig):
    return [ax.get_title() for ax in fig.axes]


# --- grid layout and display ranges --------------------------------------

@pytest.mark.parametrize('n, ncols, expected', [
    (1, 4, (1, 1)), (3, 4, (1, 3)), (4, 4, (1, 4)), (5, 4, (2, 4)), (32, 8, (4, 8)), (33, 8, (5, 8)),
])
def test_grid_shape(n, ncols, expected):
    assert viz.grid_shape(n, ncols) == expected


def test_grid_shape_rejects_empty_grid():
    with pytest.raises(ValueError, match='n=0'):
        viz.grid_shape(0, 4)


def test_unit_range_keeps_pictures_and_stretches_the_rest():
    pixels = np.array([[0, 255]], dtype=np.uint8)
    np.testing.assert_allclose(viz.unit_range(pixels), [[0, 1]])
    in_unit = np.array([[0.2, 0.6]], dtype=np.float32)
    np.testing.assert_allclose(viz.unit_range(in_unit), in_unit)
    standardised = np.array([[-2.0, 0.0, 2.0]])
    np.testing.assert_allclose(viz.unit_range(standardised), [[0, 0.5, 1]])


def test_stretch_of_a_constant_is_black():
    np.testing.assert_array_equal(viz.stretch(np.full((2, 2), 7.0)), np.zeros((2, 2)))


# --- plot_images ---------------------------------------------------------

@pytest.mark.parametrize('images', [
    RNG.integers(0, 256, (5, 8, 8, 3), dtype=np.uint8),
    RNG.random((5, 8, 8, 1), dtype=np.float32),
    RNG.standard_normal((5, 8, 8)),
], ids=['uint8-rgb', 'float-one-channel', 'standardised-grayscale'])
def test_plot_images_writes_one_picture_per_image(tmp_path, figures, images):
    path = viz.plot_images(images, path=tmp_path / 'images.png', ncols=4, title='samples')
    assert path == str(tmp_path / 'images.png')
    assert_png(path)
    (fig,) = figures
    assert len(fig.axes) == 5                  # a 2x4 grid with no empty boxes
    for ax in fig.axes:
        tile = ax.images[0].get_array()
        assert tile.min() >= 0 and tile.max() <= 1
        assert tile.shape == images.shape[1:3] + ((3,) if images.shape[-1] == 3 else ())


@pytest.mark.parametrize('labels', [
    np.array([2, 0, 1]), np.array([[2], [0], [1]]), np.eye(3)[[2, 0, 1]],
], ids=['indices', 'column', 'one-hot'])
def test_plot_images_titles_images_with_class_names(tmp_path, figures, labels):
    images = RNG.integers(0, 256, (3, 6, 6, 3), dtype=np.uint8)
    viz.plot_images(images, labels, ['cat', 'dog', 'ship'], path=tmp_path / 'x.png')
    assert captions(figures[0]) == ['ship', 'cat', 'dog']


def test_plot_images_titles_with_indices_without_class_names(tmp_path, figures):
    viz.plot_images(np.zeros((2, 4, 4)), np.array([7, 3]), path=tmp_path / 'x.png')
    assert captions(figures[0]) == ['7', '3']


@pytest.mark.parametrize('shape', [(2, 8, 8, 2), (8, 8), (0, 8, 8)])
def test_plot_images_rejects_bad_shapes(tmp_path, shape):
    with pytest.raises(ValueError, match=rf'images.*{re.escape(str(shape))}'):
        viz.plot_images(np.zeros(shape), path=tmp_path / 'x.png')
    assert not os.listdir(tmp_path)


def test_plot_images_rejects_labels_of_the_wrong_length(tmp_path):
    with pytest.raises(ValueError, match=r'labels.*\(4,\)'):
        viz.plot_images(np.zeros((3, 4, 4)), np.arange(4), path=tmp_path / 'x.png')


def test_plot_images_rejects_labels_without_a_class_name(tmp_path):
    with pytest.raises(ValueError, match='class_names'):
        viz.plot_images(np.zeros((2, 4, 4)), np.array([0, 2]), ['a', 'b'], path=tmp_path / 'x.png')


# --- plot_history --------------------------------------------------------

class FakeHistory:
    def __init__(self, history):
        self.history = history


def test_plot_history_draws_training_and_validation_per_epoch(tmp_path, figures):
    history = FakeHistory({'loss': [1.0, 0.6, 0.4], 'val_loss': [1.1, 0.8, 0.7],
                           'accuracy': [0.5, 0.7, 0.8], 'val_accuracy': [0.4, 0.6, 0.65]})
    assert_png(viz.plot_history(history, tmp_path / 'history.png', title='run 1'))
    loss_ax, accuracy_ax = figures[0].axes
    assert loss_ax.get_ylabel() == 'loss' and accuracy_ax.get_ylabel() == 'accuracy'
    for ax in (loss_ax, accuracy_ax):
        assert [line.get_label() for line in ax.lines] == ['training', 'validation']
        np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(accuracy_ax.lines[1].get_ydata(), [0.4, 0.6, 0.65])


def test_plot_history_accepts_a_dict_with_the_old_names(tmp_path, figures):
    viz.plot_history({'loss': [0.9], 'acc': [0.3], 'val_acc': [0.2]}, tmp_path / 'h.png')
    loss_ax, accuracy_ax = figures[0].axes
    assert len(loss_ax.lines) == 1 and len(accuracy_ax.lines) == 2


def test_plot_history_leaves_out_a_missing_quantity(tmp_path, figures):
    assert_png(viz.plot_history({'loss': np.array([3.0, 2.0])}, tmp_path / 'h.png'))
    assert [ax.get_ylabel() for ax in figures[0].axes] == ['loss']


def test_plot_history_rejects_a_history_without_curves(tmp_path):
    with pytest.raises(ValueError, match='lr'):
        viz.plot_history({'lr': [0.1]}, tmp_path / 'h.png')


# --- plot_kernels --------------------------------------------------------

def test_plot_kernels_shows_rgb_filters_in_colour(tmp_path, figures):
    kernel = RNG.standard_normal((3, 3, 3, 10))
    assert_png(viz.plot_kernels(kernel, tmp_path / 'k.png', title='conv1'))
    assert len(figures[0].axes) == 10
    tile = figures[0].axes[0].images[0].get_array()
    assert tile.shape == (3, 3, 3)
    assert tile.min() == 0 and tile.max() == 1     # stretched per filter


def test_plot_kernels_averages_other_channel_counts(tmp_path, figures):
    kernel = RNG.standard_normal((5, 5, 4, 6))
    viz.plot_kernels(kernel, tmp_path / 'k.png')
    np.testing.assert_allclose(figures[0].axes[2].images[0].get_array(),
                               viz.stretch(kernel[..., 2].mean(axis=-1)))


class LayerWithKernel:
    def __init__(self, kernel):
        self.kernel = Tensor(kernel)


class KerasStyleLayer:
    def __init__(self, kernel):
        self.weights = [kernel, np.zeros(kernel.shape[-1])]

    def get_weights(self):
        return self.weights


@pytest.mark.parametrize('wrap', [LayerWithKernel, KerasStyleLayer, Tensor])
def test_plot_kernels_accepts_layers_and_tensors(tmp_path, figures, wrap):
    assert_png(viz.plot_kernels(wrap(RNG.standard_normal((3, 3, 1, 4))), tmp_path / 'k.png'))
    assert len(figures[0].axes) == 4


def test_plot_kernels_rejects_a_kernel_that_is_not_hwio(tmp_path):
    with pytest.raises(ValueError, match=r'kernel.*\(3, 3, 8\)'):
        viz.plot_kernels(np.zeros((3, 3, 8)), tmp_path / 'k.png')


# --- plot_feature_maps ---------------------------------------------------

@pytest.mark.parametrize('shape', [(6, 6, 5), (1, 6, 6, 5)])
def test_plot_feature_maps_draws_one_map_per_channel(tmp_path, figures, shape):
    assert_png(viz.plot_feature_maps(RNG.random(shape), tmp_path / 'maps.png', title='relu1'))
    assert captions(figures[0]) == ['0', '1', '2', '3', '4']


def test_plot_feature_maps_stops_at_max_maps(tmp_path, figures):
    viz.plot_feature_maps(RNG.random((4, 4, 20)), tmp_path / 'maps.png', max_maps=9)
    assert len(figures[0].axes) == 9


@pytest.mark.parametrize('shape', [(2, 6, 6, 5), (6, 6)])
def test_plot_feature_maps_rejects_bad_shapes(tmp_path, shape):
    with pytest.raises(ValueError, match=rf'maps.*{re.escape(str(shape))}'):
        viz.plot_feature_maps(np.zeros(shape), tmp_path / 'maps.png')


# --- plot_before_after ---------------------------------------------------

@pytest.mark.parametrize('before, after', [
    (RNG.random((8, 8)), RNG.standard_normal((6, 6))),
    (RNG.integers(0, 256, (8, 8, 3), dtype=np.uint8), RNG.standard_normal((1, 8, 8, 1))),
], ids=['2d', 'rgb-and-batch-of-one'])
def test_plot_before_after_draws_both(tmp_path, figures, before, after):
    assert_png(viz.plot_before_after(before, after, tmp_path / 'ba.png', titles=('in', 'out')))
    assert captions(figures[0]) == ['in', 'out']


def test_plot_before_after_names_the_bad_image(tmp_path):
    with pytest.raises(ValueError, match=r'after.*\(8, 8, 4\)'):
        viz.plot_before_after(np.zeros((8, 8)), np.zeros((8, 8, 4)), tmp_path / 'ba.png')


# --- saving --------------------------------------------------------------

def test_save_creates_the_folder_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / 'new' / 'deeper' / 'maps.png'
    viz.plot_feature_maps(np.ones((4, 4, 2)), path)
    assert os.listdir(path.parent) == ['maps.png']
    assert_png(path)


def test_save_replaces_an_old_file(tmp_path):
    path = tmp_path / 'maps.png'
    path.write_bytes(b'old')
    viz.plot_feature_maps(np.ones((4, 4, 2)), path)
    assert_png(path)


def test_interrupted_save_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    def half_a_png(fig, file, **kwargs):
        file.write(b'\x89PNG half')
        raise KeyboardInterrupt

    monkeypatch.setattr(viz.plots.Figure, 'savefig', half_a_png)
    path = tmp_path / 'maps.png'
    path.write_bytes(b'old')
    with pytest.raises(KeyboardInterrupt):
        viz.plot_feature_maps(np.ones((4, 4, 2)), path)
    assert os.listdir(tmp_path) == ['maps.png']
    assert path.read_bytes() == b'old'


def test_show_displays_through_pyplot_then_closes(tmp_path, monkeypatch):
    plt = pytest.importorskip('matplotlib.pyplot')
    open_before = plt.get_fignums()
    shown = []
    monkeypatch.setattr(plt, 'show', lambda: shown.append(plt.get_fignums()))
    monkeypatch.setattr(plt, 'isinteractive', lambda: False)
    assert_png(viz.plot_kernels(np.ones((3, 3, 1, 2)), tmp_path / 'k.png', show=True))
    assert len(shown) == 1 and len(shown[0]) == len(open_before) + 1
    assert plt.get_fignums() == open_before


def test_importing_viz_leaves_pyplot_alone():
    code = 'import sys, minicnn.viz; print("matplotlib.pyplot" in sys.modules)'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         check=True)
    assert out.stdout.strip() == 'False'


# --- the autograd graph --------------------------------------------------

def expression():
    """a, b and L = sum((a * b + c) * a) for a constant c; dL/da = 2ab + c, dL/db = a**2."""
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True, name='a')
    b = Tensor(np.array([3.0, 4.0]), requires_grad=True, name='b')
    c = Tensor(np.array([10.0, 20.0]))
    return a, b, ((a * b + c) * a).sum()


def by_first_line(nodes):
    return {node.lines[0]: node for node in nodes.values()}


def test_autograd_graph_has_a_node_per_function_and_leaf():
    _, _, loss = expression()
    nodes, edges = viz.autograd_graph(loss)
    assert sorted(n.lines[0] for n in nodes.values() if n.kind == 'function') == \
        ['Add', 'Mul', 'Mul', 'Sum']
    leaves = {n.lines[0]: n.kind for n in nodes.values() if n.kind != 'function'}
    assert leaves == {'a': 'weight', 'b': 'weight', 'constant': 'constant'}
    assert len(edges) == 7                 # Sum 1 input, Mul 2, Add 2, Mul 2
    named = by_first_line(nodes)
    assert named['Sum'].lines[1:] == ['in 2', 'out scalar'] and named['Sum'].depth == 0
    assert named['Add'].lines[1:] == ['in 2, 2', 'out 2'] and named['Add'].depth == 2
    # a feeds the last Mul (depth 1) and the first (depth 3): one row above the highest
    assert named['a'].depth == 4 and named['b'].depth == 4 and named['constant'].depth == 3
    assert named['a'].lines[1] == '2'
    consumers = {nodes[p].lines[0] for p, c in edges if nodes[c].lines[0] == 'Sum'}
    assert consumers == {'Mul'}


@pytest.mark.parametrize('deep_first', [True, False])
def test_a_leaf_sits_one_row_above_its_deepest_user(deep_first):
    a, b = Tensor(np.ones(1), requires_grad=True, name='a'), Tensor(np.ones(1), name='b')
    deep, shallow = a.exp().exp(), a * b                  # a feeds depths 3 and 2
    loss = (deep + shallow if deep_first else shallow + deep).sum()
    assert by_first_line(viz.autograd_graph(loss)[0])['a'].depth == 4


def test_autograd_graph_shows_values_of_small_tensors_only():
    _, _, loss = expression()
    named = by_first_line(viz.autograd_graph(loss, show_values=True)[0])
    assert named['Sum'].lines[-1] == '= 69.'          # (1*3 + 10)*1 + (2*4 + 20)*2
    assert named['a'].lines[-1] == '= [1. 2.]'
    big = (Tensor(np.ones(9), requires_grad=True, name='nine') * 2).sum()
    named = by_first_line(viz.autograd_graph(big, show_values=True)[0])
    assert named['nine'].lines == ['nine', '9'] and named['Mul'].lines[-1] == 'out 9'
    assert named['Sum'].lines[-1] == '= 18.'


def test_autograd_graph_gradient_norms_leave_the_graph_and_grads_alone():
    a, b, loss = expression()
    named = by_first_line(viz.autograd_graph(loss, show_grads=True)[0])
    assert named['a'].lines[-1] == f'|grad| {np.hypot(16, 36):.3g}'     # 2ab + c = [16, 36]
    assert named['b'].lines[-1] == f'|grad| {np.hypot(1, 4):.3g}'       # a**2 = [1, 4]
    assert named['Sum'].lines[-1] == '|grad| 1'
    assert named['Add'].lines[-1] == f'|grad| {np.sqrt(5):.3g}'         # d L / d(ab + c) = a
    assert 'grad' not in named['constant'].lines[-1]
    assert a.grad is None and b.grad is None
    loss.backward()                         # the graph is still there, and whole
    np.testing.assert_allclose(a.grad, [16, 36])
    np.testing.assert_allclose(b.grad, [1, 4])


def test_backward_releases_the_graph_leaving_one_node():
    _, _, loss = expression()
    loss.backward()
    nodes, edges = viz.autograd_graph(loss)
    assert len(nodes) == 1 and edges == []


def test_graph_dot_is_graphviz_text():
    _, _, loss = expression()
    text = viz.graph_dot(loss)
    assert text.startswith('digraph autograd {') and text.rstrip().endswith('}')
    assert text.count(' -> ') == 7
    assert '[label="Add\\nin 2, 2\\nout 2", shape=box' in text
    assert 'label="a\\n2", shape=ellipse' in text


def test_graph_dot_escapes_quotes_in_names():
    x = Tensor(np.ones(2), requires_grad=True, name='say "hi"')
    assert 'label="say \\"hi\\"\\n2"' in viz.graph_dot(x * 2)


def test_plot_graph_draws_with_matplotlib_without_graphviz(tmp_path, figures, monkeypatch):
    monkeypatch.setattr(viz.graph.shutil, 'which', lambda name: None)
    _, _, loss = expression()
    assert_png(viz.plot_graph(loss, tmp_path / 'graph.png', show_grads=True))
    boxes = [t.get_text() for t in figures[0].axes[0].texts if t.get_text()]
    assert len(boxes) == 7 and any(box.startswith('Sum\nin 2') for box in boxes)


def test_plot_graph_uses_graphviz_when_it_is_there(tmp_path, monkeypatch):
    png = tmp_path / 'drawn.png'
    Image.new('RGB', (3, 2)).save(png)
    fed = tmp_path / 'fed.dot'
    fake_dot = tmp_path / 'bin' / 'dot'
    fake_dot.parent.mkdir()
    fake_dot.write_text(f'#!{sys.executable}\nimport sys\n'
                        f'open({str(fed)!r}, "wb").write(sys.stdin.buffer.read())\n'
                        f'sys.stdout.buffer.write(open({str(png)!r}, "rb").read())\n')
    fake_dot.chmod(0o755)
    monkeypatch.setenv('PATH', f'{fake_dot.parent}{os.pathsep}{os.environ["PATH"]}')
    _, _, loss = expression()
    monkeypatch.chdir(tmp_path)
    assert viz.plot_graph(loss) == 'graph.png'            # the default path
    assert (tmp_path / 'graph.png').read_bytes() == png.read_bytes()
    assert fed.read_text() == viz.graph_dot(loss)


# --- saliency and Grad-CAM -----------------------------------------------

def linear_model(shape=(3, 4, 2), classes=5):
    model = Sequential([Flatten(input_shape=shape), Dense(classes, activation='softmax')])
    model.layers[1].bias.data[...] = RNG.standard_normal(classes)
    return model


def test_saliency_of_a_linear_model_is_its_weight_pattern():
    # score_c = sum_p x_p W[p, c] + b_c, so d score_c / dx = W[:, c]: the logit's
    # gradient, not the softmax probability's
    model = linear_model()
    x = RNG.random((2, 3, 4, 2), dtype=np.float32)
    kernel = model.layers[1].kernel.data
    maps = viz.saliency(model, x, class_index=[1, 3])
    assert maps.shape == (2, 3, 4)
    for n, c in enumerate([1, 3]):
        np.testing.assert_allclose(maps[n], np.abs(kernel[:, c].reshape(3, 4, 2)).max(axis=-1))
    predicted = (x.reshape(2, -1) @ kernel + model.layers[1].bias.data).argmax(axis=1)
    np.testing.assert_allclose(viz.saliency(model, x), viz.saliency(model, x, predicted))


def test_saliency_works_on_a_functional_model_and_grad_cam_asks_for_a_chain():
    inputs = Input(shape=(3, 4, 2))
    model = Model(inputs, Dense(5, activation='softmax')(Flatten()(inputs)))
    x = RNG.random((2, 3, 4, 2), dtype=np.float32)
    kernel = model.layers[-1].kernel.data
    np.testing.assert_allclose(viz.saliency(model, x, class_index=4)[1],
                               np.abs(kernel[:, 4].reshape(3, 4, 2)).max(axis=-1))
    with pytest.raises(TypeError, match='Sequential'):
        viz.grad_cam(model, x)


def test_saliency_leaves_the_weights_gradients_alone():
    model = linear_model()
    viz.saliency(model, RNG.random((2, 3, 4, 2), dtype=np.float32), class_index=0)
    assert all(w.grad is None and w.requires_grad for w in model.weights)


def test_saliency_rejects_a_class_the_model_does_not_have():
    with pytest.raises(ValueError, match=r'class_index.*\[0, 5\)'):
        viz.saliency(linear_model(), np.zeros((2, 3, 4, 2)), class_index=5)


def float64(model, input_shape):
    model.build(input_shape)
    for w in model.weights:
        w.data = RNG.standard_normal(w.shape) * 0.5
    return model


def test_saliency_matches_finite_differences_of_the_class_score():
    model = float64(Sequential([Conv2D(3, 3, activation='relu'), MaxPooling2D(2), Flatten(),
                                Dense(4, activation='softmax')]), (6, 6, 2))
    x = RNG.standard_normal((1, 6, 6, 2))

    def score(images):
        return model.logits(images).data[0, 2]

    numeric = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = 1e-6
        numeric[index] = (score(x + step) - score(x - step)) / 2e-6
    np.testing.assert_allclose(viz.saliency(model, x, class_index=2),
                               np.abs(numeric).max(axis=-1), rtol=1e-5, atol=1e-8)


def test_grad_cam_equals_the_hand_computation():
    # feature maps A = relu(conv(x)) (N, 5, 5, 3); score_c = flatten(A) @ W[:, c] + b_c, so
    # d score_c / dA = W[:, c] as (5, 5, 3) and alpha_k = its mean over the 5 x 5 positions
    model = Sequential([Conv2D(3, 3, padding='same', activation='relu', input_shape=(5, 5, 2)),
                        Flatten(), Dense(4, activation='softmax')])
    x = RNG.random((3, 5, 5, 2), dtype=np.float32)
    maps = model.layers[0](x).numpy()
    alpha = model.layers[2].kernel.data[:, 1].reshape(5, 5, 3).mean(axis=(0, 1))
    cam = np.maximum((maps * alpha).sum(axis=-1), 0)
    expected = [m / m.max() if m.max() > 0 else m for m in cam]
    np.testing.assert_allclose(viz.grad_cam(model, x, class_index=1), expected, rtol=1e-5)


def cnn_with_activation_layers():
    return Sequential([Conv2D(4, 3, input_shape=(6, 6, 1)), Activation('relu'),
                       Conv2D(3, 3), Activation('relu'), MaxPooling2D(2), Flatten(),
                       Dense(2, activation='softmax')])


def test_grad_cam_takes_the_last_conv_after_its_activation_layer():
    model = cnn_with_activation_layers()
    x = RNG.random((4, 6, 6, 1), dtype=np.float32)
    cams = viz.grad_cam(model, x)
    assert cams.shape == (4, 6, 6) and cams.min() >= 0 and cams.max() <= 1
    assert all(c.max() == 1 for c in cams if c.any())
    np.testing.assert_allclose(cams, viz.grad_cam(model, x, layer_name=model.layers[3].name))
    assert not np.allclose(cams, viz.grad_cam(model, x, layer_name=model.layers[1].name))


@pytest.mark.parametrize('layer, message', [
    ('flatten_nope', 'no layer named'), (-2, 'feature maps'), (-1, 'last layer')])
def test_grad_cam_names_what_is_wrong_with_the_layer(layer, message):
    model = cnn_with_activation_layers()
    name = layer if isinstance(layer, str) else model.layers[layer].name
    with pytest.raises(ValueError, match=message):
        viz.grad_cam(model, np.zeros((1, 6, 6, 1)), layer_name=name)


def test_grad_cam_needs_a_conv_layer_to_default_to():
    with pytest.raises(ValueError, match='no Conv2D'):
        viz.grad_cam(linear_model(), np.zeros((1, 3, 4, 2)))


def test_bilinear_resize_matches_pillow():
    maps = RNG.random((1, 3, 4), dtype=np.float32)
    pillow = Image.fromarray(maps[0], mode='F').resize((9, 7), Image.BILINEAR)
    np.testing.assert_allclose(viz.explain._resize_bilinear(maps, (7, 9))[0], np.asarray(pillow),
                               atol=1e-5)
    np.testing.assert_allclose(viz.explain._resize_bilinear(maps, (3, 4)), maps)   # same size: unchanged


def test_plot_saliency_lays_each_map_over_its_image(tmp_path, figures):
    images = RNG.integers(0, 256, (3, 6, 6, 3), dtype=np.uint8)
    maps = RNG.random((3, 6, 6)) * 5
    assert_png(viz.plot_saliency(images, maps, tmp_path / 's.png', titles=['a', 'b', 'c']))
    assert captions(figures[0]) == ['a', 'b', 'c']
    for ax in figures[0].axes:
        image, heat = ax.images
        assert image.get_array().shape == (6, 6, 3)
        assert heat.get_array().max() == pytest.approx(1)


def test_plot_saliency_rejects_maps_that_do_not_fit(tmp_path):
    with pytest.raises(ValueError, match=r'maps.*\(3, 6, 6\)'):
        viz.plot_saliency(np.zeros((3, 6, 6)), np.zeros((3, 5, 5)), tmp_path / 's.png')


def test_plot_profile_draws_forward_and_backward_bars(tmp_path, figures):
    rows = [{'layer': 'conv2d', 'type': 'Conv2D', 'forward_ms': 3.0, 'backward_ms': 5.0},
            {'layer': 'loss', 'type': 'softmax_cross_entropy', 'forward_ms': 0.1,
             'backward_ms': 0.1}]
    assert_png(viz.plot_profile(rows, tmp_path / 'p.png', title='profile'))
    ax = figures[0].axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == \
        ['conv2d (Conv2D)', 'loss (softmax_cross_entropy)']
    assert [bar.get_width() for bar in ax.containers[1]] == [5.0, 0.1]
