"""Seed 004's CNN on CIFAR-10: four convolutions with Activation layers, three
max poolings, Dense 1024; Adam(lr=0.0001, decay=1e-6), batch 128, up to 50
epochs with EarlyStopping(min_delta=0.001, patience=3). The tutorial reports
about 77% test accuracy."""
from minicnn.callbacks import EarlyStopping, EpochTimer
from minicnn.datasets import cifar10
from minicnn.optimizers import Adam
from minicnn.utils import to_categorical
from minicnn.recipes.zoo import cnn_seed004

import common

NUMBER_OF_CLASSES = 10
args = common.parse_args(__doc__, epochs=50, batch_size=128)
(x_train, y_train), (x_test, y_test) = common.load(cifar10, args)
y_train = to_categorical(y_train, NUMBER_OF_CLASSES)
y_test = to_categorical(y_test, NUMBER_OF_CLASSES)

model = cnn_seed004(input_shape=x_train.shape[1:])
model.compile(loss='categorical_crossentropy', optimizer=Adam(lr=0.0001, decay=1e-6),
              metrics=['accuracy'])
timer = EpochTimer()
history = model.fit(x_train / 255, y_train, batch_size=args.batch_size, shuffle=True,
                    epochs=args.epochs, validation_data=(x_test / 255, y_test),
                    callbacks=[EarlyStopping(min_delta=0.001, patience=3), timer])
common.finish(args, model, history, timer, x_test / 255, y_test, 'CNN of seed 004')
