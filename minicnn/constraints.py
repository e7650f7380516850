"""Keras's weight constraints (``kernel_constraint=max_norm(3)``): not in minicnn.

Every name of ``keras.constraints`` is importable here and refuses to be
used, saying so (see minicnn.missing); the layers refuse the
``kernel_constraint`` and ``bias_constraint`` arguments likewise.
"""
from minicnn import missing

missing.install(globals(), 'constraints')
