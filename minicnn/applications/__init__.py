"""Well-known networks, built as Keras builds them, so that Keras's published
weights load into them.

    VGG16    minicnn.applications.vgg16 (and its preprocess_input)
"""
from minicnn import missing
from minicnn.applications import vgg16
from minicnn.applications.vgg16 import VGG16

__all__ = ['VGG16']

missing.install(globals(), 'applications')
