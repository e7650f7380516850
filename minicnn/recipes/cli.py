"""The ``minicnn`` command (also ``python -m minicnn``).

    minicnn train [MODEL]     the fast CIFAR-10 recipe ('fast', the default), or a
                              tutorial network on its data set
    minicnn summary MODEL     print a model's layers and parameter counts
    minicnn info              versions, devices and active kernels
    minicnn bench ...         run benchmarks/run.py of the source checkout in the
                              current folder
    minicnn workbook ...      write the layers yourself: start, check, train
"""
import argparse
import pathlib
import platform
import runpy
import sys

from minicnn import devices, kernels
from minicnn.recipes import zoo
from minicnn.recipes.workbook import cli as workbook

DEMO_SUBSET, DEMO_EPOCHS = 10_000, 3
FAST = 'fast'


def integer_at_least(minimum):
    """An argparse type: an integer >= minimum (1 or 0). argparse's error names the
    option, ours the value: ``argument --batch-size: must be a positive integer, got 0``."""
    kind = 'a positive' if minimum == 1 else 'a non-negative'

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'must be an integer, got {text!r}') from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f'must be {kind} integer, got {value}')
        return value
    return parse


def add_training_options(parser):
    """The options shared by ``minicnn train`` and the example scripts."""
    parser.add_argument('--device', choices=devices.DEVICES, default=None,
                        help='cpu (NumPy + Numba) or gpu (CuPy); default: $MINICNN_DEVICE or cpu')
    parser.add_argument('--epochs', type=integer_at_least(1), help='number of epochs')
    parser.add_argument('--batch-size', type=integer_at_least(1),
                        help="batch size (default: the tutorial's)")
    parser.add_argument('--subset', type=integer_at_least(1),
                        help='train on the first N training images only')
    parser.add_argument('--out', default=None, help='folder for metrics.json and pictures')
    return parser


def _train(args):
    from minicnn.recipes import experiment
    fast_options = any(option is not None for option in (args.budget, args.without, args.seed))
    if args.resume is not None:  # the run's own run.json says which tutorial network it trains
        if args.overwrite:
            sys.exit('minicnn train: --resume continues the run in its folder; --overwrite '
                     'starts a new one over it: give one of them')
        if fast_options:
            sys.exit('minicnn train: --resume continues a tutorial run as it was started; '
                     '--budget, --without and --seed belong to the fast recipe')
        settings = {'--epochs': args.epochs, '--batch-size': args.batch_size,
                    '--subset': args.subset, '--out': args.out,
                    '--augment': args.augment or None, '--full': args.full or None}
        given = [option for option, value in settings.items() if value is not None]
        if given or args.model != FAST:
            sys.exit(f'minicnn train: --resume continues a run with the recipe and settings '
                     f'of its run.json; {", ".join(given) or args.model} cannot change them')
        try:
            _, metrics = experiment.resume(args.resume, device=args.device,
                                           verbose=0 if args.quiet else 1)
        except (FileNotFoundError, experiment.RunFolderError) as err:
            sys.exit(f'minicnn train: {err}')
        return _print_result(args.resume, metrics)
    if args.model == FAST:
        return _train_fast(args)
    if fast_options:
        sys.exit(f'minicnn train: --budget, --without and --seed belong to the fast recipe, '
                 f'not to {args.model}')
    if args.full:
        epochs, subset = args.epochs, args.subset
    else:
        epochs = args.epochs if args.epochs is not None else DEMO_EPOCHS
        subset = args.subset if args.subset is not None else DEMO_SUBSET
    out = f'runs/{args.model}' if args.out is None else args.out
    try:
        _, metrics = experiment.train(args.model, out, epochs=epochs, batch_size=args.batch_size,
                                      subset=subset, device=args.device, augment=args.augment,
                                      verbose=0 if args.quiet else 1, overwrite=args.overwrite)
    except experiment.RunFolderError as err:
        sys.exit(f'minicnn train: {err}')
    _print_result(out, metrics)


def _train_fast(args):
    from minicnn.recipes import experiment, fast_recipe
    if args.augment:
        sys.exit('minicnn train fast: --augment is for the tutorial networks; the fast recipe '
                 'augments its own data (see --without)')
    if args.full and args.budget not in (None, 'full'):
        sys.exit(f'minicnn train fast: --full is --budget full; it cannot be combined with '
                 f'--budget {args.budget}')
    budget = 'full' if args.full else ('short' if args.budget is None else args.budget)
    without = [] if args.without is None else [name for name in args.without.split(',') if name]
    try:
        fast_recipe.check_tricks(without)
    except ValueError as err:
        sys.exit(f'minicnn train: {err}')
    if args.device:
        devices.set_device(args.device)
    out = f'runs/fast-{budget}' if args.out is None else args.out
    try:
        experiment.claim_folder(out, args.overwrite)
    except experiment.RunFolderError as err:
        sys.exit(f'minicnn train: {err}')
    _, metrics = fast_recipe.train(out, experiment.load('cifar10', args.subset), budget=budget,
                                   epochs=args.epochs, batch_size=args.batch_size,
                                   without=without, seed=0 if args.seed is None else args.seed,
                                   verbose=0 if args.quiet else 1)
    tta = metrics.get('tta_test_accuracy')
    print(f"fast recipe ({budget}, widths {tuple(metrics['widths'])}): test accuracy "
          f"{metrics['test_accuracy']:.4f}" + (f', {tta:.4f} with test-time augmentation'
                                               if tta is not None else '')
          + f" after {metrics['budget_epochs']} epochs ({metrics['steps']} steps) on "
          f"{metrics['train_images']} images "
          f"({metrics['seconds_per_epoch']:.1f} s/epoch); results in {out}/")


def _print_result(out, metrics):
    if metrics is None:  # interrupted; experiment said how to resume
        return
    print(f"{metrics['model']}: test accuracy {metrics['test_accuracy']:.4f} after "
          f"{metrics['epochs']} epochs on {metrics['train_images']} training images "
          f"({metrics['seconds_per_epoch'] or 0:.1f} s/epoch); results in {out}/")


def _summary(args):
    zoo.get(args.model).build().summary()


def _info(args):
    import numba
    import numpy
    from minicnn.kernels import allocator, threads
    print(f'minicnn {sys.modules["minicnn"].__version__}')
    print(f'Python {platform.python_version()} ({platform.machine()}, {platform.processor() or "?"})')
    numba_threads = numba.get_num_threads()  # starts Numba's threading layer, to name it
    print(f'NumPy {numpy.__version__}, Numba {numba.__version__} ({numba.threading_layer()} '
          f'threading layer, {numba_threads} of {numba.config.NUMBA_NUM_THREADS} threads)')
    for name, (value, missed) in threads.wait_settings().items():
        effect = ('read by every runtime' if not missed else 'not read by '
                  + ', '.join(missed) + ', loaded before minicnn set it')
        print(f'{name}={value}: {effect}')
    print('thread pools: ' + ', '.join(f'{api} {pathlib.Path(path).name} ({n} threads)'
                                       for api, path, n in threads.pools()))
    print(f'memory allocator: {allocator.settings()}')
    try:
        cupy = devices.cupy()
        props = cupy.cuda.runtime.getDeviceProperties(0)
        print(f"CuPy {cupy.__version__}, GPU: {props['name'].decode()}")
    except RuntimeError as err:
        print(f'GPU: not available ({err})')
    choice = kernels.active_kernels()
    print(f"device: {devices.get_device()}; kernels: "
          f"{'NumPy references' if choice == 'numpy' else 'Numba on the CPU, CUDA on the GPU'}")


def _bench(args):
    # The benchmarks are no part of the installed package: they live in a source
    # checkout, which the command is run from.
    script = pathlib.Path.cwd() / 'benchmarks' / 'run.py'
    if not script.exists():
        sys.exit('minicnn bench: run it from the root of a source checkout of minicnn, '
                 f'where benchmarks/run.py is (not found: {script})')
    sys.argv = [str(script), *args.bench_args]
    runpy.run_path(str(script), run_name='__main__')


def build_parser():
    parser = argparse.ArgumentParser(prog='minicnn', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)
    train = add_training_options(commands.add_parser(
        'train', help='train the fast recipe or a tutorial network',
        description=f"fast (the default): airbench94's recipe (minicnn.recipes.fast_recipe) on "
                    f"CIFAR-10, its 'short' budget unless --budget or --full says otherwise. "
                    f'A tutorial network, without --full: {DEMO_EPOCHS} epochs on the first '
                    f"{DEMO_SUBSET} images; --full: the tutorial's settings."))
    train.add_argument('model', nargs='?', default=FAST, choices=[FAST, *sorted(zoo.RECIPES)])
    train.add_argument('--full', action='store_true',
                       help="the tutorial's epochs on the whole training set; for fast: "
                            "--budget full")
    train.add_argument('--budget', choices=sorted(zoo.FAST_BUDGETS),
                       help='fast only: the preset of widths, epochs and batch size')
    train.add_argument('--without', metavar='TRICKS',
                       help='fast only: comma-separated tricks to leave out, of '
                            + ','.join(zoo.FAST_TRICKS))
    train.add_argument('--seed', type=integer_at_least(0),
                       help='fast only: the random seed (default 0)')
    train.add_argument('--augment', action='store_true', help='shifts and flips (seed 002)')
    train.add_argument('--quiet', action='store_true', help='no progress bars')
    train.add_argument('--resume', metavar='DIR', help='continue the run saved in DIR')
    train.add_argument('--overwrite', action='store_true',
                       help='start into an --out folder that holds an earlier run, deleting it')
    train.set_defaults(run=_train)
    summary = commands.add_parser('summary', help="print a model's layers")
    summary.add_argument('model', choices=sorted(zoo.RECIPES))
    summary.set_defaults(run=_summary)
    commands.add_parser('info', help='versions and devices').set_defaults(run=_info)
    bench = commands.add_parser('bench', help='run benchmarks/run.py with these arguments')
    bench.add_argument('bench_args', nargs=argparse.REMAINDER)
    bench.set_defaults(run=_bench)
    workbook.add_commands(commands)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ['bench']:  # argparse would take bench's own options for ours
        return _bench(argparse.Namespace(bench_args=argv[1:]))
    args = build_parser().parse_args(argv)
    args.run(args)


if __name__ == '__main__':
    main()
