import math
import os
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from PIL import Image

from minicnn import devices
from minicnn.callbacks import LambdaCallback
from minicnn.layers import Dense, Flatten
from minicnn.models import Sequential
from minicnn.preprocessing import DirectoryIterator, ImageDataGenerator
from minicnn.utils import Sequence

from test_image_generator import on_gpu  # noqa: F401  (a fixture)

# The flowers/ tree of the tests, in Keras' order: class folders by name, and
# within each the walk's folders by path, their files by name.
FILES = ['daisy/a0.png', 'daisy/a1.png', 'daisy/a2.png', 'daisy/a3.png', 'daisy/a4.png',
         'rose/r0.jpg', 'rose/r1.png', 'rose/r2.PNG',
         'tulip/t0.png', 'tulip/t1.bmp', 'tulip/sub/t2.png', 'tulip/sub/t3.png']
LABELS = [0] * 5 + [1] * 3 + [2] * 4
SIZE = (4, 6)                     # (height, width) of the images in flowers/


def write_image(path, pixels):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def native(names):
    """Relative paths with the system's separator, as filenames holds them."""
    return [os.path.normpath(name) for name in names]


def value_of(k):
    """The grey level of the k-th file of FILES: far apart, so a JPEG keeps it."""
    return 20 * k + 10


def sample_numbers(images):
    """Which file each image of a batch is, from its grey level."""
    return np.rint((images[:, 0, 0, 0] - 10) / 20).astype(int)


@pytest.fixture
def flowers(tmp_path):
    """3 classes of flat grey images, with files that are not images beside them."""
    for k, name in enumerate(FILES):
        write_image(tmp_path / 'flowers' / name, np.full(SIZE, value_of(k), dtype=np.uint8))
    (tmp_path / 'flowers' / 'daisy' / 'notes.txt').write_text('not an image')
    (tmp_path / 'flowers' / 'README.txt').write_text('not a class')
    return tmp_path / 'flowers'


def flow(directory, generator=None, **options):
    options = {'target_size': SIZE, **options}
    return (generator or ImageDataGenerator()).flow_from_directory(directory, **options)


def one_class(tmp_path, images):
    """A folder with one class folder holding the (H, W) or (H, W, C) uint8 images."""
    for k, image in enumerate(images):
        write_image(tmp_path / 'one' / 'only' / f'{k}.png', image)
    return tmp_path / 'one'


# --- what is found ------------------------------------------------------------

def test_classes_files_and_counts_follow_keras(flowers, capsys):
    iterator = flow(flowers, batch_size=5)
    assert capsys.readouterr().out == 'Found 12 images belonging to 3 classes.\n'
    assert iterator.class_indices == {'daisy': 0, 'rose': 1, 'tulip': 2}
    assert iterator.num_classes == 3 and iterator.samples == iterator.n == 12
    assert iterator.filenames == native(FILES)
    assert iterator.classes.dtype == np.int32
    assert_array_equal(iterator.classes, LABELS)
    assert iterator.filepaths[0] == str(flowers / 'daisy' / 'a0.png')
    assert len(iterator) == 3 and iterator.image_shape == (*SIZE, 3)
    assert isinstance(iterator, Sequence) and isinstance(iterator, DirectoryIterator)


def test_follow_links_walks_into_linked_folders(flowers, tmp_path):
    write_image(tmp_path / 'more' / 'r3.png', np.zeros(SIZE, dtype=np.uint8))
    try:
        (flowers / 'rose' / 'linked').symlink_to(tmp_path / 'more', target_is_directory=True)
    except OSError:
        pytest.skip('this system makes no symbolic links')
    assert flow(flowers).samples == 12
    followed = flow(flowers, follow_links=True)
    assert followed.filenames[5:9] == native(['rose/r0.jpg', 'rose/r1.png', 'rose/r2.PNG',
                                              'rose/linked/r3.png'])


def test_given_classes_are_taken_in_their_order(flowers):
    iterator = flow(flowers, classes=['tulip', 'daisy'], shuffle=False, batch_size=9)
    assert iterator.class_indices == {'tulip': 0, 'daisy': 1}
    assert_array_equal(iterator.classes, [0] * 4 + [1] * 5)
    images, labels = next(iterator)
    assert_array_equal(sample_numbers(images), [8, 9, 10, 11, 0, 1, 2, 3, 4])
    assert_array_equal(labels.argmax(axis=1), iterator.classes)


# --- batches --------------------------------------------------------------------

@pytest.mark.parametrize('class_mode, shape, dtype', [
    ('categorical', (5, 2), np.float32), ('binary', (5,), np.float32),
    ('sparse', (5,), np.int32), ('input', (5, *SIZE, 3), np.float32),
])
def test_labels_follow_the_class_mode(flowers, class_mode, shape, dtype):
    iterator = flow(flowers, classes=['daisy', 'rose'], class_mode=class_mode, batch_size=5)
    images, labels = next(iterator)
    assert images.shape == (5, *SIZE, 3) and images.dtype == np.float32
    assert labels.shape == shape and labels.dtype == dtype
    ids = np.where(sample_numbers(images) < 5, 0, 1)         # daisy 0..4, rose 5..7
    expected = {'categorical': np.eye(2)[ids], 'binary': ids, 'sparse': ids,
                'input': images}[class_mode]
    assert_array_equal(labels, expected)


def test_without_a_class_mode_a_batch_is_the_images_alone(flowers):
    batch = next(flow(flowers, class_mode=None, batch_size=4))
    assert isinstance(batch, np.ndarray) and batch.shape == (4, *SIZE, 3)


@pytest.mark.parametrize('color_mode, channels', [('grayscale', 1), ('rgb', 3), ('rgba', 4)])
def test_color_modes_give_1_3_or_4_channels_as_pil_converts(tmp_path, color_mode, channels):
    image = np.random.default_rng(0).integers(0, 256, (*SIZE, 3), dtype=np.uint8)
    images, _ = next(flow(one_class(tmp_path, [image]), color_mode=color_mode))
    assert images.shape == (1, *SIZE, channels)
    pil_mode = {'grayscale': 'L', 'rgb': 'RGB', 'rgba': 'RGBA'}[color_mode]
    expected = np.asarray(Image.fromarray(image).convert(pil_mode), dtype=np.float32)
    assert_array_equal(images[0], expected.reshape(*SIZE, channels))


@pytest.mark.parametrize('rows, cols', [(3, 3), (2, 3)])
def test_nearest_resizing_to_twice_the_size_repeats_every_pixel(tmp_path, rows, cols):
    board = (np.indices((rows, cols)).sum(axis=0) % 2 * 255).astype(np.uint8)   # checkerboard
    images, _ = next(flow(one_class(tmp_path, [board]), target_size=(2 * rows, 2 * cols),
                          color_mode='grayscale'))
    assert_array_equal(images[0, :, :, 0], np.repeat(np.repeat(board, 2, axis=0), 2, axis=1))


@pytest.mark.parametrize('interpolation, pil_filter', [
    ('nearest', Image.Resampling.NEAREST), ('bilinear', Image.Resampling.BILINEAR),
    ('bicubic', Image.Resampling.BICUBIC), ('lanczos', Image.Resampling.LANCZOS),
    ('box', Image.Resampling.BOX), ('hamming', Image.Resampling.HAMMING),
])
def test_interpolation_names_keras_pil_filter(tmp_path, interpolation, pil_filter):
    image = np.random.default_rng(1).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    images, _ = next(flow(one_class(tmp_path, [image]), target_size=(4, 9),
                          interpolation=interpolation))
    expected = np.asarray(Image.fromarray(image).resize((9, 4), pil_filter))
    assert_array_equal(images[0], expected)


@pytest.mark.parametrize('shape, target_size, crop', [
    ((4, 8), (4, 2), np.s_[:, 3:5]),       # wide: the middle columns
    ((8, 4), (2, 4), np.s_[3:5, :]),       # tall: the middle rows
])
def test_keep_aspect_ratio_crops_the_centre_before_resizing(tmp_path, shape, target_size, crop):
    image = np.arange(32, dtype=np.uint8).reshape(shape) * 7
    folder = one_class(tmp_path, [image])
    kept, _ = next(flow(folder, target_size=target_size, color_mode='grayscale',
                        keep_aspect_ratio=True))
    assert_array_equal(kept[0, :, :, 0], image[crop])
    squeezed, _ = next(flow(folder, target_size=target_size, color_mode='grayscale'))
    assert not np.array_equal(squeezed[0, :, :, 0], image[crop])


def test_unshuffled_batches_follow_the_files_in_order(flowers):
    iterator = flow(flowers, shuffle=False, class_mode='sparse', batch_size=5)
    batches = [next(iterator) for _ in range(4)]
    assert [len(labels) for _, labels in batches] == [5, 5, 2, 5]
    numbers = np.concatenate([sample_numbers(images) for images, _ in batches])
    assert_array_equal(numbers, list(range(12)) + list(range(5)))
    assert_array_equal(np.concatenate([labels for _, labels in batches]), LABELS + LABELS[:5])


def test_a_jpeg_is_read_too(flowers):
    images, _ = flow(flowers, shuffle=False, batch_size=12)[0]
    assert_allclose(images[5], value_of(5), atol=2)           # rose/r0.jpg


def test_a_batch_is_augmented_at_once_then_standardized(tmp_path, monkeypatch):
    ramp = np.tile(np.arange(0, 240, 40, dtype=np.uint8), (4, 1))         # (4, 6)
    generator = ImageDataGenerator(horizontal_flip=True, rescale=1 / 255)
    calls = []
    augment = generator.augment

    def spy(x, rng):
        calls.append(x.shape)
        return augment(x, rng)
    monkeypatch.setattr(generator, 'augment', spy)
    images, _ = next(flow(one_class(tmp_path, [ramp] * 16), generator, color_mode='grayscale',
                          batch_size=16, seed=3))
    assert calls == [(16, *SIZE, 1)]                        # one call for the whole batch
    flipped = [np.allclose(image[:, :, 0], ramp[:, ::-1] / 255) for image in images]
    assert all(f or np.allclose(image[:, :, 0], ramp / 255) for f, image in zip(flipped, images))
    assert 0 < sum(flipped) < 16


def test_a_seed_gives_repeatable_batches(flowers):
    generator = ImageDataGenerator(rotation_range=30, zoom_range=0.2)
    first, again = (next(flow(flowers, generator, seed=5)) for _ in range(2))
    assert_array_equal(first[0], again[0])
    assert_array_equal(first[1], again[1])


def test_images_are_read_a_batch_at_a_time(flowers, monkeypatch):
    opened = []
    open_image = Image.open
    monkeypatch.setattr(Image, 'open', lambda path: opened.append(path) or open_image(path))
    iterator = flow(flowers, batch_size=4)
    assert opened == []
    next(iterator)
    assert len(opened) == 4


# --- epochs ---------------------------------------------------------------------

def test_a_sequence_epoch_covers_every_file_once_and_on_epoch_end_reshuffles(flowers):
    iterator = flow(flowers, batch_size=5, class_mode='sparse', seed=0)
    orders = []
    for _ in range(2):
        batches = [iterator[i] for i in range(len(iterator))]
        numbers = np.concatenate([sample_numbers(images) for images, _ in batches])
        assert_array_equal(np.sort(numbers), np.arange(12))
        assert_array_equal(np.concatenate([labels for _, labels in batches]),
                           np.array(LABELS)[numbers])
        orders.append(numbers)
        iterator.on_epoch_end()
    assert not np.array_equal(*orders)
    with pytest.raises(IndexError, match=r'3.*range\(3\)'):
        iterator[3]


def test_next_serves_epochs_that_each_cover_every_file_once(flowers):
    iterator = flow(flowers, batch_size=5, class_mode=None, seed=1)
    assert iter(iterator) is iterator
    epochs = [np.concatenate([sample_numbers(next(iterator)) for _ in range(len(iterator))])
              for _ in range(2)]
    for numbers in epochs:
        assert_array_equal(np.sort(numbers), np.arange(12))
    assert not np.array_equal(*epochs)


def test_fit_trains_on_the_iterator_with_len_batches_an_epoch(flowers):
    iterator = flow(flowers, ImageDataGenerator(rescale=1 / 255), batch_size=4)
    model = Sequential([Flatten(input_shape=(*SIZE, 3)), Dense(3, activation='softmax')])
    model.compile(optimizer='adam', loss='categorical_crossentropy')
    batches = []
    count = LambdaCallback(on_batch_begin=lambda batch, logs=None: batches.append(batch))
    losses = model.fit(iterator, epochs=2, verbose=0, callbacks=[count]).history['loss']
    assert len(losses) == 2 and all(map(math.isfinite, losses)) and losses[0] != losses[1]
    assert batches == [0, 1, 2] * 2                        # len(iterator) batches an epoch


# --- saving ---------------------------------------------------------------------

def test_save_to_dir_writes_every_served_image(flowers, tmp_path):
    saved = tmp_path / 'saved'
    saved.mkdir()
    next(flow(flowers, shuffle=False, batch_size=3, save_to_dir=saved, save_prefix='aug',
              save_format='png'))
    names = sorted(path.name for path in saved.iterdir())
    assert [re.fullmatch(r'aug_(\d+)_\d+\.png', n).group(1) for n in names] == ['0', '1', '2']


# --- subsets --------------------------------------------------------------------

@pytest.mark.parametrize('split, validation', [
    # int(split * n) files of each class, first by name: daisy 5, rose 3, tulip 4
    (0.5, ['daisy/a0.png', 'daisy/a1.png', 'rose/r0.jpg', 'tulip/t0.png', 'tulip/t1.bmp']),
    (0.3, ['daisy/a0.png', 'tulip/t0.png']),
    (0.7, ['daisy/a0.png', 'daisy/a1.png', 'daisy/a2.png', 'rose/r0.jpg', 'rose/r1.png',
           'tulip/t0.png', 'tulip/t1.bmp']),
])
def test_subsets_split_every_class_folder_as_keras_does(flowers, split, validation):
    generator = ImageDataGenerator(validation_split=split)
    parts = {subset: flow(flowers, generator, subset=subset).filenames
             for subset in ('validation', 'training')}
    assert parts['validation'] == native(validation)
    assert parts['training'] == native(name for name in FILES if name not in validation)


# --- errors --------------------------------------------------------------------

def test_unknown_keywords_say_did_you_mean(flowers):
    with pytest.raises(TypeError, match="'target_sise'; did you mean 'target_size'"):
        ImageDataGenerator().flow_from_directory(flowers, target_sise=(8, 8))
    with pytest.raises(TypeError, match="'batchsize'; did you mean 'batch_size'"):
        DirectoryIterator(flowers, batchsize=3)


def test_a_missing_directory_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"no directory '{re.escape(str(tmp_path))}"):
        flow(tmp_path / 'nowhere')
    (tmp_path / 'a.png').write_bytes(b'')
    with pytest.raises(FileNotFoundError, match='no directory'):
        flow(tmp_path / 'a.png')


def test_a_directory_without_class_folders_or_images_is_named(tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(ValueError, match=f"{re.escape(str(empty))}' holds no class folders"):
        flow(empty)
    (empty / 'cats').mkdir()
    (empty / 'cats' / 'notes.txt').write_text('')
    with pytest.raises(ValueError, match=f"{re.escape(str(empty))}' hold no images"):
        flow(empty)


def test_a_file_that_is_no_image_is_named_when_read(flowers):
    (flowers / 'daisy' / 'a5.png').write_bytes(b'not a png')
    iterator = flow(flowers, shuffle=False, batch_size=6)
    with pytest.raises(OSError, match='a5.png'):
        next(iterator)


def raises_naming(name, value):
    return pytest.raises(ValueError, match=f'{re.escape(name)}.*{re.escape(repr(value))}')


@pytest.mark.parametrize('name, value', [
    ('target_size', (0, 4)), ('target_size', 64), ('target_size', (4, 4, 3)),
    ('color_mode', 'rgbx'), ('class_mode', 'multi_output'), ('interpolation', 'cubic'),
    ('batch_size', 0), ('shuffle', 'no'), ('seed', -1), ('follow_links', None),
    ('keep_aspect_ratio', 'yes'), ('classes', 'daisy'), ('classes', ['rose', 'rose']),
    ('subset', 'test'), ('save_format', 'xyz'),
])
def test_bad_arguments_are_named_with_their_value(flowers, tmp_path, name, value):
    with raises_naming(name, value):
        flow(flowers, save_to_dir=tmp_path, **{name: value})


@pytest.mark.parametrize('options, generator, message', [
    ({'classes': ['daisy', 'lily']}, {}, "no folder 'lily'"),
    ({'class_mode': 'binary'}, {}, "'binary' needs 2 classes, got 3"),
    ({'subset': 'training'}, {}, 'needs ImageDataGenerator.validation_split'),
    ({'subset': 'validation'}, {'validation_split': 0.1}, 'validation subset.*no images'),
])
def test_what_keras_would_serve_wrongly_is_refused(flowers, options, generator, message):
    with pytest.raises(ValueError, match=message):
        flow(flowers, ImageDataGenerator(**generator), **options)


# --- CuPy ----------------------------------------------------------------------

@pytest.mark.gpu
def test_batches_are_made_on_the_gpu(flowers, on_gpu):   # noqa: F811
    generator = ImageDataGenerator(rotation_range=10, horizontal_flip=True, rescale=1 / 255)
    images, labels = next(flow(flowers, generator, batch_size=5, seed=0))
    assert devices.is_gpu_array(images) and devices.is_gpu_array(labels)
    assert images.shape == (5, *SIZE, 3) and labels.shape == (5, 3)
