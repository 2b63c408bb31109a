"""runtime/predictor.py and runtime/backends.py: one predictor over every shipped artifact, on real MNIST."""

from __future__ import annotations

import os

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from runtime import backends
from runtime.backends import BackendUnavailableError, ModelLoadError
from runtime.manifest import ManifestError, load_manifest
from runtime.predictor import InputError, load_predictor

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
MANIFEST = load_manifest(MODELS)


SAMPLE = slice(None, None, 10)  # every 10th test digit: 1,000 spread over the whole set


@pytest.mark.parametrize("name", list(MANIFEST.artifacts))
def test_predict_agrees_with_the_export_check(name, mnist):
    """predict() on 1,000 test digits agrees with the accuracy export recorded on all 10,000.

    The full set is run once, by tests/test_export.py (which asserts the manifest's exact figures);
    here a sample: no more errors than the manifest records on the whole set, and an accuracy
    within 4 standard errors of the recorded one.
    """
    predictor = load_predictor(name)
    x, y = mnist.x_test[SAMPLE], mnist.y_test[SAMPLE]
    probs = predictor.predict(x)
    assert probs.shape == (1000, MANIFEST.artifact(name).output["shape"][-1]) and probs.dtype == np.float32
    assert probs.shape[1] == predictor.num_classes == len(MANIFEST.artifact(name).output["classes"])
    recorded = MANIFEST.artifact(name).parity
    assert recorded["images"] == len(mnist.x_test)
    errors = int((probs.argmax(1) != y).sum())
    assert errors <= round(recorded["images"] * (1 - recorded["accuracy"]))
    p = 1 - recorded["accuracy"]
    assert abs(errors / len(y) - p) <= 4 * (p * (1 - p) / len(y)) ** 0.5 + 1 / len(y)


def test_int8_path_with_raw_pixels(mnist):
    predictor = load_predictor("tflite-int8")
    x = mnist.x_test[:200]
    # uint8 pixels go through the model's own scale and zero point: here exactly pixel - 128.
    model_input = predictor.to_model_input(x)
    assert model_input.dtype == np.int8 and model_input.shape == (200, 28, 28, 1)
    np.testing.assert_array_equal(model_input[..., 0].astype(np.int16), x.astype(np.int16) - 128)
    from_pixels = predictor.predict(x)
    from_floats = predictor.predict(x.astype(np.float32) / 255.0)
    np.testing.assert_array_equal(from_pixels, from_floats)
    assert (from_pixels.argmax(1) == mnist.y_test[:200]).mean() > 0.98


def test_tflm_backend_agrees_with_litert(mnist):
    litert = load_predictor("tflite-int8", backend="litert")
    tflm = load_predictor("tflite-int8", backend="tflm")
    x = mnist.x_test[:300]  # the whole test set: recorded by export in the manifest, checked by test_export
    assert np.array_equal(tflm.predict(x).argmax(1), litert.predict(x).argmax(1))


def test_threads_parameter_changes_nothing_but_speed(mnist):
    one = load_predictor("tflite-fp32", threads=1).predict(mnist.x_test[:500])
    two = load_predictor("tflite-fp32", threads=2).predict(mnist.x_test[:500])
    np.testing.assert_allclose(one, two, atol=1e-5)


def test_interpreter_is_built_once(monkeypatch, mnist):
    cls, _ = backends.import_tflite_interpreter()
    built = []

    class Counting(cls):
        def __init__(self, *args, **kwargs):
            built.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(backends, "import_tflite_interpreter", lambda: (Counting, "counting"))
    predictor = load_predictor("tflite-dynamic")
    for i in range(20):
        predictor.predict(mnist.x_test[i:i + 1])
    predictor.predict(mnist.x_test[:64])  # a batch resizes the same interpreter
    assert len(built) == 1


@pytest.mark.parametrize(
    "images, message",
    [
        (np.zeros((2, 28, 27), np.uint8), r"shape \(N, 28, 28\)"),
        (np.zeros((0, 28, 28), np.uint8), "empty batch"),
        (np.zeros((1, 28, 28), np.int32), "uint8 .* or float"),
        (np.full((1, 28, 28), np.nan, np.float32), "NaN"),
        (np.full((1, 28, 28), 255.0, np.float32), r"must lie in \[0, 1\]"),
        (np.zeros((3, 28, 28, 3), np.uint8), "shape"),
    ],
)
def test_bad_images_give_specific_errors(images, message):
    predictor = load_predictor("tflite-int8")
    with pytest.raises(InputError, match=message):
        predictor.predict(images)


def _copy_models(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    for artifact in MANIFEST.artifacts.values():
        shutil.copy(artifact.path, folder / artifact.path.name)
    shutil.copy(MANIFEST.path, folder / "manifest.json")
    return folder


def test_modified_model_fails_the_sha256_check(tmp_path):
    folder = _copy_models(tmp_path)
    path = folder / MANIFEST.artifact("tflite-int8").path.name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ManifestError, match="does not match the manifest"):
        load_predictor("tflite-int8", manifest=folder)
    with pytest.raises(ManifestError, match="does not match the manifest"):
        load_predictor(path)  # a path is checked against the manifest beside it too


@pytest.mark.parametrize("suffix, backend", [(".tflite", "litert"), (".onnx", "onnxruntime"), (".tflite", "tflm")])
def test_corrupt_and_truncated_models(tmp_path, suffix, backend):
    source = MANIFEST.artifact("tflite-int8" if suffix == ".tflite" else "onnx-fp32").path
    truncated = tmp_path / f"truncated{suffix}"
    truncated.write_bytes(source.read_bytes()[: len(source.read_bytes()) // 3])
    garbage = tmp_path / f"garbage{suffix}"
    garbage.write_bytes(b"\x00" * 64 + b"not a model" * 100)
    empty = tmp_path / f"empty{suffix}"
    empty.write_bytes(b"")
    for path, message in ((truncated, "cannot load|not a TFLite"), (garbage, "cannot load|not a TFLite"), (empty, "empty")):
        with pytest.raises(ModelLoadError, match=message):
            load_predictor(path, backend=backend)


def test_unknown_format_missing_file_and_unknown_backend(tmp_path):
    with pytest.raises(ManifestError, match="no artifact of format 'tflite-int4'"):
        load_predictor("tflite-int4")
    with pytest.raises(ModelLoadError, match="no such model file"):
        load_predictor(tmp_path / "missing.tflite")
    with pytest.raises(ValueError, match="unknown backend 'tensorrt'"):
        load_predictor("tflite-fp32", backend="tensorrt")
    with pytest.raises(ManifestError, match="no manifest"):
        load_predictor("tflite-fp32", manifest=tmp_path)


def test_missing_interpreter_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    monkeypatch.setitem(sys.modules, "tflite_runtime.interpreter", None)
    monkeypatch.setattr(backends.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(BackendUnavailableError, match="pip install ai-edge-litert"):
        load_predictor("tflite-int8")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(BackendUnavailableError, match="pip install onnxruntime"):
        load_predictor("onnx-fp32")


def test_runtime_works_with_tensorflow_and_keras_absent(mnist_path):
    """In a fresh process where importing tensorflow or keras fails, the runtime loads, predicts and reads a frame."""
    code = textwrap.dedent(f"""
        import sys, importlib.abc
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("tensorflow", "keras", "tf2onnx"):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        import numpy as np
        from runtime.mnist_data import load_mnist
        from runtime.predictor import load_predictor
        from camera_demo.synthetic import render
        data = load_mnist({str(mnist_path)!r}, limit=500)
        for name in ("tflite-int8", "tflite-fp32", "tflite-dynamic", "onnx-int8"):
            p = load_predictor(name)
            acc = (p.predict(data.x_test).argmax(1) == data.y_test).mean()
            assert acc > 0.98, (name, acc)
        frame = render([data.x_test[0]], [int(data.y_test[0])], np.random.default_rng(1)).image
        reading = load_predictor("tflite-int8").predict_digit(frame)
        assert reading.digit == int(data.y_test[0]), reading
        assert not any(m.split(".")[0] in ("tensorflow", "keras") for m in sys.modules), "TensorFlow got imported"
        print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().endswith("ok")


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with a few rows of pixel data."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(1000))) + chunk(b"IEND", b""))


def test_predict_cli_on_image_files(tmp_path, mnist, capsys):
    import cv2

    from runtime.cli import main
    from camera_demo.synthetic import blank_paper, render

    photo, blank, junk = tmp_path / "photo.jpg", tmp_path / "blank.png", tmp_path / "junk.png"
    frame = render([mnist.x_test[0], mnist.x_test[1]], [7, 2], np.random.default_rng(0)).image
    cv2.imwrite(str(photo), frame)
    cv2.imwrite(str(blank), blank_paper(np.random.default_rng(1)))
    junk.write_text("not an image")
    assert main([str(photo), str(blank)]) == 0
    out = capsys.readouterr().out
    assert f"{photo}: 72  [7 (" in out and f"{blank}: no digit" in out
    assert main([str(junk)]) == 2
    assert "not a readable image file" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.png")]) == 2
    assert "missing.png: error: no such file" in capsys.readouterr().err
    assert main([os.devnull]) == 2
    assert f"{os.devnull}: error: not a regular file" in capsys.readouterr().err
    cut = tmp_path / "cut.jpg"  # a photo cut off half-way: libjpeg decodes the top and greys the rest
    cut.write_bytes(photo.read_bytes()[:photo.stat().st_size // 2])
    assert main([str(cut)]) == 2
    assert f"{cut}: error: a damaged image (Premature end of JPEG file)" in capsys.readouterr().err
    huge = tmp_path / "huge.png"  # a header claiming 100,000 x 100,000 pixels: OpenCV raises rather than decode it
    huge.write_bytes(_png_header(100_000, 100_000))
    assert main([str(huge)]) == 2
    assert f"{huge}: error: not a readable image file (too many pixels to decode)" in capsys.readouterr().err
    whole = tmp_path / "no_end_marker.jpg"  # libjpeg warns the same, but every row is there: read it
    whole.write_bytes(photo.read_bytes()[:-2])
    assert main([str(whole)]) == 0
    assert f"{whole}: 72  [7 (" in capsys.readouterr().out


def test_predict_cli_keeps_opencvs_own_warnings_off_stderr(tmp_path, capfd, monkeypatch):
    from pathlib import Path as RealPath

    from runtime.cli import main

    gone = tmp_path / "gone.png"  # removed between the check and the read: OpenCV itself warns on fd 2
    real_is_file = RealPath.is_file
    monkeypatch.setattr(RealPath, "is_file", lambda self: self.name == "gone.png" or real_is_file(self))
    assert main([str(gone)]) == 2
    captured = capfd.readouterr()
    lines = captured.err.splitlines()  # the model line (a log) and the error, nothing of OpenCV's
    assert len(lines) == 2 and lines[0].startswith("model: ") and lines[1] == f"{gone}: error: not a readable image file"
    assert captured.out == ""


def test_predict_cli_on_the_test_set(mnist_path, capsys):
    from runtime.cli import main

    assert main(["--model", "onnx-int8", "--limit", "1000", "--data", str(mnist_path)]) == 0
    assert "of 1,000 digits" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--threads", "0"])


@pytest.mark.parametrize("manifest_text", ["{not json", '{"schema": 1}', "", '{"schema": 1, "artifacts": ["x"]}'])
def test_an_unreadable_manifest_beside_a_model_fails_closed(tmp_path, manifest_text):
    folder = _copy_models(tmp_path)
    path = folder / MANIFEST.artifact("tflite-int8").path.name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # corrupted too: loading it unchecked would give wrong answers silently
    path.write_bytes(bytes(data))
    (folder / "manifest.json").write_text(manifest_text)
    with pytest.raises(ManifestError):
        load_predictor(path)
    assert load_predictor(path, verify=False).predict(np.zeros((1, 28, 28), np.uint8)).shape[0] == 1  # by choice


@pytest.mark.parametrize("field, value, message", [("file", 5, "'file' must be str"), ("bytes", "12", "'bytes' must be int"),
                                                   ("input", [], "'input' must be dict"), ("status", "meh", "status must be")])
def test_manifest_fields_of_the_wrong_type(tmp_path, field, value, message):
    import json

    folder = _copy_models(tmp_path)
    data = json.loads(MANIFEST.path.read_text())
    data["artifacts"][0][field] = value
    (folder / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(ManifestError, match=message):
        load_manifest(folder)


def test_a_model_beside_a_manifest_that_does_not_list_it_is_refused(tmp_path):
    folder = _copy_models(tmp_path)
    stray = folder / "stray.tflite"
    data = bytearray(MANIFEST.artifact("tflite-int8").path.read_bytes())
    data[len(data) // 2] ^= 0x01  # no sha256 to check it against: loading it would give wrong answers silently
    stray.write_bytes(bytes(data))
    with pytest.raises(ManifestError, match=f"stray.tflite: not listed in {folder / 'manifest.json'}.*--no-verify"):
        load_predictor(stray)
    assert load_predictor(stray, verify=False).predict(np.zeros((1, 28, 28), np.uint8)).shape[0] == 1  # by choice


def test_a_dangling_manifest_link_is_an_error_not_no_manifest(tmp_path):
    folder = _copy_models(tmp_path)
    (folder / "manifest.json").unlink()
    (folder / "manifest.json").symlink_to(tmp_path / "gone.json")
    path = folder / MANIFEST.artifact("tflite-int8").path.name
    for model, manifest in ((path, None), ("tflite-int8", folder)):
        with pytest.raises(ManifestError, match="gone.json, which does not exist"):
            load_predictor(model, manifest=manifest)


@pytest.mark.parametrize("file", ["/etc/hostname", "../mnist_cnn.int8.tflite", "sub/../../x.tflite", ""])
def test_a_manifest_entry_outside_its_folder_is_rejected(tmp_path, file):
    import json

    folder = _copy_models(tmp_path)
    data = json.loads(MANIFEST.path.read_text())
    data["artifacts"][0]["file"] = file
    (folder / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(ManifestError, match="must be a path inside the manifest's folder"):
        load_manifest(folder)


def test_an_artifact_that_failed_parity_is_refused_unless_asked(tmp_path):
    import json

    folder = _copy_models(tmp_path)
    data = json.loads(MANIFEST.path.read_text())
    entry = next(e for e in data["artifacts"] if e["format"] == "tflite-dynamic")
    entry["status"], entry["parity"]["passed"], entry["parity"]["failures"] = "failed", False, ["agreement 99.1 % < 100 %"]
    (folder / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(ManifestError, match="failed its parity check at export \\(agreement 99.1"):
        load_predictor("tflite-dynamic", manifest=folder)
    with pytest.raises(ManifestError, match="allow_failed"):
        load_predictor(folder / entry["file"])
    assert load_predictor("tflite-dynamic", manifest=folder, allow_failed=True).format == "tflite-dynamic"


@pytest.mark.parametrize("threads", [0, 65, 100000])
def test_threads_are_bounded(threads, capsys):
    from runtime.cli import main

    with pytest.raises(ValueError, match="from 1 to 64"):
        load_predictor("tflite-int8", threads=threads)
    with pytest.raises(SystemExit) as info:
        main(["--threads", str(threads), "--limit", "10"])
    assert info.value.code == 2 and "--threads must be from 1 to 64" in capsys.readouterr().err


def test_float_frames_outside_0_1_follow_the_predict_rule(mnist):
    from runtime.preprocess import FrameError, to_gray

    frame = np.full((64, 64), 255.0)  # a float64 frame holding 0-255: the common mistake
    frame[20:44, 28:36] = 0.0
    predictor = load_predictor("tflite-int8")
    with pytest.raises(FrameError, match="float frames must lie in \\[0, 1\\]"):
        predictor.read_digits(frame)
    with pytest.raises(InputError, match="float images must lie in \\[0, 1\\]"):
        predictor.predict(mnist.x_test[:1].astype(np.float64))
    assert to_gray(frame / 255.0).max() == 255  # in range: accepted as before


class _FixedBackend:
    """A stand-in backend that returns given probabilities: the status rules, for 10 and 11 outputs."""

    def __init__(self, probs):
        from runtime.backends import TensorInfo

        self.probs, self.name, self.path = np.asarray(probs, np.float32), "fixed", Path("fixed.tflite")
        self.input = TensorInfo(np.dtype(np.float32), (-1, 28, 28, 1), None)
        self.output = TensorInfo(np.dtype(np.float32), (-1, self.probs.shape[1]), None)

    def run(self, x):
        return self.probs[:len(x)]


def _one_hot_ish(best: int, p: float, classes: int) -> list[float]:
    row = np.full(classes, (1 - p) / (classes - 1))
    row[best] = p
    return row.tolist()


def test_statuses_with_and_without_the_not_a_digit_output():
    from runtime.predictor import LOW_CONFIDENCE, NOT_A_DIGIT, OK, Predictor
    from runtime.preprocess import DigitCrop

    rows11 = [_one_hot_ish(3, 0.95, 11), _one_hot_ish(10, 0.8, 11), _one_hot_ish(5, 0.3, 11)]
    eleven = Predictor(_FixedBackend(rows11))
    assert eleven.rejects_non_digits and eleven.num_classes == 11
    # Far apart: glyphs side by side would be one word to runtime/words.py, and a word of letters has none; the 3
    # read surely (a line holding a letter and no digit read at 0.9 or more holds none).
    crops = [DigitCrop((100 * k, 0, 5, 5), np.zeros((28, 28), np.uint8)) for k in range(len(rows11))]
    reading = eleven.read_crops(crops, min_confidence=0.5)
    assert [d.status for d in reading.digits] == [OK, NOT_A_DIGIT, NOT_A_DIGIT]
    assert reading.digits[0].digit == 3 and reading.digits[1].digit is None
    assert reading.digits[1].best_guess in range(10)  # the best digit, never the class index 10
    assert reading.number is None
    # The model's own operating point applies when none is given.
    assert eleven.statuses(np.array(rows11), None) == eleven.statuses(np.array(rows11), eleven.min_confidence)

    ten = Predictor(_FixedBackend([_one_hot_ish(3, 0.9, 10), _one_hot_ish(5, 0.3, 10)]))
    assert not ten.rejects_non_digits
    assert ten.statuses(ten.predict(np.zeros((2, 28, 28), np.uint8)), 0.6) == [OK, LOW_CONFIDENCE]


def test_shipped_model_rejects_held_out_non_digits_and_reads_digits(mnist):
    """The shipped int8 model at its manifest's operating point, on non-digits rendered with fonts training
    never saw: letters, symbols and words are rejected (>= 97 %); all kinds together, pieces of digits
    included, >= 88 % (models/reject/report.md: 91.0 %, short of the 95 % target); digits still read right."""
    from runtime.predictor import OK
    from train.negatives import HELD_OUT_FONTS, render_negatives

    predictor = load_predictor("tflite-int8")
    if not predictor.rejects_non_digits:
        pytest.fail("the shipped model has no \"not a digit\" output")
    negatives, kinds = render_negatives(1000, 4242, HELD_OUT_FONTS, mnist.x_test, mnist.y_test)
    rejected = np.array([s != OK for s in predictor.statuses(predictor.predict(negatives))])
    writing = np.isin(kinds, ["glyph", "word"])
    assert rejected[writing].mean() >= 0.97
    assert rejected.mean() >= 0.88
    probs = predictor.predict(mnist.x_test)
    read_right = np.array([s == OK for s in predictor.statuses(probs)]) & (probs.argmax(1) == mnist.y_test)
    assert read_right.mean() >= 0.99


def test_a_tflite_interpreter_that_fails_to_load_is_not_called_missing(monkeypatch):
    """Attack review: Ctrl-C or SIGTERM while LiteRT's native part loaded ended `mnist-edge demo` with "no TFLite
    interpreter is installed: pip install ..." (exit 2). An ImportError raised while an interrupt unwound is the
    interrupt; one from an interpreter that is installed says so and why."""
    import runtime.backends as backends

    def interrupted(name):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise ImportError("initialization failed")

    monkeypatch.setattr(backends.importlib, "import_module", interrupted)
    with pytest.raises(KeyboardInterrupt):
        backends.import_tflite_interpreter()

    def broken(name):
        raise ImportError("libfoo.so: cannot open shared object file")

    monkeypatch.setattr(backends.importlib, "import_module", broken)
    with pytest.raises(backends.BackendUnavailableError, match="ai-edge-litert is installed but did not load"):
        backends.import_tflite_interpreter()


def test_a_stop_turned_into_a_load_error_is_still_a_stop(monkeypatch, capsys):
    """Attack review: SIGTERM while LiteRT's native part loaded ended `mnist-edge predict` with exit 2 and "no
    TFLite interpreter" (the loader turned the raised stop into "initialization failed"): it is exit 143."""
    import signal

    import runtime.cli as cli

    def stopped_while_loading(*args, **kwargs):
        cli._stopped_by.append(signal.SIGTERM)  # as _raise_stopped records it before raising
        raise BackendUnavailableError("no TFLite interpreter could be loaded: initialization failed")

    monkeypatch.setattr(cli, "_stopped_by", [])
    monkeypatch.setattr("runtime.predictor.load_predictor", stopped_while_loading)
    assert cli.main(["--limit", "10"]) == 128 + signal.SIGTERM
    assert capsys.readouterr().err.strip().splitlines()[-1] == "mnist-edge predict: stopped (SIGTERM)"


@pytest.mark.parametrize("orientation, quarter_turns", [(6, 1), (8, -1), (3, 2), (1, 0)])  # counter-clockwise
def test_predict_cli_turns_a_phone_photo_upright_by_its_exif_orientation(tmp_path, mnist, capsys, orientation,
                                                                        quarter_turns):
    """A phone stores a portrait photo sideways with an EXIF tag saying how to turn it; OpenCV's IMREAD_UNCHANGED
    ignored the tag, so the writing was read lying on its side ("72" read as nothing or as other digits)."""
    import cv2
    from PIL import Image

    from camera_demo.synthetic import render
    from runtime.cli import main

    upright = render([mnist.x_test[0], mnist.x_test[1]], [7, 2], np.random.default_rng(0)).image
    stored = np.rot90(upright, quarter_turns)  # as the sensor's rows lie
    image = Image.fromarray(cv2.cvtColor(stored, cv2.COLOR_BGR2RGB))
    exif = image.getexif()
    exif[0x0112] = orientation  # the EXIF Orientation tag
    photo = tmp_path / f"portrait_{orientation}.jpg"
    image.save(photo, quality=95, exif=exif)
    assert main([str(photo)]) == 0
    assert f"{photo}: 72  [7 (" in capsys.readouterr().out


def test_predict_cli_prints_each_line_of_a_page(tmp_path, mnist, capsys):
    """A page of two lines printed "uncertain" (Reading.number is one line's) with every digit sure, and its
    marks as one list (the fresh-clone review); now each line's number, top to bottom."""
    import cv2

    from camera_demo.synthetic import render
    from runtime.cli import main

    top = render([mnist.x_test[0], mnist.x_test[1]], [7, 2], np.random.default_rng(0)).image
    bottom = render([mnist.x_test[3], mnist.x_test[4]], [0, 4], np.random.default_rng(1)).image
    page = tmp_path / "page.png"
    cv2.imwrite(str(page), np.vstack([top, bottom]))
    assert main([str(page)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{page}: 72 / 04  [7 (") and out.count(" / ") == 2, out
