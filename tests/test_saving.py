"""Checkpoints: whole-model files, exact resume, and files that are not right."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from minicnn import saving, utils
from minicnn.callbacks import LambdaCallback, ModelCheckpoint
from minicnn.models import Sequential, load_model
from minicnn.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from minicnn.optimizers import Adam
from minicnn.saving import ModelFileError

from synthetic import plus_or_cross


def small_cnn():
    return Sequential([
        Conv2D(4, 3, padding='same', activation='relu', input_shape=(10, 10, 1)),
        MaxPooling2D(), Dropout(0.3), Flatten(), Dense(2, activation='softmax')])


def compiled(model):
    model.compile(Adam(learning_rate=0.01), 'sparse_categorical_crossentropy', ['accuracy'])
    return model


def test_save_and_load_model_round_trip(tmp_path):
    x, y = plus_or_cross(64)
    model = compiled(small_cnn())
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / 'm.minicnn')
    loaded = load_model(tmp_path / 'm.minicnn')
    np.testing.assert_array_equal(model.predict(x), loaded.predict(x))
    assert loaded.epochs_done == 2 and loaded.optimizer.iterations == model.optimizer.iterations
    assert [type(layer).__name__ for layer in loaded.layers] == \
        [type(layer).__name__ for layer in model.layers]
    assert saving.saved_history(tmp_path / 'm.minicnn')['loss'] == model.history.history['loss']
    assert os.listdir(tmp_path) == ['m.minicnn']


def resume_script(tmp_path, augment):
    """Train 4 epochs straight, or 2 + save + (new process) load + 2 more."""
    return textwrap.dedent(f'''
        import sys
        import numpy as np
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from minicnn import utils
        from minicnn.models import load_model
        from minicnn.preprocessing.image import ImageDataGenerator
        from synthetic import plus_or_cross
        from test_saving import compiled, small_cnn

        x, y = plus_or_cross(96)
        def data():
            if {augment}:
                flow = ImageDataGenerator(width_shift_range=0.2, horizontal_flip=True).flow(
                    x, y, batch_size=16)
                return dict(x=flow)
            return dict(x=x, y=y, batch_size=16)
        stage = sys.argv[1]
        if stage == 'straight':
            utils.set_seed(3)
            model = compiled(small_cnn())
            model.fit(**data(), epochs=4, verbose=0)
        elif stage == 'first':
            utils.set_seed(3)
            model = compiled(small_cnn())
            model.fit(**data(), epochs=2, verbose=0)
            model.save({str(tmp_path / 'half.minicnn')!r})
        else:
            model = load_model({str(tmp_path / 'half.minicnn')!r})
            model.fit(**data(), epochs=4, initial_epoch=model.epochs_done, verbose=0)
        np.savez({str(tmp_path)!r} + '/' + stage + '.npz', *model.get_weights())
    ''')


@pytest.mark.parametrize('augment', [False, True])
def test_resume_in_a_new_process_is_bit_identical(tmp_path, augment):
    script = tmp_path / 'run.py'
    script.write_text(resume_script(tmp_path, augment))
    for stage in ('straight', 'first', 'second'):
        subprocess.run([sys.executable, str(script), stage], check=True, timeout=120)
    straight, resumed = np.load(tmp_path / 'straight.npz'), np.load(tmp_path / 'second.npz')
    for name in straight.files:
        np.testing.assert_array_equal(straight[name], resumed[name])


def test_same_seed_same_weights():
    x, y = plus_or_cross(64)
    runs = []
    for _ in range(2):
        utils.set_seed(11)
        model = compiled(small_cnn())
        model.fit(x, y, epochs=2, verbose=0)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_model_checkpoint_names_and_best_only(tmp_path):
    x, y = plus_or_cross(64)
    model = compiled(small_cnn())
    every = ModelCheckpoint(tmp_path / 'ep{epoch:02d}-{loss:.3f}.minicnn', monitor='loss')
    best = ModelCheckpoint(tmp_path / 'best.npz', monitor='val_accuracy', save_best_only=True,
                           save_weights_only=True)
    model.fit(x, y, epochs=3, verbose=0, validation_split=0.25, callbacks=[every, best])
    names = sorted(os.listdir(tmp_path))
    assert [n[:4] for n in names if n.startswith('ep')] == ['ep01', 'ep02', 'ep03']
    assert 'best.npz' in names and not [n for n in names if n.endswith('.tmp')]
    assert load_model(tmp_path / [n for n in names if n.startswith('ep03')][0]).epochs_done == 3


def test_truncated_foreign_and_other_architecture_files(tmp_path):
    x, y = plus_or_cross(16)
    model = compiled(small_cnn())
    model.fit(x, y, epochs=1, verbose=0)
    good = tmp_path / 'good.minicnn'
    model.save(good)
    truncated = tmp_path / 'truncated.minicnn'
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ModelFileError, match='truncated'):
        load_model(truncated)
    foreign = tmp_path / 'foreign.npz'
    np.savez(foreign, np.zeros(3))
    with pytest.raises(ModelFileError, match='not a minicnn model file'):
        load_model(foreign)
    text = tmp_path / 'notes.txt'
    text.write_text('hello')
    with pytest.raises(ModelFileError, match='not a minicnn model file'):
        load_model(text)
    other = Sequential([Flatten(input_shape=(10, 10, 1)), Dense(3)])
    with pytest.raises(ValueError, match=r"Sequential 'sequential.*' has 2 weight arrays, got 4"):
        other.load_weights(good)


def test_a_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    x, y = plus_or_cross(16)
    model = compiled(small_cnn())
    path = tmp_path / 'ckpt.minicnn'
    model.save(path)
    before = path.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(np, 'savez', disk_full)
    with pytest.raises(OSError, match='No space left'):
        model.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ['ckpt.minicnn']


@pytest.mark.filterwarnings('ignore:overflow encountered', 'ignore:invalid value encountered')
def test_a_nan_loss_keeps_the_last_good_checkpoint(tmp_path):
    x, y = plus_or_cross(64)
    model = compiled(small_cnn())
    path = tmp_path / 'last.minicnn'

    def explode(epoch, logs):  # after a good first epoch, make the next one diverge
        model.optimizer.learning_rate = 1e30
    with pytest.warns(RuntimeWarning, match='epoch 2'):
        model.fit(x, y, batch_size=8, epochs=3, verbose=0,
                  callbacks=[ModelCheckpoint(path, monitor='loss'), LambdaCallback(on_epoch_end=explode)])
    saved = load_model(path)
    assert saved.epochs_done == 1
    assert all(np.isfinite(w).all() for w in saved.get_weights())
