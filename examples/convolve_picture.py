"""Convolution of one picture (seeds 000 and 003): a grayscale image through a
single-filter Conv2D with a random kernel, a 3x3 edge kernel and a 7x7 box blur,
the kernels set through kernel_initializer."""
import argparse
import os

import numpy as np

from minicnn import viz
from minicnn.layers import Conv2D
from minicnn.models import Sequential


def draw_house(height=302, width=403):
    """A generated grayscale picture (nothing to download): sky, sun, a house
    with a roof, a door and windows, and textured grass. Values 0..255."""
    rows, cols = np.mgrid[0:height, 0:width]
    image = 170 + 60 * rows / height                                  # sky, lighter below
    image[(rows - 60) ** 2 + (cols - 330) ** 2 < 30 ** 2] = 250         # sun
    image[rows > 230] = 90 + 25 * np.random.default_rng(0).random((height, width))[rows > 230]
    image[(rows > 130) & (rows < 235) & (cols > 120) & (cols < 280)] = 215  # wall
    roof = (rows > 60) & (rows <= 130) & (np.abs(cols - 200) < (rows - 60) * 1.3)
    image[roof] = 70
    image[(rows > 170) & (rows < 235) & (cols > 185) & (cols < 215)] = 60   # door
    for left in (140, 235):                                                # windows
        image[(rows > 150) & (rows < 185) & (cols > left) & (cols < left + 28)] = 40
    return image.astype(np.uint8)


def edge_filter(shape, dtype=None):
    """-1 around, 8 in the middle: zero on flat areas, large at edges."""
    f = -np.ones((3, 3, 1, 1))
    f[1, 1, 0, 0] = 8
    return f


def blur_filter(shape, dtype=None):
    """The mean of a 7x7 neighbourhood."""
    return np.full((7, 7, 1, 1), 1 / 49)


def convolve(image, **conv_args):
    model = Sequential(Conv2D(filters=1, input_shape=(*image.shape, 1), **conv_args))
    model.summary()
    result = model.predict(image[None, :, :, None].astype(np.float32))
    print(image.shape, '->', result.shape[1:3])
    return result[0, :, :, 0]


parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument('--out', default='runs/convolve_picture')
args = parser.parse_args()

image = draw_house()
print('picture', image.shape)
results = {
    'random': convolve(image, kernel_size=(3, 3)),
    'edges': convolve(image, kernel_size=(3, 3), kernel_initializer=edge_filter),
    'blur': convolve(image, kernel_size=(7, 7), kernel_initializer=blur_filter),
}
for name, result in results.items():
    path = viz.plot_before_after(image, result, path=os.path.join(args.out, f'{name}.png'),
                                 titles=('original', f'after convolution ({name} kernel)'))
    print('saved', path)
