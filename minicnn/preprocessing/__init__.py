"""Data preprocessing for training, following keras.preprocessing.

    minicnn.preprocessing.image     ImageDataGenerator: random rotations, shifts,
                                    shears, zooms, flips, channel and brightness
                                    shifts of image batches (bilinear, as Keras),
                                    standardization (featurewise, samplewise,
                                    ZCA) and flow()
"""
from minicnn.preprocessing.image import ArrayIterator, ImageDataGenerator, Transform

__all__ = ['ImageDataGenerator', 'ArrayIterator', 'Transform']
