"""`mnist-edge bench detector`: the classical reader against a small int8 detection network, per field condition.

Both read the same generated frames (bench/field_scenes.py, MNIST test digits) with the same classifier and
operating point; only how digits are found differs. Writes detector_vs_classical.md/.json/.png to --out.
The detector is trained by `python -m bench.detector_train` (TensorFlow) into models/detector/.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

from runtime.files import file_in_the_way
from runtime.manifest import DEFAULT_FORMAT

STEM = "detector_vs_classical"
DETECTOR = Path("models/detector/detector.int8.tflite")


def _training_of(detector: Path) -> dict | None:
    """The training report written beside the detector (bench/detector_train.py), if there is a readable one."""
    import json

    try:
        report = json.loads((detector.parent / "detector_train.json").read_text())
        return {k: report[k] for k in ("scenes", "epochs", "seed", "digits")}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mnist-edge bench detector", description=__doc__.splitlines()[0])
    parser.add_argument("--frames-per-condition", type=int, default=60, metavar="N",
                        help="frames per condition (default: 60)")
    parser.add_argument("--seed", type=int, default=0, help="the field generator's seed (default: 0)")
    parser.add_argument("--conditions", default="all",
                        help="comma-separated field conditions (bench field --list), or all (default)")
    parser.add_argument("--detector", default=str(DETECTOR), help=f"the detector's .tflite (default: {DETECTOR})")
    parser.add_argument("--model", default=DEFAULT_FORMAT,
                        help=f"classifier format in models/manifest.json (default: {DEFAULT_FORMAT})")
    parser.add_argument("--data", default=None, help="path to mnist.npz (default: $MNIST_NPZ, Keras cache, download)")
    parser.add_argument("--out", default="benchmarks",
                        help=f"folder for {STEM}.md, .json and .png (default: benchmarks)")
    return parser


def to_markdown(result: dict) -> str:
    rows = result["conditions"]
    lines = [f"Classical reader vs int8 detector + the same classifier: {result['frames_per_condition']} field frames "
             f"per condition (seed {result['seed']}), one thread, ms = median time per frame (finding + reading).", "",
             "| condition | classical digits | detector digits | classical lines | detector lines | "
             "classical false digits | detector false digits | classical ms | detector ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def pct(value):
        return "-" if value is None else f"{100 * value:.1f} %"

    for name in [*rows, "all"]:
        c, d = (rows[name]["classical"], rows[name]["detector"]) if name != "all" else (result["all"]["classical"],
                                                                                        result["all"]["detector"])
        lines.append(f"| {'**all**' if name == 'all' else name} | {pct(c['digit_accuracy'])} | "
                     f"{pct(d['digit_accuracy'])} | {pct(c['exact_lines'])} | {pct(d['exact_lines'])} | "
                     f"{pct(c['false_digit_rate'])} | {pct(d['false_digit_rate'])} | {c['ms_median']:.1f} | "
                     f"{d['ms_median']:.1f} |")
    training = result.get("detector_training")
    trained = (f"trained {training['epochs']} epochs on {training['scenes']:,} field-generator scenes of "
               f"{training['digits']} under seed {training['seed']}" if training else "no training report beside it")
    lines += ["", f"Detector: {result['detector']} ({result['detector_bytes']:,} bytes, {trained})."]
    return "\n".join(lines) + "\n"


def plot(result: dict, path: Path) -> None:
    import numpy as np

    from bench.results import pyplot, save_figure

    plt = pyplot()
    names = list(result["conditions"])
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 7), sharex=True)
    x = np.arange(len(names))
    for k, reader in enumerate(("classical", "detector")):
        acc = [100 * (result["conditions"][n][reader]["digit_accuracy"] or 0) for n in names]
        ms = [result["conditions"][n][reader]["ms_median"] for n in names]
        top.bar(x + (k - 0.5) * 0.4, acc, 0.4, label=reader)
        bottom.bar(x + (k - 0.5) * 0.4, ms, 0.4, label=reader)
    top.set_ylabel("digits read (%)")
    top.legend()
    bottom.set_ylabel("ms per frame")
    bottom.set_xticks(x, names, rotation=60, ha="right", fontsize=8)
    fig.suptitle("field test: classical reader vs int8 detector (same classifier)")
    fig.tight_layout()
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.frames_per_condition <= 0:
        parser.error(f"--frames-per-condition must be positive, got {args.frames_per_condition}")
    from bench.field_cli import parse_conditions
    from bench.field_scenes import require_drawing

    require_drawing()

    try:
        conditions = parse_conditions(args.conditions)
    except ValueError as exc:
        parser.error(str(exc))
    if args.seed < 0:
        parser.error(f"--seed must be 0 or more, got {args.seed}")
    detector = Path(args.detector)
    if not detector.is_file():
        parser.error(f"--detector {detector} not found; train one with python -m bench.detector_train")
    blocked = file_in_the_way(args.out)
    if blocked is not None:
        parser.error(f"--out {args.out}: {blocked} is a file, not a folder")

    import cv2

    from bench.detector_reader import DetectorReader
    from bench.field_scenes import DigitPool
    from bench.field_test import run_field_test
    from bench.results import write_benchmark
    from runtime.mnist_data import load_mnist
    from runtime.predictor import load_predictor

    cv2.setNumThreads(1)
    predictor = load_predictor(args.model, threads=1)
    reader = DetectorReader(detector, predictor)  # ModelLoadError (exit 2) before any frame is read
    mnist = load_mnist(args.data)
    pool = DigitPool(mnist.x_test, mnist.y_test)
    results = {name: run_field_test(r, pool, conditions, args.frames_per_condition, args.seed,
                                     predictor.min_confidence, failures_per_condition=0, label=f"{name} reader")[0]
               for name, r in (("classical", predictor), ("detector", reader))}
    result = {"frames_per_condition": args.frames_per_condition, "seed": args.seed,
              "classifier": args.model, "min_confidence": predictor.min_confidence,
              "detector": str(detector), "detector_bytes": detector.stat().st_size,
              "detector_training": _training_of(detector),
              "conditions": {c: {name: {k: v for k, v in results[name]["conditions"][c].items() if k != "failed_frames"}
                                 for name in results} for c in conditions},
              "all": {name: results[name]["all"] for name in results},
              "machine": {"processor": platform.processor() or platform.machine(), "threads": 1,
                          "load_average_1_5_15_min_at_end": [round(v, 2) for v in os.getloadavg()]}}
    table = to_markdown(result)
    print(table)
    for path in write_benchmark(args.out, STEM, result, table, plot):
        print(f"wrote {path}", file=sys.stderr)
    return 0
