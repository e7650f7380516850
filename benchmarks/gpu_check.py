"""Prove minicnn's GPU path on a lent GPU machine, and time it against PyTorch.

    python benchmarks/gpu_check.py OUT_DIR [--quick] [--no-install]

Preparation, on the machine that holds the checkout (the ``../shared``
folder beside it does not travel to the device machine, so CIFAR-10 must
travel inside the working tree, in the folder ``.data/`` that git ignores)::

    mkdir -p .data && cp ../shared/data/cifar10-jpg.tar.gz .data/

then on the device machine (the device tool's ``carry`` naming ``.data``)::

    MINICNN_DATA=.data python benchmarks/gpu_check.py gpu-check

The stages, in order, each in a child process with its own time limit
(``STAGES``; 480 s in all at most), so that one that fails or hangs loses
only its own result:

    install       pip install --no-deps --no-build-isolation -e . (not with --no-install)
    versions      GPU, driver, CUDA runtime, CuPy, NumPy, Numba, PyTorch; the check
                  stops here, saying why, where CuPy or a CUDA device is missing
    tests         pytest -m gpu: tests/test_gpu.py, and tests/test_kernels_gpu.py,
                  which compares every CUDA kernel with its reference
    steps-strict  a training step of every tutorial network (minicnn.recipes.zoo) with
                  minicnn on CuPy and its PyTorch twin on CUDA, in strict float32
    steps-tf32    the same with TF32 matrix products (CUPY_TF32=1; PyTorch's
                  allow_tf32 for cuBLAS and cuDNN)
    cifar10       CIFAR-10 from $MINICNN_DATA, decoded once into the cache
    epoch         one epoch of cnn-seed004 on CIFAR-10 (minicnn train's recipe)
    fast          the fast recipe at its full budget, end to end (minicnn train fast --full)

The steps are timed as ``benchmarks/steps.py`` times them: the two
frameworks take turns, the clock is read once the device has finished
(synchronised), and each figure is the median of the rounds.

Writes into OUT_DIR: ``gpu_check.json`` (rewritten after every stage, each
time to a temporary name then renamed; per stage its status, seconds and
result or error), ``gpu_check.log`` (every child's output) and the stages'
own files (``gpu_tests.xml``, ``seed004/``, ``fast-full/``). Exit status: 0
when every stage passed, 1 when one failed, 3 when CuPy or a CUDA device is
missing (one line on stderr says which). --quick runs every stage tiny: does it run?
"""
import argparse
import configparser
import contextlib
import dataclasses
import datetime
import importlib.metadata
import json
import os
import pathlib
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: find the package
    sys.path.insert(0, str(ROOT))
# This process and the versions stage use the standard library only, so that
# they report a device where minicnn cannot import yet (a requirement missing).

WHEELS = ROOT / '.data' / 'wheels'  # requirements the device lacks, carried as wheels
TOTAL_S = 480  # the whole check, so that it fits a 10-minute device command with room to spare
RESULT = 'gpu_check.json'
LOG = 'gpu_check.log'
NO_GPU_EXIT = 3
# Each child's result, read back by the parent: OUT_DIR/stages/NAME.json.
STAGE_RESULTS = 'stages'


@dataclasses.dataclass
class Stage:
    """One part of the check: the child command that does it, and its time limit."""
    name: str
    limit_s: float
    command: list
    env: dict = dataclasses.field(default_factory=dict)  # on top of os.environ


# ---- The stages, each run in a child: ``gpu_check.py OUT_DIR --stage NAME`` -----

def install(args):
    """The wheels in .data/wheels, if any, then the project, all without the network."""
    pip = [sys.executable, '-m', 'pip', 'install', '--no-index', '--no-deps']
    wheels = sorted(str(path) for path in WHEELS.glob('*.whl'))
    project = pip + ['--no-build-isolation', '-e', str(ROOT)]
    for command in ([pip + wheels] if wheels else []) + [project]:
        returncode = subprocess.run(command, cwd=ROOT).returncode
        if returncode:
            return {'wheels': wheels,
                    'failed': f"{' '.join(command[2:])} exited with {returncode}"}
    return {'wheels': wheels}


def versions(args):
    """What the figures were measured with. Where CuPy or a CUDA device is missing,
    ``stop`` says which, and the check goes no further."""
    found = {'python': platform.python_version(), 'platform': platform.platform(),
             'cores': os.cpu_count(), 'nvidia_smi': nvidia_smi(),
             **{name: installed(name) for name in ('numpy', 'numba', 'torch', 'pytest')},
             'cupy': installed('cupy-cuda13x') or installed('cupy'),
             'missing_requirements': [name for name in requirements() if not installed(name)]}
    try:
        from minicnn import devices
    except ImportError as err:
        return {**found, 'stop': f'minicnn does not import ({err}); carry the missing '
                                 f'requirements as wheels in .data/wheels'}
    try:
        cupy = devices.cupy()
    except RuntimeError as err:
        return {**found, 'stop': str(err)}
    runtime = cupy.cuda.runtime
    properties = runtime.getDeviceProperties(0)
    found.update({
        'gpu': properties['name'].decode(), 'gpus': runtime.getDeviceCount(),
        'compute_capability': f"{properties['major']}.{properties['minor']}",
        'gpu_memory_gib': properties['totalGlobalMem'] / 2**30,
        'cuda_driver': cuda_version(runtime.driverGetVersion()),
        'cuda_runtime': cuda_version(runtime.runtimeGetVersion()),
        'cupy': cupy.__version__})
    try:
        import torch
        found.update({'torch_cuda': torch.version.cuda, 'cudnn': torch.backends.cudnn.version(),
                      'torch_sees_gpu': torch.cuda.is_available()})
    except ImportError as err:
        found['torch_cuda'] = f'PyTorch does not import: {err}'
    return found


def installed(distribution):
    """The installed version of a distribution, or None."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def requirements():
    """The distribution names in setup.cfg's install_requires."""
    config = configparser.ConfigParser()
    config.read(ROOT / 'setup.cfg')
    return [re.split(r'[<>=!~;\[ ]', line.strip())[0]
            for line in config['options']['install_requires'].splitlines() if line.strip()]


def cuda_version(number):
    """CUDA's encoded version (1000 * major + 10 * minor) as 'major.minor'."""
    return f'{number // 1000}.{number % 1000 // 10}'


def nvidia_smi():
    """The GPU name and driver as nvidia-smi reports them, or why it could not."""
    try:
        result = subprocess.run(['nvidia-smi', '--query-gpu=name,driver_version',
                                 '--format=csv,noheader'], capture_output=True, text=True,
                                timeout=20)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f'not available: {err}'
    return result.stdout.strip() or f'exited with {result.returncode}: {result.stderr.strip()}'


def gpu_tests(args):
    """pytest -m gpu, with the counts from its JUnit XML report."""
    xml = args.out / 'gpu_tests.xml'
    command = [sys.executable, '-m', 'pytest', '-m', 'gpu', '-q', '-p', 'no:cacheprovider',
               f'--junitxml={xml}', 'tests']
    returncode = subprocess.run(command, cwd=ROOT).returncode
    counts = test_counts(xml)
    broken = counts['failures'] + counts['errors']
    problem = (f'{broken} GPU tests failed' if broken else
               'no GPU test ran' if counts['passed'] == 0 else None)
    return {'command': ' '.join(command[1:]), 'returncode': returncode, **counts,
            **({'failed': problem} if problem else {})}


def test_counts(xml):
    """{'passed', 'failures', 'errors', 'skipped', 'failed_tests'} from a JUnit XML report."""
    totals = {'tests': 0, 'failures': 0, 'errors': 0, 'skipped': 0}
    names = []
    for suite in ElementTree.parse(xml).getroot().iter('testsuite'):
        for key in totals:
            totals[key] += int(suite.get(key, 0))
        for case in suite.iter('testcase'):
            if case.find('failure') is not None or case.find('error') is not None:
                names.append(f"{case.get('classname')}::{case.get('name')}")
    return {'passed': totals['tests'] - totals['failures'] - totals['errors'] - totals['skipped'],
            'failures': totals['failures'], 'errors': totals['errors'],
            'skipped': totals['skipped'], 'failed_tests': names[:30]}


def training_steps(args):
    """Each tutorial network's step, minicnn on CuPy against PyTorch on CUDA."""
    import torch
    from benchmarks import steps, timing
    from minicnn.recipes import zoo
    tf32 = os.environ.get('CUPY_TF32') == '1'  # set by the parent: CuPy reads it on import
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = tf32
    threads = os.cpu_count()
    impls = [timing.make_impl('cupy', threads), timing.Torch(threads, device='cuda')]
    settings = {'batch_size': 4, 'warmup': 1, 'repeats': 1} if args.quick else \
        {'batch_size': 128, 'warmup': 3, 'repeats': 20}
    rows = steps.run(impls, list(zoo.RECIPES), settings['batch_size'], settings['warmup'],
                     settings['repeats'])
    return {'precision': 'tf32' if tf32 else 'strict float32', **settings,
            'cudnn_benchmark': torch.backends.cudnn.benchmark, 'rows': rows}


def cifar10(args):
    """Decode CIFAR-10 from $MINICNN_DATA once, so that the stages after read the cache."""
    from minicnn.datasets import cifar10
    start = time.perf_counter()
    (x_train, _), (x_test, _) = cifar10.load_data(path=os.environ['MINICNN_DATA'])
    return {'source': os.environ['MINICNN_DATA'], 'train': list(x_train.shape),
            'test': list(x_test.shape), 'seconds': time.perf_counter() - start}


def seed004_epoch(args):
    """One epoch of cnn-seed004 as ``minicnn train cnn-seed004 --epochs 1 --device gpu``
    trains it; its seconds_per_epoch include the evaluation on the test images."""
    from minicnn.recipes import experiment
    _, metrics = experiment.train('cnn-seed004', str(args.out / 'seed004'), epochs=1,
                                  subset=2048 if args.quick else None, device='gpu', verbose=0,
                                  overwrite=True)
    return without_history(metrics)


def fast_full(args):
    """The fast recipe at its full budget (--quick: the short one, one epoch, 2048 images)."""
    from minicnn import devices
    from minicnn.recipes import experiment, fast_recipe
    devices.set_device('gpu')
    if args.quick:
        _, metrics = fast_recipe.train(str(args.out / 'fast-quick'), budget='short', epochs=1,
                                       data=experiment.load('cifar10', subset=2048), verbose=0)
    else:
        _, metrics = fast_recipe.train(str(args.out / 'fast-full'), budget='full', verbose=0)
    return without_history(metrics)


def without_history(metrics):
    """A run's metrics less the per-epoch history, which stays in the run's metrics.json."""
    return {key: value for key, value in metrics.items() if key != 'history'}


STAGE_FUNCTIONS = {'install': install, 'versions': versions, 'tests': gpu_tests,
                   'steps-strict': training_steps, 'steps-tf32': training_steps,
                   'cifar10': cifar10, 'epoch': seed004_epoch, 'fast': fast_full}
LIMITS_S = {'install': 40, 'versions': 30, 'tests': 90, 'steps-strict': 50, 'steps-tf32': 50,
            'cifar10': 50, 'epoch': 40, 'fast': 120}
assert sum(LIMITS_S.values()) <= TOTAL_S


def run_in_child(args):
    """Do stage args.stage; write its result for the parent. Exits 1 where it failed."""
    result = STAGE_FUNCTIONS[args.stage](args)
    write_json(args.out / STAGE_RESULTS / f'{args.stage}.json', result)
    sys.exit(1 if result.get('failed') else 0)


# ---- The parent: runs the stages, each within its limit ------------------------

def stages(args):
    """The stages to run, as child commands with their limits and environments."""
    data = str(pathlib.Path(os.environ.get('MINICNN_DATA') or ROOT / '.data').resolve())
    names = [name for name in STAGE_FUNCTIONS if name != 'install' or not args.no_install]
    environments = {'steps-strict': {'CUPY_TF32': '0'}, 'steps-tf32': {'CUPY_TF32': '1'}}
    return [Stage(name, LIMITS_S[name],
                  [sys.executable, str(pathlib.Path(__file__).resolve()), str(args.out),
                   '--stage', name, *(['--quick'] if args.quick else [])],
                  {'MINICNN_DATA': data, **environments.get(name, {})})
            for name in names]


def run_stages(stage_list, out, total_s=TOTAL_S):
    """Run each stage in turn, recording it in out/gpu_check.json as it ends.

    A stage's result is what its child wrote to out/stages/NAME.json; a child
    that exits non-zero, writes nothing or outlives its limit fails that
    stage only. A result holding ``stop`` ends the check there.
    Returns the record.
    """
    out = pathlib.Path(out)
    (out / STAGE_RESULTS).mkdir(parents=True, exist_ok=True)
    record = {'command': ' '.join(sys.argv), 'started': now(), 'total_limit_s': total_s,
              'stages': {}, 'stopped': None}
    deadline = time.monotonic() + total_s
    for stage in stage_list:
        if record['stopped']:
            entry = {'status': 'not run', 'error': 'the check stopped before it'}
        elif deadline - time.monotonic() < 5:
            entry = {'status': 'not run', 'error': f'no time left of the {total_s} s'}
        else:
            entry = run_stage(stage, out, min(stage.limit_s, deadline - time.monotonic()))
            stop = (entry.get('result') or {}).get('stop')
            if stop:
                record['stopped'] = f'{stage.name}: {stop}'
        record['stages'][stage.name] = entry
        write_json(out / RESULT, record)
    record['finished'] = now()
    write_json(out / RESULT, record)
    with contextlib.suppress(OSError):  # each result has moved into the record
        (out / STAGE_RESULTS).rmdir()
    return record


def run_stage(stage, out, limit_s):
    """{'status', 'seconds', 'limit_s', 'result' or 'error'} of one stage's child."""
    result_path = out / STAGE_RESULTS / f'{stage.name}.json'
    result_path.unlink(missing_ok=True)  # never read an earlier run's result
    with open(out / LOG, 'a') as log:
        log.write(f'\n==== {stage.name} ({now()}, limit {limit_s:.0f} s)\n')
        log.flush()
        start = log.tell()
        seconds, returncode = run_limited(stage.command, {**os.environ, **stage.env}, log,
                                          limit_s)
    entry = {'seconds': round(seconds, 3), 'limit_s': round(limit_s, 1)}
    if result_path.is_file():
        entry['result'] = json.loads(result_path.read_text())
        result_path.unlink()
    if returncode is None:
        entry.update(status='timed out', error=f'killed after its limit of {limit_s:.0f} s')
    elif returncode == 0 and 'result' in entry:
        entry['status'] = 'ok'
    else:
        failed = entry.get('result', {}).get('failed')
        entry.update(status='failed', error=failed or
                     f'exited with {returncode}: {last_line(out / LOG, start)}')
    return entry


def run_limited(command, env, log, limit_s):
    """(seconds, exit status) of command, its output into log; status None when it was
    killed for outliving limit_s, with every process it started (its session)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
    try:
        returncode = child.wait(timeout=limit_s)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        returncode = None
    return time.perf_counter() - start, returncode


def last_line(path, start):
    """The last non-blank line written to path after offset start, or '(no output)'."""
    with open(path, errors='replace') as f:
        f.seek(start)
        lines = [line.strip() for line in f.read().splitlines() if line.strip()]
    return lines[-1] if lines else '(no output)'


def write_json(path, data):
    """Write data as JSON to a temporary name beside path, then rename it: a reader
    never sees half a file. (minicnn.fileio.atomic_write does this too, but this
    process must run where minicnn does not import.)"""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.', suffix='.tmp')
    try:
        os.fchmod(fd, 0o644)  # not mkstemp's 0600: others may read the results
        with os.fdopen(fd, 'w') as f:
            json.dump(data, f, indent=2)
            f.write('\n')
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')


def summary(record):
    """(one line per stage, the verdict in one line, the exit status)."""
    lines = [f"{name:13} {entry['status']:9} {entry.get('seconds', 0):6.1f} s"
             f"{'  ' + entry['error'] if 'error' in entry else ''}"
             for name, entry in record['stages'].items()]
    if record['stopped']:
        return lines, f"gpu_check: cannot check the GPU here: {record['stopped']}", NO_GPU_EXIT
    failed = [name for name, entry in record['stages'].items() if entry['status'] != 'ok']
    if failed:
        return lines, f"gpu_check: stages not passed: {', '.join(failed)}", 1
    return lines, 'gpu_check: every stage passed', 0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Check minicnn's GPU path on a CUDA machine and time it against PyTorch.")
    parser.add_argument('out', type=pathlib.Path, help='folder for gpu_check.json and the log')
    parser.add_argument('--quick', action='store_true', help='every stage tiny: does it run?')
    parser.add_argument('--no-install', action='store_true',
                        help='leave out the pip install (the project is installed already)')
    parser.add_argument('--stage', choices=list(STAGE_FUNCTIONS), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    args.out = args.out.resolve()
    if args.stage:
        run_in_child(args)
    record = run_stages(stages(args), args.out)
    lines, verdict, status = summary(record)
    with open(args.out / LOG, 'a') as log:
        log.write('\n'.join(['', '==== summary', *lines, verdict, '']))
    if status != NO_GPU_EXIT:  # where the check could not start, the verdict is all there is
        print('\n'.join(lines))
    print(verdict, file=sys.stderr)
    sys.exit(status)


if __name__ == '__main__':
    main()
