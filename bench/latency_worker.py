"""One benchmark row, measured in its own process: load, accuracy, latency beside the bare interpreter, memory.

Run by bench/latency.py as `python -m bench.latency_worker SPEC_JSON`; prints one JSON line.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

WARMUP = 100
BLOCKS = 10
LARGE_BATCH = 256


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


def timed_blocks(fns: dict, images: np.ndarray, runs: int) -> dict[str, np.ndarray]:
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
    times = timed_blocks(fns, singles, spec["runs"])
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


if __name__ == "__main__":
    print(json.dumps(worker(json.loads(sys.argv[1]))))
