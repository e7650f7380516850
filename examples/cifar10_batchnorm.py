"""What BatchNormalization buys: the same small CIFAR-10 CNN trained twice,
with and without BatchNormalization after each convolution, Adam, batch 64,
2 epochs; prints both test accuracies and writes both runs' curves."""
import os

from minicnn.callbacks import EpochTimer
from minicnn.datasets import cifar10
from minicnn.layers import Activation, BatchNormalization, Conv2D, Dense, Flatten, MaxPooling2D
from minicnn.models import Sequential
from minicnn.utils import set_seed, to_categorical

import common


def small_cnn(batch_norm):
    """Two pairs of 3x3 convolutions (32 and 64 filters), each pair max-pooled,
    then Dense 10; with batch_norm, BatchNormalization between each
    convolution and its ReLU (the convolution then needs no bias)."""
    model = Sequential()
    for i, filters in enumerate((32, 32, 64, 64)):
        first = {'input_shape': (32, 32, 3)} if i == 0 else {}
        model.add(Conv2D(filters, (3, 3), padding='same', use_bias=not batch_norm, **first))
        if batch_norm:
            model.add(BatchNormalization())
        model.add(Activation('relu'))
        if i % 2:
            model.add(MaxPooling2D())
    model.add(Flatten())
    model.add(Dense(10, activation='softmax'))
    return model


args = common.parse_args(__doc__, epochs=2, batch_size=64)
(x_train, y_train), (x_test, y_test) = common.load(cifar10, args)
x_train, x_test = x_train.astype('float32') / 255, x_test.astype('float32') / 255
y_train, y_test = to_categorical(y_train, 10), to_categorical(y_test, 10)
out = args.out
for batch_norm in (False, True):
    name = 'with BatchNormalization' if batch_norm else 'without BatchNormalization'
    set_seed(0)
    model = small_cnn(batch_norm)
    model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
    timer = EpochTimer()
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                        validation_data=(x_test, y_test), callbacks=[timer])
    args.out = os.path.join(out, 'batchnorm' if batch_norm else 'plain')
    os.makedirs(args.out, exist_ok=True)
    print(name, end=': ')
    common.finish(args, model, history, timer, x_test, y_test, f'small CNN {name}')
