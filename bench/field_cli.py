"""`mnist-edge bench field`: read generated field-test frames (MNIST test digits under hard conditions).

Prints a Markdown table per condition and writes field.md, field.json and field_failures.png (a grid of
frames read wrong) to --out. Every frame is reproducible from (seed, condition, index): field.json lists
the failed ones, `bench.field_scenes.generate(condition, index, pool, seed)` redraws one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

from runtime.files import file_in_the_way
from runtime.manifest import DEFAULT_FORMAT

OUTPUTS = ("field.md", "field.json", "field_failures.png")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mnist-edge bench field", description=__doc__.splitlines()[0])
    parser.add_argument("--frames-per-condition", type=int, default=200, metavar="N", help="frames per condition (default: 200)")
    parser.add_argument("--seed", type=int, default=0, help="the generator's seed (default: 0)")
    parser.add_argument("--conditions", default="all", help="comma-separated names (see --list), or all (default)")
    parser.add_argument("--model", "--format", dest="model", default=DEFAULT_FORMAT,
                        help="format in models/manifest.json (tflite-int8, onnx-fp32, ...) or a .tflite/.onnx path "
                        f"(default: {DEFAULT_FORMAT})")
    parser.add_argument("--backend", default="auto", choices=("auto", "litert", "onnxruntime", "tflm"),
                        help="runtime for the model (default: auto, the format's first installed one)")
    parser.add_argument("--min-confidence", type=float, default=None, help="the reader's threshold (default: its own)")
    parser.add_argument("--data", default=None, help="path to mnist.npz (default: $MNIST_NPZ, Keras cache, download)")
    parser.add_argument("--out", default="runs/field", help="folder for " + ", ".join(OUTPUTS) + " (default: runs/field)")
    parser.add_argument("--failures-per-condition", type=int, default=2, metavar="K", help="frames kept for the PNG grid (default: 2)")
    parser.add_argument("--list", action="store_true", help="list the conditions and exit")
    return parser


def parse_conditions(text: str) -> list[str]:
    """"all" or comma-separated condition names, checked; raises ValueError naming the unknown ones."""
    from bench.field_scenes import CONDITIONS

    if text.strip() == "all":
        return list(CONDITIONS)
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONDITIONS]
    if unknown or not names:
        raise ValueError(f"unknown condition(s) {', '.join(unknown) or '(none given)'}; choose from all, {', '.join(CONDITIONS)}")
    return list(dict.fromkeys(names))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from bench.field_scenes import CONDITIONS, DESCRIPTIONS, require_drawing

    require_drawing()
    if args.list:
        width = max(map(len, CONDITIONS))
        print("\n".join(f"{name:<{width}}  {DESCRIPTIONS[name]}" for name in CONDITIONS))
        return 0
    if args.frames_per_condition <= 0:
        parser.error(f"--frames-per-condition must be positive, got {args.frames_per_condition}")
    if args.seed < 0:
        parser.error(f"--seed must be 0 or more, got {args.seed}")
    if args.failures_per_condition < 0:
        parser.error(f"--failures-per-condition must be 0 or more, got {args.failures_per_condition}")
    if args.min_confidence is not None and not 0.0 <= args.min_confidence <= 1.0:
        parser.error(f"--min-confidence must lie in [0, 1], got {args.min_confidence}")
    try:
        conditions = parse_conditions(args.conditions)
    except ValueError as exc:
        parser.error(str(exc))
    out = Path(args.out)
    blocked = file_in_the_way(out)
    if blocked is not None:
        parser.error(f"--out {out}: {blocked} is a file, not a folder")

    import cv2

    from bench.field_scenes import DigitPool
    from bench.field_test import plot_failures, run_field_test, to_markdown
    from runtime.backends import ModelLoadError
    from runtime.files import replace_together
    from runtime.manifest import ManifestError
    from runtime.mnist_data import MnistDataError, load_mnist
    from runtime.predictor import load_predictor

    try:
        predictor = load_predictor(args.model, backend=args.backend, threads=1)
    except (ModelLoadError, ManifestError, ValueError) as exc:
        print(f"mnist-edge bench field: cannot load model {args.model!r}: {exc}", file=sys.stderr)
        return 2
    try:
        mnist = load_mnist(args.data)
    except (MnistDataError, OSError) as exc:
        print(f"mnist-edge bench field: cannot load MNIST: {exc}", file=sys.stderr)
        return 2
    cv2.setNumThreads(1)
    result, failures = run_field_test(predictor, DigitPool(mnist.x_test, mnist.y_test), conditions,
                                      args.frames_per_condition, args.seed, args.min_confidence,
                                      args.failures_per_condition)
    result.update(model=predictor.name if predictor.artifact is None else f"{args.model} ({predictor.name})",
                  generator="bench/field_scenes.py", digits="MNIST test set",
                  machine={"processor": platform.processor() or platform.machine(), "python": platform.python_version(),
                           "opencv": cv2.__version__, "threads": 1,
                           "load_average_1_5_15_min_at_end": [round(v, 2) for v in os.getloadavg()]})
    table = to_markdown(result)
    print(table)
    with tempfile.TemporaryDirectory() as scratch:  # the three files are replaced together, or none
        picture = Path(scratch) / "field_failures.png"
        plot_failures(failures, picture)
        replace_together({out / "field.json": (json.dumps(result, indent=2) + "\n").encode(),
                          out / "field.md": table.encode(), out / "field_failures.png": picture.read_bytes()})
    print(f"wrote {', '.join(str(out / name) for name in OUTPUTS)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
