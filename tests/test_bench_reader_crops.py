"""The reader's own crops as training data (bench/reader_crops.py): labels from the generator's truth."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from bench import field_scenes as fs
from bench.detector_reader import iou
from bench.reader_crops import MARKS, NOT_A_DIGIT, VALIDATION_SIZE, cut_apart, jobs, labelled, main, marks_frame, mine


def _crop(box, image=None):
    if image is None:  # a round mark: wide enough, not one stroke
        import cv2

        image = np.zeros((28, 28), np.uint8)
        cv2.circle(image, (14, 14), 8, 255, 2)
    return SimpleNamespace(box=box, image=image)


def test_iou_of_boxes():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 0, 10, 10)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)


def test_a_crop_is_the_digit_it_covers_not_a_digit_away_from_them_and_left_out_between():
    sample = SimpleNamespace(lines=("37",), boxes=((10, 10, 40, 60), (60, 10, 40, 60)))
    crops = [_crop((11, 10, 39, 60)),  # the 3
             _crop((60, 12, 42, 58)),  # the 7
             _crop((35, 10, 40, 60)),  # half of each: a piece of a pair, neither
             _crop((200, 10, 40, 60))]  # a letter beside them
    assert [label for _, label in labelled(sample, crops)] == [3, 7, NOT_A_DIGIT]


def test_a_lone_stroke_is_never_a_negative():
    """One narrow stroke is a 1 whatever it was cut from (train/negatives' rule)."""
    sample = SimpleNamespace(lines=(), boxes=())
    stroke = np.zeros((28, 28), np.uint8)
    stroke[4:24, 13:15] = 255
    assert labelled(sample, [_crop((0, 0, 6, 60), stroke)]) == []  # narrow
    assert labelled(sample, [_crop((0, 0, 40, 60), stroke)]) == []  # one stroke, however wide its box
    assert [label for _, label in labelled(sample, [_crop((50, 0, 40, 60))])] == [NOT_A_DIGIT]


def test_marks_are_never_shaped_like_a_digit():
    assert not set(MARKS) & set("0123456789OoIlSsBbZzGgqDij|/()")


def test_mined_crops_carry_the_truth(mnist):
    """Clean frames of MNIST train digits: each crop the reader makes is labelled with the digit written there,
    and the shipped model (which never saw these crops) agrees with almost every label."""
    from runtime.predictor import load_predictor

    predictor = load_predictor("tflite-int8", threads=1)
    pool = fs.DigitPool(mnist.x_train[:20000], mnist.y_train[:20000])
    x, y, where = mine([("clean", i) for i in range(12)] + [("multi_digit", i) for i in range(8)], 5, predictor, pool)
    assert x.dtype == np.uint8 and x.shape[1:] == (28, 28) and len(x) == len(y) == len(where) >= 25
    assert set(np.unique(y)) <= set(range(10))  # no digit frame gives a negative here
    read = predictor.predict(x)[:, :10].argmax(1)
    assert (read == y).mean() >= 0.9
    marks = marks_frame(np.random.default_rng(3), pool)
    assert marks.lines == () and marks.boxes == ()


def test_jobs_cover_every_digit_condition_the_marks_and_the_pairs():
    todo = jobs(2, 3, 4)
    assert {c for c, _ in todo} == (set(fs.CONDITIONS) - {"non_digit"}) | {"marks", "pairs"}
    assert len(todo) == 2 * (len(fs.CONDITIONS) - 1) + 3 + 4
    assert [i for c, i in todo if c == "pairs"] == [2, 3, 4, 5]  # never the touching_pairs frames mined whole


def test_touching_pairs_cut_apart_give_each_side_its_digit(mnist):
    """Each side of a touching pair, cut where the boxes meet, is labelled with the digit on that side: the
    shipped model, which never saw these cuts, reads most of them as that digit (80 % measured on 100 frames)."""
    from runtime.predictor import load_predictor

    predictor = load_predictor("tflite-int8", threads=1)
    pool = fs.DigitPool(mnist.x_train[:20000], mnist.y_train[:20000])
    images, labels = [], []
    for i in range(25):
        sample = fs.generate("touching_pairs", i, pool, seed=1001)
        for image, label in cut_apart(sample):
            assert str(label) in "".join(sample.lines)
            images.append(image)
            labels.append(label)
    assert len(labels) >= 40
    read = predictor.predict(np.stack(images))[:, :10].argmax(1)
    assert (read == np.array(labels)).mean() >= 0.65


def test_validation_digits_are_never_mined():
    from train.fit import TrainConfig

    assert VALIDATION_SIZE == TrainConfig().val_size


def test_cli_writes_the_npz_and_refuses_nothing_to_do(tmp_path, capsys):
    assert main(["--frames", "0", "--marks", "0", "--out", str(tmp_path / "c.npz")]) == 2
    assert "must be" in capsys.readouterr().err
    out = tmp_path / "c.npz"
    assert main(["--frames", "1", "--marks", "4", "--out", str(out)]) == 0
    with np.load(out) as data:
        assert data["x"].shape[0] == data["y"].shape[0] == data["condition"].shape[0] > 0
    assert str(out) in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--seed", "-1"], "--seed must be 0 or more"),
    (["--frames", "100000000000"], "at most 100,000 each"),
    (["--frames", "-1"], "must be >= 0"),
    (["--out", "{tmp}"], "not a regular file"),
    (["--out", "{tmp}/taken.npz"], "exists; pass --force"),
    (["--out", "{tmp}/taken.npz/c.npz"], "is a file, not a folder"),
])
def test_bad_arguments_are_refused_before_any_mining(tmp_path, capsys, argv, message):
    (tmp_path / "taken.npz").write_bytes(b"old")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    start = __import__("time").perf_counter()
    assert main(["--frames", "1", "--marks", "1", *argv]) == 2
    assert message in capsys.readouterr().err
    assert __import__("time").perf_counter() - start < 5  # refused up front, not after the mining
    assert (tmp_path / "taken.npz").read_bytes() == b"old"


def test_a_fifo_or_a_folder_is_never_replaced_by_an_atomic_write(tmp_path):
    """A rename over a device or a pipe replaces it (bench crops --out /dev/full did, found by the attack review)."""
    import os
    import stat

    from runtime.files import NotARegularFileError, atomic_write_bytes, replace_together

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target in (fifo, tmp_path):
        with pytest.raises(NotARegularFileError, match="not a regular file"):
            atomic_write_bytes(target, b"x", overwrite=True)
        with pytest.raises(NotARegularFileError, match="not a regular file"):
            replace_together({tmp_path / "a.json": b"x", target: b"x"})
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and not (tmp_path / "a.json").exists()


def test_writers_racing_to_a_new_file_leave_one_winner_and_its_whole_payload(tmp_path):
    """Without --force, of four threads writing the same new file at once one wins, the others are told it
    exists (all four "succeeded" before, each replacing the last: attack review)."""
    import threading

    from runtime.files import ArtifactExistsError, atomic_write_bytes

    for trial in range(10):
        path, start, won, refused = tmp_path / f"t{trial}" / "a.bin", threading.Barrier(4), [], []

        def write(k):
            start.wait()
            try:
                atomic_write_bytes(path, bytes([k]) * 1_000_000)
                won.append(k)
            except ArtifactExistsError:
                refused.append(k)

        threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(won) == 1 and len(refused) == 3
        assert path.read_bytes() == bytes([won[0]]) * 1_000_000 and [p.name for p in path.parent.iterdir()] == ["a.bin"]


def test_the_command_keeps_tensorflows_start_up_lines_off_the_terminal(tmp_path):
    """`bench crops` imports TensorFlow (the training runs' split): its "I0000 ... oneDNN" lines reached stderr."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_CPP", "GLOG", "GRPC"))}
    done = subprocess.run([sys.executable, "-m", "mnist_edge", "bench", "crops", "--frames", "1", "--marks", "1",
                           "--out", str(tmp_path / "c.npz")], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "oneDNN" not in done.stderr and "I0000" not in done.stderr and "absl" not in done.stderr, done.stderr
