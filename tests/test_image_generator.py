import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from minicnn import backend
from minicnn.preprocessing import ImageDataGenerator, Transform

# A 4 x 5 image with distinct values, none of them 0 or the cval used below.
IMAGE = np.arange(1, 21, dtype=np.float32).reshape(4, 5)
CVAL = -1.0


def as_batch(image):
    """(H, W) -> (1, H, W, 1)."""
    return image[None, :, :, None]


def moved(image, transform, **options):
    """The (H, W) image after ``transform``, for ImageDataGenerator(**options)."""
    return ImageDataGenerator(**options).apply_transform(as_batch(image), transform)[0, :, :, 0]


# --- shifts and fill modes -----------------------------------------------------

def test_shift_right_by_one_pixel_with_constant_fill():
    expected = np.hstack([np.full((4, 1), CVAL), IMAGE[:, :-1]])
    assert_array_equal(moved(IMAGE, Transform(shift_cols=1), fill_mode='constant', cval=CVAL),
                       expected)


def test_shift_down_by_one_pixel_with_constant_fill():
    expected = np.vstack([np.full((1, 5), CVAL), IMAGE[:-1]])
    assert_array_equal(moved(IMAGE, Transform(shift_rows=1), fill_mode='constant', cval=CVAL),
                       expected)


def test_shift_up_by_one_pixel_with_nearest_fill_repeats_the_last_row():
    expected = IMAGE[[1, 2, 3, 3]]
    assert_array_equal(moved(IMAGE, Transform(shift_rows=-1), fill_mode='nearest'), expected)


@pytest.mark.parametrize('fill_mode, shift, columns', [
    ('nearest', 2, [0, 0, 0, 1, 2]),
    ('nearest', -2, [2, 3, 4, 4, 4]),
    ('reflect', 2, [1, 0, 0, 1, 2]),
    ('reflect', -2, [2, 3, 4, 4, 3]),
    ('reflect', 6, [4, 4, 3, 2, 1]),     # beyond one mirror image: edcba|abcde|edcba
    ('wrap', 2, [3, 4, 0, 1, 2]),
    ('wrap', -2, [2, 3, 4, 0, 1]),
    ('wrap', 6, [4, 0, 1, 2, 3]),
])
def test_fill_modes_on_a_known_shift(fill_mode, shift, columns):
    out = moved(IMAGE, Transform(shift_cols=shift), fill_mode=fill_mode, cval=CVAL)
    assert_array_equal(out, IMAGE[:, columns])


@settings(max_examples=40, deadline=None)
@given(height=st.integers(1, 7), width=st.integers(1, 7),
       shift_rows=st.integers(-10, 10), shift_cols=st.integers(-10, 10))
def test_integer_shift_with_wrap_is_np_roll(height, width, shift_rows, shift_cols):
    x = np.arange(2 * height * width * 3, dtype=np.float32).reshape(2, height, width, 3)
    out = ImageDataGenerator(fill_mode='wrap').apply_transform(
        x, Transform(shift_rows=shift_rows, shift_cols=shift_cols))
    assert_array_equal(out, np.roll(x, (shift_rows, shift_cols), axis=(1, 2)))


@pytest.mark.parametrize('option, value', [('width_shift_range', 1.0),    # pixels
                                           ('width_shift_range', 0.2)])   # 0.2 * 5 pixels
def test_random_width_shift_moves_columns_by_at_most_the_range(option, value):
    """U[-1, 1] pixels rounds to a shift of -1, 0 or +1: each image is one of
    these three, and a batch of 64 shows all of them."""
    candidates = [moved(IMAGE, Transform(shift_cols=s), fill_mode='constant') for s in (-1, 0, 1)]
    generator = ImageDataGenerator(fill_mode='constant', **{option: value})
    x = np.repeat(as_batch(IMAGE), 64, axis=0)
    out = generator.augment(x, np.random.default_rng(0))[..., 0]
    which = [[np.array_equal(image, c) for c in candidates] for image in out]
    assert all(sum(matches) == 1 for matches in which)
    assert np.all(np.any(which, axis=0))


def test_random_height_shift_moves_rows_only():
    generator = ImageDataGenerator(height_shift_range=2, fill_mode='wrap')
    out = generator.augment(np.repeat(as_batch(IMAGE), 16, axis=0), np.random.default_rng(1))
    for image in out[..., 0]:
        assert any(np.array_equal(image, np.roll(IMAGE, s, axis=0)) for s in range(-2, 3))
    assert not np.all(out[..., 0] == IMAGE)


# --- flips ---------------------------------------------------------------------

def test_horizontal_flip_reverses_the_columns():
    assert_array_equal(moved(IMAGE, Transform(flip_horizontal=True)), IMAGE[:, ::-1])


def test_vertical_flip_reverses_the_rows():
    assert_array_equal(moved(IMAGE, Transform(flip_vertical=True)), IMAGE[::-1])


def test_flip_comes_after_the_shift():
    shifted = moved(IMAGE, Transform(shift_cols=1), fill_mode='constant', cval=CVAL)
    both = moved(IMAGE, Transform(shift_cols=1, flip_horizontal=True),
                 fill_mode='constant', cval=CVAL)
    assert_array_equal(both, shifted[:, ::-1])


@pytest.mark.parametrize('option, flipped', [('horizontal_flip', IMAGE[:, ::-1]),
                                             ('vertical_flip', IMAGE[::-1])])
def test_random_flips_flip_about_half_the_images(option, flipped):
    x = np.repeat(as_batch(IMAGE), 200, axis=0)
    out = ImageDataGenerator(**{option: True}).augment(x, np.random.default_rng(2))[..., 0]
    is_flipped = np.all(out == flipped, axis=(1, 2))
    assert np.all(is_flipped | np.all(out == IMAGE, axis=(1, 2)))
    assert 70 < is_flipped.sum() < 130


# --- rotation and zoom ---------------------------------------------------------

@pytest.mark.parametrize('size', [4, 5])
@pytest.mark.parametrize('theta, quarter_turns', [(90, 1), (-90, -1), (180, 2), (270, 3)])
def test_rotation_by_a_multiple_of_90_degrees_is_np_rot90(size, theta, quarter_turns):
    """Positive angles turn the content counter-clockwise, as np.rot90 and Keras do."""
    x = np.arange(2 * size * size, dtype=np.float32).reshape(2, size, size, 1)
    out = ImageDataGenerator().apply_transform(x, Transform(theta=theta))
    assert_array_equal(out, np.rot90(x, quarter_turns, axes=(1, 2)))


def test_rotation_turns_about_the_centre():
    image = np.zeros((7, 7), dtype=np.float32)
    image[3, 3] = 1.0
    assert_array_equal(moved(image, Transform(theta=37.0), fill_mode='constant'), image)


def test_zoom_in_by_two_repeats_each_central_pixel_twice():
    image = np.arange(64, dtype=np.float32).reshape(8, 8)
    expected = image[2:6, 2:6].repeat(2, axis=0).repeat(2, axis=1)
    assert_array_equal(moved(image, Transform(zoom_rows=0.5, zoom_cols=0.5)), expected)
    random_zoom = ImageDataGenerator(zoom_range=(0.5, 0.5))
    out = random_zoom.augment(as_batch(image), np.random.default_rng(3))
    assert_array_equal(out[0, :, :, 0], expected)


def test_zoom_out_by_two_shrinks_into_the_centre():
    image = np.ones((8, 8), dtype=np.float32)
    expected = np.full((8, 8), CVAL, dtype=np.float32)
    expected[2:6, 2:6] = 1.0
    out = moved(image, Transform(zoom_rows=2.0, zoom_cols=2.0), fill_mode='constant', cval=CVAL)
    assert_array_equal(out, expected)


def test_random_parameters_lie_in_their_ranges():
    generator = ImageDataGenerator(rotation_range=30, width_shift_range=0.25,
                                   height_shift_range=3, zoom_range=0.2, horizontal_flip=True)
    t = generator.random_parameters((1000, 8, 16, 3), np.random.default_rng(4))
    for values, bound in [(t.theta, 30), (t.shift_rows, 3), (t.shift_cols, 0.25 * 16)]:
        assert np.all(np.abs(values) <= bound) and np.abs(values).max() > 0.9 * bound
    for zoom in (t.zoom_rows, t.zoom_cols):
        assert np.all((0.8 <= zoom) & (zoom <= 1.2)) and zoom.min() < 0.82 and zoom.max() > 1.18
    assert not np.array_equal(t.zoom_rows, t.zoom_cols)
    assert 400 < t.flip_horizontal.sum() < 600
    assert not t.flip_vertical.any()


def test_output_keeps_the_shape_of_non_square_images():
    x = np.random.default_rng(5).random((3, 6, 9, 2))
    generator = ImageDataGenerator(rotation_range=45, zoom_range=0.3, width_shift_range=0.2,
                                   fill_mode='reflect')
    out = generator.augment(x, np.random.default_rng(6))
    assert out.shape == x.shape and out.dtype == np.float32
    assert np.isin(out, x.astype(np.float32)).all()     # nearest sampling invents no values


# --- seeds ---------------------------------------------------------------------

AUGMENTING = dict(rotation_range=20, width_shift_range=0.2, height_shift_range=0.2,
                  zoom_range=0.1, horizontal_flip=True)


def take(iterator, count):
    return [next(iterator) for _ in range(count)]


def test_a_seed_gives_repeatable_batches():
    x = np.random.default_rng(7).random((20, 6, 6, 1))
    y = np.arange(20)
    generator = ImageDataGenerator(**AUGMENTING)
    first, again, other = (take(generator.flow(x, y, batch_size=8, seed=seed), 4)
                           for seed in (11, 11, 12))
    for (xa, ya), (xb, yb) in zip(first, again):
        assert_array_equal(xa, xb)
        assert_array_equal(ya, yb)
    assert not all(np.array_equal(xa, xb) for (xa, _), (xb, _) in zip(first, other))


def test_without_a_seed_backend_set_seed_makes_batches_repeatable():
    x = np.random.default_rng(8).random((10, 6, 6, 1))
    generator = ImageDataGenerator(**AUGMENTING)
    runs = []
    for _ in range(2):
        backend.set_seed(21)
        runs.append(take(generator.flow(x, batch_size=4), 3))
    for a, b in zip(*runs):
        assert_array_equal(a, b)


def test_random_transform_of_one_image_is_repeatable_with_a_seed():
    image = np.random.default_rng(9).random((6, 6, 2))
    generator = ImageDataGenerator(**AUGMENTING)
    out = generator.random_transform(image, seed=3)
    assert out.shape == image.shape and out.dtype == np.float32
    assert_array_equal(out, generator.random_transform(image, seed=3))
    assert not np.array_equal(out, generator.random_transform(image, seed=4))


# --- the iterator --------------------------------------------------------------

def epoch(iterator):
    return [next(iterator) for _ in range(len(iterator))]


def test_batches_have_the_right_shapes_and_the_last_one_is_smaller():
    x = np.zeros((10, 4, 5, 3), dtype=np.float32)
    iterator = ImageDataGenerator().flow(x, np.arange(10), batch_size=4)
    assert len(iterator) == 3 and iter(iterator) is iterator
    shapes = [(xb.shape, yb.shape) for xb, yb in take(iterator, 4)]
    assert shapes == [((4, 4, 5, 3), (4,)), ((4, 4, 5, 3), (4,)), ((2, 4, 5, 3), (2,)),
                      ((4, 4, 5, 3), (4,))]


@pytest.mark.parametrize('shuffle', [True, False])
def test_each_epoch_covers_every_sample_once(shuffle):
    x = np.random.default_rng(10).random((23, 3, 3, 2)).astype(np.float32)
    iterator = ImageDataGenerator().flow(x, np.arange(23), batch_size=5, shuffle=shuffle)
    for _ in range(2):
        batches = epoch(iterator)
        labels = np.concatenate([yb for _, yb in batches])
        assert_array_equal(np.sort(labels), np.arange(23))
        assert_array_equal(np.concatenate([xb for xb, _ in batches]), x[labels])
        assert np.array_equal(labels, np.arange(23)) != shuffle


def test_shuffling_draws_a_new_order_every_epoch():
    iterator = ImageDataGenerator().flow(np.zeros((50, 2, 2, 1)), np.arange(50),
                                         batch_size=50, seed=0)
    orders = [yb for _, yb in take(iterator, 3)]
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[1], orders[2])


def test_without_y_the_iterator_yields_images_only():
    x = np.ones((3, 2, 2, 1), dtype=np.float32)
    out = next(ImageDataGenerator().flow(x, batch_size=2))
    assert isinstance(out, np.ndarray) and out.shape == (2, 2, 2, 1)


# --- rescale and uint8 ---------------------------------------------------------

def test_uint8_images_come_out_rescaled_float32():
    x = np.random.default_rng(11).integers(0, 256, (6, 4, 4, 3), dtype=np.uint8)
    iterator = ImageDataGenerator(rescale=1 / 255).flow(x, batch_size=6, shuffle=False)
    out = next(iterator)
    assert out.dtype == np.float32
    assert_allclose(out, x / 255, rtol=1e-6)


def test_standardize_applies_rescale_without_changing_its_input():
    x = np.full((1, 2, 2, 1), 4.0, dtype=np.float32)
    assert_array_equal(ImageDataGenerator(rescale=0.5).standardize(x), np.full_like(x, 2.0))
    assert_array_equal(x, 4.0)
    assert ImageDataGenerator().standardize(np.ones((1, 1, 1, 1))).dtype == np.float32


def test_uint8_images_are_augmented_exactly():
    x = np.arange(20, dtype=np.uint8).reshape(1, 4, 5, 1) * 12   # values up to 228
    out = ImageDataGenerator(fill_mode='constant').apply_transform(x, Transform(shift_cols=-1))
    assert out.dtype == np.float32
    assert_array_equal(out[0, :, :, 0], np.hstack([x[0, :, 1:, 0], np.zeros((4, 1))]))


# --- bad arguments -------------------------------------------------------------

def raises_naming(name, value):
    return pytest.raises(ValueError, match=f'{re.escape(name)}.*{re.escape(repr(value))}')


@pytest.mark.parametrize('name, value', [
    ('rotation_range', -5), ('width_shift_range', -0.1), ('height_shift_range', 'a'),
    ('zoom_range', 1.5), ('zoom_range', -0.1), ('zoom_range', (1.2, 0.8)),
    ('zoom_range', (0, 1)), ('zoom_range', (0.5, 1, 2)), ('zoom_range', None),
    ('fill_mode', 'mirror'), ('cval', None), ('rescale', '1/255'),
])
def test_bad_generator_arguments_are_refused(name, value):
    with raises_naming(name, value):
        ImageDataGenerator(**{name: value})


@pytest.mark.parametrize('name, value', [('batch_size', 0), ('batch_size', -2),
                                         ('batch_size', 2.5), ('seed', -1), ('seed', 'a')])
def test_bad_flow_arguments_are_refused(name, value):
    with raises_naming(name, value):
        ImageDataGenerator().flow(np.zeros((4, 2, 2, 1)), **{name: value})


@pytest.mark.parametrize('shape', [(4, 2, 2), (4, 2, 2, 1, 1), (0, 2, 2, 1)])
def test_flow_refuses_x_that_is_not_a_non_empty_rank_4_array(shape):
    with raises_naming('x', shape):
        ImageDataGenerator().flow(np.zeros(shape))


def test_flow_refuses_x_and_y_of_different_lengths():
    with pytest.raises(ValueError, match=r'len\(x\) = 4 and len\(y\) = 3'):
        ImageDataGenerator().flow(np.zeros((4, 2, 2, 1)), np.zeros(3))


def test_random_transform_refuses_a_batch():
    with raises_naming('x', (1, 2, 2, 1)):
        ImageDataGenerator().random_transform(np.zeros((1, 2, 2, 1)))


# --- CuPy ----------------------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.skipif(not backend.gpu_available(), reason='needs CuPy and a CUDA device')
def test_cupy_arrays_give_the_same_images_as_numpy():
    cp = backend.cupy()
    x = np.random.default_rng(12).integers(0, 256, (4, 9, 7, 3), dtype=np.uint8)
    transform = Transform(theta=np.array([0.0, 30.0, -90.0, 10.0]), shift_rows=1.6,
                          shift_cols=np.array([0.0, -2.0, 3.0, 0.4]), zoom_rows=0.8,
                          zoom_cols=1.1, flip_vertical=np.array([True, False, False, True]),
                          flip_horizontal=True)
    on_gpu = Transform(*(cp.asarray(v) for v in transform))
    for fill_mode in ('nearest', 'constant', 'reflect', 'wrap'):
        generator = ImageDataGenerator(fill_mode=fill_mode, cval=7.0)
        assert_array_equal(generator.apply_transform(cp.asarray(x), on_gpu).get(),
                           generator.apply_transform(x, transform))
    xb, yb = next(ImageDataGenerator(**AUGMENTING).flow(cp.asarray(x), cp.arange(4), seed=1))
    assert backend.is_gpu_array(xb) and xb.dtype == np.float32 and yb.shape == (4,)
