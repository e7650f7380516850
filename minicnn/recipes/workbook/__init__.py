"""The workbook: the learner writes the layers, minicnn checks them and trains with them.

    minicnn workbook start DIR            fresh copies of the exercises into DIR
    minicnn workbook check NAME DIR       check one exercise (or 'all')
    minicnn workbook train [NAME] DIR     train a real network with your functions

The exercises (``exercises/``, in the order of the tour) are functions on
NumPy arrays with a docstring and an empty body. ``catalog`` says how each is
checked, ``checker`` checks, ``solutions`` solves each with minicnn's own
code (the checker's reference), ``hooks`` puts a learner's functions into
layers and optimizers, and ``side_by_side`` trains with them beside minicnn's own.
This package is a wing: it imports minicnn's core, never the reverse.
"""
