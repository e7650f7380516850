"""What every example shares: its command-line options, data loading with
--subset and --quick, and writing metrics.json and the training curves."""
import argparse
import os

from minicnn import devices
from minicnn.recipes.cli import add_training_options
from minicnn.recipes.experiment import write_results

QUICK_TRAIN, QUICK_TEST = 256, 128


def parse_args(description, epochs, batch_size, extra=None):
    """Options: --device --epochs --batch-size --subset --out --quick (tiny data, one epoch)."""
    parser = add_training_options(argparse.ArgumentParser(description=description))
    parser.add_argument('--quick', action='store_true',
                        help=f'one epoch on {QUICK_TRAIN} images, to check that it runs')
    if extra:
        extra(parser)
    parser.set_defaults(epochs=epochs, batch_size=batch_size)
    args = parser.parse_args()
    if args.quick:
        args.epochs = 1
        args.subset = QUICK_TRAIN if args.subset is None else min(args.subset, QUICK_TRAIN)
    if args.out is None:
        args.out = os.path.join('runs', os.path.basename(parser.prog).removesuffix('.py'))
    os.makedirs(args.out, exist_ok=True)
    if args.device:
        devices.set_device(args.device)
    return args


def load(dataset, args):
    """The data set's (x_train, y_train), (x_test, y_test), cut to --subset (and --quick)."""
    (x_train, y_train), (x_test, y_test) = dataset.load_data()
    if args.subset is not None:
        x_train, y_train = x_train[:args.subset], y_train[:args.subset]
    if args.quick:
        x_test, y_test = x_test[:QUICK_TEST], y_test[:QUICK_TEST]
    print(f'training on {len(x_train)} images, testing on {len(x_test)}')
    return (x_train, y_train), (x_test, y_test)


def finish(args, model, history, timer, x_test, y_test, title):
    """Evaluate, write metrics.json and curves.png, and print the test accuracy."""
    metrics = write_results(args.out, model, history.history, timer, (x_test, y_test),
                            args.batch_size, title)
    print(f"test accuracy: {metrics['test_accuracy']:.4f} (loss {metrics['test_loss']:.4f}); "
          f"results in {args.out}")
