"""bench/latency.py and runtime/selfcheck.py: the benchmark's rows and statuses, the cross-machine comparison."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench.latency import default_manifests, run_benchmark, to_markdown
from bench.costs import compute_rate, cpu_peak, higher_peak, model_macs
from bench.latency_worker import timed_blocks
from runtime.manifest import ManifestError, load_manifest
from runtime.selfcheck import INT8_STEP, compare

MODELS = Path(__file__).resolve().parents[1] / "models"
SEED_CNN_MACS = 28 * 28 * 32 * 49 + 14 * 14 * 48 * 25 * 32 + 2352 * 128 + 128 * 11


def test_macs_of_the_cnn_are_counted_from_its_layers():
    # conv 7x7x1->32 on 28x28, conv 5x5x32->48 on 14x14, dense 2352->128, dense 128->11 (10 digits, "not a digit")
    expected = SEED_CNN_MACS
    assert model_macs(load_manifest(MODELS).artifact("tflite-fp32").path) == expected


def test_cpu_peak_is_measured_per_thread_count():
    """fp32 from a GEMM at each thread count, int8 at least 4x that; the 1-thread figures on top."""
    peak = cpu_peak((1, 2))
    assert set(peak["by_threads"]) == {"1", "2"}
    for rates in peak["by_threads"].values():
        assert rates["int8_gmacs"] >= 4 * rates["fp32_gmacs"] > 0
    assert peak["fp32_gmacs"] == peak["by_threads"]["1"]["fp32_gmacs"]
    assert higher_peak(peak, {**peak, "by_threads": {"1": {"fp32_gmacs": 1e6, "int8_gmacs": 4e6}}})["fp32_gmacs"] == 1e6


@pytest.mark.parametrize("format_name", ["tflite-fp32", "tflite-int8"])
def test_batch1_rate_of_the_shipped_model_stays_under_the_peak(format_name):
    """% peak as the benchmark computes it (median single-image call, 1 thread) cannot pass 100.

    The old peak (nominal clock x assumed FMA lanes) put this row at 200 %; a bound the model beats is no bound.
    """
    from runtime.mnist_data import load_mnist
    from runtime.predictor import load_predictor

    predictor = load_predictor(format_name, threads=1, manifest=MODELS)
    x_test = load_mnist(None, limit=64).x_test
    images = [x_test[i:i + 1] for i in range(64)]
    times = timed_blocks({"predictor": (predictor.predict, images)}, images, 300)["predictor"]
    row = {"format": format_name, "threads": 1, "predictor_median_ms": 1000 * float(np.median(times))}
    compute_rate(row, SEED_CNN_MACS, cpu_peak((1,)))
    assert 0 < row["pct_of_peak"] <= 100


def test_committed_benchmark_stays_under_the_peak():
    """benchmarks/runtime_bench.json: no row above 100 % of its peak."""
    result = json.loads((MODELS.parent / "benchmarks" / "runtime_bench.json").read_text())
    shares = [r["pct_of_peak"] for r in result["rows"] if r.get("pct_of_peak") is not None]
    assert shares and max(shares) <= 100


def test_rate_is_work_over_time_against_the_peak_of_the_threads_and_dtype_used():
    """Invariants, not the formula again: rate x time = MACs; int8 vs the int8 peak; the row's thread count's peak."""
    peak = {"int8_gmacs": 160.0, "fp32_gmacs": 40.0,
            "by_threads": {"1": {"int8_gmacs": 160.0, "fp32_gmacs": 40.0}, "2": {"int8_gmacs": 240.0, "fp32_gmacs": 60.0}}}
    rows = {key: {"format": fmt, "threads": threads, "predictor_median_ms": 0.25}
            for key, fmt, threads in (("int8", "tflite-int8", 1), ("int8x2", "tflite-int8", 2), ("int8x4", "tflite-int8", 4),
                                      ("dynamic", "tflite-dynamic", 1), ("fp32", "onnx-fp32", 1))}
    for row in rows.values():
        compute_rate(row, 9_058_048, peak)
    for row in rows.values():
        assert row["achieved_gmacs"] * 1e9 * row["predictor_median_ms"] / 1000 == pytest.approx(9_058_048)
    assert rows["int8x2"]["pct_of_peak"] == pytest.approx(rows["int8"]["pct_of_peak"] * 160 / 240)  # 2 threads' own peak
    assert rows["int8x4"]["pct_of_peak"] == pytest.approx(rows["int8"]["pct_of_peak"] / 4)  # not measured: 4 x 1 thread
    assert rows["fp32"]["pct_of_peak"] == pytest.approx(4 * rows["int8"]["pct_of_peak"])  # int8 peak is 4x here
    assert rows["dynamic"]["pct_of_peak"] == pytest.approx(rows["int8"]["pct_of_peak"])  # computes in int8


def _manifest_copy(folder: Path, source: Path, formats: tuple[str, ...], keras_model: str) -> Path:
    """A manifest folder holding copies of some of a shipped manifest's artifacts."""
    folder.mkdir()
    manifest = load_manifest(source)
    for name in formats:
        shutil.copy(manifest.artifact(name).path, folder)
    data = json.loads(manifest.path.read_text())
    data["artifacts"] = [a for a in data["artifacts"] if a["format"] in formats]
    data["source_model"]["file"] = keras_model
    (folder / "manifest.json").write_text(json.dumps(data))
    return folder


def test_benchmark_rows_of_two_models_and_a_broken_artifact(tmp_path, mnist_path):
    seed = _manifest_copy(tmp_path / "models", MODELS, ("tflite-fp32", "onnx-int8"), str(MODELS / "cnn_aug.keras"))
    # The edge model without its Keras file: no Keras row, its float TFLite is the reference.
    edge = _manifest_copy(tmp_path / "edge", MODELS / "edge", ("tflite-fp32",), "gone/edge_cnn.keras")
    manifest = load_manifest(MODELS)
    broken = seed / manifest.artifact("onnx-int8").path.name
    broken.write_bytes(broken.read_bytes()[:1000])  # corrupt: its sha256 no longer matches

    result = run_benchmark([seed, edge], str(mnist_path), runs=100, threads=[1], progress=lambda msg: None)
    rows = {(r["model"], r["format"], r["runtime"]): r for r in result["rows"]}
    fp32 = rows[("cnn_aug", "tflite-fp32", "litert")]
    assert fp32["status"] == "passed"
    assert fp32["accuracy"] == pytest.approx(manifest.artifact("tflite-fp32").parity["accuracy"])
    assert fp32["predictor_runs"] >= 100 and fp32["bare_runs"] >= 100
    assert 0 < fp32["bare_median_ms"] and 0 < fp32["predictor_median_ms"]
    assert fp32["large_batch_images_per_s"] > 0
    assert rows[("cnn_aug", "keras-fp32", "keras")]["agreement_with_float"] == 1.0
    failed = rows[("cnn_aug", "onnx-int8", "onnxruntime")]
    assert failed["status"] == "failed to load" and "does not match the manifest" in failed["reason"]
    edge_fp32 = rows[("edge_cnn", "tflite-fp32", "litert")]
    assert edge_fp32["accuracy"] == pytest.approx(load_manifest(MODELS / "edge").artifact("tflite-fp32").parity["accuracy"])
    assert edge_fp32["agreement_with_float"] == 1.0 and ("edge_cnn", "keras-fp32", "keras") not in rows
    assert result["models"]["cnn_aug"]["macs_per_image"] == SEED_CNN_MACS
    assert result["models"]["edge_cnn"]["macs_per_image"] == 826_560
    assert result["models"]["edge_cnn"]["reference"] == "tflite-fp32"
    assert result["models"]["cnn_aug"]["cold_start"] is None  # no int8 TFLite in these manifests
    table = to_markdown(result)
    assert "| cnn_aug | tflite-fp32 | litert | 1 | passed |" in table and "failed to load" in table
    assert "| edge_cnn | tflite-fp32 | litert | 1 | passed |" in table
    assert f"| edge_cnn | 826,560 | - | - | - | {edge_fp32['predictor_median_ms']:.3f} |" in table  # side by side


def test_benchmark_defaults_to_both_shipped_models_and_refuses_one_twice(mnist_path):
    assert default_manifests() == [load_manifest(MODELS).path, load_manifest(MODELS / "edge").path]
    with pytest.raises(ManifestError, match="already benchmarked"):
        run_benchmark([MODELS, MODELS / "manifest.json"], str(mnist_path), progress=lambda msg: None)


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


@pytest.mark.parametrize("argv, message", [
    (["threads", "--format", "foo", "--calls", "10", "--repeats", "1"], "no artifact of format 'foo'"),
    (["threads", "--threads", "999"], "--threads takes counts from 1 to 256"),
    (["camera", "--model", "foo"], "no artifact of format 'foo'"),
    (["reader", "--condition", "foo"], "unknown --condition foo; choose from clean"),
    (["latency", "--formats", "foo"], "unknown format(s) foo; the manifests list"),
    (["latency", "--min-accuracy", "nan"], "--min-accuracy is a percentage in [0, 100], got nan"),
    (["latency", "--min-accuracy", "200"], "--min-accuracy is a percentage in [0, 100], got 200.0"),
    (["latency", "--threads", "100"], "--threads takes counts from 1 to 64"),
])
def test_bench_cli_errors_are_one_line_and_exit_2(argv, message, tmp_path, capsys):
    from bench.cli import main

    try:
        code = main([*argv, "--out", str(tmp_path / "out")])
    except SystemExit as stop:  # argparse's own exit
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_an_interrupted_benchmark_is_one_line_130_and_keeps_the_old_results(tmp_path, capsys, monkeypatch):
    import bench.predictor_threads
    from bench.cli import main

    (tmp_path / "predictor_threads.md").write_text("old")

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(bench.predictor_threads, "measure", interrupted)
    assert main(["threads", "--out", str(tmp_path)]) == 130
    assert capsys.readouterr().err == ("mnist-edge bench threads: interrupted; no result half-written (each set of "
                                       "files is replaced whole or not at all)\n")
    assert [p.name for p in tmp_path.iterdir()] == ["predictor_threads.md"]
    assert (tmp_path / "predictor_threads.md").read_text() == "old"


def test_a_benchmark_whose_chart_fails_keeps_the_whole_old_set(tmp_path):
    from bench.results import write_benchmark

    for suffix in ("json", "md", "png"):
        (tmp_path / f"b.{suffix}").write_text("old")

    def broken_chart(result, path):
        raise RuntimeError("matplotlib fell over")

    with pytest.raises(RuntimeError):
        write_benchmark(tmp_path, "b", {"x": 1}, "| new |\n", broken_chart)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.json", "b.md", "b.png"]
    assert all((tmp_path / f"b.{s}").read_text() == "old" for s in ("json", "md", "png"))


def test_a_stop_while_a_set_is_renamed_in_waits_for_the_whole_set(tmp_path, monkeypatch):
    import os
    import signal

    from runtime import files

    real_replace, calls = os.replace, []

    def replace_then_ctrl_c(src, dst):  # Ctrl-C lands between the first rename and the second
        real_replace(src, dst)
        calls.append(dst)
        if len(calls) == 1:
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(files.os, "replace", replace_then_ctrl_c)
    (tmp_path / "a.json").write_text("old")
    (tmp_path / "a.md").write_text("old")
    # Python's own Ctrl-C handler, whatever an earlier test left: the one the held signal is handed back to.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):  # delivered, but only once both are in
            files.replace_together({tmp_path / "a.json": b"new", tmp_path / "a.md": b"new"})
    finally:
        signal.signal(signal.SIGINT, previous)
    assert (tmp_path / "a.json").read_text() == "new" == (tmp_path / "a.md").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "a.md"]


@pytest.mark.parametrize("writer", ["replace_together", "atomic_write_bytes"])
def test_sigterm_in_the_middle_of_a_write_leaves_no_temp_file(tmp_path, writer):
    """A SIGTERM that lands while the data is being written (here: at the first fsync) waits until the set is
    renamed into place and the temp files are gone, then ends the process as a SIGTERM does."""
    import signal
    import subprocess
    import sys

    (tmp_path / "a.json").write_text("old")
    (tmp_path / "a.md").write_text("old")
    script = f"""
import os, signal
from runtime import files
real = os.fsync
def fsync_then_sigterm(fd):
    os.kill(os.getpid(), signal.SIGTERM)
    real(fd)
files.os.fsync = fsync_then_sigterm
if {writer!r} == "replace_together":
    files.replace_together({{{str(tmp_path / 'a.json')!r}: b"new", {str(tmp_path / 'a.md')!r}: b"new"}})
else:
    files.atomic_write_bytes({str(tmp_path / 'a.json')!r}, b"new", overwrite=True)
print("not reached")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1], timeout=60)
    assert done.returncode == -signal.SIGTERM and "not reached" not in done.stdout, done.stderr
    assert (tmp_path / "a.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "a.md"]


def test_bench_reader_writes_its_table_json_and_chart_together(tmp_path, capsys):
    """`mnist-edge bench reader` on two clean frames: the table on stdout, md/json/png written as one set."""
    import os

    from bench.reader_conditions import main
    from tests.pngcheck import assert_picture

    cores = os.sched_getaffinity(0)
    assert main(["--frames", "2", "--condition", "clean", "--out", str(tmp_path)]) == 0
    assert os.sched_getaffinity(0) == cores  # pinned to one core while it measured, not after
    out = capsys.readouterr()
    assert "| clean |" in out.out and "wrote" in out.err and "| clean |" not in out.err
    result = json.loads((tmp_path / "reader_conditions.json").read_text())
    assert list(result["rows"]) == ["clean"] and result["rows"]["clean"]["new"]["frames"] == 2
    assert (tmp_path / "reader_conditions.md").read_text().strip().endswith(
        out.out.strip().splitlines()[-1])
    assert_picture(tmp_path / "reader_conditions.png")
