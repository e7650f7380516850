"""A tiny CNN written only with functional calls and a hand-written SGD step
must be able to memorise 32 random images."""
import numpy as np

from minicnn import Tensor
from minicnn import functional as F


def test_tiny_cnn_overfits_32_random_images(kernel_choice):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 8, 8, 3)).astype(np.float32)
    y = rng.integers(0, 4, size=32)
    params = [Tensor(rng.standard_normal(s).astype(np.float32) * scale, requires_grad=True)
              for s, scale in [((3, 3, 3, 8), 0.3), ((8,), 0.0), ((4 * 4 * 8, 4), 0.1), ((4,), 0.0)]]
    k1, b1, k2, b2 = params

    def loss_fn():
        h = F.max_pool2d(F.relu(F.conv2d(x, k1, b1, padding='same')), 2)
        return F.softmax_cross_entropy(F.dense(F.flatten(h), k2, b2), y)

    first = float(loss_fn().data)
    for _ in range(150):
        loss = loss_fn()
        loss.backward()
        for p in params:
            p.data -= 0.1 * p.grad
            p.grad = None
    assert float(loss_fn().data) < 0.1 * first
