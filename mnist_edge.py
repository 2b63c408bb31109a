"""`mnist-edge`: one console script, a subcommand per job, each calling its package's CLI.

Subcommands import their package only when run, so `mnist-edge` starts on a
device that has the runtime but not TensorFlow.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
from pathlib import Path

SUBCOMMANDS = {
    "demo": ("camera_demo.cli:demo_main", "the shipped int8 model reading the bundled sample video, headless (no camera needed)"),
    "camera": ("camera_demo.cli", "live digit reading from a webcam, Pi camera, video or images (--serve: in a browser)"),
    "train": ("train.cli", "train a zoo model (TensorFlow), with its report"),
    "reject-report": ("train.reject_report", "\"not a digit\" curve and style-shifted accuracy of a model, before/after (TensorFlow)"),
    "predict": ("runtime.cli", "run a shipped model (LiteRT / onnxruntime / TFLM) on digits; no TensorFlow"),
    "bench": ("bench.cli", "benchmarks: latency (every artifact x runtime), train (training speed), camera (demo FPS), field (hard frames), reader (old vs new reader), detector (reader vs a small detection network), serve (browser clients), threads, mcu, crops (training data: the reader's own crops)"),
    "check-aarch64": ("mnist_edge:check_aarch64", "the device side on a Raspberry Pi's architecture, under qemu (x86_64 Debian host)"),
    "export": ("export.cli", "TFLite / ONNX / TFLM exports of a trained model, each checked against it (TensorFlow)"),
    "zoo": ("bench.zoo", "every notebook model in every export format: accuracy, size, MACs, latency, TFLM arena, Pareto charts"),
    "explain": ("train.explain", "attributions (SHAP), filters, activations and errors of the shipped CNN; int8 against float"),
    "quant-report": ("export.quant_report", "where int8 loses precision, layer by layer, and what keeping a layer float buys"),
}

# A missing third-party module -> the extra that installs it (a Pi has only `runtime`).
EXTRA_FOR_MODULE = {
    "tensorflow": "train", "keras": "train", "tf2onnx": "export", "onnx": "export", "tflite_micro": "tflm",
    "matplotlib": "bench", "PIL": "bench", "tqdm": "runtime", "ai_edge_litert": "runtime",
    "onnxruntime": "runtime", "cv2": "runtime", "shap": "explain",
}

# Old names of two benchmarks, kept working: `mnist-edge train-bench` is `mnist-edge bench train`.
ALIASES = {"train-bench": ["bench", "train"], "camera-bench": ["bench", "camera"]}


def check_aarch64(argv: list[str]) -> int:
    """Run scripts/aarch64_check.sh (--fetch: only fill the cache; AARCH64_* variables tune it)."""
    script = Path(__file__).resolve().parent / "scripts" / "aarch64_check.sh"
    if argv in (["-h"], ["--help"]):
        print("usage: mnist-edge check-aarch64 [--fetch]\n\n" + (check_aarch64.__doc__ or "") +
              "\nTuned by AARCH64_IMAGES, AARCH64_FRAMES, AARCH64_CPUS, AARCH64_WORK, AARCH64_CACHE "
              "(see the script's header).")
        return 0
    if argv not in ([], ["--fetch"]):
        print("mnist-edge check-aarch64 takes only --fetch (see the header of scripts/aarch64_check.sh)", file=sys.stderr)
        return 2
    return subprocess.call(["bash", str(script), *argv], env={**os.environ, "PYTHON": sys.executable})


def version() -> str:
    from importlib.metadata import PackageNotFoundError, version as dist_version
    try:
        return dist_version("mnist-edge")
    except PackageNotFoundError:
        return "unknown (not installed; run from a checkout)"


def missing_extra_message(command: str, error: ModuleNotFoundError) -> str | None:
    """A one-line fix for a subcommand whose optional dependency is not installed, or None if not ours."""
    top = (error.name or "").split(".")[0]
    extra = EXTRA_FOR_MODULE.get(top)
    if extra is None:
        return None
    prefix = command if " " in command else f"mnist-edge {command}"
    return (f"{prefix}: needs the '{top}' package, which this install lacks; "
            f"install the '{extra}' extra: pip install -e \".[{extra}]\" (from the repository root)")


def usage() -> str:
    width = max(map(len, SUBCOMMANDS))
    rows = "\n".join(f"  {name:<{width}}  {help_}" for name, (_, help_) in SUBCOMMANDS.items())
    return f"usage: mnist-edge <command> [options]\n\ncommands:\n{rows}\n\n'mnist-edge <command> --help' for a command's options."


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print(f"mnist-edge: a command is required\n\n{usage()}", file=sys.stderr)
        return 2
    if argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    if argv[0] in ("-V", "--version"):
        print(f"mnist-edge {version()}")
        return 0
    if argv[0] in ALIASES:
        argv = ALIASES[argv[0]] + argv[1:]
    name, rest = argv[0], argv[1:]
    if name not in SUBCOMMANDS:
        print(f"mnist-edge: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    return run(name, rest)


def run(name: str, argv: list[str], label: str | None = None) -> int:
    """Run one subcommand; a missing optional package becomes the extra to install (exit 2), not a traceback.

    `python -m export` and the other package entry points come through here too (label: how the user called it).
    """
    from runtime.stops import stops_as_interrupts  # signal and contextlib only

    module_name, _, function = SUBCOMMANDS[name][0].partition(":")
    entry = None
    try:
        # From here on SIGTERM and SIGHUP end the command as Ctrl-C does, also while its libraries load (they
        # killed it silently then, by the signal itself); subcommands install their own handler as well.
        with stops_as_interrupts():
            module = importlib.import_module(module_name)
            if label and hasattr(module, "PROG"):  # its usage and errors name the command as the user typed it
                module.PROG = label
            entry = getattr(module, function or "main")
            return entry(argv)
    except KeyboardInterrupt as stop:
        # Ctrl-C (or a stop signal raised as one) that the subcommand did not end itself: while NumPy, OpenCV or
        # TensorFlow were still loading, or in argument checks before its own handler; `finally` blocks have run.
        signum = getattr(stop, "signum", signal.SIGINT)
        how = "interrupted (Ctrl-C)" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
        print(f"{label or 'mnist-edge ' + name}: {how}{' while starting' if entry is None else ''}", file=sys.stderr)
        return 128 + signum
    except ModuleNotFoundError as error:
        message = missing_extra_message(label or name, error)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
