"""What the benchmark sets the latencies against: the model's MACs, the CPU's peak, preprocessing, cold start."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from runtime.manifest import DEFAULT_FORMAT


def model_macs(tflite_path: Path) -> int:
    """Multiply-accumulates per image, counted from the model's conv and dense layers (export/macs.py)."""
    from export.macs import model_macs as count

    return count(tflite_path)


# n x n x n fp32 GEMMs: 57 M MACs, ~1.5 ms a pass on one core. Large enough for OpenBLAS's full speed
# (1024 gives the same on an idle core), short enough that on a shared machine many passes run unpreempted.
GEMM_SIZE = 384
GEMM_REPEATS = 60
INT8_MACS_PER_FP32_MAC = 4  # per vector lane per cycle: VNNI vpdpbusd, AVX2 vpmaddubsw, Arm SDOT vs one FMA
WIDER_INT8 = {"i8mm": 8, "amx_int8": 32}  # Arm SMMLA: 2x SDOT; Intel AMX tiles: 1024 int8 MACs/cycle vs 32 FMAs

GEMM_CODE = """
import json, time, numpy as np
n, repeats = {n}, {repeats}
a = np.random.default_rng(0).random((n, n), dtype=np.float32); b = a.T.copy(); a @ b
times = []
for _ in range(repeats):
    start = time.perf_counter(); a @ b; times.append(time.perf_counter() - start)
print(json.dumps({{"best_s": min(times)}}))
"""


def gemm_gmacs(threads: int, n: int = GEMM_SIZE, repeats: int = GEMM_REPEATS) -> float:
    """fp32 multiply-accumulates per second of numpy's BLAS (OpenBLAS) on an n x n GEMM, best of `repeats`.

    In a fresh process with the BLAS limited to `threads` threads (the env vars are read when it loads).
    """
    env = dict(os.environ, **{var: str(threads) for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")})
    proc = subprocess.run([sys.executable, "-c", GEMM_CODE.format(n=n, repeats=repeats)],
                          capture_output=True, text=True, env=env, timeout=300, check=True)
    return n ** 3 / json.loads(proc.stdout.strip().splitlines()[-1])["best_s"] / 1e9


def cpu_peak(threads=(1,)) -> dict:
    """Peak multiply-accumulate rates of this CPU at each thread count, measured: the bound % peak is held against.

    fp32: the fastest of many fp32 GEMMs in numpy's BLAS at that thread count. Measured rather than
    clock x FMA lanes because neither factor can be read reliably here: /proc/cpuinfo gives the nominal
    clock, not the boost clock the core runs at, and a VM's flags do not tell a Zen 4 (AVX-512 on
    256-bit pipes) from a Zen 5 (full 512-bit pipes); that formula put rows at 200 % of "peak". OpenBLAS
    reaches about 90 % of the FMA units' peak on such a GEMM; a batch-1 convolution gets less.
    int8: 4x the fp32 figure (8x with Arm i8mm, 32x with Intel AMX): an int8 dot-product instruction
    does 4 multiply-accumulates per 32-bit lane where an FMA does one, on the same vector pipes.
    A machine shared with other jobs slows the GEMM as it slows the rows; the fastest pass is the unshared one,
    and bench/latency.py measures before and after its rows and keeps the higher (`higher_peak`).
    """
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    mhz = next((float(line.split(":")[1]) for line in info.splitlines() if line.startswith("cpu MHz")), None)
    flags = next((line.split(":")[1].split() for line in info.splitlines() if line.startswith(("flags", "Features"))), [])
    vendor = "AMD" if "AuthenticAMD" in info else "Intel" if "GenuineIntel" in info else platform.machine()
    int8_ratio = max([INT8_MACS_PER_FP32_MAC] + [r for flag, r in WIDER_INT8.items() if flag in flags])
    by_threads = {}
    for n in sorted({int(t) for t in threads}):
        fp32 = gemm_gmacs(n)
        by_threads[str(n)] = {"fp32_gmacs": fp32, "int8_gmacs": int8_ratio * fp32}
    first = by_threads[min(by_threads, key=int)]
    return {"vendor": vendor, "ghz": (mhz or 0) / 1000, "int8_per_fp32": int8_ratio, "by_threads": by_threads,
            "fp32_gmacs": first["fp32_gmacs"], "int8_gmacs": first["int8_gmacs"],
            "how": f"fp32: best of {GEMM_REPEATS} {GEMM_SIZE}x{GEMM_SIZE} fp32 GEMMs in numpy's BLAS at the row's "
                   f"thread count; int8: {int8_ratio}x that (see cpu_peak's docstring)"}


def higher_peak(first: dict, second: dict) -> dict:
    """Of two cpu_peak() results, the higher rate at each thread count (two measurements, one bound)."""
    by_threads = {n: max(first["by_threads"].get(n, rates), second["by_threads"].get(n, rates), key=lambda r: r["fp32_gmacs"])
                  for n, rates in {**first["by_threads"], **second["by_threads"]}.items()}
    lowest = by_threads[min(by_threads, key=int)]
    return {**first, "by_threads": by_threads, "fp32_gmacs": lowest["fp32_gmacs"], "int8_gmacs": lowest["int8_gmacs"]}


def preprocessing_cost(data_path, frames: int = 200) -> dict:
    """Median time of to_mnist_28x28 on 640x480 synthetic camera frames."""
    from runtime.mnist_data import load_mnist
    from runtime.preprocess import to_mnist_28x28
    from camera_demo.synthetic import render

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
from bench.latency_worker import peak_rss_mb  # after the timed steps: it costs them nothing
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "first_predict_s": t3 - t2, "total_s": t3 - t0,
                  "peak_rss_mb": peak_rss_mb(),
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
from bench.latency_worker import peak_rss_mb  # after the timed steps: it costs them nothing
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "first_predict_s": t3 - t2, "total_s": t3 - t0,
                  "peak_rss_mb": peak_rss_mb()}))
"""


def cold_start(manifest, format_name: str = DEFAULT_FORMAT, repeats: int = 5) -> dict:
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


def compute_rate(row: dict, macs: int, peak: dict) -> None:
    """Achieved multiply-accumulate rate at batch 1, and its share of the peak at the row's thread count.

    int8 and dynamic-range models compute in int8 (dynamic range quantizes activations on the fly),
    so they are held against the int8 peak; the others against the fp32 peak. A thread count whose
    peak was not measured is held against that many times the 1-thread peak (threads add no more).
    """
    row["achieved_gmacs"] = macs / (row["predictor_median_ms"] / 1000) / 1e9
    key = "int8_gmacs" if row["format"].endswith(("int8", "dynamic")) else "fp32_gmacs"
    threads = max(1, int(row["threads"] or 1))
    measured = peak.get("by_threads", {}).get(str(threads))
    peak_gmacs = measured[key] if measured else peak[key] * threads
    row["pct_of_peak"] = 100 * row["achieved_gmacs"] / peak_gmacs if peak_gmacs else None
