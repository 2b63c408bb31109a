"""bench/zoo.py: a freshly trained zoo model and the shipped CNN, every format, side by side."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.zoo import main as zoo_main
from bench.zoo_report import CHART_DPI, CHART_INCHES, pareto_front
from export.formats import FORMATS
from tests.pngcheck import assert_picture

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
CHART_PX = (CHART_INCHES[0] * CHART_DPI, int(CHART_INCHES[1] * CHART_DPI))


def keras_macs(model) -> int:
    """MACs per image from the Keras layers: Conv2D out_h*out_w*out_c*k_h*k_w*in_c, Dense in*out."""
    import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            h, w, c_out = layer.output.shape[1:]
            k_h, k_w, c_in, _ = layer.kernel.shape
            total += h * w * c_out * k_h * k_w * c_in
        elif isinstance(layer, keras.layers.Dense):
            total += int(np.prod(layer.kernel.shape))
    return total


@pytest.fixture(scope="module")
def zoo(tmp_path_factory, mnist_path):
    runs, out = tmp_path_factory.mktemp("runs"), tmp_path_factory.mktemp("zoo")
    code = zoo_main(["--models", "linear_l2,cnn_aug", "--models-dir", str(MODELS), "--runs-dir", str(runs),
                     "--epochs", "1", "--limit", "1000", "--latency-runs", "20", "--data", str(mnist_path),
                     "--out", str(out), "--no-progress"])
    assert code == 0
    return runs, out, json.loads((out / "zoo.json").read_text())


def test_a_row_per_model_and_format(zoo):
    _, _, result = zoo
    assert {(r["model"], r["format"]) for r in result["rows"]} == {(m, f) for m in ("linear_l2", "cnn_aug") for f in FORMATS}
    for r in result["rows"]:
        assert r["bytes"] == Path(r["file"]).stat().st_size > 0
        assert 0 < r["latency_ms"] < 1000
        assert 0.5 < r["test_accuracy"] <= 1 and 0.5 < r["float_train_accuracy"] <= 1
        if r["format"].endswith("fp32"):  # a float export reads digits as its float model does
            assert r["agreement_with_float"] >= 0.998
        assert r["agreement_with_float"] >= 0.9
    origins = {r["model"]: r["origin"] for r in result["rows"]}
    assert origins == {"linear_l2": "trained now", "cnn_aug": "shipped"}


def test_params_and_macs_match_the_keras_layers(zoo):
    import keras

    runs, _, result = zoo
    for name, path in (("linear_l2", runs / "linear_l2" / "model.keras"), ("cnn_aug", MODELS / "cnn_aug.keras")):
        model = keras.models.load_model(path)
        row = next(r for r in result["rows"] if r["model"] == name)
        assert row["params"] == model.count_params()
        assert row["macs"] == keras_macs(model)
    assert next(r for r in result["rows"] if r["model"] == "linear_l2")["macs"] == 784 * 10


def test_the_seed_cnn_has_the_notebook_mac_count(tmp_path):
    from export.tflite import to_tflite_fp32
    from bench.costs import model_macs
    from train.models import build_cnn

    model = build_cnn()
    path = tmp_path / "cnn.fp32.tflite"
    path.write_bytes(to_tflite_fp32(model))
    assert model_macs(path) == keras_macs(model) == 9_058_048


def test_int8_rows_have_a_tflm_arena(zoo):
    _, _, result = zoo
    for r in result["rows"]:
        if r["format"] == "tflite-int8":
            assert r["tflm_arena"]["measured_bytes"] > 0
    cnn = next(r for r in result["rows"] if r["model"] == "cnn_aug" and r["format"] == "tflite-int8")
    linear = next(r for r in result["rows"] if r["model"] == "linear_l2" and r["format"] == "tflite-int8")
    assert cnn["tflm_arena"]["measured_bytes"] > linear["tflm_arena"]["measured_bytes"]


def test_cached_runs_are_reused(zoo, mnist_path, tmp_path):
    runs, _, _ = zoo
    model_file = runs / "linear_l2" / "model.keras"
    before = model_file.stat().st_mtime_ns
    code = zoo_main(["--models", "linear_l2", "--formats", "tflite-fp32", "--runs-dir", str(runs), "--no-train",
                     "--epochs", "1", "--limit", "1000", "--latency-runs", "10", "--data", str(mnist_path),
                     "--out", str(tmp_path), "--no-progress"])
    assert code == 0
    rows = json.loads((tmp_path / "zoo.json").read_text())["rows"]
    assert [(r["model"], r["format"], r["origin"]) for r in rows] == [("linear_l2", "tflite-fp32", "cached run")]
    assert model_file.stat().st_mtime_ns == before
    # Without --out the table goes beside the runs: a trial (--no-train on a fresh clone) rewrote the committed
    # models/zoo with the few models it had.
    committed = MODELS / "zoo" / "zoo.json"
    committed_before = committed.read_bytes()
    assert zoo_main(["--models", "linear_l2", "--formats", "tflite-fp32", "--runs-dir", str(runs), "--no-train",
                     "--epochs", "1", "--limit", "1000", "--latency-runs", "10", "--data", str(mnist_path),
                     "--no-progress"]) == 0
    assert json.loads((runs / "zoo.json").read_text())["rows"][0]["model"] == "linear_l2"
    assert committed.read_bytes() == committed_before


def test_a_cached_run_trained_otherwise_is_not_reused(zoo, mnist_path, tmp_path, capsys):
    """Fresh-clone review: a 1-epoch trial run in the cache became the zoo table's figures (mlp at 37 %)."""
    runs, _, _ = zoo
    code = zoo_main(["--models", "linear_l2", "--formats", "tflite-fp32", "--runs-dir", str(runs), "--no-train",
                     "--latency-runs", "10", "--data", str(mnist_path), "--out", str(tmp_path / "out"), "--no-progress"])
    assert code == 2 and not (tmp_path / "out").exists()
    assert "trained with --epochs 1 --limit 1000, not this zoo's --epochs 20 --limit None" in capsys.readouterr().err


def test_pareto_fronts_and_charts(zoo):
    _, out, result = zoo
    rows = result["rows"]
    for cost in ("latency_ms", "bytes"):
        front = pareto_front(rows, cost)
        assert front
        for i in front:  # nothing is both cheaper (or equal) and more accurate
            assert not any(o[cost] < rows[i][cost] and o["test_accuracy"] > rows[i]["test_accuracy"] for o in rows)
        best = max(range(len(rows)), key=lambda i: (rows[i]["test_accuracy"], -rows[i][cost]))
        assert best in front
    table = (out / "zoo.md").read_text()
    assert table.count("\n| linear_l2 |") == len(FORMATS)
    for name in ("accuracy_vs_latency.png", "accuracy_vs_size.png"):
        assert_picture(out / name, CHART_PX)


def test_unknown_model_is_a_clear_error(tmp_path, capsys):
    assert zoo_main(["--models", "resnet", "--out", str(tmp_path), "--no-progress"]) == 2
    assert "resnet" in capsys.readouterr().err


def test_an_output_folder_that_cannot_be_is_refused_before_any_work(tmp_path, capsys):
    """--out or --runs-dir through a file: exit 2 at once (it crashed with a traceback after training and timing)."""
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    for flags in (["--out", str(blocker)], ["--out", str(blocker / "sub")], ["--runs-dir", str(blocker)],
                  ["--out", str(tmp_path / "dangling")], ["--out", ""]):
        with pytest.raises(SystemExit) as stop:
            zoo_main(["--no-train", "--models", "linear_l2", "--formats", "tflite-fp32", "--runs-dir",
                      str(tmp_path / "runs"), *flags])
        err = capsys.readouterr().err
        assert stop.value.code == 2 and ("is not a folder" in err or "is empty" in err), err


def test_shipped_models_are_found_in_models_and_its_subfolders(tmp_path):
    from bench.zoo import shipped_sources

    for folder, source in ((tmp_path, "cnn_aug.keras"), (tmp_path / "edge", "edge_cnn.keras"), (tmp_path / "old", "gone.keras")):
        folder.mkdir(exist_ok=True)
        (folder / "manifest.json").write_text(json.dumps({"source_model": {"file": source}}))
        if source != "gone.keras":  # a manifest whose source model is missing is not a shipped model
            (folder / source).write_bytes(b"keras")
    assert shipped_sources(tmp_path) == {"cnn_aug": tmp_path, "edge_cnn": tmp_path / "edge"}


def test_a_zoo_stopped_while_training_says_so_without_a_traceback(tmp_path, mnist_path):
    """SIGTERM (and Ctrl-C) while a zoo model trains ended in a KeyboardInterrupt traceback from model.fit; it
    ends as the benchmarks do: one line, exit 128 + the signal, no report written."""
    import os
    import signal
    import subprocess
    import sys
    import time

    runs, out = tmp_path / "runs", tmp_path / "out"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "mnist_edge", "zoo", "--models", "mlp", "--formats", "tflite-fp32",
                             "--epochs", "200", "--limit", "3000", "--data", str(mnist_path), "--runs-dir", str(runs),
                             "--out", str(out), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 180
    while not (runs / "mlp.log").exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)  # the model is being trained (its log is open)
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err[-800:]
    assert "mnist-edge zoo: stopped by SIGTERM; no result half-written" in err and "Traceback" not in err
    assert not out.exists()
