"""Peak memory of a training step, measured in a fresh process for each
(model, implementation), so that no other run's buffers count:

    python -m benchmarks.memory MODEL IMPL BATCH THREADS STEPS    (from the repo root)

The method is one for NumPy, Numba and PyTorch alike: resident memory
(RSS), which counts every library's buffers. The probe builds the model and
its batch and trains one step on a single image, which loads the libraries
and Numba's compiled kernels and makes the gradients and the optimizer's
slots. Then it notes the resident memory, restarts the kernel's high-water
mark of it (VmHWM, what ``ru_maxrss`` reports) from there (after handing
the memory freed so far back to the system), trains STEPS
steps on the whole batch, and prints the high-water mark minus the
baseline, in MB: what a batch costs beyond the model and its optimizer,
mostly the activations kept for backward, and temporaries. Loading the
Numba kernels alone takes over 100 MB, and importing PyTorch peaks above
where it settles: hence the warm-up step and the restart. Linux >= 4.0.
"""
import pathlib
import statistics
import subprocess
import sys

from benchmarks import report, steps, timing
from minicnn.kernels import allocator

ROOT = pathlib.Path(__file__).resolve().parent.parent


def memory_mb(field):
    """This process's 'VmRSS' (resident memory now) or 'VmHWM' (its high-water mark), MB."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024  # the kernel counts kB


def restart_peak():
    """Set the high-water mark VmHWM back to the resident memory now."""
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')


def probe(model_name, impl_name, batch, threads, n_steps):
    """In this process: MB that n_steps training steps add to the resident peak."""
    impl = timing.make_impl(impl_name, threads)
    x, ids = steps.random_batch(model_name, batch)
    step, x, y = steps.trainer(impl, model_name, x, ids)
    step(x[:1], y[:1])
    # minicnn has glibc keep freed memory for reuse (minicnn/kernels/allocator.py):
    # handed back first, it does not sit in the baseline for the steps to reuse.
    allocator.release_free_memory()
    baseline = memory_mb('VmRSS')
    restart_peak()
    for _ in range(n_steps):
        step(x, y)
    return memory_mb('VmHWM') - baseline


def peak_mb(model_name, impl_name, batch, threads, n_steps):
    """Run ``probe`` in a fresh Python process; its result in MB."""
    args = [model_name, impl_name, str(batch), str(threads), str(n_steps)]
    done = subprocess.run([sys.executable, '-m', 'benchmarks.memory', *args],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"memory probe {' '.join(args)} failed:\n{done.stderr}")
    return float(done.stdout.split()[-1])


def add_peaks(rows, batch, threads, n_steps, rounds=1):
    """Give each row of steps.run its 'peak_mb' and 'peak_vs_torch': the median
    over ``rounds`` probes, the implementations taking turns in each round (a
    process's peak varies by tens of MB from run to run: its allocator and
    thread stacks). The GPU's rows get None: host memory says little about a
    GPU run."""
    keys = list(dict.fromkeys((row['model'], row['impl']) for row in rows
                              if row['impl'] != 'cupy'))
    probes = {key: [] for key in keys}
    for round_ in range(rounds):
        for key in keys:
            report.progress(f'memory {round_ + 1}/{rounds}: {key[0]} with {key[1]}')
            probes[key].append(peak_mb(*key, batch, threads, n_steps))
    peaks = {key: statistics.median(values) for key, values in probes.items()}
    for row in rows:
        row['peak_mb'] = peaks.get((row['model'], row['impl']))
        row['peak_vs_torch'] = report.ratio(row['peak_mb'], peaks.get((row['model'], 'torch')))


if __name__ == '__main__':
    model, impl, batch, threads, n_steps = sys.argv[1:]
    print(f'{probe(model, impl, int(batch), int(threads), int(n_steps)):.1f}')
