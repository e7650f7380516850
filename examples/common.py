"""What every example shares: its command-line options, data loading with
--subset and --quick, and writing metrics.json and the training curves."""
import argparse
import os
import platform

import numpy as np

from minicnn import backend, viz
from minicnn.cli import add_training_options
from minicnn.experiment import EpochTimer, write_json

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
        args.epochs, args.subset = 1, min(args.subset or QUICK_TRAIN, QUICK_TRAIN)
    args.out = args.out or os.path.join('runs', os.path.basename(parser.prog).removesuffix('.py'))
    os.makedirs(args.out, exist_ok=True)
    if args.device:
        backend.set_device(args.device)
    return args


def load(dataset, args):
    """The data set's (x_train, y_train), (x_test, y_test), cut to --subset (and --quick)."""
    (x_train, y_train), (x_test, y_test) = dataset.load_data()
    if args.subset:
        x_train, y_train = x_train[:args.subset], y_train[:args.subset]
    if args.quick:
        x_test, y_test = x_test[:QUICK_TEST], y_test[:QUICK_TEST]
    print(f'training on {len(x_train)} images, testing on {len(x_test)}')
    return (x_train, y_train), (x_test, y_test)


def finish(args, model, history, timer, x_test, y_test, title):
    """Evaluate, write metrics.json and curves.png, and print the test accuracy."""
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=args.batch_size, verbose=0)
    logs = history.history
    write_json(os.path.join(args.out, 'metrics.json'), {
        'train_loss': logs['loss'][-1], 'train_accuracy': logs['accuracy'][-1],
        'test_loss': test_loss, 'test_accuracy': test_accuracy, 'epochs': len(logs['loss']),
        'seconds_per_epoch': float(np.median(timer.seconds)), 'device': backend.get_device(),
        'machine': platform.processor() or platform.machine(), 'history': dict(logs)})
    viz.plot_history(history, path=os.path.join(args.out, 'curves.png'), title=title)
    print(f'test accuracy: {test_accuracy:.4f} (loss {test_loss:.4f}); results in {args.out}')


__all__ = ['parse_args', 'load', 'finish', 'EpochTimer']
