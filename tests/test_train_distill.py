"""Knowledge distillation (train/distill.py): which targets a teacher softens, and a teacher that cannot teach."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from train.distill import load_teacher, soft_targets


def _fixed_teacher(probs: np.ndarray) -> keras.Model:
    """A model reading any 28x28x1 batch of len(probs) images into these probabilities, row by row (the image's
    first pixel holds its row index)."""
    table = tf.constant(probs, tf.float32)
    inputs = keras.Input((28, 28, 1))
    rows = keras.layers.Lambda(lambda x: tf.gather(table, tf.cast(x[:, 0, 0, 0], tf.int32)))(inputs)
    return keras.Model(inputs, rows)


def test_only_digits_the_teacher_reads_right_get_its_softened_probabilities():
    probs = np.full((4, 11), 0.01, np.float32)
    probs[0, 3], probs[1, 5], probs[2, 7], probs[3, 10] = 0.88, 0.88, 0.88, 0.88
    teacher = _fixed_teacher(probs)
    images = np.zeros((4, 28, 28, 1), np.float32)
    images[:, 0, 0, 0] = np.arange(4)
    labels = np.array([3, 6, 10, 10])  # read right; misread (a 6 read as 5); a non-digit read as 7; one read right
    _, targets = soft_targets(teacher, 11, weight=0.5, temperature=2.0)(tf.constant(images), tf.constant(labels))
    targets = targets.numpy()
    np.testing.assert_allclose(targets.sum(1), 1.0, atol=1e-6)
    digits = probs[0, :10] / probs[0, :10].sum()
    softened = np.sqrt(digits) / np.sqrt(digits).sum()  # T = 2
    expected = 0.5 * np.eye(11)[3] + 0.5 * np.append(softened, 0.0)
    np.testing.assert_allclose(targets[0], expected, atol=1e-5)
    assert targets[0, 3] < 1 and targets[0, 10] == 0  # taught that a 3 can look a little like the others
    for row, label in ((1, 6), (2, 10), (3, 10)):  # the teacher's guesses are never taught
        np.testing.assert_array_equal(targets[row], np.eye(11)[label])


def test_a_teacher_that_cannot_teach_is_refused_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_teacher(tmp_path / "missing.keras")
    (tmp_path / "junk.keras").write_bytes(b"PK\x03\x04 not a keras archive")
    with pytest.raises(ValueError, match="not a readable .keras model"):
        load_teacher(tmp_path / "junk.keras")
    wrong = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)])
    wrong.save(tmp_path / "cifar.keras")
    with pytest.raises(ValueError, match=r"reads \(32, 32, 3\) into 10 outputs"):
        load_teacher(tmp_path / "cifar.keras")
    with pytest.raises(ValueError, match="teacher weight"):
        soft_targets(_fixed_teacher(np.eye(10, dtype=np.float32)), 10, weight=0.0, temperature=2.0)


def test_a_distilled_run_records_its_teacher_and_resumes_with_it_from_anywhere(mnist_path, tmp_path, monkeypatch):
    """The teacher (and the data) are saved as absolute paths: --resume reads them again, maybe from another
    folder (a relative --teacher was "no such file" there: fresh-clone review)."""
    from train.cli import main

    monkeypatch.chdir(tmp_path)
    common = ["--model", "linear_l2", "--limit", "600", "--quiet", "--data", str(mnist_path)]
    assert main([*common, "--epochs", "1", "--out", "teacher"]) == 0
    assert main([*common, "--epochs", "2", "--teacher", "teacher/model.keras", "--teacher-weight", "0.7",
                 "--out", "student"]) == 0
    config = json.loads((tmp_path / "student" / "config.json").read_text())
    assert (config["teacher"], config["teacher_weight"], config["teacher_temperature"]) == \
        (str(tmp_path / "teacher" / "model.keras"), 0.7, 2.0)
    assert json.loads((tmp_path / "student" / "metrics.json").read_text())["epochs"] == 2
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["--resume", str(tmp_path / "student"), "--quiet"]) == 0


@pytest.mark.parametrize("argv, message", [
    (["--teacher", "{tmp}/missing.keras"], "no such file"),
    (["--teacher", "{tmp}"], "a folder"),
    (["--teacher-weight", "0"], "--teacher-weight must be in (0, 1]"),
    (["--teacher-weight", "nan"], "--teacher-weight must be in (0, 1]"),
    (["--teacher-temperature", "-1"], "--teacher-temperature must be a positive number"),
    (["--teacher-weight", "0.3"], "needs --teacher"),  # recorded and unused, before (fresh-clone review)
    (["--teacher-temp=1"], "needs --teacher"),
])
def test_bad_teacher_options_are_refused_before_training(tmp_path, capsys, argv, message):
    from train.cli import main

    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    with pytest.raises(SystemExit) as stop:
        main(["--model", "mlp", "--out", str(tmp_path / "run"), *argv])
    assert stop.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_teachers_that_are_not_one_probability_output_are_refused(tmp_path):
    """Attack review: a two-output teacher raised a TypeError (exit 1); a teacher of raw scores (no softmax) was
    taken and taught nonsense."""
    inputs = keras.Input((28, 28, 1))
    flat = keras.layers.Flatten()(inputs)
    keras.Model(inputs, [keras.layers.Dense(10, activation="softmax")(flat),
                         keras.layers.Dense(10, activation="softmax")(flat)]).save(tmp_path / "two.keras")
    with pytest.raises(ValueError, match="1 inputs and 2 outputs"):
        load_teacher(tmp_path / "two.keras")
    keras.Model(inputs, keras.layers.Dense(10)(flat)).save(tmp_path / "scores.keras")
    with pytest.raises(ValueError, match="not probabilities"):
        load_teacher(tmp_path / "scores.keras")


def test_a_low_temperature_teaches_the_argmax_not_nan():
    """Attack review: probabilities ** (1 / T) underflowed to 0 for every class at T 0.01 (0 / 0: NaN targets, a
    NaN loss and a run that still reported success)."""
    probs = np.full((1, 10), 0.1, np.float32)
    probs[0, 4] = 0.1001
    images = np.zeros((1, 28, 28, 1), np.float32)
    for temperature in (1e-2, 1e-9):
        _, targets = soft_targets(_fixed_teacher(probs / probs.sum()), 11, 1.0, temperature)(tf.constant(images),
                                                                                            tf.constant([4]))
        assert np.isfinite(targets.numpy()).all() and int(targets.numpy().argmax()) == 4


def test_an_11_output_teacher_reads_right_only_when_not_a_digit_is_not_its_answer():
    probs = np.zeros((1, 11), np.float32)
    probs[0, 3], probs[0, 10] = 0.2, 0.8  # its best digit is the label, but it says "not a digit"
    _, targets = soft_targets(_fixed_teacher(probs), 11, 0.5, 2.0)(tf.constant(np.zeros((1, 28, 28, 1), np.float32)),
                                                                  tf.constant([3]))
    np.testing.assert_array_equal(targets.numpy()[0], np.eye(11)[3])


@pytest.mark.parametrize("edit", [{"teacher_weight": "0.5"}, {"teacher_weight": None},
                                  {"teacher_temperature": "x"}, {"teacher_temperature": float("inf")},
                                  {"teacher": 5}, {"teacher": ["a"]}])
def test_a_hand_edited_run_config_with_bad_teacher_fields_is_one_line_and_exit_2(mnist_path, tmp_path, capsys, edit):
    from train.cli import main

    run = tmp_path / "run"
    run.mkdir()
    config = {"model": "linear_l2", "epochs": 1, "limit": 600, "data": str(mnist_path), **edit}
    (run / "config.json").write_text(json.dumps(config))
    assert main(["--resume", str(run), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "teacher" in err and "Traceback" not in err
    assert sorted(p.name for p in run.iterdir()) == ["config.json"]
