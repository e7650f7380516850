"""Regularizers: penalties on a layer's weights (or its outputs) added to the loss.

A regularizer maps a Tensor x to a scalar Tensor, differentiable like any loss:

    L1(l1)        l1 * sum |x|
    L2(l2)        l2 * sum x^2
    L1L2(l1, l2)  both

A layer given ``kernel_regularizer=L2(0.01)`` adds 0.01 * sum(kernel^2) to
the training loss; ``activity_regularizer`` penalizes the layer's outputs
y, divided by the batch size (so that its weight does not change with the
batch size), as Keras does. ``layer.losses`` lists a layer's penalties and
``model.losses`` every layer's; ``minicnn.training`` adds their sum to the
loss that fit minimizes and reports, and to evaluate's loss, as Keras does.

By name, 'l1' and 'l2' are L1(0.01) and L2(0.01), and 'l1_l2' is
L1L2(0.01, 0.01), while the class L1L2() itself defaults to no penalty (as
in Keras, where the two defaults differ for backward compatibility).
"""
import math
import numbers

from minicnn import missing
from minicnn.arguments import keywords_checked
from minicnn.devices import get_array_module
from minicnn.functional import loss_functions


class Regularizer:
    """Base class: ``regularizer(x)`` is the penalty, a scalar Tensor."""

    def __call__(self, x):
        raise NotImplementedError

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def check_factor(where, name, value):
    """A penalty factor: a finite, non-negative number (as Keras checks it); None is 0."""
    value = 0.0 if value is None else value
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
            not math.isfinite(value) or value < 0:
        raise ValueError(f'{where}: {name} must be a non-negative number, got {name}={value!r}')
    return float(value)


def l1_penalty(factor, x):
    zeros = get_array_module(x.data).zeros_like(x.data)
    return factor * loss_functions.absolute_error(zeros, x).sum()  # |x - 0|


def l2_penalty(factor, x):
    return factor * (x * x).sum()


class L1L2(Regularizer):
    """l1 * sum |x| + l2 * sum x^2; each factor defaults to 0 (no penalty).
    Both terms are computed even when a factor is 0: L1 or L2 compute one."""

    @keywords_checked
    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = check_factor('L1L2', 'l1', l1)
        self.l2 = check_factor('L1L2', 'l2', l2)

    def __call__(self, x):
        return l1_penalty(self.l1, x) + l2_penalty(self.l2, x)

    def get_config(self):
        return {'l1': self.l1, 'l2': self.l2}


class L1(Regularizer):
    """l1 * sum |x|."""

    @keywords_checked
    def __init__(self, l1=0.01):
        self.l1 = check_factor('L1', 'l1', 0.01 if l1 is None else l1)

    def __call__(self, x):
        return l1_penalty(self.l1, x)

    def get_config(self):
        return {'l1': self.l1}


class L2(Regularizer):
    """l2 * sum x^2."""

    @keywords_checked
    def __init__(self, l2=0.01):
        self.l2 = check_factor('L2', 'l2', 0.01 if l2 is None else l2)

    def __call__(self, x):
        return l2_penalty(self.l2, x)

    def get_config(self):
        return {'l2': self.l2}


# Keras's lower-case names: l1 and l2 are the classes themselves.
l1, l2 = L1, L2


@keywords_checked
def l1_l2(l1=0.01, l2=0.01):
    """L1L2 with both factors defaulting to 0.01 (what the name 'l1_l2' gives)."""
    return L1L2(l1=l1, l2=l2)


CLASSES = {cls.__name__: cls for cls in (L1, L2, L1L2)}
REGULARIZERS = {**CLASSES, 'l1': L1, 'l2': L2, 'l1_l2': l1_l2}


def get(identifier):
    """A Regularizer for None (None), a name ('l2', 'L1L2', ...), a Regularizer or
    a function of a Tensor (as is), or ``serialize``'s dict."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, dict) and identifier.get('class_name') in CLASSES:
        return CLASSES[identifier['class_name']].from_config(identifier.get('config', {}))
    if isinstance(identifier, str) and identifier in REGULARIZERS:
        return REGULARIZERS[identifier]()
    if callable(identifier) and not isinstance(identifier, type):
        return identifier
    raise ValueError(f'unknown regularizer {identifier!r}; give a Regularizer, a function '
                     f'of a Tensor, or one of {sorted(REGULARIZERS)}')


def serialize(regularizer):
    """What a layer's get_config stores: None, {'class_name', 'config'} for a
    Regularizer, or a function's name (as in Keras, get() does not know that
    name, so the function has to be given again)."""
    if regularizer is None:
        return None
    if isinstance(regularizer, Regularizer):
        return {'class_name': type(regularizer).__name__, 'config': regularizer.get_config()}
    return getattr(regularizer, '__name__', 'custom')


def deserialize(config):
    """``serialize``'s inverse: the Regularizer of a name or of {'class_name', 'config'}."""
    return get(config)


missing.install(globals(), 'regularizers')
