"""Seed 001's small CNN, on Fashion-MNIST: Conv2D 32 5x5, max pooling,
Conv2D 64 5x5, max pooling, Dense 10 softmax; SGD, batch 100, 5 epochs."""
from minicnn.callbacks import EpochTimer
from minicnn.datasets import fashion_mnist
from minicnn.utils import to_categorical
from minicnn.recipes.zoo import cnn_seed001

import common

args = common.parse_args(__doc__, epochs=5, batch_size=100)
(train_images, train_labels), (test_images, test_labels) = common.load(fashion_mnist, args)
# pixels to [0, 1], and a channel axis: (N, 28, 28) -> (N, 28, 28, 1)
train_images = train_images.reshape(-1, 28, 28, 1).astype('float32') / 255
test_images = test_images.reshape(-1, 28, 28, 1).astype('float32') / 255
train_labels, test_labels = to_categorical(train_labels, 10), to_categorical(test_labels, 10)

model = cnn_seed001()
model.summary()
model.compile(loss='categorical_crossentropy', optimizer='sgd', metrics=['accuracy'])
timer = EpochTimer()
history = model.fit(train_images, train_labels, batch_size=args.batch_size, epochs=args.epochs,
                    verbose=1, validation_data=(test_images, test_labels), callbacks=[timer])
common.finish(args, model, history, timer, test_images, test_labels, 'CNN of seed 001 on Fashion-MNIST')
