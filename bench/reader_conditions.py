"""Digit reader per condition, the pipeline before issue 9 (bench/baseline_preprocess.py) beside the current one, on frames from bench/reader_frames.py.

`mnist-edge bench reader [--frames 60]` pins itself to one core
(cv2.setNumThreads(1)), reads every frame with both pipelines and the same
model, prints a Markdown table (digit accuracy, exact lines, "no digit" rate,
preprocessing CPU ms per frame) and writes Markdown and JSON. A digit counts as read only when
the reader reports it confidently; digits are matched by edit distance.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from runtime.progress import progress as report_progress


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def line_strings(reading) -> list[str]:
    """The reading's lines as strings; an uncertain digit is '?'."""
    lines = getattr(reading, "lines", None) or ([reading.digits] if reading.digits else [])
    return ["".join(str(d.digit) if d.status == "ok" else "?" for d in line) for line in lines]


def score(truth: tuple[str, ...], read: list[str]) -> dict:
    """Digits right (by edit distance over the whole frame), truth lines found exactly, no digit at all."""
    want, got = "".join(truth), "".join(read)
    unmatched = list(read)
    exact = 0
    for line in truth:
        if line in unmatched:
            unmatched.remove(line)
            exact += 1
    return {"digits": len(want), "right": max(0, len(want) - edit_distance(want, got)), "lines": len(truth),
            "exact_lines": exact, "no_digit": int(not got)}


def old_reader(predictor):
    from bench.baseline_preprocess import find_digits

    return lambda image: (find_digits(image), lambda crops: predictor.read_crops(crops))


def new_reader(predictor):
    from runtime.preprocess import find_digits

    return lambda image: (find_digits(image, classify=predictor.predict), lambda crops: predictor.read_crops(crops))


def measure(frames, readers: dict, repeats: int = 3) -> dict:
    """Each reader's scores and median CPU ms per frame. The readers take turns frame by frame (so a slow
    spell of the machine hits both alike) and each frame's time is the least of `repeats` reads (what the
    reader costs, without the interrupts that land on some reads)."""
    totals = {label: {"digits": 0, "right": 0, "lines": 0, "exact_lines": 0, "no_digit": 0} for label in readers}
    times = {label: [] for label in readers}
    for frame in frames:
        for label, reader in readers.items():
            best = float("inf")
            for _ in range(repeats):
                start = time.thread_time()  # CPU time of this thread: other work on the machine does not count
                crops, read = reader(frame.image)
                best = min(best, time.thread_time() - start)
            times[label].append(best)
            for k, v in score(frame.lines, line_strings(read(crops))).items():
                totals[label][k] += v
    return {label: {"frames": len(frames), "digit_accuracy": t["right"] / t["digits"],
                    "exact_lines": t["exact_lines"] / t["lines"], "no_digit": t["no_digit"] / len(frames),
                    "ms_median": 1000 * float(np.median(times[label]))} for label, t in totals.items()}


def run(count: int, seed: int, model: str, conditions: list[str] | None = None) -> dict:
    import cv2

    from bench.reader_frames import CONDITIONS, make_frames
    from runtime.mnist_data import load_mnist
    from runtime.predictor import load_predictor

    cores = os.sched_getaffinity(0) if hasattr(os, "sched_setaffinity") else None
    if cores:
        os.sched_setaffinity(0, {sorted(cores)[0]})
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        mnist = load_mnist(None)
        predictor = load_predictor(model, threads=1)
        readers = {"today": old_reader(predictor), "new": new_reader(predictor)}
        rows = {}
        for name in report_progress(conditions or list(CONDITIONS), len(conditions or CONDITIONS), "conditions", "conditions"):
            frames = make_frames(mnist, name, count, seed)
            for reader in readers.values():  # warm-up
                reader(frames[0].image)
            rows[name] = measure(frames, readers)
    finally:  # a caller's process gets its cores and OpenCV threads back
        if cores:
            os.sched_setaffinity(0, cores)
        cv2.setNumThreads(threads)
    return {"benchmark": "reader_conditions", "model": model, "frames_per_condition": count, "seed": seed,
            "cores": 1, "clock": "thread CPU time, least of 3 reads per frame, readers taking turns",
            "note": "ms = find_digits incl. the split-by-recognition predictions, not the final predict",
            "rows": rows}


def to_markdown(result: dict) -> str:
    lines = [f"{result['frames_per_condition']} frames per condition (seed {result['seed']}), {result['model']}, "
             "one core, CPU ms of finding the digits; the pipeline before issue 9 -> the current one.", "",
             "| condition | digits read right | lines exact | no digit | ms / frame |", "|---|---:|---:|---:|---:|"]
    for name, row in result["rows"].items():
        old, new = row["today"], row["new"]
        lines.append(f"| {name} | {100 * old['digit_accuracy']:.1f} -> **{100 * new['digit_accuracy']:.1f} %** | "
                     f"{100 * old['exact_lines']:.1f} -> **{100 * new['exact_lines']:.1f} %** | "
                     f"{100 * old['no_digit']:.1f} -> {100 * new['no_digit']:.1f} % | "
                     f"{old['ms_median']:.2f} -> {new['ms_median']:.2f} |")
    return "\n".join(lines) + "\n"


def plot(result: dict, path) -> None:
    """Digits read and ms per frame per condition, the pipeline before issue 9 beside today's."""
    import numpy as np

    from bench.results import pyplot, save_figure

    plt = pyplot()
    names = list(result["rows"])
    x = np.arange(len(names))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 7), sharex=True)
    for k, (reader, label) in enumerate((("today", "before issue 9"), ("new", "today's reader"))):
        top.bar(x + (k - 0.5) * 0.4, [100 * result["rows"][n][reader]["digit_accuracy"] for n in names], 0.4, label=label)
        bottom.bar(x + (k - 0.5) * 0.4, [result["rows"][n][reader]["ms_median"] for n in names], 0.4, label=label)
    top.set_ylabel("digits read (%)")
    top.legend()
    bottom.set_ylabel("CPU ms per frame, one core")
    bottom.set_xticks(x, names, rotation=60, ha="right", fontsize=8)
    fig.suptitle(f"bench reader: {result['frames_per_condition']} frames per condition, seed {result['seed']}")
    fig.tight_layout()
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mnist-edge bench reader", description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60, help="frames per condition (default: 60)")
    parser.add_argument("--seed", type=int, default=0, help="the frames' seed (default: 0)")
    parser.add_argument("--model", default="tflite-int8", help="exported format to read with (default: tflite-int8)")
    parser.add_argument("--condition", action="append", help="only these conditions (repeatable; default: all)")
    parser.add_argument("--out", default="benchmarks", help="folder for reader_conditions.{md,json,png} (default: benchmarks)")
    args = parser.parse_args(argv)
    if args.frames <= 0:
        parser.error("--frames must be positive")
    from bench.reader_frames import CONDITIONS

    unknown = [c for c in args.condition or [] if c not in CONDITIONS]
    if unknown:
        parser.error(f"unknown --condition {', '.join(unknown)}; choose from {', '.join(CONDITIONS)}")
    result = run(args.frames, args.seed, args.model, args.condition)
    table = to_markdown(result)
    print(table)
    if args.out:
        from bench.results import write_benchmark

        written = write_benchmark(args.out, "reader_conditions", result, table, plot)
        print(f"wrote {', '.join(str(p) for p in written)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
