"""Batches of images read from a folder of class folders (Keras' flow_from_directory).

The images of each class lie in a folder named after the class:

    flowers/daisy/0001.jpg
    flowers/daisy/0002.png
    flowers/tulip/0001.jpg
    flowers/tulip/close-ups/0007.jpg    (a class folder's sub-folders count too)

``ImageDataGenerator().flow_from_directory('flowers', target_size=(64, 64))``
serves them in batches. Only the file names are listed up front; the images
are read batch by batch, so the folder need not fit in memory.

Which files, in which order (Keras' DirectoryIterator)
------------------------------------------------------
classes     the sub-folders of the directory, sorted by name (or the list
            ``classes``, in its order); the k-th class has label k
files       per class folder, every file whose name ends (in any case) in one
            of IMAGE_EXTENSIONS, walked with os.walk: folders sorted by path,
            files by name within each folder
subset      with the generator's ``validation_split`` v, the first int(v n)
            of a class folder's n files form subset='validation' and the
            rest subset='training'. Splitting each class apart keeps every
            class in both subsets.
samples     class after class in class order: ``filenames`` (relative to the
            directory) and ``classes`` (their labels)

Reading a batch
---------------
Each file is opened with Pillow and converted to the color mode ('grayscale'
to 8-bit 'L' unless it already is a 16- or 32-bit grayscale image, 'rgb',
'rgba'), then resized to ``target_size`` = (height, width) with the PIL
filter ``interpolation`` names, if it is not that size already. With
``keep_aspect_ratio`` the image is first cropped to the largest centred box of
the target's aspect ratio, so that resizing does not stretch it. The images of
a batch, stacked to (N, H, W, C) float32 on the active device, then go through
the generator's ``augment`` and ``standardize`` all at once, as flow's batches
do.

Labels (``class_mode``)
-----------------------
'categorical'   one-hot rows (N, classes), of the generator's dtype
'binary'        0. or 1. (N,), of the generator's dtype; needs 2 classes
'sparse'        class ids (N,) int32
'input'         the batch of images itself, for autoencoders
None            no labels: a batch is the images alone

Where minicnn differs from Keras
--------------------------------
- 'sparse' labels are int32; Keras serves the ids as floats.
- Keras serves nothing, or every file, where minicnn refuses: a directory
  without class folders or without images, a class in ``classes`` without a
  folder, 'binary' without exactly 2 classes, a subset without a
  validation_split, an empty validation subset.
- Every argument is checked when the iterator is made (Keras checks
  ``interpolation`` only when an image needs resizing).
"""
import numbers
import os

import numpy as np

from minicnn import devices
from minicnn.arguments import argument_error, check_flag, check_seed, keywords_checked
from minicnn.fileio import atomic_write
from minicnn.preprocessing.image_files import (COLOR_MODES, PIL_INTERPOLATION, ImageFileError, array_to_img,
                                 img_to_array, load_img, pil_format)
from minicnn.utils import Sequence, to_categorical

WHERE = 'flow_from_directory'
SUBSETS = ('training', 'validation')  # of ImageDataGenerator(validation_split=...)

# Keras' white_list_formats; Keras matches the end of a name, without the dot.
IMAGE_EXTENSIONS = ('png', 'jpg', 'jpeg', 'bmp', 'ppm', 'tif', 'tiff')
CLASS_MODES = ('categorical', 'binary', 'sparse', 'input', None)
# --- listing the files ----------------------------------------------------------

def class_folders(directory):
    """The names of the sub-folders of directory, sorted: the classes."""
    return [name for name in sorted(os.listdir(directory))
            if os.path.isdir(os.path.join(directory, name))]


def class_files(folder, follow_links=False):
    """The image files below one class folder, relative to it, in Keras' order:
    os.walk's folders sorted by path, the files of each sorted by name."""
    walk = sorted(os.walk(folder, followlinks=follow_links), key=lambda entry: entry[0])
    return [os.path.relpath(os.path.join(root, name), folder)
            for root, _, names in walk for name in sorted(names)
            if name.lower().endswith(IMAGE_EXTENSIONS)]


def list_samples(directory, classes, split=(0.0, 1.0), follow_links=False):
    """The files of the classes and their labels: (filenames, ids).

    From each class folder's n files, those from int(split[0] n) up to
    int(split[1] n) are taken: (0, v) is the validation subset, (v, 1) the
    training one. filenames are relative to directory; ids is (samples,) int32.
    """
    filenames, ids = [], []
    for label, name in enumerate(classes):
        files = class_files(os.path.join(directory, name), follow_links)
        start, stop = (int(fraction * len(files)) for fraction in split)
        filenames += [os.path.join(name, file) for file in files[start:stop]]
        ids += [label] * (stop - start)
    return filenames, np.array(ids, dtype=np.int32)


# --- reading one image --------------------------------------------------------------

def read_image(path, color_mode, target_size, interpolation='nearest',
               keep_aspect_ratio=False):
    """One image file as an (H, W, C) float32 array, (H, W) = target_size and
    C = 1, 3 or 4 by color_mode (module docstring)."""
    try:
        image = load_img(path, color_mode=color_mode, target_size=target_size,
                         interpolation=interpolation, keep_aspect_ratio=keep_aspect_ratio)
    except ImageFileError as err:
        raise ImageFileError(f'{WHERE}: {err}') from err
    return img_to_array(image)


# --- checking arguments ------------------------------------------------------------

def _one_of(name, value, allowed):
    if value not in list(allowed):      # compared by ==, so an unhashable value is refused too
        raise argument_error(WHERE, name, f'one of {list(allowed)}', value)
    return value


def _check_target_size(target_size):
    if not (isinstance(target_size, (tuple, list)) and len(target_size) == 2
            and all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0
                    for s in target_size)):
        raise argument_error(WHERE, 'target_size', 'a pair (height, width) of positive ints',
                    target_size)
    return tuple(int(s) for s in target_size)


def _check_directory(directory):
    if not isinstance(directory, (str, os.PathLike)):
        raise argument_error(WHERE, 'directory', 'a folder path', directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f'{WHERE}: there is no directory {os.fspath(directory)!r}')
    return os.fspath(directory)


def _check_classes(directory, classes):
    """The class names: the given list, or the class folders of directory when
    classes is None or empty (as Keras); each must be a folder of directory."""
    if not classes:
        found = class_folders(directory)
        if not found:
            raise ValueError(f'{WHERE}: the directory {directory!r} holds no class folders '
                             '(it needs one sub-folder of images per class)')
        return found
    if not (isinstance(classes, (list, tuple)) and all(isinstance(c, str) for c in classes)
            and len(set(classes)) == len(classes)):
        raise argument_error(WHERE, 'classes', 'None or a list of distinct folder names', classes)
    for name in classes:
        if not os.path.isdir(os.path.join(directory, name)):
            raise ValueError(f'{WHERE}: classes names {name!r}, but the directory '
                             f'{directory!r} has no folder {name!r}')
    return list(classes)


def _split(generator, subset):
    """The fractions of each class folder that subset takes (see list_samples)."""
    if subset is None:
        return 0.0, 1.0
    _one_of('subset', subset, (None, *SUBSETS))
    split = 0 if generator is None else generator.validation_split
    if not split:
        raise ValueError(f'{WHERE}: subset={subset!r} needs ImageDataGenerator(validation_split'
                         '=...) above 0, got validation_split=0')
    return (0.0, split) if subset == 'validation' else (split, 1.0)


# --- writing served images (save_to_dir, here and in ImageDataGenerator.flow) ------

class ImageSaver:
    """Writes served images to a folder as Keras' save_to_dir does, each
    stretched onto 0..255 (Keras' array_to_img with scale=True); atomically."""

    def __init__(self, folder, prefix, file_format, channels):
        if not isinstance(folder, (str, os.PathLike)):
            raise argument_error('flow', 'save_to_dir', 'None or a folder path', folder)
        if not isinstance(prefix, str):
            raise argument_error('flow', 'save_prefix', 'a string', prefix)
        try:
            self.pil_format = pil_format('flow', file_format)
        except ValueError:
            raise argument_error('flow', 'save_format', "an image format such as 'png' or 'jpeg'",
                                 file_format) from None
        if channels not in (1, 3, 4):
            raise ValueError('flow: save_to_dir needs images of 1, 3 or 4 channels (the ones '
                             f'PIL can save), got {channels} channels')
        self.folder, self.prefix, self.file_format = os.fspath(folder), prefix, file_format
        # Names get random numbers of their own, so that saving leaves the
        # augmentation's (seeded) random stream alone.
        self.names = np.random.default_rng()

    def save(self, batch, indices):
        """Write each (H, W, C) image of batch, named by its sample index."""
        for image, index in zip(devices.to_numpy(batch), devices.to_numpy(indices)):
            name = f'{self.prefix}_{index}_{self.names.integers(10 ** 7)}.{self.file_format}'
            with atomic_write(os.path.join(self.folder, name)) as file:
                array_to_img(image).save(file, format=self.pil_format)



# --- the iterator ----------------------------------------------------------------------

class DirectoryIterator(Sequence):
    """Batches of ``standardize(augment(images))`` read from a folder of class
    folders (module docstring); made by ``ImageDataGenerator.flow_from_directory``.

    A batch is the images (N, H, W, C), or (images, labels) unless class_mode
    is None. An epoch is ``len(self)`` = ceil(samples / batch_size) batches
    that cover every file once, the last one smaller when batch_size does not
    divide samples; with shuffle, each epoch has an order of its own.

    Like Keras' DirectoryIterator it can be read two ways:

    - as a Sequence: ``self[i]`` is batch i of the current epoch's order, and
      ``on_epoch_end()`` starts a new epoch;
    - as an endless iterator: ``next(self)`` serves the epoch's batches one
      after the other, then starts a new epoch. ``fit(iterator)`` reads it so,
      len(self) batches per epoch.

    Use one way or the other: both walk through the same epoch.

    image_data_generator is the ImageDataGenerator whose augment and
    standardize every batch goes through, its dtype the batches' dtype (None,
    as in Keras: the images as read, in float32).

    Attributes as in Keras: class_indices ({name: label}), num_classes, classes
    ((samples,) int32 labels), filenames (relative to directory), filepaths,
    samples (and n, the same), image_shape (H, W, C), batch_size.
    """

    @keywords_checked
    def __init__(self, directory, image_data_generator=None, target_size=(256, 256),
                 color_mode='rgb', classes=None, class_mode='categorical', batch_size=32,
                 shuffle=True, seed=None, save_to_dir=None, save_prefix='', save_format='png',
                 follow_links=False, subset=None, interpolation='nearest',
                 keep_aspect_ratio=False):
        self.directory = _check_directory(directory)
        self.image_data_generator = image_data_generator
        self.dtype = np.dtype('float32') if image_data_generator is None else \
            image_data_generator.dtype
        self.target_size = _check_target_size(target_size)
        self.color_mode = _one_of('color_mode', color_mode, COLOR_MODES)
        self.image_shape = self.target_size + (COLOR_MODES[color_mode],)
        self.class_mode = _one_of('class_mode', class_mode, CLASS_MODES)
        self.interpolation = _one_of('interpolation', interpolation, PIL_INTERPOLATION)
        if not (isinstance(batch_size, numbers.Integral) and batch_size > 0):
            raise argument_error(WHERE, 'batch_size', 'a positive int', batch_size)
        self.batch_size = int(batch_size)
        self.shuffle = check_flag(WHERE, 'shuffle', shuffle)
        self.keep_aspect_ratio = check_flag(WHERE, 'keep_aspect_ratio', keep_aspect_ratio)
        check_seed(WHERE, seed)
        self.seed, self.subset = seed, subset
        self.saver = None if save_to_dir is None else ImageSaver(
            save_to_dir, save_prefix, save_format, self.image_shape[-1])
        follow_links = check_flag(WHERE, 'follow_links', follow_links)
        self._find_samples(classes, _split(self.image_data_generator, subset), follow_links)
        # Images, labels and random draws live on the device active now.
        self.device = devices.get_device()
        self.rng = devices.random_generator(self.device, seed)
        self.on_epoch_end()

    def _find_samples(self, classes, split, follow_links):
        """Find the classes and the files of the subset; announce them as Keras does."""
        names = _check_classes(self.directory, classes)
        if self.class_mode == 'binary' and len(names) != 2:
            raise ValueError(f"{WHERE}: class_mode='binary' needs 2 classes, got "
                             f'{len(names)}: {names}')
        self.class_indices = {name: label for label, name in enumerate(names)}
        self.num_classes = len(names)
        self.filenames, self.classes = list_samples(self.directory, names, split, follow_links)
        self.filepaths = [os.path.join(self.directory, name) for name in self.filenames]
        self.samples = self.n = len(self.filenames)
        if self.samples == 0:
            where = '' if self.subset is None else f'the {self.subset} subset of '
            raise ValueError(f'{WHERE}: {where}the class folders of {self.directory!r} hold no '
                             f'images (files ending in {", ".join(IMAGE_EXTENSIONS)})')
        print(f'Found {self.samples} images belonging to {self.num_classes} classes.')

    def __len__(self):
        return -(-self.samples // self.batch_size)

    def on_epoch_end(self):
        """Start a new epoch: draw its order (a fresh one with shuffle)."""
        # The argsort of uniform draws is a uniform random permutation; CuPy's
        # Generator has no permutation method.
        self._order = (np.argsort(devices.to_numpy(self.rng.random(self.samples)))
                       if self.shuffle else np.arange(self.samples))
        self._position = 0          # where next() takes its next batch in _order

    def __getitem__(self, index):
        """Batch ``index`` of the current epoch, 0 <= index < len(self)."""
        if not (isinstance(index, numbers.Integral) and 0 <= index < len(self)):
            raise IndexError(f'{type(self).__name__}: batch index {index!r} is not in '
                             f'range({len(self)})')
        start = index * self.batch_size
        return self._batch(self._order[start:start + self.batch_size])

    def __iter__(self):
        return self

    def __next__(self):
        if self._position >= self.samples:
            self.on_epoch_end()
        indices = self._order[self._position:self._position + self.batch_size]
        self._position += self.batch_size
        return self._batch(indices)

    def _batch(self, indices):
        """The batch of the samples at indices (a NumPy array of ints)."""
        x, augmenter = self._images(indices), self.image_data_generator
        if augmenter is not None:
            # augment returns a fresh array, which _standardize may change in place.
            x = augmenter._standardize(augmenter.augment(x, self.rng))
        if self.saver is not None:
            self.saver.save(x, indices)
        if self.class_mode is None:
            return x
        return x, self._labels(indices, x)

    def _images(self, indices):
        """The files at indices, read: (N, H, W, C) float32 on the device."""
        images = [read_image(self.filepaths[i], self.color_mode, self.target_size,
                             self.interpolation, self.keep_aspect_ratio) for i in indices]
        return devices.to_device(np.stack(images), self.device)

    def _labels(self, indices, x):
        """The labels of the samples at indices, as class_mode asks (module docstring)."""
        if self.class_mode == 'input':
            return x.copy()
        ids = self.classes[indices]
        dtype = self.dtype
        if self.class_mode == 'categorical':
            labels = to_categorical(ids, self.num_classes, dtype)
        else:
            labels = ids if self.class_mode == 'sparse' else ids.astype(dtype)
        return devices.to_device(labels, self.device)
