"""``minicnn workbook``: start a workbook, check its exercises, train with them.

    minicnn workbook start DIR [--force]     fresh copies of the exercises into DIR
    minicnn workbook check NAME DIR          check one exercise; NAME 'all' checks each
    minicnn workbook train [NAME] DIR        train a real network with your passing
                                             functions (NAME, or all that pass) beside
                                             minicnn's own, and draw both loss curves
"""
import argparse
import pathlib
import sys

from minicnn.fileio import atomic_write
from minicnn.recipes.workbook.catalog import EXERCISES
from minicnn.recipes.workbook.checker import CheckFailed, check, load

TEMPLATES = pathlib.Path(__file__).resolve().parent / 'exercises'
ALL = 'all'


def add_commands(subparsers):
    """Add the ``workbook`` command and its three subcommands to a parser's subparsers."""
    workbook = subparsers.add_parser('workbook', help='write the layers yourself: start, '
                                     'check, train', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = workbook.add_subparsers(dest='workbook_command', required=True)
    start = commands.add_parser('start', help='copy fresh exercise templates into DIR')
    start.add_argument('dir')
    start.add_argument('--force', action='store_true',
                       help='overwrite exercise files already in DIR (your work in them is lost)')
    names = [ALL, *EXERCISES]
    checking = commands.add_parser('check', help='check an exercise (or all) in DIR')
    checking.add_argument('name', choices=names, metavar='NAME', help=', '.join(names))
    checking.add_argument('dir')
    train = commands.add_parser('train', help='train a network with your functions beside '
                                'minicnn\'s own; draw both loss curves')
    train.add_argument('name_and_dir', nargs='+', metavar='[NAME] DIR',
                       help=f'an exercise (default {ALL}: every one that passes) and the folder')
    train.add_argument('--steps', type=int, default=50, help='training steps (default 50)')
    train.add_argument('--batch-size', type=int, default=32, help='images per step (default 32)')
    train.add_argument('--seed', type=int, default=0,
                       help='of the weights, the batches and dropout (default 0)')
    train.add_argument('--out', help='the PNG of the curves (default DIR/curves-NAME.png)')
    workbook.set_defaults(run=run)


def run(args):
    """Carry out ``minicnn workbook ...`` as parsed by ``add_commands``'s parser."""
    {'start': start, 'check': check_command, 'train': train_command}[args.workbook_command](args)


def start(args):
    folder = pathlib.Path(args.dir)
    templates = sorted(TEMPLATES.glob('[0-9]*.py'))
    present = [t.name for t in templates if (folder / t.name).exists()]
    if present and not args.force:
        sys.exit(f'minicnn workbook start: {folder} already has {", ".join(present)}; '
                 f'your work would be overwritten. Pass --force to replace '
                 f'{"it" if len(present) == 1 else "them"} with fresh templates')
    for template in templates:
        with atomic_write(folder / template.name, 'w') as f:
            f.write(template.read_text())
    print(f'{len(templates)} exercises in {folder}/, in the order of the tour '
          f'(docs/tour/): fill one in, then `minicnn workbook check NAME {folder}`, '
          f'NAME one of {", ".join(EXERCISES)}')


def check_command(args):
    names = list(EXERCISES) if args.name == ALL else [args.name]
    failed = [name for name in names if not report(name, args.dir)]
    if args.name == ALL:
        print(f'{len(names) - len(failed)} of {len(names)} exercises pass'
              + (f'; still to do: {", ".join(failed)}' if failed else ''))
    if failed:
        sys.exit(1)


def report(name, folder):
    """Check one exercise and print the outcome; whether it passed."""
    try:
        print(check(EXERCISES[name], folder))
        return True
    except CheckFailed as failure:
        print(f'{name}: failed at {failure}')
        return False


def passing(name, folder):
    """Whether exercise ``name`` passes, quietly."""
    try:
        check(EXERCISES[name], folder)
        return True
    except CheckFailed:
        return False


def train_command(args):
    from minicnn.recipes.workbook.side_by_side import train_side_by_side
    if len(args.name_and_dir) > 2:
        sys.exit(f'minicnn workbook train: give [NAME] DIR, got {args.name_and_dir}')
    *name, folder = args.name_and_dir
    name = name[0] if name else ALL
    if name != ALL and name not in EXERCISES:
        sys.exit(f'minicnn workbook train: no exercise {name!r}; choose {ALL} or one of '
                 f'{", ".join(EXERCISES)}')
    for option in ('steps', 'batch_size'):
        if getattr(args, option) < 1:
            sys.exit(f'minicnn workbook train: --{option.replace("_", "-")} must be at least 1, '
                     f'got {getattr(args, option)}')
    if name == ALL:
        chosen = [n for n in EXERCISES if passing(n, folder)]
        if not chosen:
            sys.exit(f'minicnn workbook train: no exercise in {folder} passes its check yet')
    elif not report(name, folder):
        sys.exit(f'minicnn workbook train: {name} must pass its check first')
    else:
        chosen = [name]
    print(f'training with your {", ".join(chosen)}')
    modules = {n: load(pathlib.Path(folder) / EXERCISES[n].filename) for n in chosen}
    out = args.out or str(pathlib.Path(folder) / f'curves-{name}.png')
    yours, theirs = train_side_by_side(modules, out, args.steps, args.batch_size, args.seed)
    gap = max(abs(a - b) for a, b in zip(yours, theirs))
    print(f'final loss {yours[-1]:.4f} with your code, {theirs[-1]:.4f} with minicnn\'s; '
          f'the curves are at most {gap:.2g} apart; both drawn in {out}')
