"""The field test (bench/field_*.py): generator, metrics and CLI, on real MNIST test digits and the shipped model."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from bench.field_cli import OUTPUTS, main
from bench.field_scenes import CONDITIONS, FRAME_SIZE, PAGE_SIZES, PHOTO_SIZES, DigitPool, generate
from bench.field_test import Alignment, align, reading_lines, score_frame, summarize


@pytest.fixture(scope="module")
def pool(mnist):
    return DigitPool(mnist.x_test, mnist.y_test)


@pytest.mark.parametrize("condition", ["clean", "faint_pencil", "touching_pairs", "pages", "non_digit"])
def test_generator_is_deterministic_per_seed(pool, condition):
    a, b = generate(condition, 4, pool, seed=11), generate(condition, 4, pool, seed=11)
    assert np.array_equal(a.image, b.image) and a.lines == b.lines and a.boxes == b.boxes
    c = generate(condition, 4, pool, seed=12)
    assert not (c.image.shape == a.image.shape and np.array_equal(c.image, a.image))


@pytest.mark.parametrize("condition", list(CONDITIONS))
def test_every_condition_gives_a_frame_and_its_truth(pool, mnist, condition):
    for index in (0,):
        sample = generate(condition, index, pool, seed=3)
        image = sample.image
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
        h, w = image.shape[:2]
        sizes = {"pages": PAGE_SIZES, "page_photos": PHOTO_SIZES}.get(condition, (FRAME_SIZE,))
        assert (h, w) in sizes
        assert image.std() > 3  # a picture, not a flat fill
        digits = "".join(sample.lines)
        if condition == "non_digit":
            assert sample.lines == () and sample.boxes == () and sample.test_indices == ()
            continue
        assert sample.lines and all(line.isdigit() for line in sample.lines)
        # The truth is the MNIST test labels of the digits written, in reading order.
        assert digits == "".join(str(int(mnist.y_test[i])) for i in sample.test_indices)
        assert len(sample.boxes) == len(digits)
        for x, y, bw, bh in sample.boxes:
            assert 0 <= x and 0 <= y and x + bw <= w and y + bh <= h and bw > 0 and bh > 0
        if condition == "pages":
            assert 2 <= len(sample.lines) <= 6 and len(digits) <= 40
        elif condition == "page_photos":  # small writing: every digit under 5 % of the photo's shorter side
            assert 4 <= len(sample.lines) <= 8 and max(bh for _, _, _, bh in sample.boxes) < 0.05 * min(h, w)
        elif condition == "multi_digit":
            assert len(sample.lines) == 1 and 2 <= len(digits) <= 4
        elif condition == "touching_pairs":
            assert all(b[0] < a[0] + a[2] for a, b in zip(sample.boxes, sample.boxes[1:]))  # boxes overlap
        elif condition == "mixed_heights":
            heights = [bh for _, _, _, bh in sample.boxes]
            assert set(digits) & set("025") and set(digits) & set("79") and min(heights) < 0.65 * max(heights)
        else:
            assert len(sample.lines) == 1


def test_ink_is_where_the_boxes_say(pool):
    sample = generate("clean", 0, pool, seed=5)
    gray = sample.image.mean(axis=2)
    x, y, bw, bh = sample.boxes[0]
    inside = np.percentile(gray[y:y + bh, x:x + bw], 5)
    assert inside < np.median(gray) - 60  # dark strokes in the box, paper around


@pytest.mark.parametrize("truth, read, expected", [
    ("123", "123", Alignment(3, 0, 0, 0)),
    ("123", "13", Alignment(2, 0, 1, 0)),
    ("123", "1234", Alignment(3, 0, 0, 1)),
    ("123", "183", Alignment(2, 1, 0, 0)),
    ("12", "", Alignment(0, 0, 2, 0)),
    ("", "12", Alignment(0, 0, 0, 2)),
    ("4004", "44", Alignment(2, 0, 2, 0)),
    ("354", "3?54", Alignment(3, 0, 0, 1)),
    ("12345", "21345", Alignment(3, 2, 0, 0)),
])
def test_alignment_counts_each_kind_of_error(truth, read, expected):
    assert align(truth, read) == expected


def _digit(status, digit=None):
    return SimpleNamespace(status=status, digit=digit)


def test_reading_lines_with_and_without_reader_lines():
    flat = SimpleNamespace(digits=[_digit("ok", 4), _digit("low confidence"), _digit("not a digit"), _digit("ok", 0)])
    assert reading_lines(flat) == ["4?0"]
    lined = SimpleNamespace(digits=[], lines=[[_digit("ok", 1), _digit("ok", 2)], [_digit("not a digit")], [_digit("ok", 7)]])
    assert reading_lines(lined) == ["12", "7"]
    assert reading_lines(SimpleNamespace(digits=[])) == []


def test_scores_and_summary_on_hand_made_frames():
    scores = [
        score_frame("x", ("12", "345"), ["345", "12"], 2.0),  # both lines right, order wrong
        score_frame("x", ("7",), [], 4.0),  # "no digit"
        score_frame("x", ("90",), ["9?"], 6.0),
        score_frame("x", (), ["5"], 8.0),  # a false digit
        score_frame("x", (), ["?"], 10.0),  # unsure is not a confident digit
    ]
    assert scores[0].exact_lines == 2 and not scores[0].exact and scores[3].confident_digits == 1
    row = summarize(scores)
    truth_digits = 5 + 1 + 2
    errors = align("12345", "34512").errors + 1 + 1
    assert row["truth_digits"] == truth_digits
    assert row["digit_accuracy"] == pytest.approx(1 - errors / truth_digits)
    assert row["exact_lines"] == pytest.approx(2 / 4)
    assert row["exact_frames"] == pytest.approx(1 / 5)  # only the frame with "?" and no digit
    assert row["no_digit_rate"] == pytest.approx(1 / 3)
    assert row["false_digit_rate"] == pytest.approx(1 / 2)
    assert row["ms_median"] == 6.0


def test_cli_writes_table_json_and_failure_grid(tmp_path, mnist_path, capsys):
    out = tmp_path / "field"
    code = main(["--frames-per-condition", "2", "--conditions", "clean,non_digit,touching_pairs", "--data", str(mnist_path),
                 "--out", str(out), "--seed", "1"])
    assert code == 0
    assert all((out / name).stat().st_size > 0 for name in OUTPUTS)
    result = json.loads((out / "field.json").read_text())
    assert list(result["conditions"]) == ["clean", "non_digit", "touching_pairs"]
    assert result["conditions"]["non_digit"]["digit_accuracy"] is None
    assert result["conditions"]["touching_pairs"]["truth_digits"] >= 4
    assert result["all"]["frames"] == 6
    assert "| clean | 2 |" in capsys.readouterr().out


def test_clean_frames_are_readable_by_the_shipped_reader(pool):
    """The generator's easy condition stays within what the reader is built for (else the figures mean nothing)."""
    from bench.field_test import read_frame
    from runtime.predictor import load_predictor

    predictor = load_predictor("tflite-int8", threads=1)
    right = sum(read_frame(predictor, s.image, 0.6)[0] == list(s.lines)
                for s in (generate("clean", i, pool, seed=21) for i in range(20)))
    assert right >= 16


@pytest.mark.parametrize("argv, message", [
    (["--conditions", "clean,nope"], "unknown condition(s) nope"),
    (["--frames-per-condition", "0"], "--frames-per-condition must be positive"),
    (["--min-confidence", "1.5"], "--min-confidence must lie in [0, 1]"),
    (["--seed", "x"], "invalid int value"),
])
def test_bad_arguments_exit_2_with_a_clear_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_model_and_out_exit_2(tmp_path, capsys):
    assert main(["--model", str(tmp_path / "missing.tflite"), "--out", str(tmp_path / "o")]) == 2
    assert "cannot load model" in capsys.readouterr().err
    afile = tmp_path / "a_file"
    afile.write_text("x")
    with pytest.raises(SystemExit) as exc:
        main(["--out", str(afile)])
    assert exc.value.code == 2 and "is a file" in capsys.readouterr().err


def test_list_names_every_condition(capsys):
    assert main(["--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(CONDITIONS)


def test_faint_pencil_has_the_contrast_its_description_gives():
    """faint_pencil's strength is divided by the grain's mean, so the stroke averages 10-40 % of a pen's contrast."""
    from bench.field_scenes import GRAPHITE_MEAN, graphite_grain

    means = [float(graphite_grain((480, 640), np.random.default_rng(s)).mean()) for s in range(3)]
    assert all(abs(m - GRAPHITE_MEAN) < 0.02 for m in means), means


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGHUP"])
def test_a_stopped_field_run_says_so_and_writes_nothing(tmp_path, stop):
    """SIGTERM (systemctl stop, `timeout`) and SIGHUP (a lost SSH session) end a benchmark as Ctrl-C does:
    one line on stderr, exit 128 + the signal, no result half-written."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "field"
    proc = subprocess.Popen([sys.executable, "-m", "mnist_edge", "bench", "field", "--frames-per-condition", "400",
                             "--conditions", "pages", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    seen = ""
    while " frames (" not in seen and time.monotonic() < deadline:  # a progress line: frames are being read
        seen += proc.stderr.read(1)
    proc.send_signal(getattr(signal, stop))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + getattr(signal, stop), err[-500:]
    assert f"stopped by {stop}; no result half-written" in err
    assert "Traceback" not in err
    assert "\r" not in seen + err  # progress in a log is plain lines, not a terminal's bar
    assert not out.exists()
