"""Running a program under real Keras 3 (torch backend) in a child process,
for the tests that compare minicnn with it. A child, because importing torch
in the test process changes minicnn's thread set-up (minicnn/kernels/threads.py)."""
import json
import os
import subprocess
import sys

import pytest


def run_in_keras3(source):
    """The JSON that ``program(keras, np)``, defined in ``source``, returns under
    Keras 3; skips the test where Keras 3 does not run."""
    script = (f'import json, numpy as np, keras\n{source}\n'
              f'print(json.dumps(program(keras, np)))\n')
    env = {**os.environ, 'KERAS_BACKEND': 'torch'}
    run = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                         env=env, timeout=300)
    if run.returncode != 0:
        pytest.skip(f'Keras 3 did not run: {run.stderr.strip().splitlines()[-1]}')
    return json.loads(run.stdout.strip().splitlines()[-1])


def flat(value):
    """Every number of nested lists and dicts (dicts by sorted key), in order:
    lists of weights have ragged shapes."""
    if isinstance(value, dict):
        return [number for key in sorted(value) for number in flat(value[key])]
    if isinstance(value, (list, tuple)):
        return [number for item in value for number in flat(item)]
    return [value]
