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
    """Achieved multiply-accumulate rate at batch 1, and its share of the peak of the cores it may use.

    int8 and dynamic-range models compute in int8 (dynamic range quantizes activations on the fly),
    so they are held against the int8 peak; the others against the fp32 peak.
    """
    row["achieved_gmacs"] = macs / (row["predictor_median_ms"] / 1000) / 1e9
    integer = row["format"].endswith(("int8", "dynamic"))
    peak_gmacs = (peak["int8_gmacs"] if integer else peak["fp32_gmacs"]) * max(1, int(row["threads"] or 1))
    row["pct_of_peak"] = 100 * row["achieved_gmacs"] / peak_gmacs if peak_gmacs else None
