"""export/: every format in the registry, checked on the shipped models and by fresh exports.

The shipped artifacts in models/ are checked on the full 10,000-image test set
(so CI does not retrain); fresh exports run on a small slice of real MNIST to
prove the converters, the manifest round trip and the error paths.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from export import formats as formats_module
from export.calibration import balanced_indices, calibration_record, saved_or_drawn_indices
from export.cli import main as export_main
from export.formats import FORMATS, INT8_FORMAT
from export.micro import resolver_method
from export.parity import check_parity
from export.pipeline import ExportError, export_model
from runtime.files import ArtifactExistsError
from runtime.manifest import load_manifest, sha256_of
from runtime.mnist_data import to_model_input
from runtime.predictor import load_predictor

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
SOURCE = MODELS / "cnn_aug.keras"


@pytest.fixture(scope="module")
def manifest():
    return load_manifest(MODELS)


@pytest.fixture(scope="module")
def float_probs(mnist):
    import keras

    model = keras.models.load_model(SOURCE)
    return model.predict(to_model_input(mnist.x_test), batch_size=500, verbose=0)


@pytest.fixture(scope="module")
def small_npz(mnist, tmp_path_factory):
    """Real MNIST, cut to 2,000 training and 1,000 test images, for quick fresh exports."""
    path = tmp_path_factory.mktemp("data") / "mnist_small.npz"
    np.savez(path, x_train=mnist.x_train[:2000], y_train=mnist.y_train[:2000],
             x_test=mnist.x_test[:1000], y_test=mnist.y_test[:1000])
    return path


def test_manifest_lists_every_format_and_matches_the_files(manifest, mnist):
    assert list(manifest.artifacts) == list(FORMATS)
    assert manifest.data["source_model"]["sha256"] == sha256_of(SOURCE)
    for artifact in manifest.artifacts.values():
        artifact.verify()
        assert artifact.bytes == artifact.path.stat().st_size
        assert artifact.parity["passed"] is True
    calibration = json.loads((MODELS / manifest.data["calibration"]["file"]).read_text())
    assert len(calibration["indices"]) == 500
    assert np.bincount(mnist.y_train[calibration["indices"]], minlength=10).tolist() == [50] * 10


@pytest.mark.parametrize("name", list(FORMATS))
def test_reload_dtypes_and_shapes(name, manifest):
    predictor = load_predictor(name, manifest=MODELS)
    artifact = manifest.artifact(name)
    assert predictor.backend.name == FORMATS[name].runtime
    assert str(predictor.backend.input.dtype) == artifact.input["dtype"]
    if name == INT8_FORMAT:
        assert predictor.backend.input.dtype == np.int8 and predictor.backend.output.dtype == np.int8
        assert predictor.backend.input.shape == (1, 28, 28, 1)
        assert artifact.input["quantization"]["scale"] == pytest.approx(1 / 255)
        assert artifact.input["quantization"]["zero_point"] == -128
    else:
        assert predictor.backend.input.dtype == np.float32
        assert predictor.backend.input.shape[1:] == (28, 28, 1)
    # 10 digits and, for the shipped model, the 11th output "not a digit" with its operating point.
    assert predictor.backend.output.shape[-1] == len(artifact.output["classes"]) == 11
    assert artifact.output["classes"][10] == "not a digit" and 0 < artifact.output["min_confidence"] < 1


@pytest.mark.parametrize("name", list(FORMATS))
def test_parity_on_the_full_test_set(name, mnist, float_probs, manifest):
    probs = load_predictor(name, manifest=MODELS).predict(mnist.x_test)
    result = check_parity(name, FORMATS[name].runtime, probs, float_probs, mnist.y_test, FORMATS[name].tolerance)
    assert result.passed, result.failures
    assert result.images == 10000
    recorded = manifest.artifact(name).parity
    assert result.accuracy == pytest.approx(recorded["accuracy"], abs=1e-9)
    assert result.agreement == pytest.approx(recorded["agreement"], abs=1e-9)


def test_tflm_predicts_like_litert(mnist, manifest):
    """Export ran TFLM on every test image (5 minutes) and recorded it; here the record and a 1,000-image sample."""
    recorded = manifest.artifact(INT8_FORMAT).extra["tflm"]
    assert recorded["images"] == len(mnist.x_test)
    assert recorded["differing_images"] == 0 and recorded["top1_same_as_litert"] == 1.0
    litert = load_predictor(INT8_FORMAT, manifest=MODELS)
    tflm = load_predictor(MODELS / "micro" / "model.tflite", backend="tflm", verify=False)
    assert sha256_of(MODELS / "micro" / "model.tflite") == manifest.artifact(INT8_FORMAT).sha256
    x = mnist.x_test[5::10]  # 1,000 spread over the set (not the runtime tests' first 300)
    assert np.array_equal(tflm.predict(x).argmax(1), litert.predict(x).argmax(1))


def test_raw_pixels_into_the_int8_model_are_caught(mnist, float_probs):
    """The classic bug: uint8 pixels fed to an int8 input without its scale and zero point."""
    predictor = load_predictor(INT8_FORMAT, manifest=MODELS)
    raw = mnist.x_test[:2000, :, :, None].astype(np.int8)  # wraps 128..255 to negatives, ignores zero point
    outputs = np.concatenate([predictor.backend.run(raw[i:i + 1]) for i in range(len(raw))])
    probs = predictor.output_quant.dequantize(outputs)
    result = check_parity(INT8_FORMAT, "litert", probs, float_probs[:2000], mnist.y_test[:2000], FORMATS[INT8_FORMAT].tolerance)
    assert not result.passed
    assert result.agreement < 0.5


def test_micro_bundle_lists_the_models_operators_once(manifest):
    # Compiled and run in the real TFLM C++ library by tests/test_micro_cpp.py.
    info = json.loads((MODELS / "micro" / "bundle.json").read_text())
    assert info["ops"] == manifest.artifact(INT8_FORMAT).extra["ops"]
    assert len(info["ops"]) == len(set(info["ops"]))
    assert info["resolver_methods"] == [resolver_method(op) for op in info["ops"]]


def test_micro_arena_is_measured_and_runs(manifest):
    from tflite_micro.python.tflite_micro import runtime as tflm

    info = json.loads((MODELS / "micro" / "bundle.json").read_text())
    arena = info["arena"]
    assert arena["measured_bytes"] == arena["head_bytes"] + arena["tail_bytes"]
    assert arena["measured_bytes"] < arena["recommended_bytes"] <= 1.10 * arena["measured_bytes"] + 1024
    model = (MODELS / "micro" / "model.tflite").read_bytes()
    ok = tflm.Interpreter.from_bytes(model, arena_size=arena["recommended_bytes"])
    ok.set_input(np.zeros((1, 28, 28, 1), np.int8), 0)
    ok.invoke()
    with pytest.raises(RuntimeError):
        tflm.Interpreter.from_bytes(model, arena_size=arena["measured_bytes"] // 2)
    readme = (MODELS / "micro" / "README.md").read_text()
    assert f"{arena['recommended_bytes']:,} bytes" in readme and "q = pixel + (-128)" in readme
    source = (MODELS / "micro" / "mnist_classifier.cc").read_text()
    assert f"kTensorArenaSize = {arena['recommended_bytes']};" in source
    assert "Class 10 is **not a digit**" in readme and "scores[best] <" in readme
    assert info["output"]["shape"] == [1, 11] and info["classes"][10] == "not a digit"
    assert info["min_confidence"] == json.loads((MODELS / "reject" / "operating_point.json").read_text())["min_confidence"]


def test_saved_calibration_list_is_replayed(tmp_path, mnist):
    """A saved index list with the requested count and seed is read back, not redrawn."""
    saved = balanced_indices(mnist.y_train, 500, seed=99)  # stands in for a list numpy would no longer draw
    path = tmp_path / "calibration_indices.json"
    path.write_text(json.dumps(calibration_record(saved, seed=7)))
    replayed = saved_or_drawn_indices(path, mnist.y_train, 500, seed=7)
    np.testing.assert_array_equal(replayed, saved)
    assert not np.array_equal(replayed, balanced_indices(mnist.y_train, 500, seed=7))
    # Another seed asked for: a fresh draw.
    np.testing.assert_array_equal(saved_or_drawn_indices(path, mnist.y_train, 500, seed=8),
                                  balanced_indices(mnist.y_train, 500, seed=8))


def test_resolver_method_names():
    assert [resolver_method(op) for op in ("CONV_2D", "MAX_POOL_2D", "FULLY_CONNECTED", "SOFTMAX", "DEPTHWISE_CONV_2D")] == \
        ["AddConv2D", "AddMaxPool2D", "AddFullyConnected", "AddSoftmax", "AddDepthwiseConv2D"]


@pytest.fixture(scope="module")
def fresh_export(small_npz, tmp_path_factory):
    """A real export of the shipped model in every format, checked on 1,000 real test images."""
    out = tmp_path_factory.mktemp("export")
    report = export_model(SOURCE, out, data=str(small_npz), progress=False)
    return out, report


def test_fresh_export_of_every_format(fresh_export):
    out, report = fresh_export
    assert report.errors == {}
    assert [r.format for r in report.results] == list(FORMATS)
    assert report.ok, report.table
    manifest = load_manifest(out)
    for artifact in manifest.artifacts.values():
        artifact.verify()
        assert artifact.parity["images"] == 1000
    assert (out / "micro" / "mnist_model_data.cc").exists()
    parity_md = (out / "parity.md").read_text()
    assert parity_md.count("| passed |") == len(FORMATS) + 1  # + the int8 model's row in TFLM
    assert "| tflite-int8 | tflm | passed |" in parity_md and "1,000 images, 0 predicted differently from LiteRT" in parity_md


def test_manifest_round_trip(fresh_export, small_npz):
    out, report = fresh_export
    manifest = load_manifest(out)
    x_test = np.load(small_npz)["x_test"]
    for result in report.results:
        artifact = manifest.artifact(result.format)
        predictor = load_predictor(result.format, manifest=out)
        assert predictor.artifact == artifact
        assert artifact.parity["accuracy"] == pytest.approx(result.accuracy)
        probs = predictor.predict(x_test[:50])
        assert probs.shape == (50, 11) and np.allclose(probs.sum(1), 1.0, atol=0.05)
        assert artifact.output["min_confidence"] == json.loads((MODELS / "reject" / "operating_point.json").read_text())["min_confidence"]


def test_existing_artifacts_are_not_overwritten_without_force(fresh_export, small_npz):
    out, _ = fresh_export
    before = sha256_of(out / "mnist_cnn.fp32.tflite")
    with pytest.raises(ArtifactExistsError, match="--force"):
        export_model(SOURCE, out, formats=["tflite-fp32"], data=str(small_npz), progress=False)
    report = export_model(SOURCE, out, formats=["tflite-fp32"], data=str(small_npz), force=True, progress=False)
    assert report.ok and sha256_of(out / "mnist_cnn.fp32.tflite") == before  # same model, same bytes
    # Re-exporting one format keeps the other entries of the manifest.
    assert list(load_manifest(out).artifacts) == list(FORMATS)


def exploding_converter(model, calibration):
    raise RuntimeError("converter exploded")


def test_one_failing_format_does_not_stop_the_others(monkeypatch, small_npz, tmp_path):
    broken = f"{__name__}:exploding_converter"  # the registry names converters "module:function"
    patched = dict(FORMATS, **{"tflite-fp16": dataclasses.replace(FORMATS["tflite-fp16"], convert=broken)})
    monkeypatch.setattr(formats_module, "FORMATS", patched)
    report = export_model(SOURCE, tmp_path, formats=["tflite-fp32", "tflite-fp16", "onnx-fp32"],
                          data=str(small_npz), progress=False)
    assert report.errors == {"tflite-fp16": "RuntimeError: converter exploded"}
    assert [r.format for r in report.results] == ["tflite-fp32", "onnx-fp32"]
    assert not report.ok
    assert "EXPORT FAILED" in report.table
    assert list(load_manifest(tmp_path).artifacts) == ["tflite-fp32", "onnx-fp32"]


def test_eleven_outputs_need_their_operating_point(tmp_path):
    """A "not a digit" model exports only with the threshold chosen for it (reject-report's file, or given)."""
    from train.models import build_model

    model_path = tmp_path / "fresh11.keras"
    build_model("cnn_aug", num_classes=11).save(model_path)
    with pytest.raises(ExportError, match="operating_point.json is missing"):
        export_model(model_path, tmp_path / "out", progress=False)
    (tmp_path / "reject").mkdir()
    (tmp_path / "reject" / "operating_point.json").write_text(json.dumps({"min_confidence": 0.5, "model_sha256": "0" * 64}))
    with pytest.raises(ExportError, match="made for another model"):
        export_model(model_path, tmp_path / "out", progress=False)


def test_non_digit_parity_catches_a_changed_reject_decision():
    from export.formats import QUANTIZED
    from export.pipeline import _non_digit_parity

    float_probs = np.tile(np.eye(11, dtype=np.float32)[10], (100, 1))  # every crop: "not a digit"
    flipped = float_probs.copy()
    flipped[:5] = np.eye(11, dtype=np.float32)[3]  # 5 % now read as a 3
    result = check_parity("x", "litert", np.eye(10)[:1], np.eye(10)[:1], np.zeros(1, int), QUANTIZED)
    _non_digit_parity(result, flipped, float_probs, 0.5)
    assert result.extra["non_digits"]["rejected"] == pytest.approx(0.95) and not result.passed
    same = check_parity("x", "litert", np.eye(10)[:1], np.eye(10)[:1], np.zeros(1, int), QUANTIZED)
    _non_digit_parity(same, float_probs, float_probs, 0.5)
    assert same.passed


def test_missing_and_corrupt_source_models(tmp_path):
    with pytest.raises(ExportError, match="no such model file"):
        export_model(tmp_path / "nope.keras", tmp_path / "out")
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(SOURCE.read_bytes()[:5000])
    with pytest.raises(ExportError, match="cannot load as a Keras model"):
        export_model(corrupt, tmp_path / "out")


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="cannot create the output folder"):
        export_model(SOURCE, blocker / "out")


def test_cli_errors_and_tolerance_failure(small_npz, tmp_path, capsys, monkeypatch):
    assert export_main(["--formats", "tflite-fp32,bogus", "--out", str(tmp_path)]) == 2
    assert "unknown format(s) bogus" in capsys.readouterr().err
    assert export_main(["--model", str(tmp_path / "missing.keras"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no such model file" in err and "note:" not in err and len(err.strip().splitlines()) == 1
    assert export_main(["--model", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "not a model file (a folder or a device)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        export_main(["--int8", "--formats", "onnx-fp32"])
    # --recover in a folder that is not there: an error (it said "nothing to recover" and exited 0).
    assert export_main(["--recover", "--out", str(tmp_path / "missing")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert export_main(["--recover", "--out", str(tmp_path)]) == 0
    assert "nothing to recover" in capsys.readouterr().out
    (tmp_path / "a_file").write_text("x")
    assert export_main(["--recover", "--out", str(tmp_path / "a_file")]) == 2
    assert "not a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:  # "" is the current folder to Path: an unset $DIR must not recover there
        export_main(["--recover", "--out", ""])
    assert stop.value.code == 2 and "--out is empty" in capsys.readouterr().err
    # A tolerance nobody can meet (a gain of 1 point: not a flag's value) makes the export fail loudly, with the table.
    from export import cli
    from export.formats import Tolerance

    monkeypatch.setattr(cli, "tolerances_from", lambda args: {"onnx-int8": Tolerance(1.0, -1.0)})
    code = export_main(["--formats", "onnx-int8", "--data", str(small_npz), "--out", str(tmp_path / "strict"), "--quiet"])
    captured = capsys.readouterr()
    assert code == 1
    assert "| onnx-int8 | onnxruntime | FAILED |" in captured.out
    # Quiet by default: the converters' chatter ("Saved artifact at ...", TensorSpec lists) stays off stdout.
    assert "Saved artifact" not in captured.out and "TensorSpec" not in captured.out
    assert "FAILED: onnx-int8" in captured.err


@pytest.mark.parametrize("argv, message", [
    (["--max-drop-quant", "nan"], "--max-drop-quant is in percentage points, from 0 to 100; got nan"),
    (["--max-drop-quant", "-1"], "--max-drop-quant is in percentage points, from 0 to 100; got -1.0"),
    (["--min-agreement-quant", "nan"], "--min-agreement-quant is in percent"),
    (["--min-confidence", "nan"], "--min-confidence is a probability"),
    (["--calibration-size", "0"], "--calibration-size must be positive"),
    (["--stem", "a/b"], "--stem must be a plain file name stem"),
    (["--stem", ""], "--stem must be a plain file name stem"),
    (["--stem", "../evil"], "--stem must be a plain file name stem"),
    (["--stem", ".hidden"], "--stem must be a plain file name stem")])
def test_cli_refuses_values_no_export_can_use(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        export_main([*argv, "--out", str(tmp_path / "out")])
    assert info.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_end_an_export_as_ctrl_c_does(stop, small_npz, tmp_path, capsys, monkeypatch):
    """`timeout`, systemctl stop or a lost SSH session: the staged export is dropped, the old files stay, one line
    says so, exit 128 + the signal (the process died under the default action, silent, leaving its staging folder
    or a half-done swap: attack review)."""
    import os
    import signal

    from export import pipeline

    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(MODELS / "mnist_cnn.int8.tflite", out / "mnist_cnn.int8.tflite")
    before = sha256_of(out / "mnist_cnn.int8.tflite")

    def stopped(staging, *args, **kwargs):  # the signal arrives halfway through: a new model staged, not swapped in
        (staging / "mnist_cnn.int8.tflite").write_bytes(b"half an export")
        os.kill(os.getpid(), getattr(signal, stop))
        raise AssertionError("the signal did not stop the export")

    monkeypatch.setattr(pipeline, "_export_into", stopped)
    handler = signal.getsignal(getattr(signal, stop))
    code = export_main(["--int8", "--no-micro", "--force", "--data", str(small_npz), "--out", str(out), "--quiet"])
    assert code == 128 + getattr(signal, stop)
    err = capsys.readouterr().err
    assert f"mnist-edge export: stopped by {stop};" in err and "left as it was" in err and "Traceback" not in err
    assert sha256_of(out / "mnist_cnn.int8.tflite") == before
    assert sorted(p.name for p in out.iterdir()) == ["mnist_cnn.int8.tflite"]
    assert signal.getsignal(getattr(signal, stop)) == handler  # the handler is put back (the suite goes on)


def test_an_interrupted_export_leaves_the_old_files_and_no_traceback(small_npz, tmp_path, capsys, monkeypatch):
    from export import pipeline

    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(MODELS / "mnist_cnn.int8.tflite", out / "mnist_cnn.int8.tflite")
    before = sha256_of(out / "mnist_cnn.int8.tflite")

    def interrupted(staging, *args, **kwargs):  # Ctrl-C halfway through: a new model staged, not swapped in
        (staging / "mnist_cnn.int8.tflite").write_bytes(b"half an export")
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "_export_into", interrupted)
    assert export_main(["--int8", "--no-micro", "--force", "--data", str(small_npz), "--out", str(out), "--quiet"]) == 130
    err = capsys.readouterr().err
    assert "mnist-edge export: interrupted;" in err and "left as it was" in err and "Traceback" not in err
    assert sha256_of(out / "mnist_cnn.int8.tflite") == before
    assert sorted(p.name for p in out.iterdir()) == ["mnist_cnn.int8.tflite"]  # no staging folder left


def test_a_failing_export_is_marked_and_never_replaces_a_passing_file(small_npz, tmp_path):
    from export.formats import Tolerance

    impossible = {"tflite-dynamic": Tolerance(min_agreement=1.0, max_accuracy_drop_pp=-1.0)}
    fresh = tmp_path / "fresh"
    report = export_model(SOURCE, fresh, formats=["tflite-dynamic"], data=str(small_npz), tolerances=impossible,
                          progress=False)
    assert not report.ok
    assert load_manifest(fresh).artifact("tflite-dynamic").status == "failed"  # no passing file to keep: marked
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    for path in MODELS.glob("mnist_cnn.*"):
        shutil.copy(path, shipped / path.name)
    shutil.copy(MODELS / "manifest.json", shipped / "manifest.json")
    before = sha256_of(shipped / "mnist_cnn.dynamic.tflite")
    report = export_model(SOURCE, shipped, formats=["tflite-dynamic"], data=str(small_npz), tolerances=impossible,
                          force=True, progress=False)
    assert not report.ok and "tflite-dynamic" in report.kept
    assert sha256_of(shipped / "mnist_cnn.dynamic.tflite") == before
    artifact = load_manifest(shipped).artifact("tflite-dynamic")
    assert artifact.passed
    artifact.verify()


def test_a_new_int8_model_without_a_bundle_retires_the_old_bundle(small_npz, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    shutil.copytree(MODELS / "micro", out / "micro")
    shutil.copy(MODELS / "mnist_cnn.int8.tflite", out / "mnist_cnn.int8.tflite")
    report = export_model(SOURCE, out, formats=[INT8_FORMAT], micro=False, data=str(small_npz),
                          calibration_size=100, calibration_seed=5, force=True, progress=False)
    assert report.ok, report.table
    assert not (out / "micro").exists()  # a bundle of another int8 model would be silently wrong
    load_manifest(out).artifact(INT8_FORMAT).verify()
    assert not list(out.glob(".export-*"))


def test_another_model_s_export_is_replaced_whole_and_only_with_force(small_npz, tmp_path):
    """A folder holding the shipped model's export, then another model exported into it: without --force a
    refusal that says so (not the generic "file exists"); with it, the new manifest's files only (the old int8
    model and its micro/ bundle stayed beside the new manifest and described another model: fresh-clone review).
    Only what an export writes goes: a folder or a model file the old manifest names is left (attack review)."""
    out = tmp_path / "out"
    out.mkdir()
    for name in ("mnist_cnn.int8.tflite", "mnist_cnn.fp32.onnx", "mnist_cnn.fp32.tflite"):
        shutil.copy(MODELS / name, out / name)
    shutil.copytree(MODELS / "micro", out / "micro")
    (out / "mine").mkdir()
    (out / "mine" / "notes.txt").write_text("mine")
    manifest = json.loads((MODELS / "manifest.json").read_text())
    manifest["artifacts"].append({**manifest["artifacts"][0], "format": "x", "file": "mine"})
    (out / "manifest.json").write_text(json.dumps(manifest))
    other = tmp_path / "other.keras"
    shutil.copy(MODELS / "edge" / "edge_cnn.keras", other)
    with pytest.raises(ArtifactExistsError, match="another model"):
        export_model(other, out, formats=["tflite-fp32"], data=str(small_npz), progress=False)
    assert (out / "mnist_cnn.int8.tflite").exists()  # refused before anything moved
    report = export_model(other, out, formats=["tflite-fp32"], data=str(small_npz), force=True, progress=False)
    assert report.ok, report.table
    fresh = load_manifest(out)
    assert list(fresh.artifacts) == ["tflite-fp32"]
    assert not (out / "mnist_cnn.int8.tflite").exists() and not (out / "mnist_cnn.fp32.onnx").exists()
    assert not (out / "micro").exists() and (out / "mine" / "notes.txt").read_text() == "mine"
    fresh.artifact("tflite-fp32").verify()
    assert not list(out.glob(".export-*"))


def test_a_folder_whose_manifest_cannot_be_read_is_replaced_only_with_force(small_npz, tmp_path):
    """A corrupt manifest cannot say which model the files are of: it switched the check off (attack review)."""
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(MODELS / "mnist_cnn.int8.tflite", out / "mnist_cnn.int8.tflite")
    shutil.copytree(MODELS / "micro", out / "micro")
    (out / "manifest.json").write_text("{not json")
    with pytest.raises(ArtifactExistsError, match="cannot be read"):
        export_model(SOURCE, out, formats=["tflite-fp32"], data=str(small_npz), progress=False)
    report = export_model(SOURCE, out, formats=["tflite-fp32"], data=str(small_npz), force=True, progress=False)
    assert report.ok, report.table
    assert not (out / "mnist_cnn.int8.tflite").exists() and not (out / "micro").exists()
    assert list(load_manifest(out).artifacts) == ["tflite-fp32"]


@pytest.mark.parametrize("name, content, why", [
    ("empty.keras", b"", "not a Keras model file (empty)"),
    ("text.keras", b"hello, not a zip", "a .keras file is a zip archive; this is not"),
    ("text.h5", b"hello, not HDF5", "an .h5 file is HDF5; this is not"),
    ("cut.keras", "the shipped model's first 4 KiB", "a zip archive cut short"),  # attack review: "File not found"
    ("n" * 300 + ".keras", b"", "cannot be read (File name too long)"),  # attack review: a traceback
])
def test_cli_a_file_that_is_no_keras_model_fails_before_tensorflow(name, content, why, tmp_path, capsys):
    """An empty or foreign .keras/.h5 file: one error line, exit 2, judged from its first bytes (it loaded
    TensorFlow for ~6 s before the error)."""
    import subprocess
    import sys

    model = tmp_path / name
    if isinstance(content, bytes) and len(name) < 255:
        model.write_bytes(content)
    elif not isinstance(content, bytes):
        model.write_bytes(SOURCE.read_bytes()[:4096])
    assert export_main(["--model", str(model), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert why in err and len(err.strip().splitlines()) == 1
    probe = subprocess.run([sys.executable, "-c", "import sys, export.cli\nrc = export.cli.main(sys.argv[1:])\n"
                            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\nsys.exit(rc)",
                            "--model", str(model), "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert probe.returncode == 2, probe.stderr
    assert not (tmp_path / "out").exists()


def test_python_m_export_names_itself():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "export", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("usage: python -m export")


def test_a_linked_model_finds_its_operating_point_beside_the_model_itself(tmp_path):
    """Attack review: through a symlink, reject/operating_point.json was looked for beside the link."""
    from export.pipeline import operating_point

    link = tmp_path / "link.keras"
    link.symlink_to(SOURCE.resolve())
    threshold, non_digits = operating_point(link, 11, None)
    assert threshold == json.loads((SOURCE.parent / "reject" / "operating_point.json").read_text())["min_confidence"]
    assert non_digits is not None and non_digits.is_file()
