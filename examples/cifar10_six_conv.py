"""Seed 002's six-convolution CNN on CIFAR-10 (pairs of 32, 64 and 64 filters,
max pooling and dropout after each pair, Dense 512), RMSprop, batch 256, with
loss and accuracy curves. --augment trains it on shifted and flipped images,
as the tutorial's second model."""
import math

from minicnn.callbacks import EpochTimer
from minicnn.datasets import cifar10
from minicnn.preprocessing.image import ImageDataGenerator
from minicnn.utils import to_categorical
from minicnn.recipes.zoo import cnn_seed002

import common


def options(parser):
    parser.add_argument('--augment', action='store_true', help='random shifts of 0.1 and flips')


args = common.parse_args(__doc__, epochs=100, batch_size=256, extra=options)
(train_data, train_labels), (test_data, test_labels) = common.load(cifar10, args)
train_data, test_data = train_data.astype('float32') / 255, test_data.astype('float32') / 255
train_labels_one_hot = to_categorical(train_labels)
test_labels_one_hot = to_categorical(test_labels, 10)

model = cnn_seed002()
model.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])
timer = EpochTimer()
if args.augment:
    datagen = ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1,
                                 horizontal_flip=True)
    history = model.fit_generator(
        datagen.flow(train_data, train_labels_one_hot, batch_size=args.batch_size),
        steps_per_epoch=math.ceil(len(train_data) / args.batch_size), epochs=args.epochs,
        validation_data=(test_data, test_labels_one_hot), callbacks=[timer])
else:
    history = model.fit(train_data, train_labels_one_hot, batch_size=args.batch_size,
                        epochs=args.epochs, verbose=1, callbacks=[timer],
                        validation_data=(test_data, test_labels_one_hot))
common.finish(args, model, history, timer, test_data, test_labels_one_hot,
              'six-convolution CNN (seed 002)' + (' with augmentation' if args.augment else ''))
