"""`mnist-edge`: one console script, a subcommand per job, each calling its package's CLI.

Subcommands import their package only when run, so `mnist-edge` starts on a
device that has the runtime but not TensorFlow.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

SUBCOMMANDS = {
    "demo": ("camera_demo.cli:demo_main", "the shipped int8 model reading the bundled sample video, headless (no camera needed)"),
    "camera": ("camera_demo.cli", "live digit reading from a webcam, Pi camera, video or images"),
    "train": ("train.cli", "train a zoo model (TensorFlow), with its report"),
    "reject-report": ("train.reject_report", "\"not a digit\" curve and style-shifted accuracy of a model, before/after (TensorFlow)"),
    "train-bench": ("train.bench", "training speed with and without augmentation (TensorFlow)"),
    "predict": ("runtime.cli", "run a shipped model (LiteRT / onnxruntime / TFLM) on digits; no TensorFlow"),
    "camera-bench": ("camera_demo.bench", "end-to-end FPS of the headless demo on one core, per stage, Pi estimates"),
    "bench": ("runtime.bench", "latency, throughput, memory and accuracy of every artifact in every runtime"),
    "check-aarch64": ("mnist_edge:check_aarch64", "the device side on a Raspberry Pi's architecture, under qemu (x86_64 Debian host)"),
    "export": ("export.cli", "TFLite / ONNX / TFLM exports of a trained model, each checked against it (TensorFlow)"),
}


def check_aarch64(argv: list[str]) -> int:
    """Run scripts/aarch64_check.sh (it takes no options; AARCH64_* variables tune it)."""
    script = Path(__file__).resolve().parent / "scripts" / "aarch64_check.sh"
    if argv:
        print("mnist-edge check-aarch64 takes no options (see the header of scripts/aarch64_check.sh)", file=sys.stderr)
        return 2
    return subprocess.call(["bash", str(script)], env={**os.environ, "PYTHON": sys.executable})


def usage() -> str:
    width = max(map(len, SUBCOMMANDS))
    rows = "\n".join(f"  {name:<{width}}  {help_}" for name, (_, help_) in SUBCOMMANDS.items())
    return f"usage: mnist-edge <command> [options]\n\ncommands:\n{rows}\n\n'mnist-edge <command> --help' for a command's options."


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in SUBCOMMANDS:
        print(f"mnist-edge: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module_name, _, function = SUBCOMMANDS[name][0].partition(":")
    return getattr(importlib.import_module(module_name), function or "main")(rest)


if __name__ == "__main__":
    sys.exit(main())
