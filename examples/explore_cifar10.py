"""Explore CIFAR-10: array shapes, the first labels, and a 4x4 grid of random
images with their class names (seed tutorial 000)."""
import argparse
import os

import numpy as np

from minicnn import viz
from minicnn.datasets import cifar10

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument('--out', default='runs/explore_cifar10')
parser.add_argument('--seed', type=int, default=0)
args = parser.parse_args()

(x_train, y_train), (x_test, y_test) = cifar10.load_data()
print('x_train', x_train.shape, x_train.dtype, '  y_train', y_train.shape, y_train.dtype)
print('x_test ', x_test.shape, '  y_test ', y_test.shape)
print('pixel values from', x_train.min(), 'to', x_train.max())
print('first labels:', [cifar10.CLASSES[int(i)] for i in y_train[:10, 0]])
print('images per class:', np.bincount(y_train[:, 0], minlength=10).tolist())

pick = np.random.default_rng(args.seed).choice(len(x_train), size=16, replace=False)
path = viz.plot_images(x_train[pick], y_train[pick], cifar10.CLASSES,
                       path=os.path.join(args.out, 'grid.png'), title='CIFAR-10')
print('saved', path)
