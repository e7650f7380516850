"""Time minicnn against itself and PyTorch: single operations and training steps,
and profile minicnn's training steps layer by layer.

    python benchmarks/run.py                     the whole suite (several minutes)
    python benchmarks/run.py --quick             tiny sizes, one round: does it run?
    minicnn bench --only steps --models cnn-seed004 --repeats 20
    minicnn bench --only profile --models cnn-seed004

Writes bench.json (every number, the settings and the machine) and
bench.png (bar charts) to --out, then prints the tables, training steps last.
The profile (``minicnn.tools.profiler``: each layer's forward and backward time,
FLOPs and memory kept for backward, with minicnn's fastest kernels) adds
profile.txt, its tables, and profile-MODEL.png, a bar chart per model.
See benchmarks/__init__.py for what is measured, timing.py for how.
"""
import argparse
import importlib.util
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script or by `minicnn bench`: find the package
    sys.path.insert(0, str(ROOT))

from benchmarks import memory, ops, report, steps, timing  # noqa: E402  (imports minicnn first)
from benchmarks.options import apply_presets, at_least, names_among  # noqa: E402
import numpy as np  # noqa: E402,I100
from minicnn import devices  # noqa: E402
from minicnn.tools import profiler  # noqa: E402
from minicnn.recipes import zoo  # noqa: E402
from minicnn.fileio import atomic_write  # noqa: E402

DEFAULT_MODELS = ['mlp', 'cnn-seed002', 'cnn-seed004']
SECTIONS = ('ops', 'steps', 'profile')
PRESETS = {  # option: (default, with --quick)
    'batch_size': (128, 4),
    'repeats': (10, 1),
    'warmup': (2, 1),
    'memory_steps': (3, 1),
    'memory_rounds': (5, 1),
}


model_list = names_among(zoo.RECIPES, 'models')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog='benchmarks/run.py', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true',
                        help='batch 4, one warm-up call and one round (for tests)')
    parser.add_argument('--only', choices=SECTIONS, help='run one section only')
    parser.add_argument('--models', type=model_list, default=DEFAULT_MODELS,
                        help=f"comma-separated zoo names (default: {','.join(DEFAULT_MODELS)})")
    parser.add_argument('--batch-size', type=at_least(1), help='default 128')
    parser.add_argument('--repeats', type=at_least(1), help='timed rounds (default 10)')
    parser.add_argument('--warmup', type=at_least(0), help='untimed calls first (default 2)')
    parser.add_argument('--memory-steps', type=at_least(0),
                        help='training steps per memory probe (default 3; 0: no probes)')
    parser.add_argument('--memory-rounds', type=at_least(1),
                        help='memory probes per model and implementation, taking turns; '
                             'the median is reported (default 5)')
    parser.add_argument('--threads', type=at_least(1), default=os.cpu_count(),
                        help='threads for Numba and PyTorch (default: every core)')
    parser.add_argument('--device', choices=devices.DEVICES, default='cpu',
                        help='gpu adds minicnn on CuPy')
    parser.add_argument('--no-torch', action='store_true', help='leave PyTorch out')
    parser.add_argument('--out', default='bench-results',
                        help='folder for bench.json and bench.png (default: bench-results)')
    return apply_presets(parser.parse_args(argv), PRESETS)


def implementations(args):
    """The impls to compare: NumPy and Numba kernels, CuPy with --device gpu, and
    PyTorch unless left out or not installed."""
    names = ['numpy', 'numba']
    if args.device == 'gpu':
        try:
            devices.cupy()
        except RuntimeError as err:  # it says what is missing
            sys.exit(f'--device gpu: {err}')
        names.append('cupy')
    if not args.no_torch:
        if importlib.util.find_spec('torch') is None:
            report.progress('PyTorch is not installed: its column is left out')
        else:
            names.append('torch')
    return [timing.make_impl(name, args.threads) for name in names]


def profile(impls, models, batch, repeats, out):
    """Profile a training step of each model layer by layer with minicnn's fastest
    kernels (CuPy with --device gpu, else Numba), on random pixels and labels.

    Writes the tables to out/profile.txt and a bar chart per model to
    out/profile-MODEL.png; returns ({model: rows}, the tables as text).
    """
    impl = [impl for impl in impls if impl.framework == 'minicnn'][-1]
    impl.activate()
    rows, tables = {}, []
    for name in models:
        report.progress(f'profile: {name}')
        recipe = zoo.get(name)
        model = recipe.build()
        model.compile(optimizer=recipe.optimizer(), loss=recipe.loss)
        x, ids = steps.random_batch(name, batch)
        y = np.eye(steps.CLASSES, dtype=np.float32)[ids]
        printed = []
        rows[name] = profiler.profile(model, devices.to_device(x, impl.device),
                                      devices.to_device(y, impl.device), steps=repeats,
                                      print_fn=printed.append, path=out / f'profile-{name}.png')
        tables.append(f'Profile of {name}: one training step, batch {batch}, {impl.label} '
                      f'kernels\n{printed[0]}')
    text = '\n\n'.join(tables)
    with atomic_write(out / 'profile.txt', 'w') as f:
        f.write(text + '\n')
    return rows, text


def main(argv=None):
    args = parse_args(argv)
    impls = implementations(args)
    sections = [args.only] if args.only else SECTIONS
    settings = {**vars(args), 'impls': {impl.name: impl.label for impl in impls}}
    record = {'machine': report.machine(), 'settings': settings, 'ops': [], 'steps': [],
              'profile': {}}
    out = pathlib.Path(args.out)
    if 'ops' in sections:
        record['ops'] = ops.run(impls, args.models, args.batch_size, args.warmup, args.repeats)
    if 'steps' in sections:
        record['steps'] = steps.run(impls, args.models, args.batch_size, args.warmup,
                                    args.repeats)
        if args.memory_steps:
            memory.add_peaks(record['steps'], args.batch_size, args.threads, args.memory_steps,
                             args.memory_rounds)
    profile_text = ''
    if 'profile' in sections:
        record['profile'], profile_text = profile(impls, args.models, args.batch_size,
                                                  args.repeats, out)
    report.write_json(out / 'bench.json', record)
    written = [out / 'bench.json']
    if record['ops'] or record['steps']:  # a profile alone has no bars to compare
        report.bar_chart(out / 'bench.png', record)
        written.append(out / 'bench.png')
    if profile_text:
        written.append(out / 'profile.txt')
    print(f"wrote {', '.join(map(str, written))}\n")
    print('\n\n'.join(part for part in (profile_text, report.tables(record)) if part))


if __name__ == '__main__':
    main()
