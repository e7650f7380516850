"""Keras's one-image functions, as a Keras program uses them: load_img,
img_to_array, array_to_img and save_img (keras.preprocessing.image and
keras.utils)."""
import numpy as np
import pytest
from PIL import Image

import minicnn as keras
from minicnn import utils
from minicnn.missing import MissingFeatureError
from minicnn.preprocessing.image import array_to_img, img_to_array, load_img, save_img


def gradient_image(height=6, width=10):
    rows, cols = np.mgrid[0:height, 0:width]
    return np.stack([rows * 20, cols * 20, rows + cols], axis=-1).astype('float32')


def test_save_img_then_load_img_gives_the_pixels_back(tmp_path):
    x = gradient_image()
    save_img(tmp_path / 'picture.png', x, scale=False)
    image = load_img(tmp_path / 'picture.png')
    assert image.size == (10, 6) and image.mode == 'RGB'
    array = img_to_array(image)
    assert array.dtype == np.float32 and array.shape == (6, 10, 3)
    np.testing.assert_array_equal(array, x)
    assert utils.load_img is load_img and utils.img_to_array is img_to_array


def test_one_image_through_a_model_as_keras_programs_predict(tmp_path):
    save_img(tmp_path / 'cat.png', gradient_image())
    img = load_img(tmp_path / 'cat.png', target_size=(4, 4))
    x = np.expand_dims(img_to_array(img), axis=0) / 255
    model = keras.Sequential([keras.Input(shape=(4, 4, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation='softmax')])
    assert model.predict(x, verbose=0).shape == (1, 2)


def test_grayscale_and_target_size(tmp_path):
    save_img(tmp_path / 'g.png', gradient_image())
    for image in (load_img(tmp_path / 'g.png', color_mode='grayscale', target_size=(3, 5)),
                  load_img(tmp_path / 'g.png', grayscale=True, target_size=(3, 5))):
        assert image.mode == 'L' and img_to_array(image).shape == (3, 5, 1)


def test_keep_aspect_ratio_crops_the_centre_before_resizing(tmp_path):
    x = np.zeros((4, 12, 3), 'float32')
    x[:, 4:8] = 255  # the centre 4 x 4 square is white
    save_img(tmp_path / 'wide.png', x, scale=False)
    square = img_to_array(load_img(tmp_path / 'wide.png', target_size=(4, 4),
                                   keep_aspect_ratio=True))
    assert np.all(square == 255)


def test_array_to_img_stretches_min_to_max_onto_0_to_255():
    x = np.array([[[-1.0], [0.0], [3.0]]])
    np.testing.assert_array_equal(np.asarray(array_to_img(x)), [[0, 63, 255]])
    np.testing.assert_array_equal(np.asarray(array_to_img(x + 1, scale=False)), [[0, 1, 4]])
    assert array_to_img(np.full((2, 2, 1), 1000.0), scale=False).mode == 'I'
    assert array_to_img(np.zeros((2, 2, 4))).mode == 'RGBA'


def test_bad_images_and_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match=r'\(2, 2\)'):
        array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r'\(2, 2, 2\)'):
        array_to_img(np.zeros((2, 2, 2)))
    with pytest.raises(MissingFeatureError, match='channels_first'):
        img_to_array(Image.new('RGB', (2, 2)), data_format='channels_first')
    with pytest.raises(ValueError, match="'xyz'"):
        save_img(tmp_path / 'a.xyz', np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match="color_mode.*'cmyk'"):
        load_img(tmp_path / 'a.png', color_mode='cmyk')
    with pytest.raises(FileNotFoundError):
        load_img(tmp_path / 'missing.png')


def test_an_rgba_image_saved_as_jpeg_loses_its_alpha_with_a_warning(tmp_path):
    with pytest.warns(UserWarning, match='alpha'):
        save_img(tmp_path / 'a.jpg', np.zeros((4, 4, 4)), file_format='jpeg', quality=90)
    assert load_img(tmp_path / 'a.jpg', color_mode='rgba').size == (4, 4)
