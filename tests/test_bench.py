"""bench/latency.py and runtime/selfcheck.py: the benchmark's rows and statuses, the cross-machine comparison."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench.latency import run_benchmark, to_markdown
from bench.costs import compute_rate, cpu_peak, model_macs
from runtime.manifest import load_manifest
from runtime.selfcheck import INT8_STEP, compare

MODELS = Path(__file__).resolve().parents[1] / "models"


def test_macs_of_the_cnn_are_counted_from_its_layers():
    # conv 7x7x1->32 on 28x28, conv 5x5x32->48 on 14x14, dense 2352->128, dense 128->10
    expected = 28 * 28 * 32 * 49 + 14 * 14 * 48 * 25 * 32 + 2352 * 128 + 128 * 10
    assert model_macs(load_manifest(MODELS).artifact("tflite-fp32").path) == expected


def test_cpu_peak_reads_this_machine():
    """The clock is /proc/cpuinfo's, int8 dot products give at least twice the fp32 MACs per cycle."""
    peak = cpu_peak()
    info = Path("/proc/cpuinfo").read_text()
    mhz = [float(line.split(":")[1]) for line in info.splitlines() if line.startswith("cpu MHz")]
    if mhz:  # x86 Linux lists the clock; an aarch64 kernel may not
        assert peak["ghz"] == pytest.approx(mhz[0] / 1000)
    assert peak["int8_macs_per_cycle"] >= 2 * peak["fp32_macs_per_cycle"] > 0
    assert peak["fp32_gmacs"] == pytest.approx(peak["ghz"] * peak["fp32_macs_per_cycle"])


def test_rate_is_work_over_time_against_the_peak_of_the_cores_and_dtype_used():
    """Invariants, not the formula again: rate x time = MACs; twice the threads, half the share; int8 vs the int8 peak."""
    peak = {"int8_gmacs": 160.0, "fp32_gmacs": 40.0}
    rows = {key: {"format": fmt, "threads": threads, "predictor_median_ms": 0.25}
            for key, fmt, threads in (("int8", "tflite-int8", 1), ("int8x2", "tflite-int8", 2),
                                      ("dynamic", "tflite-dynamic", 1), ("fp32", "onnx-fp32", 1))}
    for row in rows.values():
        compute_rate(row, 9_058_048, peak)
    for row in rows.values():
        assert row["achieved_gmacs"] * 1e9 * row["predictor_median_ms"] / 1000 == pytest.approx(9_058_048)
    assert rows["int8x2"]["pct_of_peak"] == pytest.approx(rows["int8"]["pct_of_peak"] / 2)
    assert rows["fp32"]["pct_of_peak"] == pytest.approx(4 * rows["int8"]["pct_of_peak"])  # int8 peak is 4x here
    assert rows["dynamic"]["pct_of_peak"] == pytest.approx(rows["int8"]["pct_of_peak"])  # computes in int8


def test_benchmark_rows_and_a_broken_artifact(tmp_path, mnist_path):
    folder = tmp_path / "models"
    folder.mkdir()
    manifest = load_manifest(MODELS)
    for name in ("tflite-fp32", "onnx-int8"):
        shutil.copy(manifest.artifact(name).path, folder)
    data = json.loads(manifest.path.read_text())
    data["artifacts"] = [a for a in data["artifacts"] if a["format"] in ("tflite-fp32", "onnx-int8")]
    data["source_model"]["file"] = str(MODELS / "cnn_aug.keras")
    (folder / "manifest.json").write_text(json.dumps(data))
    broken = folder / manifest.artifact("onnx-int8").path.name
    broken.write_bytes(broken.read_bytes()[:1000])  # corrupt: its sha256 no longer matches

    result = run_benchmark(folder, str(mnist_path), runs=100, threads=[1], progress=lambda msg: None)
    rows = {(r["format"], r["runtime"]): r for r in result["rows"]}
    fp32 = rows[("tflite-fp32", "litert")]
    assert fp32["status"] == "passed"
    assert fp32["accuracy"] == pytest.approx(manifest.artifact("tflite-fp32").parity["accuracy"])
    assert fp32["predictor_runs"] >= 100 and fp32["bare_runs"] >= 100
    assert 0 < fp32["bare_median_ms"] and 0 < fp32["predictor_median_ms"]
    assert fp32["large_batch_images_per_s"] > 0
    assert rows[("keras-fp32", "keras")]["agreement_with_float"] == 1.0
    failed = rows[("onnx-int8", "onnxruntime")]
    assert failed["status"] == "failed to load" and "does not match the manifest" in failed["reason"]
    assert result["macs_per_image"] > 9_000_000
    assert result["cold_start"] is None  # no int8 TFLite in this manifest
    table = to_markdown(result)
    assert "| tflite-fp32 | litert | 1 | passed |" in table and "failed to load" in table


def test_selfcheck_comparison_tolerates_rounding_not_errors():
    rng = np.random.default_rng(0)
    host = rng.dirichlet(np.ones(10), 200).astype(np.float32)
    labels = host.argmax(1)
    same = {"labels": labels, "tflite-int8": host}
    assert compare(same, {"labels": labels, "tflite-int8": host + INT8_STEP * 0.9}) == []
    off = host.copy()
    off[:, 0] += 3 * INT8_STEP
    assert "max |p_host - p_device|" in compare(same, {"labels": labels, "tflite-int8": off})[0]
    assert compare(same, {"labels": labels})[0] == "tflite-int8: missing from the device run"
