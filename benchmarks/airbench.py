"""airbench94's own code beside minicnn's full recipe, on this machine's CIFAR-10.

    MINICNN_DATA=../shared/data python benchmarks/airbench.py     both (about 85 min, 2 cores)
    python benchmarks/airbench.py --quick      both at a tiny size: does it run? (a minute or two)
    python benchmarks/airbench.py --only airbench

airbench is Keller Jordan's package, the code behind github.com/KellerJordan/
cifar10-airbench, pinned here at **airbench==0.1.8**: ``pip install
airbench==0.1.8 --no-deps`` beside PyTorch (it is no dependency of minicnn's,
and CI does not run this). Its ``lib_airbench94.train94`` is the recipe that
minicnn.recipes.fast_recipe translates, and it runs here as published but for
these changes, made at run time in its own process, none in its files:

1. torchvision, which airbench imports for two things, is a stand-in
   (``torchvision_stand_in``): PyPI's torchvision wheels are built for
   PyTorch's CUDA build and fail to import beside its CPU build.
2. ``CifarLoader`` reads this copy of CIFAR-10 onto the CPU, as float32
   (``float32_cpu_loader``).
3. ``make_net94`` leaves out its ``.half().cuda()`` (``float32_cpu_net``).
4. ``torch.cuda.Event`` and ``torch.cuda.synchronize``, which airbench times
   its epochs with, are the wall clock and nothing.

2 and 4 are ``airbench_patches``, 3 is ``float32_cpu_net``'s; airbench's
process prints them, with the reason for each, before it trains.

Everything else (network, initialisation, whitening, schedule, lookahead,
alternating flips, 9.9 epochs of batches of 1024, the six-view test-time
augmentation) is airbench's, in PyTorch's default threads. Both sides read the
same images: this script loads CIFAR-10 once with minicnn's loader
(``minicnn.datasets``, MINICNN_DATA), and writes them for minicnn's child as
an .npz and for airbench's as the cifar10/train.pt and test.pt that its
CifarLoader saves from torchvision. --quick takes 3,072 training and 1,000
test images, widths 16/32/32 and 1.5 epochs (5 steps) on both sides.

Each side runs in a fresh Python process of its own, one after the other,
started with the environment this script was started with (importing
minicnn sets OMP_WAIT_POLICY and OPENBLAS_THREAD_TIMEOUT for its own pools,
minicnn/kernels/threads.py; airbench's PyTorch gets its defaults, and its
process never imports minicnn). For each: test accuracy without and with
test-time augmentation; seconds, the recipe's own call (training, each
epoch's test evaluation and the final test-time augmentation; not the start
of Python, the data's loading or the accuracies computed afterwards); the
whole process's seconds; its peak resident memory (its own high-water mark,
``own_peak_mb``); the optimizer steps it took. Writes --out/airbench.json and
prints the table.
"""
import argparse
import contextlib
import functools
import json
import os
import pathlib
import sys
import time
import types
from typing import NamedTuple

# Before minicnn is imported (by this script's parent side), which sets thread
# variables that airbench's process must not inherit (see the docstring).
STARTING_ENVIRONMENT = dict(os.environ)

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SIDES = ('airbench', 'minicnn')
# --quick: a few steps at a tiny size, the same on both sides: 1.5 epochs of 3 batches
# of 1024, ceil(4.5) = 5 steps, the second epoch stopping after 2 of its batches.
QUICK = {'train_images': 3072, 'test_images': 1000, 'widths': (16, 32, 32), 'epochs': 1.5}
DATA = 'data'            # the folder under --out that both sides read
CIFAR_CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse',
                 'ship', 'truck')


# -- airbench, changed at run time ---------------------------------------------

class Patch(NamedTuple):
    """Replace ``owner.name`` (a module's or a class's attribute) with ``replacement``."""
    owner: object
    name: str
    replacement: object
    why: str


def dotted_name(owner):
    """A module's name, or a class's with its module's."""
    if isinstance(owner, type):
        return f'{owner.__module__}.{owner.__qualname__}'
    return getattr(owner, '__name__', repr(owner))


@contextlib.contextmanager
def patched(patches):
    """Apply every patch, then put the originals back on leaving. A name that is
    not there raises before anything is replaced: another version of airbench
    or PyTorch must not run half changed."""
    missing = [f'{dotted_name(p.owner)}.{p.name}' for p in patches if not hasattr(p.owner, p.name)]
    if missing:
        raise AttributeError(f'benchmarks/airbench.py: nothing to patch at {", ".join(missing)}: '
                             f'not the airbench 0.1.8 and PyTorch this script was written for?')
    originals = [(p.owner, p.name, getattr(p.owner, p.name)) for p in patches]
    try:
        for p in patches:
            setattr(p.owner, p.name, p.replacement)
        yield
    finally:
        for owner, name, value in reversed(originals):
            setattr(owner, name, value)


def normalize_channels(mean, std):
    """torchvision.transforms.Normalize: (x - mean[c]) / std[c] on each channel
    c of a (..., C, H, W) tensor."""
    import torch

    def normalize(images):
        shape = (-1, 1, 1)
        return (images - torch.as_tensor(mean, dtype=images.dtype).view(shape)) \
            / torch.as_tensor(std, dtype=images.dtype).view(shape)
    return normalize


def no_download(*args, **kwargs):
    raise RuntimeError('benchmarks/airbench.py: airbench asked torchvision to download CIFAR-10; '
                       'its cifar10/train.pt and test.pt should have been written by this script')


def torchvision_stand_in():
    """The two names airbench takes from torchvision: transforms.Normalize, and
    datasets.CIFAR10, which it calls only to download CIFAR-10 when its
    cifar10/train.pt is missing (never here: this script writes it). Used on
    every machine, so that both sides run the same code everywhere."""
    package = types.ModuleType('torchvision', 'stand-in (benchmarks/airbench.py)')
    package.transforms = types.ModuleType('torchvision.transforms')
    package.transforms.Normalize = normalize_channels
    package.datasets = types.ModuleType('torchvision.datasets')
    package.datasets.CIFAR10 = no_download
    return {'torchvision': package, 'torchvision.transforms': package.transforms,
            'torchvision.datasets': package.datasets}


class WallClockEvent:
    """torch.cuda.Event's timing on the CPU: record() notes the time, and
    elapsed_time(later) is the milliseconds between the two records."""

    def __init__(self, enable_timing=False, **options):
        self.seconds = None

    def record(self, stream=None):
        self.seconds = time.perf_counter()

    def elapsed_time(self, later):
        return 1000 * (later.seconds - self.seconds)


def nothing_to_wait_for(device=None):
    """torch.cuda.synchronize on the CPU: its work is done when a call returns."""


def unchanged(module, *args, **kwargs):
    """nn.Module.half and .cuda left out: the module stays float32 on the CPU."""
    return module


def float32_cpu_loader(cifar_loader, folder):
    """airbench's CifarLoader class, changed to read ``folder``/train.pt or
    test.pt, whatever path it is given (airbench asks for 'cifar10' in the
    working folder), onto the CPU (airbench's default is CUDA device 0), its
    images float32 in [0, 1] where airbench makes them float16. The rest of
    the loader (normalization, flips, translations, batches) is airbench's."""
    import torch

    class Float32CpuLoader(cifar_loader):
        def __init__(self, path, train=True, *args, gpu=None, **kwargs):
            super().__init__(str(folder), train, *args, gpu='cpu', **kwargs)
            self.images = None  # its float16 images: let them go before the float32 ones come
            data = torch.load(os.path.join(folder, 'train.pt' if train else 'test.pt'))
            # airbench's conversion, in float32 where it has .half()
            self.images = data['images'].float().div_(255).permute(0, 3, 1, 2) \
                .to(memory_format=torch.channels_last)
    return Float32CpuLoader


def net_patches():
    """While make_net94 runs: the net.half().cuda() it ends with does nothing."""
    from torch import nn
    why = "airbench's network stays float32 on the CPU"
    return [Patch(nn.Module, 'half', unchanged, why), Patch(nn.Module, 'cuda', unchanged, why)]


def float32_cpu_net(make_net, **options):
    """``make_net(**options)`` under ``net_patches``: airbench's network, float32 on the CPU."""
    with patched(net_patches()):
        return make_net(**options)


def airbench_patches(airbench, loader):
    """What stays changed while airbench trains and is evaluated."""
    import torch
    return [
        Patch(airbench.utils, 'CifarLoader', loader,
              "utils.train's test set: this copy of CIFAR-10, on the CPU, float32"),
        Patch(airbench.lib_airbench94, 'CifarLoader', loader, "train94's training set: the same"),
        Patch(torch.cuda, 'Event', WallClockEvent, 'it times its epochs with CUDA events'),
        Patch(torch.cuda, 'synchronize', nothing_to_wait_for, 'and waits for the GPU first'),
    ]


def describe(patches):
    """One line per patch: what is replaced, and why."""
    return '\n'.join(f'  {dotted_name(p.owner)}.{p.name}: {p.why}' for p in patches)


def run_airbench(folder, data, quick, seed):
    """airbench94's train94 with the changes above; its accuracies from its own evaluate."""
    import torch  # first: its OpenMP reads this process's environment once, when loaded
    sys.modules.update(torchvision_stand_in())  # before airbench imports torchvision
    # Run as a script, this file's folder comes first on sys.path, and this file
    # is called airbench.py too: leave the folder out, to import the package.
    sys.path[:] = [p for p in sys.path if pathlib.Path(p or '.').resolve() != HERE]
    import airbench
    from importlib.metadata import version
    from torch.optim.optimizer import register_optimizer_step_post_hook
    torch.manual_seed(seed)
    steps = []
    register_optimizer_step_post_hook(lambda optimizer, args, kwargs: steps.append(1))
    loader = float32_cpu_loader(airbench.utils.CifarLoader, pathlib.Path(data) / 'cifar10')
    options = {'epochs': QUICK['epochs']} if quick else {}
    net_options = {'widths': dict(zip(('block1', 'block2', 'block3'), QUICK['widths']))} \
        if quick else {}
    make_net = functools.partial(float32_cpu_net, airbench.make_net94, **net_options)
    patches = airbench_patches(airbench, loader)
    print(f"airbench {version('airbench')}, changed at run time (and torchvision a stand-in):\n"
          f'{describe(patches + net_patches())}', flush=True)
    with patched(patches):
        start = time.perf_counter()
        model = airbench.train94(make_net=make_net, **options)
        seconds = time.perf_counter() - start
        test = loader('cifar10', train=False, batch_size=2000)
        return {'test_accuracy': airbench.evaluate(model, test, tta_level=0),
                'tta_test_accuracy': airbench.evaluate(model, test, tta_level=2),
                'seconds': seconds, 'steps': len(steps), 'airbench': version('airbench'),
                'torch': torch.__version__, 'torch_threads': torch.get_num_threads()}


# -- minicnn ------------------------------------------------------------------

def run_minicnn(folder, data, quick, seed):
    """minicnn's fast recipe at its full budget (its quick size with --quick)."""
    import numpy as np
    from minicnn.recipes import fast_recipe
    with np.load(pathlib.Path(data) / 'cifar10.npz') as arrays:
        images = ((arrays['x_train'], arrays['y_train']), (arrays['x_test'], arrays['y_test']))
    options = {'widths': QUICK['widths'], 'epochs': QUICK['epochs']} if quick else {}
    start = time.perf_counter()
    _, metrics = fast_recipe.train(folder, images, budget='full', seed=seed, **options)
    return {'test_accuracy': metrics['test_accuracy'],
            'tta_test_accuracy': metrics['tta_test_accuracy'],
            'seconds': time.perf_counter() - start, 'steps': metrics['steps'],
            'seconds_per_epoch': metrics['seconds_per_epoch']}


# -- the data both read, the runs, the table --------------------------------------

def load_cifar10(quick):
    """CIFAR-10 from minicnn's loader: uint8 images (N, 32, 32, 3), labels (N,);
    with ``quick``, QUICK's numbers of each, drawn at random (the files come
    sorted by class)."""
    import numpy as np
    from minicnn import datasets
    (x_train, y_train), (x_test, y_test) = datasets.cifar10.load_data()
    parts = []
    for x, y, size in ((x_train, y_train, QUICK['train_images']),
                       (x_test, y_test, QUICK['test_images'])):
        keep = np.sort(np.random.default_rng(0).permutation(len(x))[:size]) if quick \
            else slice(None)
        parts += [x[keep], y.ravel()[keep]]
    return parts


def write_data(folder, x_train, y_train, x_test, y_test, sides):
    """The images for each side: cifar10.npz for minicnn; for airbench,
    cifar10/train.pt and test.pt as its CifarLoader saves them from
    torchvision (uint8 images (N, 32, 32, 3), int64 labels, the class names)."""
    import numpy as np
    from minicnn.fileio import atomic_write
    folder = pathlib.Path(folder)
    if 'minicnn' in sides:
        with atomic_write(folder / 'cifar10.npz') as f:
            np.savez(f, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    if 'airbench' in sides:
        import torch  # here, in the parent, after minicnn
        for name, x, y in (('train', x_train, y_train), ('test', x_test, y_test)):
            with atomic_write(folder / 'cifar10' / f'{name}.pt') as f:
                torch.save({'images': torch.from_numpy(x), 'labels': torch.from_numpy(y).long(),
                            'classes': list(CIFAR_CLASSES)}, f)


def table(records):
    """The runs side by side, minicnn's time and memory also as a multiple of airbench's."""
    from benchmarks.report import number, ratio, text_table
    base = next((r for r in records if r['side'] == 'airbench'), None)
    rows = [[r['side'], f"{100 * r['test_accuracy']:.2f}%", f"{100 * r['tta_test_accuracy']:.2f}%",
             str(r['steps']), f"{r['seconds'] / 60:.1f}",
             number(ratio(r['seconds'], base and base['seconds'])), f"{r['peak_mb']:.0f}",
             number(ratio(r['peak_mb'], base and base['peak_mb']))] for r in records]
    return text_table(['side', 'test acc', 'with TTA', 'steps', 'minutes', 'x airbench',
                       'peak MB', 'x airbench'], rows)


def own_peak_mb():
    """This process's peak resident memory, MB: its high-water mark since it
    started (VmHWM, Linux). Not ru_maxrss, which in a child counts the resident
    memory of the process it was started from (Linux carries it over at exec).
    benchmarks/memory.py reads the same, but importing it imports minicnn,
    which airbench's process must not."""
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) for line in f if line.startswith('VmHWM:')) / 1024


def child(side, folder, data, quick, seed):
    """Run one side here; print its record as the last line."""
    run = run_airbench if side == 'airbench' else run_minicnn
    record = run(folder, data, quick, seed)
    print(json.dumps({'side': side, 'quick': quick, 'seed': seed, **record,
                      'peak_mb': own_peak_mb()}), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true',
                        help=f'a tiny run of both sides ({QUICK}), to see that it runs')
    parser.add_argument('--only', choices=SIDES)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default='bench-results/airbench')
    parser.add_argument('--child', choices=SIDES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    if args.child:
        return child(args.child, str(out / args.child), str(out / DATA), args.quick, args.seed)
    from benchmarks.fast_recipe import run_children, write_runs
    sides = [args.only] if args.only else list(SIDES)
    write_data(out / DATA, *load_cifar10(args.quick), sides)
    records = run_children(__file__, sides, ['--out', str(out), '--seed', str(args.seed)]
                           + (['--quick'] if args.quick else []), env=STARTING_ENVIRONMENT)
    write_runs(out / 'airbench.json', records, quick=args.quick, seed=args.seed)
    print(table(records))


if __name__ == '__main__':
    main()
