import math
import os
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from PIL import Image, ImageEnhance

from minicnn import devices
from minicnn.preprocessing import ImageDataGenerator, Transform

# A 4 x 5 image with distinct values, none of them 0 or the cval used below.
IMAGE = np.arange(1, 21, dtype=np.float32).reshape(4, 5)
CVAL = -1.0


def as_batch(image):
    """(H, W) -> (1, H, W, 1)."""
    return image[None, :, :, None]


def moved(image, transform, **options):
    """The (H, W) image after ``transform``, for ImageDataGenerator(**options)."""
    generator = ImageDataGenerator(**options)
    return generator.transform_batch(as_batch(image), transform)[0, :, :, 0]


# --- a plain-loop reference for the documented coordinate map and bilinear sampling

def documented_source(row, col, height, width, t):
    """src = c + R(-theta) (S Z (q - c) - t) for one output pixel, written out
    from the module docstring; t is a Keras transform_parameters dict."""
    if t.get('flip_vertical'):
        row = height - 1 - row
    if t.get('flip_horizontal'):
        col = width - 1 - col
    centre_row, centre_col = (height - 1) / 2, (width - 1) / 2
    u, v = t.get('zx', 1) * (row - centre_row), t.get('zy', 1) * (col - centre_col)
    shear = math.radians(t.get('shear', 0))
    u, v = math.cos(shear) * u, v - math.sin(shear) * u
    u, v = u + t.get('tx', 0), v + t.get('ty', 0)          # Keras: output[q] = input[q + t]
    theta = math.radians(t.get('theta', 0))
    return (centre_row + math.cos(theta) * u + math.sin(theta) * v,
            centre_col - math.sin(theta) * u + math.cos(theta) * v)


def fold(index, size, fill_mode):
    if fill_mode == 'wrap':
        return index % size
    if fill_mode == 'reflect':
        index %= 2 * size
        return min(index, 2 * size - 1 - index)
    return min(max(index, 0), size - 1)


def bilinear_reference(image, t, fill_mode='nearest', cval=0.0):
    """Each output pixel of the (H, W) image from its four neighbours, by loops."""
    height, width = image.shape
    out = np.empty((height, width))
    for row, col in np.ndindex(height, width):
        r, c = documented_source(row, col, height, width, t)
        if fill_mode == 'constant' and not (0 <= r <= height - 1 and 0 <= c <= width - 1):
            out[row, col] = cval
            continue
        r0, c0 = math.floor(r), math.floor(c)
        a, b = r - r0, c - c0

        def pixel(i, j):
            return image[fold(i, height, fill_mode), fold(j, width, fill_mode)]
        out[row, col] = ((1 - a) * (1 - b) * pixel(r0, c0) + (1 - a) * b * pixel(r0, c0 + 1)
                         + a * (1 - b) * pixel(r0 + 1, c0) + a * b * pixel(r0 + 1, c0 + 1))
    return out


def keras_transform(image, t, **options):
    """The (H, W) image after Keras' apply_transform(x, t)."""
    return ImageDataGenerator(**options).apply_transform(image[:, :, None], t)[:, :, 0]


# --- the seed 002 tutorial ---------------------------------------------------------

SEED_002 = dict(rotation_range=10., width_shift_range=0.1, height_shift_range=0.1,
                shear_range=0., zoom_range=.1, horizontal_flip=True, vertical_flip=True)


def test_seed_002_generator_serves_augmented_batches():
    x = np.random.default_rng(0).integers(0, 256, (10, 8, 8, 3), dtype=np.uint8)
    generator = ImageDataGenerator(**SEED_002)
    xb, yb = next(generator.flow(x, np.arange(10), batch_size=6, seed=0))
    assert xb.shape == (6, 8, 8, 3) and xb.dtype == np.float32 and yb.shape == (6,)
    assert xb.min() >= 0 and xb.max() <= 255       # bilinear never leaves [min, max]
    assert not np.array_equal(xb, x[yb].astype(np.float32))
    assert generator.get_random_transform((8, 8, 3), seed=1)['shear'] == 0


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
@pytest.mark.parametrize('order', [0, 1])
def test_fill_modes_on_a_known_shift(fill_mode, shift, columns, order):
    out = moved(IMAGE, Transform(shift_cols=shift), fill_mode=fill_mode, cval=CVAL,
                interpolation_order=order)
    assert_array_equal(out, IMAGE[:, columns])


@settings(max_examples=40, deadline=None)
@given(height=st.integers(1, 7), width=st.integers(1, 7),
       shift_rows=st.integers(-10, 10), shift_cols=st.integers(-10, 10))
def test_integer_shift_with_wrap_is_np_roll(height, width, shift_rows, shift_cols):
    x = np.arange(2 * height * width * 3, dtype=np.float32).reshape(2, height, width, 3)
    out = ImageDataGenerator(fill_mode='wrap').transform_batch(
        x, Transform(shift_rows=shift_rows, shift_cols=shift_cols))
    assert_array_equal(out, np.roll(x, (shift_rows, shift_cols), axis=(1, 2)))


def test_identity_gives_the_image_back_exactly():
    x = np.random.default_rng(1).random((3, 5, 6, 2)).astype(np.float32)
    t = Transform(theta=np.zeros(3), shift_rows=np.zeros(3), zoom_cols=np.ones(3))
    assert_array_equal(ImageDataGenerator(fill_mode='constant').transform_batch(x, t), x)


def test_keras_tx_and_ty_read_further_down_and_right():
    """Keras' apply_transform: output[q] = input[q + (tx, ty)]."""
    assert_array_equal(keras_transform(IMAGE, {'tx': 1}), IMAGE[[1, 2, 3, 3]])
    assert_array_equal(keras_transform(IMAGE, {'ty': 2}), IMAGE[:, [2, 3, 4, 4, 4]])


# --- bilinear sampling -------------------------------------------------------------

def test_a_half_pixel_shift_averages_neighbouring_columns():
    x = np.random.default_rng(2).random((5, 6)).astype(np.float32)
    out = moved(x, Transform(shift_cols=0.5))
    expected = np.hstack([x[:, :1], (x[:, :-1] + x[:, 1:]) / 2])     # edge: nearest fill
    assert_allclose(out, expected, rtol=1e-6)
    assert_allclose(out, bilinear_reference(x, {'ty': -0.5}), rtol=1e-6)


@pytest.mark.parametrize('fill_mode', ['nearest', 'constant', 'reflect', 'wrap'])
def test_bilinear_sampling_matches_a_plain_loop_reference(fill_mode):
    rng = np.random.default_rng(3)
    image = rng.random((7, 9)) * 100
    for _ in range(5):
        t = {'theta': rng.uniform(-50, 50), 'shear': rng.uniform(-30, 30),
             'tx': rng.uniform(-4, 4), 'ty': rng.uniform(-4, 4),
             'zx': rng.uniform(0.6, 1.4), 'zy': rng.uniform(0.6, 1.4),
             'flip_horizontal': bool(rng.random() < 0.5)}
        out = keras_transform(image, t, fill_mode=fill_mode, cval=CVAL, dtype='float64')
        assert_allclose(out, bilinear_reference(image, t, fill_mode, CVAL), atol=1e-9)


def test_bilinear_reproduces_a_linear_ramp_inside_the_image():
    """Bilinear interpolation of a ramp is the ramp, so each value says where it came from."""
    rows, cols = np.mgrid[0:9, 0:9].astype(np.float64)
    ramp = rows + 100 * cols
    t = {'theta': 20, 'shear': 15, 'zx': 0.8, 'zy': 0.9, 'tx': 0.3}
    out = keras_transform(ramp, t, dtype='float64')
    for row, col in np.ndindex(9, 9):
        r, c = documented_source(row, col, 9, 9, t)
        if 0 <= r <= 8 and 0 <= c <= 8:
            assert out[row, col] == pytest.approx(r + 100 * c)


def test_nearest_interpolation_invents_no_values():
    x = np.random.default_rng(5).random((3, 6, 9, 2))
    generator = ImageDataGenerator(rotation_range=45, zoom_range=0.3, width_shift_range=0.2,
                                   shear_range=20, fill_mode='reflect', interpolation_order=0)
    out = generator.augment(x, np.random.default_rng(6))
    assert out.shape == x.shape and out.dtype == np.float32
    assert np.isin(out, x.astype(np.float32)).all()


def test_bilinear_output_keeps_the_shape_and_the_value_range():
    x = np.random.default_rng(5).random((3, 6, 9, 2))
    generator = ImageDataGenerator(rotation_range=45, zoom_range=0.3, width_shift_range=0.2,
                                   shear_range=20, fill_mode='reflect')
    out = generator.augment(x, np.random.default_rng(6))
    assert out.shape == x.shape and out.dtype == np.float32
    assert x.min() - 1e-6 <= out.min() and out.max() <= x.max() + 1e-6
    assert not np.isin(out, x.astype(np.float32)).all()


def test_bilinear_agrees_with_scipy_ndimage_affine_transform():
    ndimage = pytest.importorskip('scipy.ndimage')
    rng = np.random.default_rng(7)
    image = rng.random((6, 8)) * 255
    theta, shear, zx, zy, tx, ty = 25.0, -12.0, 0.9, 1.2, 1.3, -0.7
    cos, sin = math.cos(math.radians(theta)), math.sin(math.radians(theta))
    rotate = np.array([[cos, sin], [-sin, cos]])
    shear_zoom = np.array([[math.cos(math.radians(shear)), 0],
                           [-math.sin(math.radians(shear)), 1]]) @ np.diag([zx, zy])
    matrix, centre = rotate @ shear_zoom, np.array([2.5, 3.5])
    offset = centre - matrix @ centre + rotate @ [tx, ty]
    t = {'theta': theta, 'shear': shear, 'zx': zx, 'zy': zy, 'tx': tx, 'ty': ty}
    # SciPy's 'grid-wrap' is the periodic wrap that Keras' docs draw (abcd|abcd).
    for ours, scipys in [('nearest', 'nearest'), ('reflect', 'reflect'),
                         ('constant', 'constant'), ('wrap', 'grid-wrap')]:
        expected = ndimage.affine_transform(image, matrix, offset, order=1, mode=scipys, cval=CVAL)
        out = keras_transform(image, t, fill_mode=ours, cval=CVAL, dtype='float64')
        assert_allclose(out, expected, atol=1e-9, err_msg=ours)


# --- random shifts -------------------------------------------------------------------

def shifts_of(option, value, size=8, n=3000):
    generator = ImageDataGenerator(**{option: value})
    t = generator.random_parameters((n, size, size, 1), np.random.default_rng(4))
    return t.shift_cols if option == 'width_shift_range' else t.shift_rows


def test_an_int_shift_range_draws_whole_pixels_as_keras_does():
    """Keras: k * (+-1) with k uniform in {0, 1, 2}, so 0 comes up a third of the time."""
    shifts = shifts_of('width_shift_range', 3)
    assert set(np.unique(shifts)) == {-2, -1, 0, 1, 2}
    assert abs(np.mean(shifts == 0) - 1 / 3) < 0.03


def test_a_list_shift_range_draws_its_values_with_a_random_sign():
    assert set(np.unique(shifts_of('height_shift_range', [2, 5]))) == {-5, -2, 2, 5}
    # All values below 1: fractions of the size (8).
    assert set(np.unique(shifts_of('height_shift_range', [0.25, 0.5]))) == {-4, -2, 2, 4}


@pytest.mark.parametrize('value, bound', [(0.25, 2.0), (1.0, 1.0), (2.0, 2.0)])
def test_a_float_shift_range_draws_uniform_shifts(value, bound):
    """Below 1 a fraction of the size (8), else pixels; 2.0 is not the int 2."""
    shifts = shifts_of('width_shift_range', value)
    assert np.all(np.abs(shifts) <= bound) and np.abs(shifts).max() > 0.95 * bound
    assert np.mean(shifts != np.round(shifts)) > 0.99


@pytest.mark.parametrize('value', [2, [-1, 0, 1], [1]])
def test_whole_pixel_shift_ranges_move_images_exactly(value):
    candidates = {s: moved(IMAGE, Transform(shift_cols=s), fill_mode='constant')
                  for s in (-1, 0, 1)}
    generator = ImageDataGenerator(width_shift_range=value, fill_mode='constant')
    out = generator.augment(np.repeat(as_batch(IMAGE), 64, axis=0), np.random.default_rng(0))
    seen = {s for image in out[..., 0] for s, c in candidates.items() if np.array_equal(image, c)}
    assert len(seen) >= 2
    assert all(any(np.array_equal(image, c) for c in candidates.values()) for image in out[..., 0])


def test_random_height_shift_moves_rows_only():
    generator = ImageDataGenerator(height_shift_range=3, fill_mode='wrap')
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


# --- rotation, shear and zoom -------------------------------------------------------

@pytest.mark.parametrize('size', [4, 5])
@pytest.mark.parametrize('theta, quarter_turns', [(90, 1), (-90, -1), (180, 2), (270, 3)])
@pytest.mark.parametrize('fill_mode', ['nearest', 'constant'])
def test_rotation_by_a_multiple_of_90_degrees_is_np_rot90(size, theta, quarter_turns, fill_mode):
    """Positive angles turn the content counter-clockwise, as np.rot90 and Keras do."""
    x = np.arange(2 * size * size, dtype=np.float32).reshape(2, size, size, 1)
    out = ImageDataGenerator(fill_mode=fill_mode).transform_batch(x, Transform(theta=theta))
    assert_array_equal(out, np.rot90(x, quarter_turns, axes=(1, 2)))


def test_rotation_turns_about_the_centre():
    image = np.zeros((7, 7), dtype=np.float32)
    image[3, 3] = 1.0
    assert_array_equal(moved(image, Transform(theta=37.0), fill_mode='constant',
                             interpolation_order=0), image)
    assert moved(image, Transform(theta=37.0), fill_mode='constant')[3, 3] == 1.0


def test_shear_leans_a_vertical_line_counter_clockwise():
    """src_col = col - sin(s) (row - c): with s = 30 degrees the centre column of a
    9 x 9 image appears 2 columns further right 4 rows below the centre and 2
    further left 4 rows above, and stays put in the centre row."""
    image = np.zeros((9, 9), dtype=np.float32)
    image[:, 4] = 1.0
    out = moved(image, Transform(shear=30.0), fill_mode='constant')
    assert_allclose(out[0], np.eye(9)[2], atol=1e-6)
    assert_allclose(out[4], np.eye(9)[4], atol=1e-6)
    assert_allclose(out[8], np.eye(9)[6], atol=1e-6)


def test_shear_scales_rows_by_cos_about_the_centre():
    """src_row = c + cos(s) (row - c): a ramp down the rows comes out as that line."""
    ramp = np.repeat(np.arange(9, dtype=np.float64)[:, None], 9, axis=1)
    out = keras_transform(ramp, {'shear': 60}, dtype='float64')       # cos 60 = 1/2
    assert_allclose(out[:, 4], 4 + 0.5 * (np.arange(9) - 4))


def test_zoom_in_by_two_repeats_each_central_pixel_twice_with_nearest():
    image = np.arange(64, dtype=np.float32).reshape(8, 8)
    expected = image[2:6, 2:6].repeat(2, axis=0).repeat(2, axis=1)
    assert_array_equal(moved(image, Transform(zoom_rows=0.5, zoom_cols=0.5),
                             interpolation_order=0), expected)
    random_zoom = ImageDataGenerator(zoom_range=(0.5, 0.5), interpolation_order=0)
    out = random_zoom.augment(as_batch(image), np.random.default_rng(3))
    assert_array_equal(out[0, :, :, 0], expected)


def test_zoom_in_by_two_interpolates_with_bilinear():
    image = np.arange(64, dtype=np.float64).reshape(8, 8)     # a ramp: 8 r + c
    out = moved(image, Transform(zoom_rows=0.5, zoom_cols=0.5))
    source = 1.75 + 0.5 * np.arange(8)                        # c + (q - c) / 2
    assert_allclose(out, 8 * source[:, None] + source[None, :], rtol=1e-6)


def test_zoom_out_by_two_shrinks_into_the_centre():
    image = np.ones((8, 8), dtype=np.float32)
    expected = np.full((8, 8), CVAL, dtype=np.float32)
    expected[2:6, 2:6] = 1.0
    out = moved(image, Transform(zoom_rows=2.0, zoom_cols=2.0), fill_mode='constant', cval=CVAL)
    assert_array_equal(out, expected)


def test_random_parameters_lie_in_their_ranges():
    generator = ImageDataGenerator(rotation_range=30, width_shift_range=0.25, shear_range=10,
                                   height_shift_range=3.0, zoom_range=0.2, horizontal_flip=True)
    t = generator.random_parameters((1000, 8, 16, 3), np.random.default_rng(4))
    for values, bound in [(t.theta, 30), (t.shear, 10), (t.shift_rows, 3),
                          (t.shift_cols, 0.25 * 16)]:
        assert np.all(np.abs(values) <= bound) and np.abs(values).max() > 0.9 * bound
    for zoom in (t.zoom_rows, t.zoom_cols):
        assert np.all((0.8 <= zoom) & (zoom <= 1.2)) and zoom.min() < 0.82 and zoom.max() > 1.18
    assert not np.array_equal(t.zoom_rows, t.zoom_cols)
    assert 400 < t.flip_horizontal.sum() < 600
    assert t.flip_vertical is False and t.channel_shift is None and t.brightness is None


# --- channel shift and brightness ------------------------------------------------------

def test_channel_shift_adds_the_intensity_and_clips_to_the_image_range():
    image = np.array([[10, 20], [40, 50]], dtype=np.float32)
    out = keras_transform(image, {'channel_shift_intensity': 15})
    assert_array_equal(out, [[25, 35], [50, 50]])
    out = keras_transform(image, {'channel_shift_intensity': -15})
    assert_array_equal(out, [[10, 10], [25, 35]])


def test_random_channel_shift_moves_every_channel_of_an_image_alike():
    x = np.random.default_rng(8).uniform(100, 150, (50, 3, 3, 3)).astype(np.float32)
    x[:, 0, 0] = [0, 255, 0]                     # room to shift without clipping
    out = ImageDataGenerator(channel_shift_range=20).augment(x, np.random.default_rng(9))
    shift = (out - x)[:, 1:, 1:]
    assert_allclose(shift, shift[:, :1, :1, :1] * np.ones_like(shift), atol=1e-4)
    assert np.abs(shift).max() <= 20 and np.abs(shift).max() > 15


def pil_brightness(image, factor):
    """PIL's ImageEnhance.Brightness on an (H, W, C) uint8 image, as Keras calls it."""
    mode = {1: 'L', 3: 'RGB', 4: 'RGBA'}[image.shape[-1]]
    pil = Image.fromarray(image[..., 0] if mode == 'L' else image, mode)
    out = np.asarray(ImageEnhance.Brightness(pil).enhance(factor), dtype=np.float32)
    return out.reshape(image.shape)


@pytest.mark.parametrize('channels', [1, 3, 4])
@pytest.mark.parametrize('factor', [0.37, 1.0, 1.6])
def test_brightness_of_0_to_255_images_is_what_pil_gives(channels, factor):
    x = np.random.default_rng(10).uniform(0, 255, (5, 6, channels)).astype(np.float32)
    out = ImageDataGenerator().apply_transform(x, {'brightness': factor})
    assert_array_equal(out, pil_brightness(x.astype(np.uint8), factor))


def test_brightness_stretches_images_outside_0_255_onto_it_and_back():
    """Keras: m + PIL(floor(255 (x - m) / (M - m)), f) (M - m) / 255."""
    x = np.random.default_rng(11).uniform(-1, 1, (4, 4, 3)).astype(np.float32)
    low, high = x.min(), x.max()
    levels = ((x - low) / (high - low) * 255).astype(np.uint8)
    expected = pil_brightness(levels, 0.8) / 255 * (high - low) + low
    out = ImageDataGenerator().apply_transform(x, {'brightness': 0.8})
    assert_allclose(out, expected, rtol=1e-6, atol=1e-6)


def test_brightness_on_images_in_0_1_warns_that_they_turn_black():
    x = np.full((3, 3, 1), 0.5, dtype=np.float32)
    with pytest.warns(UserWarning, match='black'):
        out = ImageDataGenerator().apply_transform(x, {'brightness': 1.2})
    assert_array_equal(out, 0)


def test_random_brightness_factors_lie_in_the_range():
    x = np.full((400, 2, 2, 1), 100, dtype=np.float32)
    generator = ImageDataGenerator(brightness_range=(0.5, 1.5))
    out = generator.augment(x, np.random.default_rng(12))[:, 0, 0, 0]
    assert 50 <= out.min() < 55 and 145 < out.max() <= 150
    assert_array_equal(out, np.floor(out))


# --- seeds ---------------------------------------------------------------------

AUGMENTING = dict(rotation_range=20, width_shift_range=0.2, height_shift_range=0.2,
                  shear_range=10, zoom_range=0.1, horizontal_flip=True, channel_shift_range=5)


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


def test_without_a_seed_devices_set_seed_makes_batches_repeatable():
    x = np.random.default_rng(8).random((10, 6, 6, 1))
    generator = ImageDataGenerator(**AUGMENTING)
    runs = []
    for _ in range(2):
        devices.set_seed(21)
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
    params = generator.get_random_transform(image.shape, seed=3)
    assert_array_equal(out, generator.apply_transform(image, params))


def test_get_random_transform_returns_keras_keys():
    params = ImageDataGenerator(brightness_range=(0.9, 1.1)).get_random_transform((4, 4, 3))
    assert list(params) == ['theta', 'tx', 'ty', 'shear', 'zx', 'zy', 'flip_horizontal',
                            'flip_vertical', 'channel_shift_intensity', 'brightness']
    assert params['theta'] == 0 and params['zx'] == 1 and params['flip_vertical'] is False
    assert params['channel_shift_intensity'] is None and 0.9 <= params['brightness'] <= 1.1


def test_apply_transform_refuses_unknown_parameters():
    with pytest.raises(ValueError, match="'rotation'"):
        ImageDataGenerator().apply_transform(IMAGE[:, :, None], {'rotation': 10})
    with raises_naming("transform_parameters['theta']", 'ten'):
        ImageDataGenerator().apply_transform(IMAGE[:, :, None], {'theta': 'ten'})


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


def test_sample_weights_come_as_a_third_element_in_the_batch_order():
    x = np.arange(12, dtype=np.float32).reshape(12, 1, 1, 1)
    y = np.arange(12)
    iterator = ImageDataGenerator().flow(x, y, sample_weight=y * 10.0, batch_size=5, seed=1)
    for xb, yb, wb in epoch(iterator):
        assert_array_equal(xb[:, 0, 0, 0], yb)
        assert_array_equal(wb, yb * 10.0)


def test_sample_weights_without_labels_are_refused():
    with pytest.raises(ValueError, match='sample_weight needs y'):
        ImageDataGenerator().flow(np.zeros((4, 2, 2, 1)), sample_weight=np.ones(4))


def test_validation_split_keeps_the_first_samples_for_validation():
    x = np.arange(10, dtype=np.float32).reshape(10, 1, 1, 1)
    y = np.arange(10) % 2
    generator = ImageDataGenerator(validation_split=0.3)

    def samples(subset):
        iterator = generator.flow(x, y, batch_size=20, shuffle=False, subset=subset)
        return next(iterator)[0][:, 0, 0, 0]
    assert_array_equal(samples('validation'), [0, 1, 2])      # int(10 * 0.3) = 3
    assert_array_equal(samples('training'), np.arange(3, 10))
    assert len(generator.flow(x, subset='training', batch_size=4)) == 2


def test_validation_split_checks_both_subsets_hold_the_same_labels():
    x, y = np.zeros((10, 1, 1, 1)), np.repeat([0, 1], 5)      # sorted by label
    generator = ImageDataGenerator(validation_split=0.5)
    with pytest.raises(ValueError, match='ignore_class_split'):
        generator.flow(x, y, subset='training')
    iterator = generator.flow(x, y, subset='validation', ignore_class_split=True, shuffle=False)
    assert_array_equal(next(iterator)[1], [0] * 5)


@pytest.mark.parametrize('split, subset, message', [
    (0.0, 'training', 'needs ImageDataGenerator.validation_split'),
    (0.05, 'validation', 'empty'),
    (0.5, 'test', "subset.*'test'"),
])
def test_bad_subsets_are_refused(split, subset, message):
    with pytest.raises(ValueError, match=message):
        ImageDataGenerator(validation_split=split).flow(np.zeros((10, 1, 1, 1)), subset=subset)


def test_save_to_dir_writes_every_served_image(tmp_path):
    x = np.random.default_rng(13).integers(0, 256, (5, 4, 6, 3), dtype=np.uint8)
    iterator = ImageDataGenerator(rescale=1 / 255).flow(
        x, batch_size=3, shuffle=False, save_to_dir=tmp_path, save_prefix='aug')
    first = next(iterator)
    names = sorted(os.listdir(tmp_path))
    assert len(names) == 3
    assert [re.fullmatch(r'aug_(\d)_\d+\.png', n).group(1) for n in names] == ['0', '1', '2']
    saved = np.asarray(Image.open(tmp_path / names[0]), dtype=np.float32)
    stretched = (first[0] - first[0].min()) / (first[0].max() - first[0].min()) * 255
    assert_array_equal(saved, stretched.astype(np.uint8))
    next(iterator)
    assert len(os.listdir(tmp_path)) == 5


# --- standardize and fit ---------------------------------------------------------

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
    assert_array_equal(ImageDataGenerator(rescale=0).standardize(x), x)   # Keras: 0 is off
    assert_array_equal(ImageDataGenerator(rescale=0.5).standardize(x[0]), x[0] / 2)


def test_uint8_images_are_augmented_exactly():
    x = np.arange(20, dtype=np.uint8).reshape(1, 4, 5, 1) * 12   # values up to 228
    out = ImageDataGenerator(fill_mode='constant').transform_batch(x, Transform(shift_cols=-1))
    assert out.dtype == np.float32
    assert_array_equal(out[0, :, :, 0], np.hstack([x[0, :, 1:, 0], np.zeros((4, 1))]))


def test_dtype_sets_the_batches_dtype():
    x = np.ones((2, 2, 2, 1), dtype=np.uint8)
    assert next(ImageDataGenerator(dtype='float64').flow(x)).dtype == np.float64


def test_samplewise_options_centre_and_scale_each_image():
    x = np.random.default_rng(14).normal(5, 3, (4, 5, 5, 3)).astype(np.float32)
    out = ImageDataGenerator(samplewise_center=True, samplewise_std_normalization=True
                             ).standardize(x)
    assert_allclose(out.mean(axis=(1, 2, 3)), 0, atol=1e-5)
    assert_allclose(out.std(axis=(1, 2, 3)), 1, atol=1e-4)


def test_preprocessing_function_sees_each_augmented_image_before_rescale():
    seen = []

    def add_one(image):
        seen.append(image.shape)
        return image + 1
    x = np.full((5, 3, 3, 2), 9, dtype=np.uint8)
    generator = ImageDataGenerator(preprocessing_function=add_one, rescale=0.1)
    out = next(generator.flow(x, batch_size=4))
    assert seen == [(3, 3, 2)] * 4
    assert_allclose(out, 1.0)                                  # (9 + 1) * 0.1


def test_preprocessing_function_must_keep_the_shape():
    generator = ImageDataGenerator(preprocessing_function=lambda image: image[:1])
    with pytest.raises(ValueError, match='preprocessing_function'):
        generator.standardize(np.ones((2, 3, 3, 1)))


def test_featurewise_center_and_std_after_fit_give_mean_0_std_1_per_channel():
    rng = np.random.default_rng(15)
    x = rng.normal([10, -5, 100], [2, 0.5, 30], (60, 4, 4, 3)).astype(np.float32)
    generator = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True)
    generator.fit(x)
    assert generator.mean.shape == (1, 1, 3) and generator.std.shape == (1, 1, 3)
    out = generator.standardize(x)
    assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-4)
    assert_allclose(out.std(axis=(0, 1, 2)), 1, atol=1e-4)


def test_fit_applies_rescale_first():
    x = np.full((4, 2, 2, 1), 200, dtype=np.uint8)
    generator = ImageDataGenerator(featurewise_center=True, rescale=0.5)
    generator.fit(x)
    assert_allclose(generator.mean, 100)


def test_fit_with_augment_uses_rounds_of_augmented_copies():
    x = np.random.default_rng(16).random((8, 3, 3, 2)).astype(np.float32)
    generator = ImageDataGenerator(featurewise_center=True, channel_shift_range=0.001)
    generator.fit(x, augment=True, rounds=3, seed=0)
    assert_allclose(generator.mean[0, 0], x.mean(axis=(0, 1, 2)), atol=1e-3)
    assert not np.allclose(generator.mean[0, 0], x.mean(axis=(0, 1, 2)), atol=1e-7)


def test_zca_whitening_gives_an_identity_covariance():
    rng = np.random.default_rng(17)
    mixing = rng.normal(size=(12, 12))
    x = (rng.normal(size=(500, 12)) @ mixing + 3).reshape(500, 2, 2, 3).astype(np.float32)
    with pytest.warns(UserWarning, match='zca_whitening'):
        generator = ImageDataGenerator(zca_whitening=True)
    assert generator.featurewise_center
    generator.fit(x)
    white = generator.standardize(x).reshape(500, 12).astype(np.float64)
    assert_allclose(white.T @ white / 500, np.eye(12), atol=1e-3)
    assert np.abs(np.corrcoef(x.reshape(500, 12).T) - np.eye(12)).max() > 0.3


def test_featurewise_options_before_fit_warn_and_change_nothing():
    x = np.full((2, 2, 2, 1), 3.0, dtype=np.float32)
    generator = ImageDataGenerator(featurewise_center=True)
    with pytest.warns(UserWarning, match="hasn't been fit"):
        assert_array_equal(generator.standardize(x), x)


def test_std_normalisation_turns_centring_on_with_a_warning():
    with pytest.warns(UserWarning, match='featurewise_center'):
        assert ImageDataGenerator(featurewise_std_normalization=True).featurewise_center
    with pytest.warns(UserWarning, match='samplewise_center'):
        assert ImageDataGenerator(samplewise_std_normalization=True).samplewise_center


# --- bad arguments -------------------------------------------------------------

def raises_naming(name, value):
    return pytest.raises(ValueError, match=f'{re.escape(name)}.*{re.escape(repr(value))}')


@pytest.mark.parametrize('name, value', [
    ('rotation_range', -5), ('width_shift_range', -0.1), ('height_shift_range', 'a'),
    ('height_shift_range', []), ('width_shift_range', [[1, 2]]), ('shear_range', -1),
    ('zoom_range', 1.5), ('zoom_range', -0.1), ('zoom_range', (1.2, 0.8)),
    ('zoom_range', (0, 1)), ('zoom_range', (0.5, 1, 2)), ('zoom_range', None),
    ('channel_shift_range', -3), ('brightness_range', 0.5), ('brightness_range', (1.2, 0.8)),
    ('brightness_range', (-0.5, 1)), ('brightness_range', (0.5, 1, 1.5)),
    ('fill_mode', 'mirror'), ('cval', None), ('rescale', '1/255'),
    ('validation_split', 1.0), ('validation_split', -0.1), ('interpolation_order', 3),
    ('interpolation_order', 1.5), ('data_format', 'channels_first'), ('dtype', 'int32'),
    ('zca_epsilon', 0), ('featurewise_center', 'yes'), ('horizontal_flip', None),
    ('preprocessing_function', 'vgg16'),
])
def test_bad_generator_arguments_are_refused(name, value):
    with raises_naming(name, value):
        ImageDataGenerator(**{name: value})


@pytest.mark.parametrize('method, keyword, suggestion', [
    (None, 'shear_rnage', 'shear_range'),
    ('flow', 'batchsize', 'batch_size'),
    ('fit', 'round', 'rounds'),
    ('random_transform', 'sed', 'seed'),
])
def test_unknown_keywords_say_did_you_mean(method, keyword, suggestion):
    with pytest.raises(TypeError, match=f"'{keyword}'; did you mean '{suggestion}'"):
        if method is None:
            ImageDataGenerator(**{keyword: 1})
        else:
            x = np.zeros((2, 2, 1) if method == 'random_transform' else (2, 2, 2, 1))
            getattr(ImageDataGenerator(), method)(x, **{keyword: 1})


@pytest.mark.parametrize('name, value', [('batch_size', 0), ('batch_size', -2),
                                         ('batch_size', 2.5), ('seed', -1), ('seed', 'a'),
                                         ('save_format', 'xyz'), ('save_prefix', 3),
                                         ('shuffle', 'no')])
def test_bad_flow_arguments_are_refused(name, value, tmp_path):
    with raises_naming(name, value):
        ImageDataGenerator().flow(np.zeros((4, 2, 2, 1)), save_to_dir=tmp_path,
                                  **{name: value})


@pytest.mark.parametrize('shape', [(4, 2, 2), (4, 2, 2, 1, 1), (0, 2, 2, 1)])
def test_flow_refuses_x_that_is_not_a_non_empty_rank_4_array(shape):
    with raises_naming('x', shape):
        ImageDataGenerator().flow(np.zeros(shape))


def test_flow_refuses_x_and_y_of_different_lengths():
    with pytest.raises(ValueError, match=r'len\(x\) = 4 and len\(y\) = 3'):
        ImageDataGenerator().flow(np.zeros((4, 2, 2, 1)), np.zeros(3))
    with pytest.raises(ValueError, match=r'len\(sample_weight\) = 2'):
        ImageDataGenerator().flow(np.zeros((4, 2, 2, 1)), np.zeros(4), sample_weight=np.ones(2))


def test_random_transform_refuses_a_batch():
    with raises_naming('x', (1, 2, 2, 1)):
        ImageDataGenerator().random_transform(np.zeros((1, 2, 2, 1)))


@pytest.mark.parametrize('name, value', [('rounds', 0), ('augment', 'yes'), ('seed', -3)])
def test_bad_fit_arguments_are_refused(name, value):
    with raises_naming(name, value):
        ImageDataGenerator(featurewise_center=True).fit(np.zeros((2, 2, 2, 1)), **{name: value})


# --- CuPy ----------------------------------------------------------------------

@pytest.fixture
def on_gpu():
    """Make the GPU the active device for one test."""
    if not devices.gpu_available():
        pytest.skip('needs CuPy and a CUDA device')
    devices.set_device('gpu')
    yield devices.cupy()
    devices.set_device('cpu')


@pytest.mark.gpu
def test_cupy_arrays_give_the_same_images_as_numpy(on_gpu):
    cp = on_gpu
    x = np.random.default_rng(12).integers(0, 256, (4, 9, 7, 3), dtype=np.uint8)
    transform = Transform(theta=np.array([0.0, 30.0, -90.0, 10.0]), shift_rows=1.6,
                          shift_cols=np.array([0.0, -2.0, 3.0, 0.4]),
                          shear=np.array([0.0, 5.0, -12.0, 20.0]), zoom_rows=0.8, zoom_cols=1.1,
                          flip_vertical=np.array([True, False, False, True]),
                          flip_horizontal=True, channel_shift=np.array([0.0, 9.0, -4.0, 30.0]))
    for fill_mode in ('nearest', 'constant', 'reflect', 'wrap'):
        for order in (0, 1):
            generator = ImageDataGenerator(fill_mode=fill_mode, cval=7.0,
                                           interpolation_order=order)
            on_device = Transform(*(v if v is None else cp.asarray(v) for v in transform))
            assert_allclose(generator.transform_batch(cp.asarray(x), on_device).get(),
                            generator.transform_batch(x, transform), atol=1e-3)
    # Brightness floors pixel values: compare it on whole numbers, where it is exact.
    bright = Transform(brightness=np.array([1.0, 0.7, 1.3, 0.5]))
    assert_array_equal(ImageDataGenerator().transform_batch(
        cp.asarray(x), Transform(brightness=cp.asarray(bright.brightness))).get(),
        ImageDataGenerator().transform_batch(x, bright))


@pytest.mark.gpu
def test_flow_and_fit_run_on_the_gpu(on_gpu):
    x = np.random.default_rng(12).integers(0, 256, (6, 5, 5, 3), dtype=np.uint8)
    generator = ImageDataGenerator(zca_whitening=True, brightness_range=(0.8, 1.2),
                                   validation_split=0.5, **AUGMENTING)
    generator.fit(x, augment=True)
    assert devices.is_gpu_array(generator.zca_whitening_matrix)
    xb, yb, wb = next(generator.flow(x, np.arange(6) % 2, sample_weight=np.ones(6), seed=1,
                                     subset='training'))
    assert devices.is_gpu_array(xb) and xb.dtype == np.float32 and yb.shape == (3,)
    assert devices.is_gpu_array(wb)
