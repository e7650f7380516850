"""Tests of minicnn.viz: every plot writes a real PNG, grids hold the right
pictures, bad shapes are named in the error, and saving is atomic."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from minicnn import viz
from minicnn.autograd import Tensor

RNG = np.random.default_rng(0)


@pytest.fixture
def figures(monkeypatch):
    """The figures the plot functions save, in order (they are saved as usual)."""
    saved = []
    real_save = viz._save

    def recording_save(fig, path, show):
        saved.append(fig)
        return real_save(fig, path, show)

    monkeypatch.setattr(viz, '_save', recording_save)
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

    monkeypatch.setattr(viz.Figure, 'savefig', half_a_png)
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
