"""export/quant_report.py on the shipped int8 artifacts: every quantized tensor reported, variants measured."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from export.quant_report import main as quant_report_main
from runtime.manifest import load_manifest
from tests.pngcheck import assert_picture

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"


@pytest.fixture(scope="module")
def report(tmp_path_factory, mnist_path):
    out = tmp_path_factory.mktemp("quant_report")
    code = quant_report_main(["--models-dir", str(MODELS), "--out", str(out), "--limit", "500", "--debug-images", "50",
                              "--worst", "1", "--data", str(mnist_path), "--no-progress"])
    assert code == 0
    return out, json.loads((out / "quant_report.json").read_text())


def _by_format(result: dict) -> dict:
    return {r["format"]: r for r in result["reports"]}


def test_every_int8_activation_of_the_tflite_model_is_named(report):
    from ai_edge_litert.interpreter import Interpreter

    _, result = report
    interpreter = Interpreter(model_path=str(load_manifest(MODELS).artifact("tflite-int8").path))
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    int8_outputs = {tensors[i]["name"] for op in interpreter._get_ops_details() for i in op["outputs"]
                    if tensors[i]["dtype"] == np.int8}
    rows = _by_format(result)["tflite-int8"]["rows"]
    assert int8_outputs == {r["tensor"] for r in rows}
    for r in rows:
        assert r["scale"] > 0 and np.isfinite(r["rmse_over_scale"]) and r["rmse_over_scale"] >= 0
    # The shipped model quantizes well: no conv or dense layer deserves a look (RMSE/scale > 0.7).
    assert max(r["rmse_over_scale"] for r in rows if r["op"] in ("CONV_2D", "FULLY_CONNECTED")) < 0.7


def test_every_quantized_activation_of_the_onnx_model_is_named(report):
    import onnx

    _, result = report
    graph = onnx.load(str(load_manifest(MODELS).artifact("onnx-int8").path)).graph
    initializers = {i.name for i in graph.initializer}
    quantized = {n.input[0].removesuffix("_QuantizeLinear_Input") for n in graph.node
                 if n.op_type == "QuantizeLinear" and n.input[0] not in initializers}
    rows = _by_format(result)["onnx-int8"]["rows"]
    assert quantized == {r["tensor"] for r in rows if r["kind"] == "activation"}
    convs = [r for r in rows if r["op"] == "Conv"]
    assert convs and all(20 < r["sqnr_local_db"] < 100 for r in convs)  # 8-bit rounding: tens of dB, not exact
    assert any(r["kind"] == "weight" for r in rows)


@pytest.mark.parametrize("fmt", ["tflite-int8", "onnx-int8"])
def test_keeping_the_worst_layer_float_is_measured(report, fmt):
    out, result = report
    r = _by_format(result)[fmt]
    base, kept = r["variants"][0], r["variants"][1]
    assert base["kept_float"] == [] and len(r["worst"]) == 1
    # Re-quantized here with export's recipe and the saved calibration: the same model as the shipped artifact.
    assert base["agreement_with_artifact"] >= 0.99
    assert "error" not in kept and kept["bytes"] > base["bytes"]  # a float layer costs bytes
    assert 0.9 < kept["accuracy"] <= 1.0
    text = (out / f"{fmt}.md").read_text()
    assert r["rows"][0]["tensor"] in text and "What keeping a layer float buys" in text
    assert_picture(out / f"{fmt}.png")


def test_a_folder_without_manifest_is_a_clear_error(tmp_path, capsys):
    assert quant_report_main(["--models-dir", str(tmp_path), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    assert "manifest" in capsys.readouterr().err


def test_quiet_by_default_results_on_stdout(tmp_path, mnist_path):
    """Fresh-clone review: the converter's "fully_quantize: 1, inference_type: 6 ..." lines and TensorFlow's
    start-up lines reached stderr without -v."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "export.quant_report", "--formats", "tflite-int8", "--limit", "300",
                           "--debug-images", "20", "--worst", "1", "--data", str(mnist_path), "--out", str(tmp_path),
                           "--no-progress"], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr == ""
    assert "tflite-int8: " in done.stdout and "fully_quantize" not in done.stdout
