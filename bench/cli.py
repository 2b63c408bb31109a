"""`mnist-edge bench <name>`: the benchmarks, one subcommand family; each prints a Markdown table, writes JSON + PNG."""

from __future__ import annotations

import importlib
import sys

from runtime.stops import StopRequested, stop_report, stops_as_interrupts  # noqa: F401  (callers import them from here)

# name -> ("module[:function]", one-line help); a new benchmark is one entry here.
BENCHMARKS = {
    "latency": ("bench.latency", "latency, throughput, memory and accuracy of every artifact in every runtime"),
    "train": ("bench.train_speed", "training speed with and without augmentation (TensorFlow)"),
    "threads": ("bench.predictor_threads", "one Predictor shared by threads: one interpreter under a lock vs one per thread"),
    "camera": ("bench.camera_fps", "end-to-end FPS of the headless demo on one core, per stage, Pi estimates"),
    "mcu": ("bench.mcu_costs", "arena, flash, instructions per inference and per operator on an emulated Cortex-M4 (TFLM C++)"),
    "field": ("bench.field_cli", "field test: the reader on generated hard camera frames and pages, per condition"),
    "serve": ("bench.serve_fps", "camera --serve: FPS delivered to 1 and 5 browser clients, CPU against the headless demo"),
    "detector": ("bench.detector_compare", "classical digit finding vs a small int8 detection network, per field condition"),
    "crops": ("bench.reader_crops", "training data: the reader's own crops of generated frames (MNIST train digits), labelled"),
    "reader": ("bench.reader_conditions", "digit reader per hard condition (faint, shadows, ruled, touching, pages), old vs new"),
}



def usage() -> str:
    width = max(map(len, BENCHMARKS))
    rows = "\n".join(f"  {name:<{width}}  {help_}" for name, (_, help_) in BENCHMARKS.items())
    return (f"usage: mnist-edge bench <benchmark> [options]\n\nbenchmarks:\n{rows}\n\n"
            "'mnist-edge bench <benchmark> --help' for its options.")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in BENCHMARKS:
        print(f"mnist-edge bench: unknown benchmark {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module_name, _, function = BENCHMARKS[name][0].partition(":")
    try:
        with stops_as_interrupts():
            return getattr(importlib.import_module(module_name), function or "main")(rest)
    except KeyboardInterrupt as exc:  # results are written as one set (bench/results.py): the old set or the new, whole
        how, code = stop_report(exc)
        print(f"mnist-edge bench {name}: {how}; no result half-written (each set of files is replaced whole "
              "or not at all)", file=sys.stderr)
        return code
    except user_errors() as exc:
        print(f"mnist-edge bench {name}: error: {describe(exc)}", file=sys.stderr)
        return 2


def user_errors() -> tuple[type[BaseException], ...]:
    """What a benchmark raises for a bad model, data file or output folder: a message, not a traceback."""
    from runtime.backends import BackendUnavailableError, ModelLoadError
    from runtime.manifest import ManifestError
    from runtime.mnist_data import MnistDataError
    from runtime.predictor import InputError

    return ManifestError, ModelLoadError, BackendUnavailableError, MnistDataError, InputError, OSError


def describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return str(exc)


if __name__ == "__main__":
    sys.exit(main())
