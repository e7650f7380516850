"""Keras names that minicnn does not have: importable, refused at use.

A Keras program that names ``keras.layers.LSTM`` should learn why minicnn
lacks it, not meet an ``AttributeError`` or ``ImportError``. So every public
name of Keras 2's modules (the list is tests/data/keras2_public_api.json)
exists in the matching minicnn module: either the real thing or a *refusal*,
a stand-in that imports fine and raises ``MissingFeatureError`` on any use::

    from minicnn.layers import LSTM     # fine
    LSTM(32)                            # MissingFeatureError: keras.layers.LSTM ...
    class MyLSTM(LSTM): ...             # the same error
    LSTM.from_config                    # the same error

Each Keras module lists its refusals in ``REFUSED`` below, grouped by the
reason, and installs them with ``install(globals(), 'layers')`` after its own
definitions. A name both defined and refused is an error at import, so the
table cannot go on refusing what minicnn has since learned to do.
"""


class MissingFeatureError(NotImplementedError):
    """A Keras feature minicnn does not implement, with the reason."""


class _Refusal(type):
    """The metaclass of refusals: calling one, or reading an attribute of it,
    raises its error. (Subclassing is caught by ``__init_subclass__``.)"""

    def __call__(cls, *args, **kwargs):
        raise cls.error()

    def __getattr__(cls, attribute):
        if attribute.startswith('__'):  # Python's own probes (copy, pickle, doctest)
            raise AttributeError(attribute)
        raise cls.error()

    def __repr__(cls):
        return f'<refused Keras name {cls.keras_name}: {cls.reason}>'


def refused(keras_name, reason):
    """A stand-in for the Keras name ``keras_name`` (e.g. 'keras.layers.LSTM')
    that raises ``MissingFeatureError`` saying ``reason`` when used."""

    def error():
        return MissingFeatureError(f'{keras_name} is not in minicnn: {reason}')

    def init_subclass(cls, **kwargs):
        raise error()

    return _Refusal(keras_name.rsplit('.', 1)[-1], (), {
        'keras_name': keras_name, 'reason': reason, 'error': staticmethod(error),
        '__init_subclass__': classmethod(init_subclass),
        '__doc__': f'Refused: {reason}', '__module__': __name__})


def is_refused(obj):
    return isinstance(obj, _Refusal)


def install(namespace, module):
    """Put the refusals of Keras's ``module`` (a key of REFUSED, e.g. 'layers')
    into ``namespace``, a module's globals()."""
    for reason, names in REFUSED[module].items():
        for name in names:
            if name in namespace:
                raise ValueError(f'minicnn.{module}.{name} is both defined and refused; '
                                 f'delete it from minicnn.missing.REFUSED[{module!r}]')
            namespace[name] = refused(f'keras.{module}.{name}' if module != 'keras'
                                      else f'keras.{name}', reason)


# Reasons shared by several modules.
CONV_FRAMEWORK = 'minicnn is a framework for convolutional networks on images'
RECURRENT = f'recurrent and sequence layers are not part of minicnn ({CONV_FRAMEWORK})'
ATTENTION = f'attention and transformer layers are not part of minicnn ({CONV_FRAMEWORK})'
NOT_2D = 'minicnn has 2-D (image) layers only, no 1-D (sequence) or 3-D (volume) ones'
TEXT = f'text and sequence data are not part of minicnn ({CONV_FRAMEWORK})'
TF_RUNTIME = ("a part of TensorFlow's runtime (graphs, distribution, export, mixed precision); "
              'minicnn runs eagerly on NumPy or CuPy')
PREPROCESSING_LAYERS = ("Keras's preprocessing layers are not in minicnn; augment images with "
                        'minicnn.preprocessing.image.ImageDataGenerator')
CONSTRAINTS = 'weight constraints are not implemented in minicnn'
PRETRAINED = 'of the pretrained networks minicnn has VGG16 only (minicnn.applications.VGG16)'
REGISTRY = ("minicnn has no registry of custom objects; rebuild custom layers from "
            'get_config() yourself')
# Keras's backend tensor functions (K.mean, K.gradients, K.function, ...): issue 22.
SYMBOLIC = 'symbolic backend functions: not yet (issue 22)'

REFUSED = {}  # filled in below, one entry per Keras module

REFUSED['backend'] = {
    SYMBOLIC: [
        'abs', 'all', 'any', 'arange', 'argmax', 'argmin', 'batch_dot', 'batch_flatten',
        'batch_normalization', 'bias_add', 'binary_crossentropy', 'binary_focal_crossentropy',
        'cast', 'categorical_crossentropy', 'categorical_focal_crossentropy', 'clip',
        'concatenate', 'constant', 'conv1d', 'conv2d', 'conv2d_transpose', 'conv3d', 'cos',
        'ctc_batch_cost', 'ctc_decode', 'ctc_label_dense_to_sparse', 'cumprod', 'cumsum',
        'depthwise_conv2d', 'dot', 'dropout', 'elu', 'equal', 'eval', 'exp', 'expand_dims',
        'eye', 'flatten', 'foldl', 'foldr', 'function', 'gather', 'gradients', 'greater',
        'greater_equal', 'hard_sigmoid', 'in_test_phase', 'in_top_k', 'in_train_phase',
        'l2_normalize', 'less', 'less_equal', 'local_conv1d', 'local_conv2d', 'log', 'map_fn',
        'max', 'maximum', 'mean', 'min', 'minimum', 'moving_average_update',
        'normalize_batch_in_training', 'not_equal', 'one_hot', 'ones', 'ones_like',
        'permute_dimensions', 'placeholder', 'pool2d', 'pool3d', 'pow', 'print_tensor', 'prod',
        'random_bernoulli', 'random_binomial', 'random_normal', 'random_normal_variable',
        'random_uniform', 'random_uniform_variable', 'relu', 'repeat', 'repeat_elements',
        'reshape', 'resize_images', 'resize_volumes', 'reverse', 'rnn', 'round',
        'separable_conv2d', 'shape', 'sigmoid', 'sign', 'sin', 'softmax', 'softplus',
        'softsign', 'sparse_categorical_crossentropy', 'spatial_2d_padding',
        'spatial_3d_padding', 'sqrt', 'square', 'squeeze', 'stack', 'std', 'stop_gradient',
        'sum', 'switch', 'tanh', 'temporal_padding', 'tile', 'to_dense', 'transpose',
        'truncated_normal', 'update', 'update_add', 'update_sub', 'var', 'variable', 'zeros',
        'zeros_like'],
    ('minicnn keeps no global learning phase: fit runs layers in training mode and '
     'predict and evaluate in inference mode, and a layer called by hand takes training='): [
        'set_learning_phase', 'learning_phase_scope'],
    TF_RUNTIME: ['experimental', 'manual_variable_initialization', 'name_scope'],
}
