"""Seed 000: a dense network on CIFAR-10. Pixels scaled to [-0.5, 0.5] and
flattened to 3072 values, five tanh layers, softmax, RMSprop, 15 epochs.
The tutorial reports about 47% test accuracy."""
from minicnn.callbacks import EpochTimer
from minicnn.datasets import cifar10
from minicnn.utils import to_categorical
from minicnn.recipes.zoo import dense_mlp

import common

args = common.parse_args(__doc__, epochs=15, batch_size=32)
(x_train, y_train), (x_test, y_test) = common.load(cifar10, args)
x_train = (x_train / 255 - 0.5).reshape(len(x_train), -1)
x_test = (x_test / 255 - 0.5).reshape(len(x_test), -1)

model = dense_mlp()  # Dense 1024-512-256-128-64 tanh, Dense 10 softmax
model.summary()
model.compile(optimizer='RMSprop', loss='categorical_crossentropy', metrics=['accuracy'])
timer = EpochTimer()
history = model.fit(x=x_train, y=to_categorical(y_train), epochs=args.epochs,
                    batch_size=args.batch_size, shuffle=True, callbacks=[timer],
                    validation_data=(x_test, to_categorical(y_test, 10)))
common.finish(args, model, history, timer, x_test, to_categorical(y_test, 10),
              'dense network (seed 000)')
