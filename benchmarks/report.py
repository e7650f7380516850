"""What the suite shows: progress, the machine record, tables, JSON and a bar chart.

Everything is drawn from the record that ``run`` writes to bench.json, so a
saved record can be shown again. Progress goes to stderr, leaving stdout to
the tables.
"""
import datetime
import importlib.metadata
import json
import math
import os
import platform
import sys

import numba
import numpy as np
from matplotlib.figure import Figure

import minicnn
from minicnn import devices
from minicnn.fileio import atomic_write


def progress(message):
    print(message, file=sys.stderr, flush=True)


def ratio(a, b):
    """a / b, or None when either is unknown or b is not positive."""
    return a / b if a is not None and b is not None and b > 0 else None


# -- the machine -------------------------------------------------------------

def cpu_model():
    """The processor's name from /proc/cpuinfo (Linux), else what platform knows."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def blas():
    """The BLAS behind NumPy's matrix products, which minicnn's layers spend most time in."""
    try:
        info = np.show_config(mode='dicts')['Build Dependencies']['blas']
    except TypeError:  # NumPy < 1.26 cannot say
        return None
    return f"{info.get('name')} {info.get('version', '')}".strip()


def installed_version(package):
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def gpu():
    """(CuPy version, GPU name), or (None, None) without a usable GPU."""
    if not devices.gpu_available():
        return None, None
    cupy = devices.cupy()
    return cupy.__version__, cupy.cuda.runtime.getDeviceProperties(0)['name'].decode()


def machine():
    """Where the numbers come from: processor, cores, GPU, versions, date."""
    cupy_version, gpu_name = gpu()
    return {
        'cpu': cpu_model(), 'cores': os.cpu_count(), 'os': platform.platform(),
        'python': platform.python_version(), 'minicnn': minicnn.__version__,
        'numpy': np.__version__, 'blas': blas(), 'numba': numba.__version__,
        'torch': installed_version('torch'), 'cupy': cupy_version, 'gpu': gpu_name,
        'date': datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
    }


# -- tables ------------------------------------------------------------------

def number(value, digits=3):
    """value to about ``digits`` significant digits, never in e-notation; None is '-'."""
    if value is None:
        return '-'
    magnitude = math.floor(math.log10(abs(value))) if value else 0
    return f'{value:.{max(0, digits - 1 - magnitude)}f}'


def text_table(headers, rows):
    """Aligned plain text: the first column to the left, the others to the right."""
    cells = [headers, *rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row):
        return '  '.join(cell.ljust(w) if i == 0 else cell.rjust(w)
                         for i, (cell, w) in enumerate(zip(row, widths)))
    return '\n'.join([line(headers), '-' * len(line(headers)), *map(line, rows)])


def ops_table(record):
    settings, labels = record['settings'], record['settings']['impls']
    rows = [[r['op'], *(' / '.join(number(ms) for ms in r['ms'][name].values())
                        for name in labels)] for r in record['ops']]
    return (f"Operations: median ms per call, forward / backward "
            f"(batch {settings['batch_size']}, {settings['repeats']} rounds)\n"
            + text_table(['operation', *labels.values()], rows))


def steps_table(record):
    settings, labels = record['settings'], record['settings']['impls']
    rows = [[r['model'], labels[r['impl']], number(r['ms_per_step']), number(r['images_per_s']),
             number(r['seconds_per_epoch']), number(r['vs_torch']),
             number(r.get('peak_mb')), number(r.get('peak_vs_torch'))] for r in record['steps']]
    return (f"Training steps: median of {settings['repeats']} rounds, batch "
            f"{settings['batch_size']}; s/epoch = one pass over the training set; peak MB = "
            f"resident memory a step adds (see benchmarks/memory.py)\n"
            + text_table(['model', 'implementation', 'ms/step', 'images/s', 's/epoch',
                          'x PyTorch', 'peak MB', 'x PyTorch'], rows))


def tables(record):
    """The measured sections as text, training steps (the headline) last."""
    parts = [ops_table(record)] if record['ops'] else []
    if record['steps']:
        parts.append(steps_table(record))
    return '\n\n'.join(parts)


# -- files -------------------------------------------------------------------

def write_json(path, record):
    with atomic_write(path, 'w') as f:
        json.dump(record, f, indent=2)
        f.write('\n')


def bar_chart(path, record):
    """A PNG of grouped bars on a log scale: ms per training step of each model,
    and ms per op (forward + backward), one bar per implementation."""
    labels = record['settings']['impls']
    panels = []
    if record['steps']:
        per_model = {}
        for r in record['steps']:
            per_model.setdefault(r['model'], {})[labels[r['impl']]] = r['ms_per_step']
        panels.append((f"training step, batch {record['settings']['batch_size']}", per_model))
    if record['ops']:
        panels.append(('operation, forward + backward', {
            r['op']: {labels[name]: sum(ms.values()) for name, ms in r['ms'].items()}
            for r in record['ops']}))
    widest = max(len(groups) for _, groups in panels)
    fig = Figure(figsize=(max(8, 0.7 * widest), 4.5 * len(panels)), layout='constrained')
    for ax, (title, groups) in zip(fig.subplots(len(panels), 1, squeeze=False)[:, 0], panels):
        grouped_bars(ax, title, groups)
    with atomic_write(path) as f:
        fig.savefig(f, format='png', dpi=100)


def grouped_bars(ax, title, groups):
    """groups: {group name: {implementation label: ms}}; one cluster of bars per
    group, each bar labelled with its value when there are few."""
    names = list(dict.fromkeys(name for values in groups.values() for name in values))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        offset = (i - (len(names) - 1) / 2) * width
        bars = ax.bar([g + offset for g in range(len(groups))],
                      [values.get(name, np.nan) for values in groups.values()], width, label=name)
        if len(groups) <= 6:
            ax.bar_label(bars, fmt='{:.3g}', fontsize=8)
    tilted = len(groups) > 4  # long op names would overlap
    ax.set_xticks(range(len(groups)), list(groups), rotation=30 if tilted else 0,
                  ha='right' if tilted else 'center')
    ax.set_yscale('log')
    ax.set_ylabel('ms (log scale)')
    ax.set_title(title)
    ax.legend()
