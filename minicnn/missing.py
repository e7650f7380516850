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

Members of Keras's Layer and Model that minicnn's lack (``model.add_loss``,
``layer.updates``) are refused the same way, from ``REFUSED_MEMBERS``, by
``install_members(Layer, 'layers.Layer')``: reading one raises the error.
"""
import sys
import types


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


class RefusedModule(types.ModuleType):
    """A Keras submodule minicnn lacks (``keras.datasets.imdb``): it imports,
    and reading any name from it raises its error."""

    def __init__(self, name, keras_name, reason):
        super().__init__(name, f'Refused: {reason}')
        self.keras_name, self.reason = keras_name, reason

    def __getattr__(self, attribute):
        if attribute.startswith('__'):
            raise AttributeError(attribute)
        raise MissingFeatureError(f'{self.keras_name}.{attribute} is not in minicnn: '
                                  f'{self.reason}')

    def __repr__(self):
        return f'<refused Keras module {self.keras_name}: {self.reason}>'


def is_refused(obj):
    """Whether ``obj`` is a refusal (a stand-in name or a stand-in module)."""
    return isinstance(obj, (_Refusal, RefusedModule))


def install(namespace, module):
    """Put the refusals of Keras's ``module`` (a key of REFUSED, e.g. 'layers')
    into ``namespace``, that module's globals(); refused submodules also go
    into sys.modules, so that ``import minicnn.datasets.imdb`` imports."""
    keras_module = 'keras' if module == 'keras' else f'keras.{module}'
    for reason, names in REFUSED[module].items():
        for name in names:
            if name in namespace:
                raise ValueError(f'{namespace["__name__"]}.{name} is both defined and refused; '
                                 f'delete it from minicnn.missing.REFUSED[{module!r}]')
            if name in SUBMODULES:
                full_name = f'{namespace["__name__"]}.{name}'
                namespace[name] = sys.modules[full_name] = RefusedModule(
                    full_name, f'{keras_module}.{name}', reason)
            else:
                namespace[name] = refused(f'{keras_module}.{name}', reason)


class RefusedMember:
    """A Keras attribute or method that a minicnn class lacks: reading it from
    an instance raises MissingFeatureError with the reason (read from the class,
    it is this stand-in, so that help() and dir() still work)."""

    def __init__(self, keras_class, name, reason):
        self.keras_class, self.name, self.reason = keras_class, name, reason

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        raise MissingFeatureError(f'{type(instance).__name__}.{self.name} (Keras\'s '
                                  f'{self.keras_class}.{self.name}) is not in minicnn: '
                                  f'{self.reason}')

    def __repr__(self):
        return f'<refused Keras member {self.keras_class}.{self.name}: {self.reason}>'


def install_members(cls, keras_class):
    """Put the refused members of Keras's class ``keras_class`` (a key of
    REFUSED_MEMBERS, e.g. 'layers.Layer') on ``cls``, which must not define them."""
    for reason, names in REFUSED_MEMBERS[keras_class].items():
        for name in names:
            if name in vars(cls):
                raise ValueError(f'{cls.__name__}.{name} is both defined and refused; delete '
                                 f'it from minicnn.missing.REFUSED_MEMBERS[{keras_class!r}]')
            setattr(cls, name, RefusedMember(f'keras.{keras_class}', name, reason))


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
# Keras's backend tensor functions that minicnn/backend/symbolic.py does not write.
SYMBOLIC = 'a tensor function minicnn.backend.symbolic does not implement (yet)'

REFUSED = {}  # filled in below, one entry per Keras module

REFUSED['backend'] = {
    SYMBOLIC: [
        'all', 'any', 'arange', 'batch_dot', 'batch_normalization', 'bias_add',
        'binary_crossentropy', 'binary_focal_crossentropy', 'categorical_crossentropy',
        'categorical_focal_crossentropy', 'conv1d', 'conv2d', 'conv2d_transpose', 'conv3d',
        'cos', 'ctc_batch_cost', 'ctc_decode', 'ctc_label_dense_to_sparse', 'cumprod',
        'cumsum', 'depthwise_conv2d', 'dropout', 'eval', 'eye', 'foldl', 'foldr', 'gather',
        'hard_sigmoid', 'in_test_phase', 'in_top_k', 'in_train_phase', 'local_conv1d',
        'local_conv2d', 'map_fn', 'moving_average_update', 'normalize_batch_in_training',
        'one_hot', 'ones', 'pool2d', 'pool3d', 'print_tensor', 'random_bernoulli',
        'random_binomial', 'random_normal', 'random_normal_variable', 'random_uniform',
        'random_uniform_variable', 'repeat', 'repeat_elements', 'resize_images',
        'resize_volumes', 'reverse', 'rnn', 'round', 'separable_conv2d', 'sin',
        'sparse_categorical_crossentropy', 'spatial_2d_padding', 'spatial_3d_padding',
        'switch', 'temporal_padding', 'tile', 'to_dense', 'truncated_normal', 'update',
        'update_add', 'update_sub', 'variable', 'zeros'],
    ('minicnn keeps no learning-phase scope: K.set_learning_phase(1) sets the phase of '
     'K.function, fit runs layers in training mode and predict in inference mode'): [
        'learning_phase_scope'],
    TF_RUNTIME: ['experimental', 'manual_variable_initialization', 'name_scope'],
}

NOT_YET = 'not implemented in minicnn (yet)'
ADDED_LOSSES = ("minicnn trains the loss given to compile() (and the layers' regularizers) "
                'only; layers and models cannot add losses, metrics or updates of their own')
# Keras's own submodules among the names below (refused as modules, see install).
SUBMODULES = {
    'dtensor', 'estimator', 'experimental', 'export', 'mixed_precision', 'legacy',
    'boston_housing', 'cifar100', 'imdb', 'reuters',
    'convnext', 'densenet', 'efficientnet', 'efficientnet_v2', 'imagenet_utils',
    'inception_resnet_v2', 'inception_v3', 'mobilenet', 'mobilenet_v2', 'mobilenet_v3',
    'nasnet', 'regnet', 'resnet', 'resnet50', 'resnet_rs', 'resnet_v2', 'vgg19', 'xception',
    'sequence', 'text'}

REFUSED['keras'] = {
    TF_RUNTIME: ['dtensor', 'estimator', 'experimental', 'export', 'mixed_precision'],
}

REFUSED['layers'] = {
    RECURRENT: [
        'AbstractRNNCell', 'Bidirectional', 'ConvLSTM1D', 'ConvLSTM2D', 'ConvLSTM3D',
        'Embedding', 'GRU', 'GRUCell', 'LSTM', 'LSTMCell', 'Masking', 'RNN', 'SimpleRNN',
        'SimpleRNNCell', 'StackedRNNCells', 'TimeDistributed'],
    ATTENTION: ['AdditiveAttention', 'Attention', 'EinsumDense', 'MultiHeadAttention'],
    NOT_2D: [
        'AveragePooling1D', 'AveragePooling3D', 'AvgPool1D', 'AvgPool3D', 'Conv1D',
        'Conv1DTranspose', 'Conv3D', 'Conv3DTranspose', 'Convolution1D',
        'Convolution1DTranspose', 'Convolution3D', 'Convolution3DTranspose', 'Cropping1D',
        'Cropping3D', 'DepthwiseConv1D', 'GlobalAveragePooling1D', 'GlobalAveragePooling3D',
        'GlobalAvgPool1D', 'GlobalAvgPool3D', 'GlobalMaxPool1D', 'GlobalMaxPool3D',
        'GlobalMaxPooling1D', 'GlobalMaxPooling3D', 'LocallyConnected1D', 'MaxPool1D',
        'MaxPool3D', 'MaxPooling1D', 'MaxPooling3D', 'SeparableConv1D',
        'SeparableConvolution1D', 'SpatialDropout1D', 'SpatialDropout3D', 'UpSampling1D',
        'UpSampling3D', 'ZeroPadding1D', 'ZeroPadding3D'],
    PREPROCESSING_LAYERS: [
        'CategoryEncoding', 'CenterCrop', 'Discretization', 'HashedCrossing', 'Hashing',
        'IntegerLookup', 'Normalization', 'RandomBrightness', 'RandomContrast', 'RandomCrop',
        'RandomFlip', 'RandomHeight', 'RandomRotation', 'RandomTranslation', 'RandomWidth',
        'RandomZoom', 'Resizing', 'StringLookup', 'TextVectorization', 'experimental'],
    ('of the normalization layers minicnn has BatchNormalization only'): [
        'GroupNormalization', 'LayerNormalization', 'SpectralNormalization',
        'UnitNormalization'],
    TF_RUNTIME: ['DenseFeatures'],
    ("a custom layer's input_spec is not used by minicnn: its layers check their "
     'input shapes when they build'): ['InputSpec'],
    NOT_YET: [
        'ActivityRegularization', 'AlphaDropout', 'Dot', 'Identity',
        'LocallyConnected2D', 'ThresholdedReLU', 'Wrapper', 'dot'],
}

REFUSED['models'] = {
    TF_RUNTIME: ['experimental'],
    'YAML was removed from Keras 2 itself (it raises there too); use model_from_json': [
        'model_from_yaml'],
}

REFUSED['optimizers'] = {
    NOT_YET: ['Adafactor', 'Ftrl', 'Lion', 'serialize', 'deserialize'],
    ("TensorFlow's optimizer generations; minicnn has one of each, "
     'at minicnn.optimizers (SGD, Adam, ...)'): ['experimental', 'legacy'],
}

REFUSED['losses'] = {
    NOT_YET: [
        'BinaryFocalCrossentropy', 'CategoricalFocalCrossentropy', 'CategoricalHinge',
        'CosineSimilarity', 'LogCosh', 'MAPE', 'MSLE', 'MeanAbsolutePercentageError',
        'MeanSquaredLogarithmicError', 'Poisson', 'binary_focal_crossentropy',
        'categorical_focal_crossentropy', 'categorical_hinge', 'cosine_similarity', 'log_cosh',
        'logcosh', 'mape', 'mean_absolute_percentage_error', 'mean_squared_logarithmic_error',
        'msle', 'poisson'],
    ("minicnn's losses always average over the batch (Keras's default reduction, "
     'SUM_OVER_BATCH_SIZE); other reductions are not offered'): ['Reduction'],
}

REFUSED['metrics'] = {
    NOT_YET: [
        'BinaryIoU', 'CategoricalHinge', 'CosineSimilarity', 'F1Score', 'FBetaScore',
        'FalseNegatives', 'FalsePositives', 'IoU', 'LogCoshError', 'MAPE', 'MSLE',
        'MeanAbsolutePercentageError', 'MeanIoU', 'MeanRelativeError',
        'MeanSquaredLogarithmicError', 'MeanTensor', 'OneHotIoU', 'OneHotMeanIoU', 'Poisson',
        'PrecisionAtRecall', 'R2Score', 'RecallAtPrecision', 'SensitivityAtSpecificity',
        'SpecificityAtSensitivity', 'Sum', 'TrueNegatives', 'TruePositives',
        'binary_focal_crossentropy', 'categorical_focal_crossentropy', 'deserialize',
        'log_cosh', 'logcosh', 'mape', 'mean_absolute_percentage_error',
        'mean_squared_logarithmic_error', 'msle', 'poisson'],
    TF_RUNTIME: ['experimental'],
}

REFUSED['callbacks'] = {
    ("Keras adds BaseLogger to every fit by itself; minicnn's History averages the "
     'metrics over each epoch'): ['BaseLogger'],
    'minicnn sends nothing over the network; log with CSVLogger': ['RemoteMonitor'],
    TF_RUNTIME: ['SidecarEvaluatorModelExport', 'experimental'],
}

REFUSED['initializers'] = {
    NOT_YET: ['Orthogonal', 'orthogonal'],
}

REFUSED['regularizers'] = {
    NOT_YET: ['OrthogonalRegularizer', 'orthogonal_regularizer'],
}

REFUSED['constraints'] = {
    CONSTRAINTS: [
        'Constraint', 'MaxNorm', 'MinMaxNorm', 'NonNeg', 'RadialConstraint', 'UnitNorm',
        'deserialize', 'get', 'max_norm', 'min_max_norm', 'non_neg', 'radial_constraint',
        'serialize', 'unit_norm'],
}

REFUSED['activations'] = {
    NOT_YET: ['mish'],
}

REFUSED['preprocessing'] = {
    TEXT: ['sequence', 'text', 'text_dataset_from_directory', 'timeseries_dataset_from_array'],
    ('tf.data datasets are not part of minicnn; read a folder of images with '
     'ImageDataGenerator().flow_from_directory'): ['image_dataset_from_directory'],
}

REFUSED['preprocessing.image'] = {
    ("Keras's single-image transform functions are not offered; ImageDataGenerator "
     'applies the same transforms to batches'): [
        'apply_affine_transform', 'apply_brightness_shift', 'apply_channel_shift',
        'random_brightness', 'random_channel_shift', 'random_rotation', 'random_shear',
        'random_shift', 'random_zoom'],
    NOT_YET: ['Iterator', 'smart_resize'],
}

REFUSED['utils'] = {
    REGISTRY: [
        'CustomObjectScope', 'custom_object_scope', 'deserialize_keras_object',
        'get_custom_objects', 'get_registered_name', 'get_registered_object',
        'register_keras_serializable', 'serialize_keras_object'],
    TEXT: ['pad_sequences', 'text_dataset_from_directory', 'timeseries_dataset_from_array',
           'warmstart_embedding_matrix', 'audio_dataset_from_directory'],
    ('minicnn reads Sequences and generators in its training loop itself, with no '
     'enqueuer threads'): ['GeneratorEnqueuer', 'OrderedEnqueuer', 'SequenceEnqueuer'],
    TF_RUNTIME: ['FeatureSpace', 'SidecarEvaluator', 'StepsPerExecutionTuner', 'TimedThread',
                 'experimental', 'legacy', 'split_dataset', 'disable_interactive_logging',
                 'enable_interactive_logging', 'is_interactive_logging_enabled'],
    ('tf.data datasets are not part of minicnn; read a folder of images with '
     'ImageDataGenerator().flow_from_directory'): ['image_dataset_from_directory'],
    NOT_YET: ['Progbar', 'get_file', 'get_source_inputs', 'pack_x_y_sample_weight',
              'unpack_x_y_sample_weight', 'to_ordinal'],
}

REFUSED['datasets'] = {
    TEXT: ['imdb', 'reuters'],
    'minicnn has image data sets only (MNIST, Fashion-MNIST, CIFAR-10)': ['boston_housing'],
    NOT_YET: ['cifar100'],
}

REFUSED['applications'] = {
    PRETRAINED: [
        'ConvNeXtBase', 'ConvNeXtLarge', 'ConvNeXtSmall', 'ConvNeXtTiny', 'ConvNeXtXLarge',
        'DenseNet121', 'DenseNet169', 'DenseNet201', 'EfficientNetB0', 'EfficientNetB1',
        'EfficientNetB2', 'EfficientNetB3', 'EfficientNetB4', 'EfficientNetB5',
        'EfficientNetB6', 'EfficientNetB7', 'EfficientNetV2B0', 'EfficientNetV2B1',
        'EfficientNetV2B2', 'EfficientNetV2B3', 'EfficientNetV2L', 'EfficientNetV2M',
        'EfficientNetV2S', 'InceptionResNetV2', 'InceptionV3', 'MobileNet', 'MobileNetV2',
        'MobileNetV3Large', 'MobileNetV3Small', 'NASNetLarge', 'NASNetMobile',
        *(f'RegNet{kind}{size}' for kind in 'XY' for size in (
            '002', '004', '006', '008', '016', '032', '040', '064', '080', '120', '160',
            '320')),
        'ResNet101', 'ResNet101V2', 'ResNet152', 'ResNet152V2', 'ResNet50', 'ResNet50V2',
        'ResNetRS101', 'ResNetRS152', 'ResNetRS200', 'ResNetRS270', 'ResNetRS350',
        'ResNetRS420', 'ResNetRS50', 'VGG19', 'Xception',
        'convnext', 'densenet', 'efficientnet', 'efficientnet_v2', 'inception_resnet_v2',
        'inception_v3', 'mobilenet', 'mobilenet_v2', 'mobilenet_v3', 'nasnet', 'regnet',
        'resnet', 'resnet50', 'resnet_rs', 'resnet_v2', 'vgg19', 'xception'],
    ("ImageNet's class names are not bundled with minicnn, and only VGG16's "
     'preprocess_input is offered (minicnn.applications.vgg16)'): ['imagenet_utils'],
}

REFUSED['applications.vgg16'] = {
    "ImageNet's class names are not bundled with minicnn": ['decode_predictions'],
}


# Class members: the attributes and methods of Keras 2's Layer and Model
# (tests/data/keras2_public_api.json, 'members') that minicnn's lack.
REFUSED_MEMBERS = {}

REFUSED_MEMBERS['layers.Layer'] = {
    ADDED_LOSSES: ['add_loss', 'add_metric', 'add_update', 'metrics', 'updates'],
    f'masks are not part of minicnn ({CONV_FRAMEWORK})': [
        'compute_mask', 'input_mask', 'output_mask', 'get_input_mask_at', 'get_output_mask_at'],
    ("minicnn's layers are called once each in a model (a layer's inputs and outputs are "
     '.input and .output); it keeps no list of nodes'): [
        'inbound_nodes', 'outbound_nodes', 'get_input_shape_at', 'get_output_shape_at'],
    TF_RUNTIME: ['dtype_policy', 'name_scope', 'with_name_scope', 'submodules',
                 'compute_output_signature', 'finalize_state'],
    ("minicnn's layers compute in forward(x, training); call the layer itself, "
     'layer(x), rather than its call method'): ['call'],
    ("Keras 3's saving hooks; minicnn saves with model.save, save_weights and "
     'get_config'): ['build_from_config', 'get_build_config', 'load_own_variables',
                     'save_own_variables'],
}

REFUSED_MEMBERS['Model'] = {
    TF_RUNTIME: ['autotune_steps_per_execution', 'distribute_reduction_method',
                 'distribute_strategy', 'jit_compile', 'steps_per_execution', 'save_spec',
                 'make_predict_function', 'make_test_function', 'make_train_function',
                 'compiled_loss', 'state_updates'],
    ("minicnn's fit, evaluate and predict run their own steps; a model cannot "
     'override or call them'): ['train_step', 'test_step', 'predict_step', 'compute_loss',
                                'compute_metrics', 'get_metrics_result', 'reset_metrics'],
    ("minicnn's evaluate and predict take arrays, not generators; evaluate or predict "
     'the batches the generator gives, or fit a generator with fit'): [
        'evaluate_generator', 'predict_generator'],
    'minicnn has no stateful (recurrent) layers, so there are no states to reset': [
        'reset_states'],
    ("Keras 3's saving hooks; minicnn saves with model.save, save_weights and "
     'get_config'): ['compile_from_config', 'get_compile_config', 'get_weight_paths'],
    "YAML is not supported (Keras 2.21's to_yaml also refuses); use to_json": ['to_yaml'],
}
