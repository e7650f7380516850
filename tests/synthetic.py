"""A small image task that a linear model cannot solve: a '+' or an 'x' of
five bright pixels at a random place in a noisy 10x10 image. Both shapes have
the same brightness, and their position varies, so only a detector that
slides (a convolution) tells them apart."""
import numpy as np

PLUS = [(0, 1), (1, 0), (1, 1), (1, 2), (2, 1)]
CROSS = [(0, 0), (0, 2), (1, 1), (2, 0), (2, 2)]


def plus_or_cross(n, seed=0, size=10):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.1, size=(n, size, size, 1)).astype(np.float32)
    y = rng.integers(0, 2, size=n)
    for i in range(n):
        r, c = rng.integers(0, size - 2, size=2)
        for dr, dc in (PLUS if y[i] == 0 else CROSS):
            x[i, r + dr, c + dc, 0] += 1.0
    return x, y.astype(np.uint8)
