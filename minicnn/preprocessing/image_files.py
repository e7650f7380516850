"""One image file, read and written as Keras's functions do it:

    load_img(path, color_mode='rgb', target_size=None)   file -> PIL image
    img_to_array(image)                                   PIL image -> (H, W, C) float32
    array_to_img(x, scale=True)                           (H, W, C) array -> PIL image
    save_img(path, x)                                     array -> file (written atomically)

Keras offers them as ``keras.preprocessing.image.*`` and ``keras.utils.*``;
so does minicnn. flow_from_directory reads its batches through the first two.

color_mode 'grayscale' gives 8-bit 'L' unless the image already is a 16- or
32-bit grayscale one, 'rgb' and 'rgba' their PIL modes. ``target_size`` is
(height, width); with ``keep_aspect_ratio`` the image is first cropped to the
largest centred box of the target's aspect ratio, so that resizing does not
stretch it. ``scale=True`` stretches an array's min..max onto 0..255.
Images are channels-last; data_format='channels_first' is refused.

Every image is opened through ``open_image``, within Pillow's safety limits.
Pillow decodes whatever a file announces, and a small file can announce a lot:
a PNG of a few hundred bytes can claim 30000 x 30000 pixels (2.7 GB decoded),
or hold a compressed text chunk that inflates to gigabytes. Pillow guards
against both, but in its own words: a DecompressionBombWarning above
``Image.MAX_IMAGE_PIXELS`` pixels and a DecompressionBombError above twice
that, and a ValueError for a text chunk larger than
``PngImagePlugin.MAX_TEXT_CHUNK``. ``open_image`` turns the warning into an
error too (a warning would let the decoding go on) and raises every failure
as an ``ImageFileError`` naming the file and the reason.
"""
import contextlib
import io
import os
import warnings

import numpy as np
from PIL import Image, PngImagePlugin

from minicnn.arguments import keywords_checked
from minicnn.fileio import atomic_write
from minicnn.missing import MissingFeatureError

COLOR_MODES = {'grayscale': 1, 'rgb': 3, 'rgba': 4}  # mode -> channels
_FILTERS = getattr(Image, 'Resampling', Image)        # Pillow < 9.1 has them on Image
PIL_INTERPOLATION = {'nearest': _FILTERS.NEAREST, 'bilinear': _FILTERS.BILINEAR,
                     'bicubic': _FILTERS.BICUBIC, 'hamming': _FILTERS.HAMMING,
                     'box': _FILTERS.BOX, 'lanczos': _FILTERS.LANCZOS}
# Grayscale images that 'grayscale' keeps as they are: 8, 16 and 32 bits.
GRAYSCALE_MODES = ('L', 'I;16', 'I')
PIL_MODES = {1: 'L', 3: 'RGB', 4: 'RGBA'}  # channels -> the mode an 8-bit image is saved in


class ImageFileError(OSError):
    """An image file that cannot or must not be decoded; the message names it."""


@contextlib.contextmanager
def open_image(source, where):
    """``Image.open(source)`` as a context; ``where`` names the file in errors.

    Errors raised while the block decodes the image (``convert``, ``resize``)
    are turned into ImageFileError as well.
    """
    try:
        with warnings.catch_warnings():  # only around open, where Pillow checks the size
            warnings.simplefilter('error', Image.DecompressionBombWarning)
            image = Image.open(source)
        with image:
            yield image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ImageFileError(
            f'{where}: the image announces more pixels than Pillow decodes safely '
            f'({err}); the file is damaged or hostile. If you trust it, raise '
            f'PIL.Image.MAX_IMAGE_PIXELS (now {Image.MAX_IMAGE_PIXELS})') from err
    except ValueError as err:
        if 'MAX_TEXT_CHUNK' not in str(err):
            raise ImageFileError(f'{where}: cannot decode image ({err})') from err
        raise ImageFileError(
            f'{where}: the image holds a text (metadata) chunk larger than the '
            f'{PngImagePlugin.MAX_TEXT_CHUNK} bytes Pillow reads safely; the file is '
            f'damaged or hostile') from err
    except ImageFileError:
        raise
    except OSError as err:  # Pillow's UnidentifiedImageError, a truncated file
        raise ImageFileError(f'{where}: cannot decode image ({err})') from err



def check_channels_last(where, data_format):
    if data_format not in (None, 'channels_last'):
        raise MissingFeatureError(f"{where}(data_format={data_format!r}): minicnn's images are "
                                  f"channels_last (H, W, C) only")


def _one_of(where, name, value, allowed):
    if value not in list(allowed):
        raise ValueError(f'{where}: {name} must be one of {list(allowed)}, got {name}={value!r}')


def centre_crop_box(size, target):
    """The largest centred box of an image of PIL size (width, height) with the
    aspect ratio of target (width, height), as PIL's (left, upper, right, lower);
    whole pixels rounded down as Keras rounds them."""
    width, height = size
    target_width, target_height = target
    crop_width = min(width, height * target_width // target_height)
    crop_height = min(height, width * target_height // target_width)
    left, upper = (width - crop_width) // 2, (height - crop_height) // 2
    return left, upper, left + crop_width, upper + crop_height


def converted(image, color_mode):
    """The PIL image in the color mode's PIL mode."""
    if color_mode == 'grayscale':
        return image if image.mode in GRAYSCALE_MODES else image.convert('L')
    mode = color_mode.upper()
    return image if image.mode == mode else image.convert(mode)


@keywords_checked
def load_img(path, grayscale=False, color_mode='rgb', target_size=None, interpolation='nearest',
             keep_aspect_ratio=False):
    """The image file at ``path`` as a PIL image in ``color_mode`` (Keras 2's
    ``grayscale=True`` means 'grayscale'), resized to ``target_size`` = (height,
    width) with the PIL filter ``interpolation`` if it is not that size."""
    color_mode = 'grayscale' if grayscale else color_mode
    _one_of('load_img', 'color_mode', color_mode, COLOR_MODES)
    _one_of('load_img', 'interpolation', interpolation, PIL_INTERPOLATION)
    with open(path, 'rb') as file:  # read whole: the image outlives the open file
        data = io.BytesIO(file.read())
    with open_image(data, os.fspath(path)) as file_image:
        image = converted(file_image, color_mode)
        if target_size is not None:
            size = (target_size[1], target_size[0])         # PIL sizes are (width, height)
            if image.size != size:
                box = centre_crop_box(image.size, size) if keep_aspect_ratio else None
                image = image.resize(size, PIL_INTERPOLATION[interpolation], box=box)
        return image.copy() if image is file_image else image


@keywords_checked
def img_to_array(img, data_format=None, dtype=None):
    """A PIL image as an (H, W, C) array, float32 unless ``dtype`` says otherwise
    (a grayscale image gets C = 1)."""
    check_channels_last('img_to_array', data_format)
    return np.atleast_3d(np.asarray(img, dtype=np.float32 if dtype is None else dtype))


@keywords_checked
def array_to_img(x, data_format=None, scale=True, dtype=None):
    """An (H, W, C) array of 1, 3 or 4 channels as a PIL image: 8-bit, its
    min..max stretched onto 0..255 with ``scale`` (else taken as 0..255; a
    one-channel image beyond 255 becomes a 32-bit 'I' image, as in Keras)."""
    check_channels_last('array_to_img', data_format)
    x = np.asarray(x, dtype=np.float32 if dtype is None else dtype)
    if x.ndim != 3 or x.shape[-1] not in PIL_MODES:
        raise ValueError(f'array_to_img: expected an image (H, W, C) of 1, 3 or 4 channels, got '
                         f'an array of shape {x.shape}')
    if scale:
        x = x - x.min()
        if x.max() != 0:
            x = x / x.max()
        x = x * 255
    if x.shape[-1] == 1 and x.max() > 255:
        return Image.fromarray(x[..., 0].astype(np.int32), 'I')
    pixels = x.astype(np.uint8)
    mode = PIL_MODES[x.shape[-1]]
    return Image.fromarray(pixels[..., 0] if mode == 'L' else pixels, mode)


def pil_format(where, file_format):
    """PIL's name of an image format given as a file extension ('png', 'jpg')."""
    found = Image.registered_extensions().get('.' + str(file_format).lower())
    if found is None:
        raise ValueError(f"{where}: unknown image format {file_format!r}; give one such as "
                         f"'png' or 'jpeg'")
    return found


def save_img(path, x, data_format=None, file_format=None, scale=True, **params):
    """Write the (H, W, C) array ``x`` as an image file (see array_to_img), in
    ``file_format`` or the one its name's extension says; ``params`` go to PIL's
    save (``quality=90``, ...). An RGBA image saved as JPEG loses its alpha."""
    image = array_to_img(x, data_format=data_format, scale=scale)
    file_format = pil_format('save_img', file_format or os.path.splitext(os.fspath(path))[1][1:])
    if image.mode == 'RGBA' and file_format == 'JPEG':
        warnings.warn(f'save_img: JPEG has no alpha channel; {path} is saved without it, '
                      f'as RGB')
        image = image.convert('RGB')
    with atomic_write(path) as file:
        image.save(file, format=file_format, **params)
