"""Training speed benchmark: images/s and s/epoch with and without augmentation, batch 32 and 128.

`python -m bench.train_speed` (or `mnist-edge bench train`) prints a Markdown table
and writes JSON and a PNG chart. Steps are timed after a warm-up, the median
step time is what the table reports (this machine is noisy).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np


def _step_times(model, dataset, warmup: int, timed: int) -> np.ndarray:
    """Wall time of each training step after `warmup` steps, in seconds."""
    import keras

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.stamps = []

        def on_train_batch_end(self, batch, logs=None):
            self.stamps.append(time.perf_counter())

    timer = Timer()
    start = time.perf_counter()
    model.fit(dataset, epochs=1, steps_per_epoch=warmup + timed, callbacks=[timer], verbose=0, shuffle=False)
    stamps = np.array([start] + timer.stamps)
    return np.diff(stamps)[warmup:]


def run_benchmark(data_path=None, batch_sizes=(32, 128), timed_steps=400, warmup_steps=30, seed=0) -> dict:
    """Time the augmented CNN's training step with augmentation off and on, per batch size."""
    import keras
    import tensorflow as tf

    from runtime.mnist_data import load_mnist
    from train.dataset import split_validation, training_dataset
    from train.models import build_model

    data = load_mnist(data_path)
    splits = split_validation(data, 5000)
    rows = []
    for batch_size in batch_sizes:
        for augment in (False, True):
            keras.utils.set_random_seed(seed)
            model = build_model("cnn_aug")
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            ds = training_dataset(splits.x_train, splits.y_train, batch_size, seed, augment)
            steps = timed_steps  # the same count at every batch size: fewer steps were too noisy at batch 128
            times = _step_times(model, ds, warmup_steps, steps)
            median = float(np.median(times))
            rows.append({
                "batch_size": batch_size,
                "augment": augment,
                "timed_steps": int(steps),
                "median_step_ms": 1000 * median,
                "p90_step_ms": 1000 * float(np.percentile(times, 90)),
                "images_per_s": batch_size / median,
                "seconds_per_epoch": len(splits.x_train) / (batch_size / median),
            })
            print(f"batch {batch_size:>3} augment {str(augment):<5}: {1000 * median:6.2f} ms/step "
                  f"{batch_size / median:8.0f} img/s", file=sys.stderr)
    for row in rows:
        if row["augment"]:
            base = next(r for r in rows if r["batch_size"] == row["batch_size"] and not r["augment"])
            row["augment_overhead_pct"] = 100 * (row["median_step_ms"] / base["median_step_ms"] - 1)
    return {
        "benchmark": "train_speed",
        "model": "cnn_aug",
        "train_images_per_epoch": len(splits.x_train),
        "machine": {"cpu_count": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__},
        "rows": rows,
    }


def to_markdown(result: dict) -> str:
    lines = [
        f"Training speed of `{result['model']}` ({result['train_images_per_epoch']:,} images/epoch), "
        f"{result['machine']['cpu_count']} CPU cores, TF {result['machine']['tensorflow']}",
        "",
        "| batch | augmentation | median ms/step | p90 ms/step | images/s | s/epoch | augmentation cost |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        cost = f"{r['augment_overhead_pct']:+.1f} %" if "augment_overhead_pct" in r else "-"
        lines.append(f"| {r['batch_size']} | {'on' if r['augment'] else 'off'} | {r['median_step_ms']:.2f} "
                     f"| {r['p90_step_ms']:.2f} | {r['images_per_s']:.0f} | {r['seconds_per_epoch']:.1f} | {cost} |")
    return "\n".join(lines) + "\n"


def plot(result: dict, path: Path) -> None:
    from bench.results import pyplot, save_figure

    plt = pyplot()
    rows = result["rows"]
    labels = [f"batch {r['batch_size']}\naug {'on' if r['augment'] else 'off'}" for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4))
    bars = ax.bar(labels, [r["images_per_s"] for r in rows], color=["#4c72b0" if not r["augment"] else "#dd8452" for r in rows])
    ax.bar_label(bars, fmt="%.0f")
    ax.set(ylabel="training images / s (median step)", title="cnn_aug training throughput")
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mnist-edge bench train", description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="path to mnist.npz")
    parser.add_argument("--steps", type=int, default=400, help="timed steps per configuration, after warm-up")
    parser.add_argument("--out", default="benchmarks", help="folder for train_speed.{md,json,png}")
    args = parser.parse_args(argv)
    if args.steps <= 0:
        parser.error("--steps must be positive")

    from bench.results import write_benchmark
    from export.tf_quiet import quiet_tensorflow

    quiet_tensorflow(False)

    result = run_benchmark(args.data, timed_steps=args.steps)
    table = to_markdown(result)
    print(table)
    write_benchmark(args.out, "train_speed", result, table, plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
