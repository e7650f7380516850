"""Data preprocessing for training, following keras.preprocessing.

    minicnn.preprocessing.image     ImageDataGenerator: random rotations, shifts,
                                    zooms and flips of image batches, and flow()
"""
from minicnn.preprocessing.image import ArrayIterator, ImageDataGenerator, Transform

__all__ = ['ImageDataGenerator', 'ArrayIterator', 'Transform']
