"""The fast CIFAR-10 recipe (airbench94's, see minicnn/recipes/fast_recipe.py): a
whitened first layer, dirac-initialised convolutions, BatchNorm without scale,
GELU, label smoothing, lookahead, alternating flips, and test-time
augmentation. Writes the training curves, a picture of the whitening filters,
and prints the test accuracy with and without test-time augmentation.

    python examples/cifar10_fast.py                    the short budget (minutes)
    python examples/cifar10_fast.py --budget full      airbench94 itself (about an hour on 2 cores)
    python examples/cifar10_fast.py --without lookahead,tta
"""
from minicnn.recipes import fast_recipe
from minicnn.recipes.cli import integer_at_least
from minicnn.datasets import cifar10

import common


def extra_options(parser):
    parser.add_argument('--budget', choices=sorted(fast_recipe.BUDGETS), default='short',
                        help='preset widths, epochs and batch size (default: short)')
    parser.add_argument('--without', default='',
                        help='comma-separated tricks to leave out, of ' + ','.join(fast_recipe.TRICKS))
    parser.add_argument('--seed', type=integer_at_least(0), default=0)


args = common.parse_args(__doc__, epochs=None, batch_size=None, extra=extra_options)
data = common.load(cifar10, args)
model, metrics = fast_recipe.train(
    args.out, data, budget=args.budget, epochs=args.epochs,
    batch_size=(32 if args.quick and args.batch_size is None else args.batch_size), seed=args.seed,
    without=[name for name in args.without.split(',') if name])
print(f"test accuracy: {metrics['test_accuracy']:.4f} without test-time augmentation")
if 'tta_test_accuracy' in metrics:
    print(f"test accuracy: {metrics['tta_test_accuracy']:.4f} with test-time augmentation "
          f"(6 views: flips x shifts of 0 and 1 pixel)")
print(f"{metrics['seconds_per_epoch']:.1f} s/epoch; curves.png and whitening_filters.png "
      f"in {args.out}")
