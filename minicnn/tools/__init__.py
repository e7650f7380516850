"""The learner's instruments, beside the framework rather than in its path:

    naive        every layer's math as plain Python loops, which the fast
                 functions of minicnn.functional are tested against
    gradcheck    analytic gradients against finite differences, in float64
    profiler     where a training step's time and memory go, layer by layer

(``minicnn.gradcheck`` is also the gradcheck function itself.)
"""
