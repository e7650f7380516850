"""Command-line option types the benchmark scripts share, and their --quick presets.

Kept apart from ``run`` so that a script can use them without importing the
suite's sections (``ops`` imports PyTorch where it is installed).
"""
import argparse


def at_least(minimum):
    """An argparse type: a whole number no smaller than minimum."""
    def parse(text):
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f'must be at least {minimum}, got {value}')
        return value
    return parse


def names_among(choices, what):
    """An argparse type: comma-separated names, each one of ``choices``; ``what``
    names them in the error ('models')."""
    def parse(text):
        names = [name.strip() for name in text.split(',') if name.strip()]
        unknown = sorted(set(names) - set(choices))
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f'unknown {what} {unknown}; choose from {sorted(choices)}')
        return names
    return parse


def apply_presets(args, presets):
    """Each option of ``presets`` ({option: (default, with --quick)}) left unset gets its preset."""
    for option, (default, quick) in presets.items():
        if getattr(args, option) is None:
            setattr(args, option, quick if args.quick else default)
    return args
