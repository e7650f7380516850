"""Data preprocessing for training, following keras.preprocessing.

    minicnn.preprocessing.image     ImageDataGenerator: random rotations, shifts,
                                    shears, zooms, flips, channel and brightness
                                    shifts of image batches (bilinear, as Keras),
                                    standardization (featurewise, samplewise,
                                    ZCA) and flow()
    minicnn.preprocessing.directory DirectoryIterator, behind
                                    ImageDataGenerator.flow_from_directory():
                                    batches read from a folder of class folders
    minicnn.preprocessing.image_files load_img, img_to_array, array_to_img,
                                    save_img: one image file, opened within
                                    Pillow's safety limits
"""
from minicnn import missing
from minicnn.preprocessing.directory import DirectoryIterator
from minicnn.preprocessing.image import ArrayIterator, ImageDataGenerator, Transform

__all__ = ['ImageDataGenerator', 'ArrayIterator', 'DirectoryIterator', 'Transform']

missing.install(globals(), 'preprocessing')
