"""The guided tour in docs/tour runs: every Python block of every chapter, in
order, so that the tour can never go stale. Chapters 6 and 7 share one
session (7 looks inside the network that 6 trains), on a tiny CIFAR-10."""
import pathlib
import re

import matplotlib
import pytest

TOUR = pathlib.Path(__file__).resolve().parent.parent / 'docs' / 'tour'
SESSIONS = [['01_tensor_and_backward.md'], ['02_convolution.md'], ['03_pooling.md'],
            ['04_softmax_cross_entropy.md'], ['05_optimizer_step.md'],
            ['06_training.md', '07_looking_inside.md'], ['08_training_fast.md'],
            ['09_backend_functions.md']]


def python_blocks(chapter):
    return re.findall(r'^```python\n(.*?)^```', (TOUR / chapter).read_text(), re.S | re.M)


def test_every_chapter_is_in_a_session_and_linked_from_the_index():
    chapters = sorted(p.name for p in TOUR.glob('[0-9]*.md'))
    assert sorted(c for session in SESSIONS for c in session) == chapters
    index = (TOUR / 'README.md').read_text()
    assert all(f']({c})' in index for c in chapters)


def test_every_linked_source_file_exists():
    for chapter in TOUR.glob('[0-9]*.md'):
        for link in re.findall(r'\]\((\.\./\.\./[^)]+)\)', chapter.read_text()):
            assert (chapter.parent / link).resolve().exists(), f'{chapter.name}: {link}'


@pytest.mark.parametrize('session', SESSIONS, ids=lambda s: s[0].split('_')[0])
def test_the_chapter_runs(session, tiny_data, tmp_path, monkeypatch):
    monkeypatch.setenv('MINICNN_DATA', str(tiny_data))
    monkeypatch.setenv('MINICNN_HOME', str(tmp_path / 'cache'))
    monkeypatch.chdir(tmp_path)
    matplotlib.use('Agg')
    namespace = {'__name__': '__tour__'}
    for chapter in session:
        blocks = python_blocks(chapter)
        assert blocks, f'{chapter} has no code'
        for i, block in enumerate(blocks):
            exec(compile(block, f'{chapter} block {i + 1}', 'exec'), namespace)
