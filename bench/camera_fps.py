"""End-to-end FPS of the headless demo on the bundled sample, on one core, with the per-stage split.

`python -m bench.camera_fps` (or `mnist-edge bench camera`) pins itself to
one CPU core, runs the headless loop (decode from file + preprocess + int8
predict + overlay) over the sample several times, prints a Markdown table and
writes JSON and a PNG. Raspberry Pi figures are estimates on paper: each
stage's time here scaled by a stated single-core speed ratio. A second table
times finding the digits on the sample's frames with the pipeline before issue 9
(bench/baseline_preprocess.py, the pre issue 9 code) beside the new one, in
CPU time of the one thread, with each one's per-frame accuracy.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

import numpy as np

from runtime.manifest import DEFAULT_FORMAT
from runtime.progress import progress

# Single-core speed of this kind of work relative to the measuring machine, stated so the
# estimate can be checked and redone: Geekbench 6 single-core scores (Raspberry Pi 4 ~ 250,
# Pi 5 ~ 800, a Zen 4 server core at 2.6-3.7 GHz ~ 1,900), i.e. the Pi 4 is ~7.5x and the Pi 5
# ~2.4x slower per core. Int8 convolution leans on SIMD dot products, where the Pi 4's
# Cortex-A72 (no SDOT) falls further behind than the score says: the factor for `predict` is
# doubled on the Pi 4. These ratios are assumptions, not measurements.
PI_SLOWDOWN = {
    "Raspberry Pi 4 (Cortex-A72 1.8 GHz)": {"capture": 7.5, "preprocess": 7.5, "predict": 15.0, "overlay": 7.5},
    "Raspberry Pi 5 (Cortex-A76 2.4 GHz)": {"capture": 2.4, "preprocess": 2.4, "predict": 2.4, "overlay": 2.4},
}


def run_benchmark(passes: int = 3, model: str = DEFAULT_FORMAT, core: int = 0) -> dict:
    import cv2

    from camera_demo.app import DemoConfig, run_demo
    from runtime.predictor import load_predictor

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})
    cv2.setNumThreads(1)
    predictor = load_predictor(model, threads=1)
    runs = []
    for _ in progress(range(passes + 1), passes + 1, "headless demo on the sample (1 warm-up pass)", "pass"):  # the first warms caches, not counted
        summary = run_demo(DemoConfig(source="sample", headless=True, jsonl=os.devnull, force=True),
                           predictor=predictor, say=lambda msg: None)
        runs.append(summary)
    counted = runs[1:]
    best = max(counted, key=lambda s: s.fps)
    stages = {k: float(np.median([s.stage_ms[k] for s in counted])) for k in counted[0].stage_ms}
    per_frame = sum(stages.values())
    estimates = {}
    for device, factors in PI_SLOWDOWN.items():
        ms = {k: v * factors[k] for k, v in stages.items()}
        estimates[device] = {"stage_ms": ms, "fps": 1000 / sum(ms.values())}
    return {
        "benchmark": "camera_demo_headless",
        "source": "bundled sample (640x480 MP4)",
        "model": model,
        "cores": 1,
        "machine": {"processor": platform.processor() or platform.machine(), "python": platform.python_version(),
                    "opencv": cv2.__version__},
        "frames_per_pass": counted[0].frames,
        "passes": passes,
        "fps_per_pass": [s.fps for s in counted],
        "fps_median": float(np.median([s.fps for s in counted])),
        "fps_best": best.fps,
        "stage_ms_median": stages,
        "stage_ms_sum": per_frame,
        "accuracy_per_frame": counted[0].accuracy(),
        "pi_estimates": estimates,
        "pi_estimate_method": "stage times here x single-core slowdown factors in bench/camera_fps.py (PI_SLOWDOWN)",
        "preprocess_side_by_side": preprocess_side_by_side(predictor, passes),
    }


def preprocess_side_by_side(predictor, passes: int = 3) -> dict:
    """Median CPU ms per sample frame to find the digits, and frames read exactly, old pipeline beside new."""
    import time

    import cv2

    from bench.baseline_preprocess import find_digits as old_find_digits
    from camera_demo.sample import SAMPLE_DIR, VIDEO_NAME, load_labels
    from runtime.preprocess import find_digits

    capture = cv2.VideoCapture(str(SAMPLE_DIR / VIDEO_NAME))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
    capture.release()
    labels = [f["number"] for f in load_labels()["frames"]]
    in_model = [0.0]  # thread CPU time spent in the model's calls while finding the digits of one frame

    def timed_predict(images):
        start = time.thread_time()
        try:
            return predictor.predict(images)
        finally:
            in_model[0] += time.thread_time() - start

    pipelines = {"the pipeline before issue 9 (baseline)": old_find_digits,
                 "new pipeline (issue 9)": lambda image: find_digits(image, classify=timed_predict)}
    rows = {}
    for name, find in pipelines.items():
        find(frames[0])  # warm-up
        times, without_model, right = [], [], 0
        for _ in progress(range(passes), passes, f"finding the digits: {name}", "pass"):
            for image, truth in zip(frames, labels):
                in_model[0] = 0.0
                start = time.thread_time()
                crops = find(image)
                times.append(time.thread_time() - start)
                without_model.append(times[-1] - in_model[0])
                right += predictor.read_crops(crops).number == truth
        rows[name] = {"preprocess_ms_median": 1000 * float(np.median(times)),
                      "preprocess_ms_p99": 1000 * float(np.percentile(times, 99)),
                      "without_model_ms_median": 1000 * float(np.median(without_model)),
                      "frames_read_exactly": right / (passes * len(frames))}
    return {"frames": len(frames), "passes": passes, "clock": "thread CPU time", "rows": rows,
            "note": "new pipeline's time includes the model calls that choose where touching digits are cut"}


def to_markdown(result: dict) -> str:
    stages = result["stage_ms_median"]
    lines = [
        f"Headless demo on {result['source']}, {result['model']}, 1 core, {result['passes']} pass{'es' if result['passes'] != 1 else ''} of "
        f"{result['frames_per_pass']} frames: **{result['fps_median']:.0f} FPS** median "
        f"(per-frame stages sum to {result['stage_ms_sum']:.2f} ms; the rest is JSON and loop overhead).",
        "",
        "| where | FPS | " + " | ".join(f"{k} ms" for k in stages) + " |",
        "|---|---:|" + "---:|" * len(stages),
        f"| this machine (measured) | {result['fps_median']:.0f} | " + " | ".join(f"{v:.2f}" for v in stages.values()) + " |",
    ]
    for device, est in result["pi_estimates"].items():
        lines.append(f"| {device} (estimate) | {est['fps']:.0f} | " + " | ".join(f"{v:.2f}" for v in est["stage_ms"].values()) + " |")
    lines += ["", f"Pi estimates: {result['pi_estimate_method']}."]
    side = result.get("preprocess_side_by_side")
    if side:
        lines += ["", f"Finding the digits on the sample's {side['frames']} frames, {side['passes']} pass{'es' if side['passes'] != 1 else ''}, "
                  f"{side['clock']} ({side['note']}):", "",
                  "| pipeline | preprocess ms (median) | p99 | without the model's calls (median) | frames read exactly |",
                  "|---|---:|---:|---:|---:|"]
        for name, row in side["rows"].items():
            lines.append(f"| {name} | {row['preprocess_ms_median']:.2f} | {row['preprocess_ms_p99']:.2f} | "
                         f"{row['without_model_ms_median']:.2f} | "
                         f"{100 * row['frames_read_exactly']:.1f} % |")
    return "\n".join(lines) + "\n"


def plot(result: dict, path: Path) -> None:
    from bench.results import pyplot, save_figure

    plt = pyplot()
    rows = {"this machine": result["stage_ms_median"], **{k.split(" (")[0] + " (est.)": v["stage_ms"] for k, v in result["pi_estimates"].items()}}
    fig, ax = plt.subplots(figsize=(8, 3))
    left = np.zeros(len(rows))
    for stage in result["stage_ms_median"]:
        values = np.array([r[stage] for r in rows.values()])
        ax.barh(list(rows), values, left=left, label=stage)
        left += values
    for y, total in enumerate(left):
        ax.text(total, y, f" {total:.1f} ms of stages (at most {1000 / total:.0f} FPS)", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set(xlabel="ms per 640x480 frame, one core", title="camera demo, headless: where a frame's time goes")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_xlim(0, left.max() * 1.35)
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mnist-edge bench camera", description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=3,
                        help="times the whole sample is played; the median pass is reported (default 3)")
    parser.add_argument("--model", default=DEFAULT_FORMAT,
                        help=f"format in models/manifest.json or a model path (default {DEFAULT_FORMAT})")
    parser.add_argument("--out", default="benchmarks", help="folder for camera_demo.{md,json,png}")
    args = parser.parse_args(argv)
    if args.passes <= 0:
        parser.error("--passes must be positive")
    from bench.results import write_benchmark

    result = run_benchmark(args.passes, args.model)
    table = to_markdown(result)
    print(table)
    write_benchmark(args.out, "camera_demo", result, table, plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
