"""`mnist-edge bench latency`: every artifact in the manifest, in every installed runtime, measured in one run.

Each (format, runtime, threads) is measured in its own fresh process, so its
load time and peak memory are its own and one failure hides nothing. Prints
a Markdown table, writes JSON and a PNG chart. Latency is the median (and
p99) of single-image `predict` calls after a warm-up, measured in alternating
blocks beside the bare interpreter call, whose cost is the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench import keras_row, latency_worker
from bench.costs import cold_start, compute_rate, cpu_peak, model_macs, preprocessing_cost
from export.formats import FLOAT_REFERENCE_FORMAT, FORMATS, INT8_FORMAT


def runtimes_for(artifact) -> list[str]:
    """Installed runtimes that can run an artifact: its format's runtimes in the registry (else its own)."""
    import importlib.util

    fmt = FORMATS.get(artifact.format)
    wanted = fmt.runtimes if fmt else (artifact.runtime,)
    return [r for r in wanted if r != "tflm" or importlib.util.find_spec("tflite_micro") is not None]


def run_worker(spec: dict, timeout: float = 900) -> dict:
    # The Keras row imports TensorFlow; like every row it runs in its own process.
    module = (keras_row if spec["runtime"] == "keras" else latency_worker).__name__  # no module name in a string
    cmd = [sys.executable, "-m", module, json.dumps(spec)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {**spec, "status": "failed to load", "reason": f"timed out after {timeout:.0f} s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        reason = (proc.stderr.strip().splitlines() or ["exit code %d" % proc.returncode])[-1]
        return {**spec, "status": "failed to load", "reason": reason[:300]}
    return json.loads(lines[-1])


def run_benchmark(manifest_path=None, data_path=None, runs: int = 1000, threads: list[int] | None = None,
                  formats: list[str] | None = None, min_accuracy: float = 0.99, keras_model: str | None = None,
                  progress=print) -> dict:
    import importlib.util

    from runtime.manifest import load_manifest
    from runtime.mnist_data import load_mnist

    manifest = load_manifest(manifest_path)
    labels = load_mnist(data_path).y_test
    threads = threads or sorted({1, os.cpu_count() or 1})
    specs = []
    for name, artifact in manifest.artifacts.items():
        if formats and name not in formats:
            continue
        for runtime in runtimes_for(artifact):
            for n in ([1] if runtime == "tflm" else threads):
                specs.append({"format": name, "runtime": runtime, "threads": n, "manifest": str(manifest.path),
                              "data": data_path, "runs": runs, "accuracy_images": len(labels),
                              "bytes": artifact.bytes})
    source = manifest.path.parent / manifest.data["source_model"]["file"]
    keras_path = Path(keras_model) if keras_model else source
    has_tf = (importlib.util.find_spec("tensorflow") is not None and importlib.util.find_spec("train") is not None
              and keras_path.exists())
    if has_tf:
        specs.insert(0, {"format": "keras-fp32", "runtime": "keras", "threads": os.cpu_count(), "manifest": str(manifest.path),
                         "data": data_path, "runs": runs, "accuracy_images": len(labels),
                         "bytes": keras_path.stat().st_size, "keras_model": str(keras_path)})
    rows = []
    for spec in specs:
        progress(f"bench: {spec['format']} / {spec['runtime']} / {spec['threads']} thread(s) ...")
        result = run_worker(spec)
        result["bytes"] = spec["bytes"]
        rows.append(result)
    reference_row = next((r for r in rows if r["format"] == "keras-fp32" and "predictions" in r), None) or \
        next((r for r in rows if r["format"] == FLOAT_REFERENCE_FORMAT and "predictions" in r), None)
    reference = np.array(reference_row["predictions"]) if reference_row else None
    macs = (model_macs(manifest.artifact(FLOAT_REFERENCE_FORMAT).path)
            if FLOAT_REFERENCE_FORMAT in manifest.artifacts else None)
    peak = cpu_peak()
    for row in rows:
        if "predictions" not in row:
            continue
        pred = np.array(row.pop("predictions"))
        row["accuracy"] = float((pred == labels[: len(pred)]).mean())
        if reference is not None:
            row["agreement_with_float"] = float((pred == reference[: len(pred)]).mean())
        row["status"] = "passed" if row["accuracy"] >= min_accuracy else "loaded but failed accuracy"
        if macs:
            compute_rate(row, macs, peak)
    return {
        "benchmark": "runtime_latency",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "cpu_peak": peak},
        "reference": reference_row["format"] if reference_row else None,
        "macs_per_image": macs,
        "min_accuracy": min_accuracy,
        "preprocessing": preprocessing_cost(data_path),
        "cold_start": cold_start(manifest, INT8_FORMAT) if INT8_FORMAT in manifest.artifacts else None,
        "rows": rows,
    }


def _fmt(value, spec: str = ".3f", missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def to_markdown(result: dict) -> str:
    peak = result["machine"]["cpu_peak"]
    lines = [
        f"Runtime benchmark, {result['machine']['cpu_count']} cores ({peak['vendor']} at {peak['ghz']:.2f} GHz nominal), "
        f"{result['macs_per_image'] or 0:,} MACs/image; agreement is with {result['reference']}; "
        f"1-core peak {peak['fp32_gmacs']:.0f} GMAC/s fp32, {peak['int8_gmacs']:.0f} GMAC/s int8 ({peak['how']}); "
        "% peak is of the peak of the threads used (int8 and dynamic-range rows against the int8 peak); "
        "MB loaded: the row's process peak after import, load and a first prediction (before it loads MNIST).",
        "",
        "| format | runtime | threads | status | size KiB | accuracy % | agreement % | import+load+1st ms | load ms "
        "| median ms (b1) | p99 ms | bare ms | overhead % | img/s b1 | img/s b256 | MB loaded | GMAC/s | % peak |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        if r.get("status") == "failed to load":
            lines.append(f"| {r['format']} | {r['runtime']} | {r['threads']} | failed to load: {r['reason']} |"
                         + " - |" * 14)
            continue
        lines.append(
            f"| {r['format']} | {r['runtime']} | {r['threads']} | {r['status']} | {r['bytes'] / 1024:.0f} "
            f"| {100 * r['accuracy']:.2f} | {_fmt(100 * r['agreement_with_float'] if 'agreement_with_float' in r else None, '.2f')} "
            f"| {1000 * r['import_load_predict_s']:.0f} | {1000 * r['load_s']:.1f} | {r['predictor_median_ms']:.3f} "
            f"| {r['predictor_p99_ms']:.3f} | {_fmt(r.get('bare_median_ms'))} | {_fmt(r.get('predictor_overhead_pct'), '+.1f')} "
            f"| {r['batch1_images_per_s']:.0f} | {_fmt(r.get('large_batch_images_per_s'), '.0f')} | {r['peak_rss_mb_after_first_predict']:.0f} "
            f"| {_fmt(r.get('achieved_gmacs'), '.2f')} | {_fmt(r.get('pct_of_peak'), '.1f')} |")
    pre = result["preprocessing"]
    lines += ["", f"Preprocessing (`to_mnist_28x28`, {pre['frame']}, {pre['frames']} frames): "
              f"median {pre['median_ms']:.2f} ms, p99 {pre['p99_ms']:.2f} ms."]
    cold = result.get("cold_start")
    if cold and "import_s" in cold.get("predictor", {}):
        p, b = cold["predictor"], cold.get("bare_litert", {})
        lines += ["", f"Cold start of {cold['format']} in a fresh process (median of 5): runtime import "
                  f"{1000 * p['import_s']:.0f} ms + load {1000 * p['load_s']:.0f} ms + first predict "
                  f"{1000 * p['first_predict_s']:.1f} ms = {1000 * p['total_s']:.0f} ms, peak memory {p['peak_rss_mb']:.0f} MB "
                  f"(TensorFlow imported: {p['tensorflow_imported']}); bare LiteRT process: "
                  f"{1000 * b.get('total_s', float('nan')):.0f} ms, {b.get('peak_rss_mb', float('nan')):.0f} MB."]
    return "\n".join(lines) + "\n"


def plot(result: dict, path: Path) -> None:
    from bench.results import pyplot, save_figure

    plt = pyplot()
    rows = [r for r in result["rows"] if "predictor_median_ms" in r]
    labels = [f"{r['format']} / {r['runtime']} / {r['threads']}t" for r in rows]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.5))
    bars = ax.barh(labels, [r["predictor_median_ms"] for r in rows], color="#4c72b0")
    ax.bar_label(bars, labels=[f"{r['predictor_median_ms']:.3f} ms" for r in rows], padding=3, fontsize=8)
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set(xlabel="median latency per image at batch 1, ms (log scale)", title="mnist-edge: one digit, every runtime")
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mnist-edge bench latency", description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", default=None, help="manifest.json or its folder (default: models/)")
    parser.add_argument("--data", default=None, help="path to mnist.npz")
    parser.add_argument("--formats", default=None, help="comma-separated subset of the manifest's formats")
    parser.add_argument("--runs", type=int, default=1000, help="timed single-image runs per row (after warm-up)")
    parser.add_argument("--threads", default=None, help="comma-separated thread counts (default: 1 and all cores)")
    parser.add_argument("--min-accuracy", type=float, default=99.0, help="percent; below it a row fails")
    parser.add_argument("--out", default="benchmarks", help="folder for runtime_bench.{md,json,png}")
    args = parser.parse_args(argv)
    if args.runs < 100:
        parser.error(f"--runs must be at least 100, got {args.runs}")
    try:
        threads = [int(t) for t in args.threads.split(",")] if args.threads else None
    except ValueError:
        parser.error(f"--threads takes comma-separated integers, got {args.threads!r}")
    if threads and min(threads) <= 0:
        parser.error("--threads must be positive")

    from bench.results import write_benchmark
    from runtime.manifest import ManifestError
    from runtime.mnist_data import MnistDataError

    try:
        result = run_benchmark(args.manifest, args.data, args.runs, threads,
                               args.formats.split(",") if args.formats else None, args.min_accuracy / 100,
                               progress=lambda msg: print(msg, file=sys.stderr))
    except (ManifestError, MnistDataError) as exc:
        print(f"mnist-edge bench latency: error: {exc}", file=sys.stderr)
        return 2
    table = to_markdown(result)
    print(table)
    write_benchmark(args.out, "runtime_bench", result, table, plot)
    failed = [r for r in result["rows"] if r.get("status") != "passed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
