"""Short programs in the style of Keras 2's own examples (mnist_cnn, cifar10_resnet,
antirectifier), each the program a Keras user writes with only the import
changed, on tiny data for one epoch. Each uses what made Keras's examples
fail before minicnn had Keras's backend module and top-level names."""
import numpy as np
import pytest

import minicnn as keras
from minicnn import backend as K
from minicnn import layers


def tiny_images(n, rows, cols, channels=None, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n, rows, cols) if channels is None else (n, rows, cols, channels)
    return rng.integers(0, 256, shape).astype('uint8'), rng.integers(0, classes, n)


def test_an_mnist_cnn_style_program():
    img_rows, img_cols, num_classes = 12, 12, 3
    x_train, y_train = tiny_images(24, img_rows, img_cols)
    if K.image_data_format() == 'channels_first':
        x_train = x_train.reshape(x_train.shape[0], 1, img_rows, img_cols)
        input_shape = (1, img_rows, img_cols)
    else:
        x_train = x_train.reshape(x_train.shape[0], img_rows, img_cols, 1)
        input_shape = (img_rows, img_cols, 1)
    x_train = x_train.astype('float32') / 255
    y_train = keras.utils.to_categorical(y_train, num_classes)

    model = keras.Sequential()
    model.add(layers.Conv2D(4, kernel_size=(3, 3), activation='relu', input_shape=input_shape))
    model.add(layers.MaxPooling2D(pool_size=(2, 2)))
    model.add(layers.Dropout(0.25))
    model.add(layers.Flatten())
    model.add(layers.Dense(num_classes, activation='softmax'))
    model.compile(loss=keras.losses.categorical_crossentropy,
                  optimizer=keras.optimizers.Adadelta(), metrics=['accuracy'])
    history = model.fit(x_train, y_train, batch_size=8, epochs=1, verbose=0)
    score = model.evaluate(x_train, y_train, verbose=0)
    assert np.isfinite(score[0]) and 0 <= score[1] <= 1
    assert K.int_shape(model.layers[0].kernel) == (3, 3, 1, 4)
    assert history.history['loss'][0] > 0


def resnet_layer(inputs, num_filters=4, kernel_size=3, activation='relu'):
    x = layers.Conv2D(num_filters, kernel_size=kernel_size, padding='same',
                      kernel_initializer='he_normal',
                      kernel_regularizer=keras.regularizers.l2(1e-4))(inputs)
    x = layers.BatchNormalization()(x)
    return x if activation is None else layers.Activation(activation)(x)


def test_a_cifar10_resnet_style_program():
    x_train, y_train = tiny_images(16, 8, 8, 3)
    x_train = x_train.astype('float32') / 255
    inputs = keras.Input(shape=x_train.shape[1:])
    x = resnet_layer(inputs)
    y = resnet_layer(x, activation=None)
    x = layers.Activation('relu')(keras.layers.add([x, y]))
    x = layers.AveragePooling2D(pool_size=2)(x)
    outputs = layers.Dense(3, activation='softmax', kernel_initializer='he_normal')(
        layers.Flatten()(x))
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(loss='sparse_categorical_crossentropy',
                  optimizer=keras.optimizers.Adam(learning_rate=1e-3), metrics=['accuracy'])

    def lr_schedule(epoch):
        return 1e-3 * (0.1 if epoch > 0 else 1)

    callbacks = [keras.callbacks.LearningRateScheduler(lr_schedule),
                 keras.callbacks.ReduceLROnPlateau(factor=np.sqrt(0.1), patience=5,
                                                   min_lr=0.5e-6)]
    model.fit(x_train, y_train, batch_size=8, epochs=2, verbose=0, callbacks=callbacks,
              validation_data=(x_train, y_train))
    assert K.get_value(model.optimizer.lr) == pytest.approx(1e-4)


def test_an_identity_initialized_program_with_given_weights():
    """A dense layer started as the identity, another from given arrays."""
    x = np.random.default_rng(1).standard_normal((6, 4)).astype('float32')
    model = keras.Sequential([
        layers.Dense(4, input_dim=4, kernel_initializer='identity', use_bias=False),
        layers.Dense(2, weights=[np.ones((4, 2), 'float32'), np.array([0.5, -0.5], 'float32')]),
    ])
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               x.sum(axis=1, keepdims=True) + [[0.5, -0.5]], rtol=1e-5)
