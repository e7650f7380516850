"""Is minicnn's training step as fast whatever the program imported first?

    python benchmarks/import_orders.py           5 rounds at batch 128 (a few minutes)
    python benchmarks/import_orders.py --quick   batch 4, one round: does it run?

The thread pools of a training step read how to wait when they are loaded
(see minicnn/kernels/threads.py), so what a program imports before minicnn can
change minicnn's speed. For each import order in ORDERS a fresh Python
process runs that order's imports, then imports minicnn and times its
training step of each model as benchmarks/steps.py does: Numba kernels, on
as many threads as minicnn chose. The orders take turns, one process each
per round, so that a slow spell of a shared machine falls on all of them
alike. The table gives each order's median over the rounds and its ratio to
the fastest order; --out/import_orders.json keeps every round, what minicnn
chose in each order, and the machine. Without PyTorch the orders that import
it are left out. One more setting rides along: minicnn first, with glibc's
allocator left as it is (ENVIRONMENTS), against which the first row shows
what keeping freed memory for reuse (minicnn/kernels/allocator.py) is worth.
"""
import argparse
import importlib.util
import json
import os
import pathlib
import statistics
import subprocess
import sys
import warnings

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The environment this script started with: importing minicnn adds its wait
# settings to os.environ, and measuring processes started from that would
# inherit them, as if the user had set them before Python started.
START_ENVIRON = dict(os.environ)
if str(ROOT) not in sys.path:  # run as a script: find the package (this imports nothing)
    sys.path.insert(0, str(ROOT))
# Nothing from minicnn, NumPy or benchmarks is imported up here: a measuring
# process has to run its order's imports first. The functions import them.

ORDERS = {  # name: what the program runs before it imports minicnn
    'minicnn first': '',
    'numpy first': 'import numpy',
    'torch first': 'import torch',
    'torch first, 2 threads': 'import torch; torch.set_num_threads(2)',
    "minicnn first, glibc's malloc": '',
}
# What an order adds to the environment Python starts with.
ENVIRONMENTS = {"minicnn first, glibc's malloc": {'MINICNN_ALLOCATOR': 'system'}}
PRESETS = {  # option: (default, with --quick)
    'batch_size': (128, 4),
    'rounds': (5, 1),
    'warmup': (2, 1),
    'repeats': (5, 1),
}


def measure(order, models, batch, warmup, repeats):
    """In this fresh process: run the order's imports, then time minicnn's training
    step of each model; a dict for JSON with the median ms per model and what
    minicnn chose for its threads."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        exec(ORDERS[order])  # the program's own first lines, as written in ORDERS
        from benchmarks import steps, timing  # imports minicnn, then NumPy
    import numba
    from minicnn.kernels import allocator, threads
    impl = timing.make_impl('numba', numba.get_num_threads())  # minicnn's choice, kept
    runs = {name: steps.step_runner(impl, name, *steps.random_batch(name, batch))
            for name in models}
    medians = timing.round_robin(runs, warmup, repeats)
    return {
        'ms': {name: 1e3 * seconds for name, (seconds,) in medians.items()},
        'numba': f'{numba.threading_layer()} x{numba.get_num_threads()}',
        'warnings': [str(w.message) for w in caught if 'minicnn' in str(w.message)],
        'missed': {name: paths for name, (_, paths) in threads.wait_settings().items()},
        'allocator': allocator.settings(),
    }


def run_order(order, args):
    """``measure`` in a fresh Python process; its dict."""
    settings = {'order': order, 'models': args.models, 'batch': args.batch_size,
                'warmup': args.warmup, 'repeats': args.repeats}
    done = subprocess.run([sys.executable, __file__, '--measure', json.dumps(settings)],
                          cwd=ROOT, env={**START_ENVIRON, **ENVIRONMENTS.get(order, {})},
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f'{order}: the measuring process failed:\n{done.stderr}')
    return json.loads(done.stdout.splitlines()[-1])


def orders_here():
    """The orders this Python can run: without PyTorch, those that import it are left out."""
    if importlib.util.find_spec('torch') is not None:
        return list(ORDERS)
    from benchmarks import report
    report.progress('PyTorch is not installed: the orders that import it are left out')
    return [order for order in ORDERS if 'torch' not in ORDERS[order]]


def summarize(samples, models):
    """Rows {'model', 'order', 'ms_per_step', 'vs_best', 'rounds_ms', 'numba', 'warned'}
    from the processes' dicts: median over the rounds, ratio to the fastest order."""
    rows = []
    for name in models:
        medians = {order: statistics.median(s['ms'][name] for s in runs)
                   for order, runs in samples.items()}
        best = min(medians.values())
        rows += [{'model': name, 'order': order, 'ms_per_step': ms, 'vs_best': ms / best,
                  'rounds_ms': [s['ms'][name] for s in samples[order]],
                  'numba': samples[order][0]['numba'],
                  'warned': bool(samples[order][0]['warnings'])}
                 for order, ms in medians.items()]
    return rows


def machine_line(machine):
    return (f"{machine['cpu']}, {machine['cores']} cores; NumPy {machine['numpy']} "
            f"({machine['blas']}), Numba {machine['numba']}, PyTorch {machine['torch'] or '-'}, "
            f"threadpoolctl {machine['threadpoolctl']}; {machine['date']}")


def table(record):
    from benchmarks import report
    settings = record['settings']
    rows = [[r['model'], r['order'], report.number(r['ms_per_step']), report.number(r['vs_best']),
             r['numba'], 'yes' if r['warned'] else '-'] for r in record['rows']]
    return (f"Training step by import order: median of {settings['rounds']} rounds, a fresh "
            f"process each, batch {settings['batch_size']}\n{machine_line(record['machine'])}\n"
            + report.text_table(['model', 'imported first', 'ms/step', 'x best',
                                 'Numba threads', 'warned'], rows))


def parse_args(argv=None):
    from benchmarks import run  # its argument types
    parser = argparse.ArgumentParser(prog='benchmarks/import_orders.py', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true', help='batch 4, one round, one step')
    parser.add_argument('--models', type=run.model_list, default=run.DEFAULT_MODELS,
                        help=f"comma-separated zoo names (default: {','.join(run.DEFAULT_MODELS)})")
    parser.add_argument('--batch-size', type=run.at_least(1), help='default 128')
    parser.add_argument('--rounds', type=run.at_least(1), help='processes per order (default 5)')
    parser.add_argument('--warmup', type=run.at_least(0), help='untimed steps first (default 2)')
    parser.add_argument('--repeats', type=run.at_least(1),
                        help='timed steps per process, their median counts (default 5)')
    parser.add_argument('--out', default='bench-results',
                        help='folder for import_orders.json (default: bench-results)')
    return run.apply_presets(parser.parse_args(argv), PRESETS)


def main(argv=None):
    from benchmarks import report
    args = parse_args(argv)
    orders = orders_here()
    samples = {order: [] for order in orders}
    for round_number in range(1, args.rounds + 1):
        for order in orders:
            report.progress(f'round {round_number}/{args.rounds}: {order}')
            samples[order].append(run_order(order, args))
    machine = {**report.machine(), 'threadpoolctl': report.installed_version('threadpoolctl')}
    record = {'machine': machine, 'settings': {**vars(args), 'orders': orders},
              'imports': {order: ORDERS[order] for order in orders},
              'environments': {order: ENVIRONMENTS.get(order, {}) for order in orders},
              'rows': summarize(samples, args.models), 'processes': samples}
    out = pathlib.Path(args.out) / 'import_orders.json'
    report.write_json(out, record)
    print(f'wrote {out}\n')
    print(table(record))


if __name__ == '__main__':
    # A measuring process (see run_order) takes its settings as JSON: argparse's
    # types come from benchmarks.run, which would import minicnn too early.
    if sys.argv[1:2] == ['--measure']:
        print(json.dumps(measure(**json.loads(sys.argv[2]))))
    else:
        main()
