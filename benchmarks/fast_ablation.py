"""What each trick of the fast recipe buys: one run without each, at one budget.

    python benchmarks/fast_ablation.py                      every row (about 80 min, 2 cores)
    python benchmarks/fast_ablation.py --rows seed-0,without-lookahead

Each row is one ``minicnn train fast`` in a fresh process: the whole recipe
with seeds 0, 1 and 2 (its run-to-run spread, so that a reader can tell a
trick's gain from noise), then the recipe without one trick, seed 0. Leaving
out test-time augmentation needs no run of its own: every run reports its
accuracy with and without it.

A row whose folder already holds a metrics.json is not run again, so an
interrupted table resumes where it stopped and a finished one is only
printed. Writes --out/ablation.json and prints the table in Markdown.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from minicnn.recipes.experiment import write_json  # noqa: E402
from minicnn.recipes.zoo import FAST_BUDGETS, FAST_TRICKS  # noqa: E402

SEEDS = (0, 1, 2)
ROWS = tuple(f'seed-{seed}' for seed in SEEDS) + \
    tuple(f'without-{trick}' for trick in FAST_TRICKS if trick != 'tta')


def row_settings(row):
    """(seed, tricks left out) of one row: 'seed-1' is (1, []), 'without-dirac' (0, ['dirac'])."""
    kind, _, value = row.partition('-')
    return (int(value), []) if kind == 'seed' else (0, [value])


def train_options(row):
    """The ``minicnn train`` options of one row, such as ['--without', 'dirac', '--seed', '0']."""
    seed, without = row_settings(row)
    return (['--without', *without] if without else []) + ['--seed', str(seed)]


def run_row(row, budget, folder):
    """metrics.json of one row, training it first (in a child process) unless it exists.
    A metrics.json from another budget, seed or set of tricks is refused, not used."""
    path = folder / 'metrics.json'
    if not path.exists():
        command = [sys.executable, '-m', 'minicnn', 'train', 'fast', '--budget', budget,
                   '--quiet', '--out', str(folder)] + train_options(row)
        print(' '.join(command[1:]), flush=True)
        subprocess.run(command, check=True)
    metrics = json.loads(path.read_text())
    seed, without = row_settings(row)
    found = (metrics.get('budget'), metrics.get('seed'), metrics.get('without'))
    if found != (budget, seed, without):
        raise ValueError(f'fast_ablation: {path} holds a run with budget, seed, without = '
                         f'{found}, not the {(budget, seed, without)} of row {row!r}')
    return metrics


def mean(values):
    return sum(values) / len(values)


def table(records):
    """Markdown rows: each run's accuracies, and its difference from the recipe's mean."""
    recipe = [records[row] for row in records if row.startswith('seed-')]
    base = mean([r['test_accuracy'] for r in recipe])
    base_tta = mean([r['tta_test_accuracy'] for r in recipe])
    lines = ['| run | test accuracy | with TTA | vs recipe (with TTA) | s/epoch |',
             '|---|---:|---:|---:|---:|']
    for row, r in records.items():
        tta = r['tta_test_accuracy']
        lines.append(f"| {row} | {100 * r['test_accuracy']:.2f}% | {100 * tta:.2f}% | "
                     f"{100 * (tta - base_tta):+.2f} | {r['seconds_per_epoch']:.1f} |")
    low = min(r['tta_test_accuracy'] for r in recipe)
    high = max(r['tta_test_accuracy'] for r in recipe)
    lines.append(f'| without-tta (the recipe runs, no TTA) | {100 * base:.2f}% (mean) | | '
                 f'{100 * (base - base_tta):+.2f} | |')
    lines.append('')
    lines.append(f'The recipe over seeds {", ".join(str(s) for s in SEEDS[:len(recipe)])}: '
                 f'{100 * base_tta:.2f}% with TTA on average, from {100 * low:.2f}% to '
                 f'{100 * high:.2f}%.')
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--budget', default='short', choices=sorted(FAST_BUDGETS),
                        help='a fast_recipe.BUDGETS preset (default: short)')
    parser.add_argument('--rows', default=','.join(ROWS),
                        help=f'comma-separated, of {",".join(ROWS)} (default: all)')
    parser.add_argument('--out', default='bench-results/fast_ablation')
    args = parser.parse_args(argv)
    rows = [row for row in args.rows.split(',') if row]
    unknown = sorted(set(rows) - set(ROWS))
    if unknown:
        parser.error(f'--rows: unknown rows {unknown}; choose from {list(ROWS)}')
    if not any(row.startswith('seed-') for row in rows):
        parser.error('--rows: name at least one seed-N row: the others are compared with it')
    out = pathlib.Path(args.out) / args.budget
    records = {row: run_row(row, args.budget, out / row) for row in rows}
    write_json(out / 'ablation.json', {'machine': os.uname().machine, 'cores': os.cpu_count(),
                                       'budget': args.budget, 'runs': records})
    print(table(records))


if __name__ == '__main__':
    main()
