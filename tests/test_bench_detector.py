"""bench/detector_*.py: the detection-network comparison (targets, the shipped detector's reading, the CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.detector_compare import DETECTOR, STEM, main
from bench.detector_train import INPUT_HW, STRIDE, targets

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def int8():
    from runtime.predictor import load_predictor

    return load_predictor("tflite-int8", threads=1)


def test_targets_put_a_peak_and_the_size_at_each_digit_centre():
    t = targets([(40.0, 20.0, 24.0, 40.0), (200.0, 100.0, 30.0, 50.0)])
    assert t.shape == (INPUT_HW[0] // STRIDE, INPUT_HW[1] // STRIDE, 4)
    assert t[..., 3].sum() == 2 and t[..., 0].max() == 1.0
    i, j = int((20 + 20) / STRIDE), int((40 + 12) / STRIDE)
    assert t[i, j, 0] == 1.0 and t[i, j, 3] == 1.0
    assert np.exp(t[i, j, 1]) * STRIDE == pytest.approx(40) and np.exp(t[i, j, 2]) * STRIDE == pytest.approx(24)
    assert t[0, -1, 0] < 0.01  # far from both digits


def test_the_detector_finds_the_digits_of_field_frames(mnist, int8):
    """The shipped detector with the shipped classifier reads most digits of clean and multi-digit frames."""
    from bench.detector_reader import DetectorReader
    from bench.field_scenes import DigitPool, generate
    from bench.field_test import align, reading_lines

    reader = DetectorReader(ROOT / DETECTOR, int8)
    pool = DigitPool(mnist.x_test, mnist.y_test)
    hits = total = 0
    for condition in ("clean", "multi_digit"):
        for i in range(10):
            sample = generate(condition, i, pool, seed=7)
            truth = "".join(sample.lines)
            a = align(truth, "".join(reading_lines(reader.read_digits(sample.image, int8.min_confidence))))
            hits, total = hits + len(truth) - a.substitutions - a.deletions - a.insertions, total + len(truth)
    assert hits / total >= 0.8, f"{hits} of {total} digits"


def test_cli_writes_the_comparison_table(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["--conditions", "clean,non_digit", "--frames-per-condition", "2", "--out", str(out),
                 "--detector", str(ROOT / DETECTOR)]) == 0
    result = json.loads((out / f"{STEM}.json").read_text())
    assert set(result["conditions"]) == {"clean", "non_digit"}
    assert set(result["conditions"]["clean"]) == {"classical", "detector"}
    assert (out / f"{STEM}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| clean |" in capsys.readouterr().out


def test_cli_says_what_is_missing(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--detector", str(tmp_path / "none.tflite")])
    assert stop.value.code == 2 and "python -m bench.detector_train" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main(["--conditions", "nope"])
    assert stop.value.code == 2


def test_training_writes_a_detector_the_reader_can_run(tmp_path, mnist):
    """A tiny run of bench/detector_train.py (100 scenes, one epoch): the int8 model and its report, together."""
    from bench.detector_reader import DetectorReader
    from bench.detector_train import BUNDLE
    from bench.detector_train import main as train

    assert train(["--scenes", "100", "--epochs", "1", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / BUNDLE[1]).read_text())
    assert report["scenes"] == 100 and report["tflite_bytes"] == (tmp_path / BUNDLE[0]).stat().st_size
    reader = DetectorReader(tmp_path / BUNDLE[0], predictor=None)
    out = reader.interpreter.get_output_details()[0]
    assert tuple(out["shape"]) == (1, INPUT_HW[0] // STRIDE, INPUT_HW[1] // STRIDE, 3)  # heat, log h, log w
    assert reader.interpreter.get_input_details()[0]["dtype"] == np.uint8  # the gray frame as it is


@pytest.mark.parametrize("make", ["empty", "text", "truncated", "classifier"])
def test_a_file_that_is_no_detector_is_refused_before_any_frame(tmp_path, capsys, make):
    from bench.cli import main as bench

    bad = tmp_path / "bad.tflite"
    source = ROOT / DETECTOR
    bad.write_bytes({"empty": b"", "text": b"not a model at all", "truncated": source.read_bytes()[:40_000],
                     "classifier": (ROOT / "models" / "mnist_cnn.int8.tflite").read_bytes()}[make])
    assert bench(["detector", "--detector", str(bad), "--conditions", "clean", "--frames-per-condition", "1",
                  "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "bad.tflite" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_bad_output_folder_and_seed_are_refused_up_front(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for args in (["--out", str(afile)], ["--out", str(afile / "sub")], ["--seed", "-1"]):
        with pytest.raises(SystemExit) as stop:
            main(["--conditions", "clean", "--frames-per-condition", "1", *args])
        assert stop.value.code == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_one_reader_shared_by_threads_gives_the_single_thread_readings(mnist, int8):
    from concurrent.futures import ThreadPoolExecutor

    from bench.detector_reader import DetectorReader
    from bench.field_scenes import DigitPool, generate
    from bench.field_test import reading_lines

    reader = DetectorReader(ROOT / DETECTOR, int8)
    pool = DigitPool(mnist.x_test, mnist.y_test)
    frames = [generate("multi_digit", i, pool, seed=3).image for i in range(12)]
    alone = [reading_lines(reader.read_digits(f)) for f in frames]
    with ThreadPoolExecutor(4) as threads:
        shared = list(threads.map(lambda f: reading_lines(reader.read_digits(f)), frames))
    assert shared == alone


def test_a_frame_of_another_shape_is_fitted_not_squashed():
    from bench.detector_train import fit_input

    portrait = np.tile((np.arange(480) // 2).astype(np.uint8)[:, None], (1, 320))  # each row: half its index
    image, scale = fit_input(portrait)
    assert image.shape == INPUT_HW and scale == 0.5
    assert abs(int(image[100, 0]) - 100) <= 1  # row 100 of the input is row 200 of the frame: not squashed
    assert np.all(image[:, 160:] == image[:, 159:160])  # the rest padded by the frame's own edge


def test_training_refuses_bad_arguments_before_any_work(tmp_path, capsys):
    from bench.detector_train import main as train

    afile = tmp_path / "afile"
    afile.write_text("x")
    for args in (["--out", str(afile)], ["--scenes", str(10 ** 9)], ["--scenes", "5"], ["--epochs", "0"]):
        with pytest.raises(SystemExit) as stop:
            train(args)
        assert stop.value.code == 2
    assert train(["--data", str(tmp_path / "none.npz"), "--out", str(tmp_path / "o")]) == 2
    assert "cannot load MNIST" in capsys.readouterr().err
