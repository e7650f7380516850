"""Seed 003's experiment with the data these machines have: cats against dogs,
CIFAR-10's classes 3 and 5, trained twice.

    A  a small CNN trained from scratch on the cat and dog images;
    B  the same convolutional base, pretrained by minicnn on CIFAR-10's other
       eight classes, saved as a Keras HDF5 weight file and loaded back (as one
       loads VGG16's), frozen under a new dense head; then fine-tuned with its
       top block unfrozen at a tenth of the learning rate.

Prints both test accuracies and writes each run's metrics.json and curves, and
comparison.png: the test accuracy of A and B epoch by epoch.
With --vgg16-weights PATH (Keras's vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5),
B's base is VGG16 with those ImageNet weights instead.

    python examples/cats_vs_dogs.py                     (14 minutes on 2 CPU cores)
    python examples/cats_vs_dogs.py --quick             (tiny: does it run?)
"""
import os

import numpy as np

from minicnn import applications, layers as L
from minicnn.callbacks import EpochTimer
from minicnn.datasets import cifar10
from minicnn.recipes.experiment import write_results
from minicnn.fileio import atomic_write
from minicnn.models import Sequential
from minicnn.optimizers import Adam
from minicnn.preprocessing.augment import AugmentedBatches
from minicnn.utils import set_seed, to_categorical

import common

CAT, DOG = 3, 5


def extra_options(parser):
    parser.add_argument('--per-class', type=int, default=2000,
                        help='cat and dog training images of each class (default 2000)')
    parser.add_argument('--pretrain-per-class', type=int, default=5000,
                        help='training images of each of the other eight classes '
                             '(default 5000: all of them)')
    parser.add_argument('--pretrain-epochs', type=int, default=8,
                        help='epochs of pretraining on the other eight classes (default 8)')
    parser.add_argument('--fine-tune-epochs', type=int, default=3,
                        help="epochs with the base's top block unfrozen (default 3)")
    parser.add_argument('--vgg16-weights', metavar='PATH',
                        help="Keras's VGG16 'notop' weight file: B's base is VGG16")


def conv_base():
    """Three blocks of 3x3 convolutions and max pooling: 32x32x3 -> 4x4x128."""
    return Sequential([
        L.Input((32, 32, 3)),
        L.Conv2D(32, 3, padding='same', activation='relu', name='block1_conv1'),
        L.Conv2D(32, 3, padding='same', activation='relu', name='block1_conv2'),
        L.MaxPooling2D(name='block1_pool'),
        L.Conv2D(64, 3, padding='same', activation='relu', name='block2_conv1'),
        L.Conv2D(64, 3, padding='same', activation='relu', name='block2_conv2'),
        L.MaxPooling2D(name='block2_pool'),
        L.Conv2D(128, 3, padding='same', activation='relu', name='block3_conv1'),
        L.MaxPooling2D(name='block3_pool'),
    ], name='conv_base')


def with_head(base, classes):
    """base, then Flatten, Dense 128 with dropout, and the classifier."""
    head = [L.Dense(1, activation='sigmoid')] if classes == 2 else \
        [L.Dense(classes, activation='softmax')]
    return Sequential([base, L.Flatten(), L.Dense(128, activation='relu'), L.Dropout(0.5), *head])


def pick(x, y, classes, per_class=None):
    """The images of the given classes, at most per_class of each, in their order."""
    keep = np.concatenate([np.flatnonzero(y.ravel() == c)[:per_class] for c in classes])
    keep.sort()
    return x[keep], y.ravel()[keep]


def plot_comparison(scratch, frozen, fine_tuned, path):
    """Validation accuracy per epoch: A, then B frozen and B fine-tuned end to end."""
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator
    fig, ax = plt.subplots(figsize=(6, 3.6))
    a = scratch['history']['val_accuracy']
    b = frozen['history']['val_accuracy'] + fine_tuned['history']['val_accuracy']
    ax.plot(range(1, len(a) + 1), a, marker='o', markersize=3, label='A: from scratch')
    ax.plot(range(1, len(b) + 1), b, marker='o', markersize=3,
            label='B: pretrained base, frozen, then fine-tuned')
    ax.axvline(len(frozen['history']['val_accuracy']) + 0.5, color='grey', linestyle=':')
    ax.set(xlabel='epoch', ylabel='test accuracy', title='cats vs dogs')
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend()
    fig.tight_layout()
    with atomic_write(path) as f:
        fig.savefig(f, format='png', dpi=100)
    plt.close(fig)


def fit(model, x, y, args, epochs, lr, out, title, x_test, y_test):
    """Compile, fit with flips and 2-pixel shifts, report into out; return the metrics."""
    loss = 'binary_crossentropy' if y.ndim == 1 or y.shape[1] == 1 else 'categorical_crossentropy'
    model.compile(optimizer=Adam(lr), loss=loss, metrics=['accuracy'])
    batches = AugmentedBatches(x, y, args.batch_size, flip='random')
    timer = EpochTimer()
    history = model.fit(batches, epochs=epochs, validation_data=(x_test, y_test),
                        callbacks=[timer])
    os.makedirs(out, exist_ok=True)
    metrics = write_results(out, model, history.history, timer, (x_test, y_test),
                            args.batch_size, title)
    print(f"{title}: test accuracy {metrics['test_accuracy']:.4f}; results in {out}")
    return metrics


args = common.parse_args(__doc__, epochs=8, batch_size=64, extra=extra_options)
if args.quick:
    args.per_class, args.pretrain_per_class = 8, 8
    args.pretrain_epochs, args.fine_tune_epochs = 1, 1
set_seed(0)
(x_train, y_train), (x_test, y_test) = common.load(cifar10, args)
scale = applications.vgg16.preprocess_input if args.vgg16_weights else \
    (lambda images: images.astype(np.float32) / 255)
x_pets, y_pets = pick(x_train, y_train, (CAT, DOG), args.per_class)
x_pets_test, y_pets_test = pick(x_test, y_test, (CAT, DOG))
x_pets, x_pets_test = scale(x_pets), scale(x_pets_test)
y_pets = (y_pets == DOG).astype(np.float32)[:, None]                  # 1 for a dog
y_pets_test = (y_pets_test == DOG).astype(np.float32)[:, None]
print(f'{len(x_pets)} cat and dog images to train on, {len(x_pets_test)} to test on')

print('A: from scratch')
a = fit(with_head(conv_base(), 2), x_pets, y_pets, args, args.epochs, 1e-3,
        os.path.join(args.out, 'scratch'), 'cats vs dogs, from scratch', x_pets_test, y_pets_test)

if args.vgg16_weights:
    base = applications.VGG16(include_top=False, weights=args.vgg16_weights,
                              input_shape=(32, 32, 3))
    top_block = [layer for layer in base.layers if layer.name.startswith('block5')]
else:
    others = [c for c in range(10) if c not in (CAT, DOG)]
    x_rest, y_rest = pick(x_train, y_train, others, args.pretrain_per_class)
    y_rest = to_categorical(np.searchsorted(others, y_rest), len(others))
    x_rest_test, y_rest_test = pick(x_test, y_test, others)
    y_rest_test = to_categorical(np.searchsorted(others, y_rest_test), len(others))
    print(f'pretraining the base on the other eight classes ({len(x_rest)} images)')
    pretrained_base = conv_base()
    fit(with_head(pretrained_base, len(others)), scale(x_rest), y_rest, args,
        args.pretrain_epochs, 1e-3, os.path.join(args.out, 'pretraining'),
        'the other eight classes', scale(x_rest_test), y_rest_test)
    weights_file = os.path.join(args.out, 'conv_base.h5')
    pretrained_base.save_weights(weights_file)        # Keras's HDF5 layout
    base = conv_base()
    base.load_weights(weights_file)                   # as one loads VGG16's weight file
    top_block = [base.get_layer('block3_conv1')]

print('B: pretrained base, frozen, new head')
loaded = {layer.name: layer.get_weights() for layer in base.layers if layer.weights}
base.trainable = False
model = with_head(base, 2)
frozen = fit(model, x_pets, y_pets, args, args.epochs, 1e-3, os.path.join(args.out, 'frozen'),
             'cats vs dogs, frozen pretrained base', x_pets_test, y_pets_test)
print("B: fine-tuned, the base's top block unfrozen")
base.trainable = True
for layer in base.layers:
    layer.trainable = layer in top_block
b = fit(model, x_pets, y_pets, args, args.fine_tune_epochs, 1e-4,
        os.path.join(args.out, 'fine_tuned'), 'cats vs dogs, fine-tuned', x_pets_test, y_pets_test)
# Did freezing hold? The base's frozen layers must still hold the loaded weights,
# and its top block must have moved.
changed = {name: not all(np.array_equal(before, after) for before, after
                         in zip(weights, base.get_layer(name).get_weights()))
           for name, weights in loaded.items()}
print('base layers changed by fine-tuning: '
      + ', '.join(name for name, moved in changed.items() if moved)
      + '; unchanged: ' + ', '.join(name for name, moved in changed.items() if not moved))
plot_comparison(a, frozen, b, os.path.join(args.out, 'comparison.png'))
print(f"from scratch: test accuracy {a['test_accuracy']:.4f}; pretrained and fine-tuned: "
      f"{b['test_accuracy']:.4f}")
