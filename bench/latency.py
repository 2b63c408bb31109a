"""`mnist-edge bench latency`: every artifact of each model's manifest, in every installed runtime, measured in one run.

Each (format, runtime, threads) is measured in its own fresh process, so its
load time and peak memory are its own and one failure hides nothing. Prints
a Markdown table, writes JSON and a PNG chart. Latency is the median (and
p99) of single-image `predict` calls after a warm-up, measured in alternating
blocks beside the bare interpreter call, whose cost is the floor.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench import keras_row, latency_worker
from bench.costs import cold_start, compute_rate, cpu_peak, higher_peak, model_macs, preprocessing_cost
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


def default_manifests() -> list[Path]:
    """The shipped models: the seed CNN's manifest, and the edge model's (models/edge/) beside it when present."""
    from runtime.manifest import load_manifest

    seed = load_manifest(None).path
    edge = seed.parent / "edge" / seed.name
    return [seed] + ([edge] if edge.is_file() else [])


def model_name(manifest) -> str:
    """A manifest's model, named after its source model file (cnn_aug, edge_cnn)."""
    return Path(manifest.data["source_model"]["file"]).stem


def _specs(manifest, model: str, labels, data_path, runs: int, threads: list[int], formats) -> list[dict]:
    """One spec per (format, runtime, threads) of a manifest, the Keras source model first when it can run."""
    import importlib.util

    common = {"model": model, "manifest": str(manifest.path), "data": data_path, "runs": runs,
              "accuracy_images": len(labels)}
    specs = []
    for name, artifact in manifest.artifacts.items():
        if formats and name not in formats:
            continue
        for runtime in runtimes_for(artifact):
            for n in ([1] if runtime == "tflm" else threads):
                specs.append({"format": name, "runtime": runtime, "threads": n, **common, "bytes": artifact.bytes})
    keras_path = manifest.path.parent / manifest.data["source_model"]["file"]
    if (importlib.util.find_spec("tensorflow") is not None and importlib.util.find_spec("train") is not None
            and keras_path.exists()):
        specs.insert(0, {"format": "keras-fp32", "runtime": "keras", "threads": os.cpu_count(), **common,
                         "bytes": keras_path.stat().st_size, "keras_model": str(keras_path)})
    return specs


def _score(rows: list[dict], labels, manifest, min_accuracy: float, peak: dict) -> dict:
    """Accuracy, agreement with the float reference and MAC rate of one model's rows; that model's summary."""
    reference_row = next((r for r in rows if r["format"] == "keras-fp32" and "predictions" in r), None) or \
        next((r for r in rows if r["format"] == FLOAT_REFERENCE_FORMAT and "predictions" in r), None)
    reference = np.array(reference_row["predictions"]) if reference_row else None
    macs = (model_macs(manifest.artifact(FLOAT_REFERENCE_FORMAT).path)
            if FLOAT_REFERENCE_FORMAT in manifest.artifacts else None)
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
    return {"manifest": str(manifest.path), "reference": reference_row["format"] if reference_row else None,
            "macs_per_image": macs,
            "cold_start": cold_start(manifest, INT8_FORMAT) if INT8_FORMAT in manifest.artifacts else None}


def run_benchmark(manifest_paths=None, data_path=None, runs: int = 1000, threads: list[int] | None = None,
                  formats: list[str] | None = None, min_accuracy: float = 0.99, progress=print) -> dict:
    """Every artifact of every manifest (default: both shipped models) in every installed runtime.

    `manifest_paths`: one manifest (file or folder) or a list of them.
    """
    from runtime.manifest import ManifestError, load_manifest
    from runtime.mnist_data import load_mnist

    if manifest_paths is None:
        manifest_paths = default_manifests()
    elif isinstance(manifest_paths, (str, os.PathLike)):
        manifest_paths = [manifest_paths]
    manifests = {}
    for path in manifest_paths:
        manifest = load_manifest(path)
        name = model_name(manifest)
        if name in manifests:
            raise ManifestError(f"{manifest.path}: model {name!r} is already benchmarked from {manifests[name].path}")
        manifests[name] = manifest
    listed = {f for manifest in manifests.values() for f in manifest.artifacts}
    unknown = [f for f in formats or [] if f not in listed]
    if unknown:
        raise ManifestError(f"unknown format(s) {', '.join(unknown)}; the manifests list {', '.join(sorted(listed))}")
    labels = load_mnist(data_path).y_test
    threads = threads or sorted({1, os.cpu_count() or 1})
    peak_threads = sorted(set(threads) | {os.cpu_count() or 1})  # the Keras row uses every core
    progress(f"bench: CPU peak (fp32 GEMM, {'/'.join(map(str, peak_threads))} threads) ...")
    peak_before = cpu_peak(peak_threads)
    rows_by_model = {}
    for name, manifest in manifests.items():
        rows_by_model[name] = []
        for spec in _specs(manifest, name, labels, data_path, runs, threads, formats):
            progress(f"bench: {name}: {spec['format']} / {spec['runtime']} / {spec['threads']} thread(s) ...")
            result = run_worker(spec)
            result.update(model=name, bytes=spec["bytes"])
            rows_by_model[name].append(result)
    progress("bench: CPU peak again ...")
    peak = higher_peak(peak_before, cpu_peak(peak_threads))
    rows, models = [], {}
    for name, manifest in manifests.items():
        models[name] = _score(rows_by_model[name], labels, manifest, min_accuracy, peak)
        rows += rows_by_model[name]
    return {
        "benchmark": "runtime_latency",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "cpu_peak": peak},
        "models": models,
        "min_accuracy": min_accuracy,
        "preprocessing": preprocessing_cost(data_path),
        "rows": rows,
    }


def _fmt(value, spec: str = ".3f", missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def _side_by_side(result: dict) -> list[str]:
    """One row per model: its MACs, its int8 file and accuracy, and its TFLite files' latency on one thread."""
    lines = ["| model | MACs/image | int8 KiB | int8 accuracy % | int8 median ms (LiteRT, 1 thread) "
             "| fp32 median ms (LiteRT, 1 thread) | int8 median ms (TFLM interpreter) | cold start ms (int8) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, info in result["models"].items():
        def row(fmt, runtime):
            return next((r for r in result["rows"] if r["model"] == name and r["format"] == fmt
                         and r["runtime"] == runtime and r["threads"] == 1 and "predictor_median_ms" in r), {})
        int8, fp32, tflm = row(INT8_FORMAT, "litert"), row(FLOAT_REFERENCE_FORMAT, "litert"), row(INT8_FORMAT, "tflm")
        cold = ((info.get("cold_start") or {}).get("predictor") or {}).get("total_s")
        kib = int8["bytes"] / 1024 if int8 else None
        accuracy = 100 * int8["accuracy"] if int8 else None
        lines.append(
            f"| {name} | {_fmt(info['macs_per_image'], ',')} | {_fmt(kib, '.0f')} | {_fmt(accuracy, '.2f')} "
            f"| {_fmt(int8.get('predictor_median_ms'))} | {_fmt(fp32.get('predictor_median_ms'))} "
            f"| {_fmt(tflm.get('predictor_median_ms'))} | {_fmt(cold and 1000 * cold, '.0f')} |")
    return lines


def _peaks(peak: dict) -> str:
    """'1 thread 38 / 152, 2 threads 70 / 280 GMAC/s fp32 / int8' (older results: the 1-core figures)."""
    by_threads = peak.get("by_threads") or {"1": peak}
    return ", ".join(f"{n} thread{'s' if n != '1' else ''} {r['fp32_gmacs']:.0f} / {r['int8_gmacs']:.0f}"
                     for n, r in sorted(by_threads.items(), key=lambda item: int(item[0]))) + " GMAC/s fp32 / int8"


def to_markdown(result: dict) -> str:
    peak = result["machine"]["cpu_peak"]
    models = result["models"]
    named = ", ".join(f"{name} ({_fmt(info['macs_per_image'], ',')} MACs/image)" for name, info in models.items())
    references = " / ".join(sorted({str(info["reference"]) for info in models.values()}))
    lines = [
        f"Runtime benchmark, {result['machine']['cpu_count']} cores ({peak['vendor']} at {peak['ghz']:.2f} GHz nominal), "
        f"{named}, measured in one run; agreement is with each model's {references}; "
        f"peak {_peaks(peak)} ({peak['how']}; measured before and after the rows, the higher kept); "
        "% peak is of the peak at the row's thread count (int8 and dynamic-range rows against the int8 peak); "
        "MB loaded: the row's process peak after import, load and a first prediction (before it loads MNIST).",
        "",
        *_side_by_side(result),
        "",
        "| model | format | runtime | threads | status | size KiB | accuracy % | agreement % | import+load+1st ms | load ms "
        "| median ms (b1) | p99 ms | bare ms | overhead % | img/s b1 | img/s b256 | MB loaded | GMAC/s | % peak |",
        "|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        if r.get("status") == "failed to load":
            lines.append(f"| {r['model']} | {r['format']} | {r['runtime']} | {r['threads']} | failed to load: {r['reason']} |"
                         + " - |" * 14)
            continue
        lines.append(
            f"| {r['model']} | {r['format']} | {r['runtime']} | {r['threads']} | {r['status']} | {r['bytes'] / 1024:.0f} "
            f"| {100 * r['accuracy']:.2f} | {_fmt(100 * r['agreement_with_float'] if 'agreement_with_float' in r else None, '.2f')} "
            f"| {1000 * r['import_load_predict_s']:.0f} | {1000 * r['load_s']:.1f} | {r['predictor_median_ms']:.3f} "
            f"| {r['predictor_p99_ms']:.3f} | {_fmt(r.get('bare_median_ms'))} | {_fmt(r.get('predictor_overhead_pct'), '+.1f')} "
            f"| {r['batch1_images_per_s']:.0f} | {_fmt(r.get('large_batch_images_per_s'), '.0f')} | {r['peak_rss_mb_after_first_predict']:.0f} "
            f"| {_fmt(r.get('achieved_gmacs'), '.2f')} | {_fmt(r.get('pct_of_peak'), '.1f')} |")
    pre = result["preprocessing"]
    lines += ["", f"Preprocessing (`to_mnist_28x28`, {pre['frame']}, {pre['frames']} frames): "
              f"median {pre['median_ms']:.2f} ms, p99 {pre['p99_ms']:.2f} ms."]
    for name, info in models.items():
        cold = info.get("cold_start")
        if cold and "import_s" in cold.get("predictor", {}):
            p, b = cold["predictor"], cold.get("bare_litert", {})
            lines += ["", f"Cold start of {name} {cold['format']} in a fresh process (median of 5): runtime import "
                      f"{1000 * p['import_s']:.0f} ms + load {1000 * p['load_s']:.0f} ms + first predict "
                      f"{1000 * p['first_predict_s']:.1f} ms = {1000 * p['total_s']:.0f} ms, peak memory {p['peak_rss_mb']:.0f} MB "
                      f"(TensorFlow imported: {p['tensorflow_imported']}); bare LiteRT process: "
                      f"{1000 * b.get('total_s', float('nan')):.0f} ms, {b.get('peak_rss_mb', float('nan')):.0f} MB."]
    return "\n".join(lines) + "\n"


def plot(result: dict, path: Path) -> None:
    from bench.results import pyplot, save_figure

    plt = pyplot()
    rows = [r for r in result["rows"] if "predictor_median_ms" in r]
    labels = [f"{r['model']}: {r['format']} / {r['runtime']} / {r['threads']}t" for r in rows]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.5))
    bars = ax.barh(labels, [r["predictor_median_ms"] for r in rows], color="#4c72b0")
    ax.bar_label(bars, labels=[f"{r['predictor_median_ms']:.3f} ms" for r in rows], padding=3, fontsize=8)
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set(xlabel="median latency per image at batch 1, ms (log scale)", title="mnist-edge: one digit, every runtime")
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mnist-edge bench latency", description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", action="append", default=None,
                        help="manifest.json or its folder; repeat for several models (default: models/ and models/edge/)")
    parser.add_argument("--data", default=None, help="path to mnist.npz")
    parser.add_argument("--formats", default=None, help="comma-separated subset of the manifest's formats")
    parser.add_argument("--runs", type=int, default=1000, help="timed single-image runs per row, after warm-up (at least 100: the p99 needs them)")
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
    from runtime.backends import MAX_THREADS

    if threads is not None and not all(1 <= t <= MAX_THREADS for t in threads):
        parser.error(f"--threads takes counts from 1 to {MAX_THREADS}, got {args.threads!r}")
    if not (math.isfinite(args.min_accuracy) and 0 <= args.min_accuracy <= 100):
        parser.error(f"--min-accuracy is a percentage in [0, 100], got {args.min_accuracy}")

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
