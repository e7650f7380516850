"""The benchmark suite: how fast minicnn is, and where its time goes.

    python benchmarks/run.py [options]      or      minicnn bench [options]

It times single operations (``ops``: conv2d, max_pool2d, dense, the loss,
im2col and col2im, forward and backward apart) at the shapes of the tutorial
networks' layers, and whole training steps (``steps``: forward, backward and
optimizer update) of those networks. Each is run by every implementation in
``timing``: minicnn with the NumPy reference kernels, minicnn with the Numba
kernels, minicnn on CuPy (with ``--device gpu``) and PyTorch, whose twins of
the networks are in ``torch_models``. ``memory`` measures each training
step's peak memory in a fresh process, and ``report`` prints the tables and
writes the JSON record and the bar chart.

Apart from the suite, ``peak.py`` measures the machine's float32
matrix-product rate and gives each layer's FLOPs, time and fraction of it
for the fast recipe's network and the seed-004 CNN; ``kernel_paths.py``
times the Numba kernels' special paths (float32 GELU gradient, max-pool
gradient of disjoint windows) against the general kernels beside them;
``options`` holds the option types the scripts share.
"""

# minicnn first, before anything imports NumPy: it tells OpenMP and OpenBLAS
# how to wait (see minicnn/kernels/threads.py), which they read when they start.
import minicnn  # noqa: E402,F401
