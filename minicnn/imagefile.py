"""Opening an image file with Pillow within its safety limits, and saying in a
user's words why a file cannot be read.

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
import warnings

from PIL import Image, PngImagePlugin


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
