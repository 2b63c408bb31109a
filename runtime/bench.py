"""`mnist-edge bench`: every artifact in the manifest, in every installed runtime, measured in one run.

Each (format, runtime, threads) is measured in its own fresh process, so its
load time and peak memory are its own and one failure hides nothing. Prints
a Markdown table, writes JSON and a PNG chart. Latency is the median (and
p99) of single-image `predict` calls after a warm-up, measured in alternating
blocks beside the bare interpreter call, whose cost is the floor.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

WARMUP = 100
BLOCKS = 10
LARGE_BATCH = 256


# ---------------------------------------------------------------- worker (runs in its own process)

def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss it is not inherited across fork+exec)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _bare_runner(predictor, path: Path, threads: int | None):
    """A bare interpreter of the same library on the same file: set input, invoke, read output."""
    if predictor.backend.name == "litert":
        from runtime.backends import import_tflite_interpreter

        cls, _ = import_tflite_interpreter()
        interp = cls(model_path=str(path), num_threads=threads)
        interp.allocate_tensors()
        i, o = interp.get_input_details()[0]["index"], interp.get_output_details()[0]["index"]

        def run(x):
            interp.set_tensor(i, x)
            interp.invoke()
            return interp.get_tensor(o)
        return run
    if predictor.backend.name == "onnxruntime":
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return lambda x: session.run(None, {name: x})[0]
    return None


def _timed_blocks(fns: dict, images: np.ndarray, runs: int) -> dict[str, np.ndarray]:
    """Per-call seconds of each fn, measured in interleaved blocks so drift hits all alike."""
    per_block = max(1, runs // BLOCKS)
    times = {name: [] for name in fns}
    for name, (fn, inputs) in fns.items():
        for k in range(WARMUP):
            fn(inputs[k % len(inputs)])
    for _ in range(BLOCKS):
        for name, (fn, inputs) in fns.items():
            for k in range(per_block):
                x = inputs[k % len(inputs)]
                start = time.perf_counter()
                fn(x)
                times[name].append(time.perf_counter() - start)
    return {name: np.array(t) for name, t in times.items()}


def worker(spec: dict) -> dict:
    """Measure one (format, runtime, threads) in this process; returns a JSON-able dict."""
    started = time.perf_counter()
    out: dict = {"format": spec["format"], "runtime": spec["runtime"], "threads": spec["threads"]}
    if spec["runtime"] == "keras":
        return _keras_worker(spec, out, started)
    from runtime.predictor import load_predictor

    imported = time.perf_counter()
    predictor = load_predictor(spec["format"], backend=spec["runtime"], threads=spec["threads"], manifest=spec["manifest"])
    loaded = time.perf_counter()
    out["library"] = predictor.backend.library
    out["import_s"] = imported - started
    out["load_s"] = loaded - imported
    predictor.predict(np.zeros((1, 28, 28), np.uint8))  # first inference, as a device would
    out["import_load_predict_s"] = time.perf_counter() - started
    out["peak_rss_mb_after_first_predict"] = peak_rss_mb()
    from runtime.mnist_data import load_mnist

    data = load_mnist(spec["data"])
    images = data.x_test[: spec["accuracy_images"]]
    out["predictions"] = predictor.predict(images).argmax(1).astype(int).tolist()
    out["accuracy_images"] = int(len(images))

    singles = [data.x_test[i:i + 1] for i in range(64)]
    fns = {"predictor": (predictor.predict, singles)}
    bare = _bare_runner(predictor, predictor.backend.path, spec["threads"])
    if bare is not None:
        fns["bare"] = (bare, [predictor.to_model_input(x) for x in singles])
    times = _timed_blocks(fns, singles, spec["runs"])
    for name, t in times.items():
        out[f"{name}_median_ms"] = 1000 * float(np.median(t))
        out[f"{name}_p99_ms"] = 1000 * float(np.percentile(t, 99))
        out[f"{name}_runs"] = int(len(t))
    if "bare" in times:
        out["predictor_overhead_pct"] = 100 * (out["predictor_median_ms"] / out["bare_median_ms"] - 1)
    out["batch1_images_per_s"] = 1000 / out["predictor_median_ms"]
    if predictor.backend.name != "tflm" and predictor.backend.input.shape[0] == -1:
        batch = data.x_test[:LARGE_BATCH]
        predictor.predict(batch)
        reps = [time.perf_counter()]
        for _ in range(5):
            predictor.predict(batch)
            reps.append(time.perf_counter())
        out["large_batch"] = LARGE_BATCH
        out["large_batch_images_per_s"] = LARGE_BATCH / float(np.median(np.diff(reps)))
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def _keras_worker(spec: dict, out: dict, started: float) -> dict:
    """The float Keras model as a row, when TensorFlow is installed: what moving off it buys."""
    import keras

    from runtime.mnist_data import load_mnist

    imported = time.perf_counter()
    model = keras.models.load_model(spec["keras_model"])
    loaded = time.perf_counter()
    out.update(library=f"keras {keras.__version__}", import_s=imported - started, load_s=loaded - imported)
    data = load_mnist(spec["data"])
    to_input = lambda x: (x.astype(np.float32) / 255.0)[..., None]  # noqa: E731
    model.predict_on_batch(to_input(data.x_test[:1]))
    out["import_load_predict_s"] = time.perf_counter() - started
    out["peak_rss_mb_after_first_predict"] = peak_rss_mb()
    images = data.x_test[: spec["accuracy_images"]]
    out["predictions"] = model.predict(to_input(images), batch_size=500, verbose=0).argmax(1).astype(int).tolist()
    out["accuracy_images"] = int(len(images))
    singles = [to_input(data.x_test[i:i + 1]) for i in range(64)]
    times = _timed_blocks({"predictor": (model.predict_on_batch, singles)}, singles, min(spec["runs"], 300))
    t = times["predictor"]
    out.update(predictor_median_ms=1000 * float(np.median(t)), predictor_p99_ms=1000 * float(np.percentile(t, 99)),
               predictor_runs=int(len(t)), batch1_images_per_s=1000 / (1000 * float(np.median(t))))
    batch = to_input(data.x_test[:LARGE_BATCH])
    model.predict_on_batch(batch)
    reps = [time.perf_counter()]
    for _ in range(5):
        model.predict_on_batch(batch)
        reps.append(time.perf_counter())
    out.update(large_batch=LARGE_BATCH, large_batch_images_per_s=LARGE_BATCH / float(np.median(np.diff(reps))))
    out["peak_rss_mb"] = peak_rss_mb()
    return out


# ---------------------------------------------------------------- orchestrator

def model_macs(tflite_path: Path) -> int:
    """Multiply-accumulates per image, counted from the model's conv and dense layers."""
    from runtime.backends import import_tflite_interpreter

    cls, _ = import_tflite_interpreter()
    interp = cls(model_path=str(tflite_path))
    interp.allocate_tensors()
    shapes = {t["index"]: tuple(t["shape"]) for t in interp.get_tensor_details()}
    macs = 0
    for op in interp._get_ops_details():  # public API has no op list
        if op["op_name"] in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            out_shape, weight = shapes[op["outputs"][0]], shapes[op["inputs"][1]]
            per_output = int(np.prod(weight[1:])) if op["op_name"] == "CONV_2D" else int(np.prod(weight[1:3]))
            macs += int(np.prod(out_shape[1:])) * per_output
        elif op["op_name"] == "FULLY_CONNECTED":
            macs += int(np.prod(shapes[op["inputs"][1]]))
    return macs


def cpu_peak() -> dict:
    """Nominal 1-core peak multiply-accumulate rates from the CPU's vector units and clock.

    From /proc/cpuinfo: the clock ("cpu MHz") and the vector extensions. Per
    cycle: fp32 FMA lanes x FMA pipes (AVX-512 on AMD Zen 4 runs on 2 x 256-bit
    pipes: 16 fp32 MACs; Intel with 2 x 512-bit FMA: 32; AVX2 2 x 256-bit: 16;
    NEON 2 x 128-bit: 8), int8 dot-product lanes 4x that (VNNI / SDOT).
    """
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    mhz = next((float(line.split(":")[1]) for line in info.splitlines() if line.startswith("cpu MHz")), None)
    flags = next((line.split(":")[1].split() for line in info.splitlines() if line.startswith(("flags", "Features"))), [])
    vendor = "AMD" if "AuthenticAMD" in info else "Intel" if "GenuineIntel" in info else platform.machine()
    if "avx512f" in flags:
        fp32_per_cycle = 16 if vendor == "AMD" else 32
    elif "avx2" in flags and "fma" in flags:
        fp32_per_cycle = 16
    elif "asimd" in flags:
        fp32_per_cycle = 8
    else:
        fp32_per_cycle = 4
    int8_per_cycle = fp32_per_cycle * 4 if {"avx512_vnni", "avx_vnni", "asimddp"} & set(flags) else fp32_per_cycle * 2
    ghz = (mhz or 0) / 1000
    return {"vendor": vendor, "ghz": ghz, "fp32_macs_per_cycle": fp32_per_cycle, "int8_macs_per_cycle": int8_per_cycle,
            "fp32_gmacs": ghz * fp32_per_cycle, "int8_gmacs": ghz * int8_per_cycle,
            "how": "clock from /proc/cpuinfo x vector MACs per cycle (see cpu_peak's docstring); nominal, not boost"}


def preprocessing_cost(data_path, frames: int = 200) -> dict:
    """Median time of to_mnist_28x28 on 640x480 synthetic camera frames."""
    from runtime.mnist_data import load_mnist
    from runtime.preprocess import to_mnist_28x28
    from runtime.synthetic import render

    data = load_mnist(data_path)
    rng = np.random.default_rng(0)
    images = [render([data.x_test[i]], [data.y_test[i]], rng).image for i in range(frames)]
    for image in images[:20]:
        to_mnist_28x28(image)
    times = []
    for image in images:
        start = time.perf_counter()
        to_mnist_28x28(image)
        times.append(time.perf_counter() - start)
    return {"frame": "640x480 BGR", "frames": frames, "median_ms": 1000 * float(np.median(times)),
            "p99_ms": 1000 * float(np.percentile(times, 99))}


COLD_START_PREDICTOR = """
import time; t0 = time.perf_counter()
import resource, json, sys
from runtime.predictor import load_predictor
t1 = time.perf_counter()
p = load_predictor(sys.argv[1], threads=1)
t2 = time.perf_counter()
import numpy as np
p.predict(np.zeros((1, 28, 28), np.uint8))
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "first_predict_s": t3 - t2, "total_s": t3 - t0,
                  "peak_rss_mb": int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024,
                  "tensorflow_imported": "tensorflow" in sys.modules}))
"""
COLD_START_BARE = """
import time; t0 = time.perf_counter()
import resource, json, sys
import numpy as np
from ai_edge_litert.interpreter import Interpreter
t1 = time.perf_counter()
i = Interpreter(model_path=sys.argv[1], num_threads=1); i.allocate_tensors()
t2 = time.perf_counter()
d = i.get_input_details()[0]; i.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"])); i.invoke()
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "first_predict_s": t3 - t2, "total_s": t3 - t0,
                  "peak_rss_mb": int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024}))
"""


def cold_start(manifest, format_name: str = "tflite-int8", repeats: int = 5) -> dict:
    """A fresh process: import the runtime, load the model, predict once; and the same with bare LiteRT.

    Median of `repeats` processes; the Python interpreter's own start-up is not counted.
    """
    artifact = manifest.artifact(format_name)
    env = dict(os.environ, MNIST_EDGE_MODELS=str(manifest.path.parent))
    out = {"format": format_name}
    for name, code, arg in (("predictor", COLD_START_PREDICTOR, format_name), ("bare_litert", COLD_START_BARE, str(artifact.path))):
        runs = []
        for _ in range(repeats):
            proc = subprocess.run([sys.executable, "-c", code, arg], capture_output=True, text=True, env=env, timeout=120)
            if proc.returncode != 0:
                out[name] = {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
                break
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        else:
            out[name] = {key: (float(np.median([r[key] for r in runs])) if not isinstance(runs[0][key], bool) else runs[0][key])
                         for key in runs[0]}
    return out


def runtimes_for(artifact) -> list[str]:
    """Installed runtimes that can run an artifact (TFLM only for the full-int8 TFLite model)."""
    import importlib.util

    found = []
    if artifact.runtime == "litert":
        found.append("litert")
        if artifact.input.get("dtype") == "int8" and importlib.util.find_spec("tflite_micro") is not None:
            found.append("tflm")
    elif artifact.runtime == "onnxruntime":
        found.append("onnxruntime")
    return found


def run_worker(spec: dict, timeout: float = 900) -> dict:
    cmd = [sys.executable, "-m", "runtime.bench", "--worker", json.dumps(spec)]
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
    has_tf = importlib.util.find_spec("tensorflow") is not None and keras_path.exists()
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
        next((r for r in rows if r["format"] == "tflite-fp32" and "predictions" in r), None)
    reference = np.array(reference_row["predictions"]) if reference_row else None
    macs = model_macs(manifest.artifact("tflite-fp32").path) if "tflite-fp32" in manifest.artifacts else None
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
            row["achieved_gmacs"] = macs / (row["predictor_median_ms"] / 1000) / 1e9
            peak_gmacs = peak["int8_gmacs"] if row["format"].endswith("int8") else peak["fp32_gmacs"]
            row["pct_of_1core_peak"] = 100 * row["achieved_gmacs"] / peak_gmacs if peak_gmacs else None
    return {
        "benchmark": "runtime_latency",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "cpu_peak": peak},
        "reference": reference_row["format"] if reference_row else None,
        "macs_per_image": macs,
        "min_accuracy": min_accuracy,
        "preprocessing": preprocessing_cost(data_path),
        "cold_start": cold_start(manifest) if "tflite-int8" in manifest.artifacts else None,
        "rows": rows,
    }


def _fmt(value, spec: str = ".3f", missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def to_markdown(result: dict) -> str:
    peak = result["machine"]["cpu_peak"]
    lines = [
        f"Runtime benchmark, {result['machine']['cpu_count']} cores ({peak['vendor']} at {peak['ghz']:.2f} GHz nominal), "
        f"{result['macs_per_image'] or 0:,} MACs/image; agreement is with {result['reference']}; "
        f"1-core peak {peak['fp32_gmacs']:.0f} GMAC/s fp32, {peak['int8_gmacs']:.0f} GMAC/s int8 ({peak['how']}).",
        "",
        "| format | runtime | threads | status | size KiB | accuracy % | agreement % | import+load+1st ms | load ms "
        "| median ms (b1) | p99 ms | bare ms | overhead % | img/s b1 | img/s b256 | peak MB | GMAC/s | % peak |",
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
            f"| {r['batch1_images_per_s']:.0f} | {_fmt(r.get('large_batch_images_per_s'), '.0f')} | {r['peak_rss_mb']:.0f} "
            f"| {_fmt(r.get('achieved_gmacs'), '.2f')} | {_fmt(r.get('pct_of_1core_peak'), '.1f')} |")
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from runtime.files import atomic_write_bytes

    rows = [r for r in result["rows"] if "predictor_median_ms" in r]
    labels = [f"{r['format']} / {r['runtime']} / {r['threads']}t" for r in rows]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.5))
    bars = ax.barh(labels, [r["predictor_median_ms"] for r in rows], color="#4c72b0")
    ax.bar_label(bars, labels=[f"{r['predictor_median_ms']:.3f} ms" for r in rows], padding=3, fontsize=8)
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set(xlabel="median latency per image at batch 1, ms (log scale)", title="mnist-edge: one digit, every runtime")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue(), overwrite=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mnist-edge bench", description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--manifest", default=None, help="manifest.json or its folder (default: models/)")
    parser.add_argument("--data", default=None, help="path to mnist.npz")
    parser.add_argument("--formats", default=None, help="comma-separated subset of the manifest's formats")
    parser.add_argument("--runs", type=int, default=1000, help="timed single-image runs per row (after warm-up)")
    parser.add_argument("--threads", default=None, help="comma-separated thread counts (default: 1 and all cores)")
    parser.add_argument("--min-accuracy", type=float, default=99.0, help="percent; below it a row fails")
    parser.add_argument("--out", default="benchmarks", help="folder for runtime_bench.{md,json,png}")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    if args.runs < 100:
        parser.error(f"--runs must be at least 100, got {args.runs}")
    try:
        threads = [int(t) for t in args.threads.split(",")] if args.threads else None
    except ValueError:
        parser.error(f"--threads takes comma-separated integers, got {args.threads!r}")
    if threads and min(threads) <= 0:
        parser.error("--threads must be positive")

    from runtime.files import atomic_write_json, atomic_write_text
    from runtime.manifest import ManifestError
    from runtime.mnist_data import MnistDataError

    try:
        result = run_benchmark(args.manifest, args.data, args.runs, threads,
                               args.formats.split(",") if args.formats else None, args.min_accuracy / 100,
                               progress=lambda msg: print(msg, file=sys.stderr))
    except (ManifestError, MnistDataError) as exc:
        print(f"mnist-edge bench: error: {exc}", file=sys.stderr)
        return 2
    table = to_markdown(result)
    print(table)
    out = Path(args.out)
    atomic_write_json(out / "runtime_bench.json", result, overwrite=True)
    atomic_write_text(out / "runtime_bench.md", table, overwrite=True)
    plot(result, out / "runtime_bench.png")
    failed = [r for r in result["rows"] if r.get("status") != "passed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
