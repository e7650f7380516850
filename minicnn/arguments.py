"""Unknown keyword arguments are errors, never silently ignored.

Python already refuses a keyword a function does not declare, but its message
names neither a near miss nor the Keras arguments that minicnn knowingly
leaves out. ``@keywords_checked`` gives every public function and
constructor the same clear error::

    model.fit(x, y, epoch=5)
    TypeError: fit() got an unknown keyword argument 'epoch'; did you mean 'epochs'?

``reject_unknown`` is the check itself, for functions that collect keywords
in ``**kwargs`` and pass them on (the layers).

The checks of values that many modules share live here too (``is_number``,
``check_flag``, ``check_seed``, ``check_positive_int``, ``check_positive``): each raises a
ValueError naming the function, the argument and the value given.
"""
import difflib
import functools
import inspect
import math
import numbers

# Keras arguments that minicnn knows of but does not implement: they are
# refused with a message that says so, rather than taken for a typo.
NOT_IMPLEMENTED = {
    'kernel_constraint', 'bias_constraint', 'data_format', 'dtype',
    'batch_input_shape', 'batch_size', 'weighted_metrics', 'loss_weights', 'run_eagerly',
    'steps_per_execution', 'jit_compile', 'validation_freq', 'validation_batch_size',
    'steps', 'use_ema', 'ema_momentum', 'ema_overwrite_frequency',
    'loss_scale_factor', 'gradient_accumulation_steps', 'noise_shape', 'reduction',
    'ignore_class', 'from_sorted_ids', 'save_freq', 'double_checkpoint', 'beta_regularizer',
    'gamma_regularizer', 'beta_constraint', 'gamma_constraint', 'renorm', 'renorm_clipping',
    'renorm_momentum', 'virtual_batch_size', 'adjustment', 'fused', 'synchronized',
    'autocast', 'implementation',
    # (some of these are taken by other calls: each is refused where it is not)
    'adaptive_epsilon', 'alpha_constraint', 'depthwise_constraint', 'pointwise_constraint',
    'alpha_regularizer', 'depthwise_regularizer', 'pointwise_regularizer', 'bias_regularizer',
    'axis', 'callbacks', 'count_mode', 'stateful_metrics', 'initial_value_threshold',
    'input_tensor', 'optional', 'ragged', 'sparse', 'type_spec', 'layer_range', 'positions',
    'show_trainable', 'pss_evaluation_shards', 'robust_masking', 'save_before_preemption',
    'seed', 'options',
}


def unknown_argument_error(where, name, valid):
    """The TypeError for keyword ``name`` given to ``where``, which takes ``valid``."""
    if name in NOT_IMPLEMENTED:
        return TypeError(f"{where}() got the keyword argument {name!r}, a Keras argument "
                         f"that minicnn does not implement for {where}")
    close = difflib.get_close_matches(name, sorted(valid), n=1, cutoff=0.6)
    hint = f'; did you mean {close[0]!r}?' if close else f'; it takes {sorted(valid)}'
    return TypeError(f'{where}() got an unknown keyword argument {name!r}{hint}')


def reject_unknown(where, kwargs, valid):
    """Raise for the first keyword in ``kwargs``; ``valid`` lists the accepted names."""
    for name in kwargs:
        raise unknown_argument_error(where, name, valid)


def keyword_names(fn):
    """The names ``fn`` accepts as keywords (positional-only ones excluded)."""
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {n for n, p in inspect.signature(fn).parameters.items() if p.kind in kinds} - {'self'}


def keywords_checked(fn):
    """Decorate ``fn`` so that an unknown keyword raises ``unknown_argument_error``.

    On ``__init__`` the error names the class of the object being made
    (a subclass that inherits the constructor included); otherwise the function.
    """
    if any(p.kind == inspect.Parameter.VAR_KEYWORD
           for p in inspect.signature(fn).parameters.values()):
        return fn  # it takes any keyword and checks them itself
    valid = keyword_names(fn)
    is_constructor = fn.__name__ == '__init__'

    @functools.wraps(fn)
    def checked(*args, **kwargs):
        for name in kwargs:
            if name not in valid:
                where = type(args[0]).__name__ if is_constructor else fn.__name__
                raise unknown_argument_error(where, name, valid)
        return fn(*args, **kwargs)
    return checked


# -- values ------------------------------------------------------------------------
# A layer checks its arguments when it is made, so that a wrong one is refused
# with its name and value rather than failing later, deep inside NumPy.
# NumPy's integers and floats are as good as Python's (Dense(np.int64(3)), as in
# Keras); the checked value comes back as Python's int or float, so that
# get_config() stays JSON. A bool is not a number here: Dense(True) is a mistake.

def is_int(value):
    """Whether ``value`` is an integer, Python's or NumPy's (a bool is not)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value):
    """Whether ``value`` is a real number, Python's or NumPy's (a bool is not)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_finite_number(value):
    """A finite real number, Python's or NumPy's (not a bool, NaN or an infinity)."""
    return is_number(value) and math.isfinite(value)


def argument_error(where, name, requirement, value):
    """The ValueError for argument ``name`` of ``where``, which must be ``requirement``."""
    return ValueError(f'{where}: {name} must be {requirement}, got {value!r}')


def check_flag(where, name, value):
    """value as a bool; raises unless it is True or False."""
    if value not in (True, False):
        raise argument_error(where, name, 'True or False', value)
    return bool(value)


def check_seed(where, seed):
    """Raises unless seed is None or a non-negative int."""
    if not (seed is None or isinstance(seed, numbers.Integral) and seed >= 0):
        raise argument_error(where, 'seed', 'None or a non-negative int', seed)


def check_positive_int(where, name, value, allow_zero=False):
    """``value`` as an int, when it is an integer (Python's or NumPy's, not a
    bool) >= 1, or >= 0 with allow_zero."""
    if not is_int(value) or value < (0 if allow_zero else 1):
        raise argument_error(where, name, f"a {'non-negative' if allow_zero else 'positive'} int",
                             value)
    return int(value)


def check_positive(where, name, value):
    """value as a float, or None; raises unless it is None or a number > 0."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)
                              or not value > 0):
        raise ValueError(f'{where}: {name} must be a positive number, got {name}={value!r}')
    return None if value is None else float(value)


def positive_int_pair(where, name, value):
    """An integer or a pair of them, all >= 1, as a pair (rows, columns)."""
    pair = (value, value) if is_int(value) else value
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2
            and all(is_int(v) and v > 0 for v in pair)):
        raise argument_error(where, name, 'a positive int or a pair of them', value)
    return int(pair[0]), int(pair[1])


def number(where, name, value, requirement='a number', ok=lambda value: True):
    """``value`` as a float, when it is a real number and ``ok(value)``; NaN never is."""
    if not is_number(value) or value != value or not ok(value):
        raise argument_error(where, name, requirement, value)
    return float(value)


def checked_shape(where, name, shape):
    """The shape of one sample as a tuple of ints >= 1; minicnn has no free (None) sizes."""
    if not (isinstance(shape, (tuple, list)) and len(shape) > 0
            and all(is_int(size) and size > 0 for size in shape)):
        raise argument_error(where, name, 'a tuple of positive ints, e.g. (32, 32, 3)', shape)
    return tuple(int(size) for size in shape)


def window_padding(where, padding):
    """A window's padding: 'valid' or 'same' (any case, as lower case), or
    minicnn's explicit padding, a non-negative int or a pair (rows, columns) of them."""
    if isinstance(padding, str) and padding.lower() in ('valid', 'same'):
        return padding.lower()
    if is_int(padding) and padding >= 0:
        return int(padding)
    if isinstance(padding, (tuple, list)) and len(padding) == 2 and \
            all(is_int(p) and p >= 0 for p in padding):
        return int(padding[0]), int(padding[1])
    raise argument_error(where, 'padding', "'valid', 'same', a non-negative int or a pair of "
                                           "them", padding)
