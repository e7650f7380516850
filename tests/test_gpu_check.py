"""benchmarks/gpu_check.py where there is no GPU: its arguments, its JSON
record, its version report, its clean stop without CuPy, and each stage
failing, hanging or stopping the check on its own."""
import importlib.util
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from minicnn import devices

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # benchmarks/ is a folder of the checkout, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks import gpu_check  # noqa: E402


def test_arguments():
    args = gpu_check.parse_args(['out'])
    assert (args.out, args.quick, args.no_install, args.stage) == (pathlib.Path('out'), False,
                                                                    False, None)
    assert gpu_check.parse_args(['out', '--quick', '--no-install']).no_install
    with pytest.raises(SystemExit):
        gpu_check.parse_args([])
    with pytest.raises(SystemExit):
        gpu_check.parse_args(['out', '--stage', 'nonsense'])


def test_stage_commands(monkeypatch, tmp_path):
    monkeypatch.setenv('MINICNN_DATA', '.data')
    stages = {stage.name: stage for stage in
              gpu_check.stages(gpu_check.parse_args([str(tmp_path), '--quick', '--no-install']))}
    assert list(stages) == [name for name in gpu_check.STAGE_FUNCTIONS if name != 'install']
    assert stages['steps-strict'].env['CUPY_TF32'] == '0'
    assert stages['steps-tf32'].env['CUPY_TF32'] == '1'
    for name, stage in stages.items():
        assert stage.command[-3:] == ['--stage', name, '--quick']
        assert stage.env['MINICNN_DATA'] == str((pathlib.Path.cwd() / '.data').resolve())
    assert sum(stage.limit_s for stage in stages.values()) <= gpu_check.TOTAL_S
    assert 'install' in [stage.name for stage in gpu_check.stages(gpu_check.parse_args(['o']))]


def test_json_is_written_whole_or_not_at_all(tmp_path):
    path = tmp_path / 'record.json'
    gpu_check.write_json(path, {'a': [1, None]})
    assert json.loads(path.read_text()) == {'a': [1, None]}
    with pytest.raises(TypeError):
        gpu_check.write_json(path, {'a': object()})
    assert json.loads(path.read_text()) == {'a': [1, None]}
    assert [p.name for p in tmp_path.iterdir()] == ['record.json']  # no temporary left


def test_versions_without_cupy(monkeypatch):
    monkeypatch.setitem(sys.modules, 'cupy', None)  # import cupy fails, even where installed
    monkeypatch.setitem(devices._state, 'cupy', None)
    found = gpu_check.versions(None)
    assert "needs CuPy, which is not installed" in found['stop']
    assert found['numpy'] == np.__version__
    assert found['missing_requirements'] == []
    assert {'numpy', 'numba', 'pillow'} <= set(gpu_check.requirements())
    assert gpu_check.cuda_version(13020) == '13.2'


def test_pytest_counts(tmp_path):
    xml = tmp_path / 'report.xml'
    xml.write_text(
        '<testsuites><testsuite tests="5" failures="1" errors="1" skipped="1">'
        '<testcase classname="tests.test_gpu" name="test_a"/>'
        '<testcase classname="tests.test_gpu" name="test_b"><failure/></testcase>'
        '<testcase classname="tests.test_gpu" name="test_c"><error/></testcase>'
        '</testsuite></testsuites>')
    assert gpu_check.test_counts(xml) == {
        'passed': 2, 'failures': 1, 'errors': 1, 'skipped': 1,
        'failed_tests': ['tests.test_gpu::test_b', 'tests.test_gpu::test_c']}


def child(name, code, limit_s=30):
    """A stub stage: Python code that may write its result with ``done(dict)``."""
    prelude = ('import json, pathlib, sys, time\n'
               f'def done(result): pathlib.Path(sys.argv[1], "stages", "{name}.json")'
               '.write_text(json.dumps(result))\n')
    return gpu_check.Stage(name, limit_s, [sys.executable, '-c', prelude + code, '{out}'])


def run_stubs(tmp_path, stubs, total_s=60):
    for stub in stubs:
        stub.command = [part.replace('{out}', str(tmp_path)) for part in stub.command]
    record = gpu_check.run_stages(stubs, tmp_path, total_s)
    assert json.loads((tmp_path / gpu_check.RESULT).read_text()) == record
    return record


def test_each_stage_fails_on_its_own(tmp_path):
    record = run_stubs(tmp_path, [
        child('raises', 'print("working"); raise ValueError("bad input 7")'),
        child('hangs', 'time.sleep(60)', limit_s=1),
        child('reports', 'done({"failed": "2 GPU tests failed", "passed": 3}); sys.exit(1)'),
        child('silent', 'pass'),
        child('works', 'done({"answer": 42})'),
    ])
    stages = record['stages']
    assert {name: entry['status'] for name, entry in stages.items()} == {
        'raises': 'failed', 'hangs': 'timed out', 'reports': 'failed', 'silent': 'failed',
        'works': 'ok'}
    assert stages['raises']['error'] == 'exited with 1: ValueError: bad input 7'
    assert stages['hangs']['seconds'] < 30
    assert stages['reports']['error'] == '2 GPU tests failed'
    assert stages['reports']['result']['passed'] == 3
    assert stages['silent']['error'] == 'exited with 0: (no output)'
    assert stages['works']['result'] == {'answer': 42}
    assert 'working' in (tmp_path / gpu_check.LOG).read_text()
    assert gpu_check.summary(record)[1:] == (
        'gpu_check: stages not passed: raises, hangs, reports, silent', 1)


def test_a_stop_ends_the_check(tmp_path):
    record = run_stubs(tmp_path, [child('versions', 'done({"stop": "no CUDA device"})'),
                                  child('after', 'done({})')])
    assert record['stopped'] == 'versions: no CUDA device'
    assert record['stages']['after']['status'] == 'not run'
    assert gpu_check.summary(record)[1:] == (
        'gpu_check: cannot check the GPU here: versions: no CUDA device', gpu_check.NO_GPU_EXIT)


def test_no_stage_starts_past_the_total_limit(tmp_path):
    record = run_stubs(tmp_path, [child('late', 'done({})')], total_s=1)
    assert record['stages']['late'] == {'status': 'not run', 'error': 'no time left of the 1 s'}


@pytest.mark.skipif(importlib.util.find_spec('cupy') is not None, reason='CuPy is installed')
def test_the_script_stops_cleanly_without_cupy(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / 'benchmarks' / 'gpu_check.py'),
                             str(tmp_path), '--no-install'], capture_output=True, text=True)
    assert result.returncode == gpu_check.NO_GPU_EXIT
    assert result.stdout == ''
    assert result.stderr.splitlines() == [
        "gpu_check: cannot check the GPU here: versions: device 'gpu' needs CuPy, which is not "
        "installed (pip install 'minicnn[gpu]')"]
    record = json.loads((tmp_path / gpu_check.RESULT).read_text())
    assert record['stopped'].startswith('versions: ')
    assert record['stages']['versions']['status'] == 'ok'
    assert {entry['status'] for entry in record['stages'].values()} == {'ok', 'not run'}
