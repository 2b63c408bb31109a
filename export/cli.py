"""`python -m export` / `mnist-edge export`: every deployable format, each proven to predict like the float model."""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import zipfile
from pathlib import Path

DEFAULT_MODEL = "models/cnn_aug.keras"
DEFAULT_OUT = "models"
PROG = "mnist-edge export"  # how the user called it: `python -m export` sets its own
STEM = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")  # a plain file name stem: no folder, no "..", not hidden


def build_parser() -> argparse.ArgumentParser:
    from export.formats import FORMATS

    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"trained Keras model (default {DEFAULT_MODEL})")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT}/)")
    parser.add_argument("--int8", action="store_true",
                        help="only the full-int8 TFLite model and its TensorFlow Lite Micro bundle (out/micro/)")
    parser.add_argument("--formats", default=None, help=f"comma-separated subset of: {', '.join(FORMATS)}")
    parser.add_argument("--no-micro", action="store_true", help="skip the TFLM bundle")
    parser.add_argument("--no-cpp", action="store_true",
                        help="do not prove the TFLM bundle in the C++ library (default: done when the TFLM kit, "
                             "g++, arm-none-eabi-g++ and qemu-system-arm are there)")
    parser.add_argument("--m4-images", type=int, default=1000,
                        help="test images the emulated Cortex-M4 classifies in the C++ check (x86-64 does all)")
    parser.add_argument("--stem", default="mnist_cnn", help="file name stem of the artifacts (default mnist_cnn)")
    parser.add_argument("--force", action="store_true", help="overwrite existing artifacts")
    parser.add_argument("--data", default=None, help="path to mnist.npz (default: $MNIST_NPZ, Keras cache, download)")
    parser.add_argument("--calibration-size", type=int, default=500, help="balanced training images for int8 calibration")
    parser.add_argument("--calibration-seed", type=int, default=1234)
    parser.add_argument("--min-agreement-float", type=float, default=None, metavar="PCT",
                        help="top-1 agreement required of fp32/fp16 exports, percent (default 99.99)")
    parser.add_argument("--min-agreement-quant", type=float, default=None, metavar="PCT",
                        help="top-1 agreement required of quantized exports, percent (default 99.8)")
    parser.add_argument("--max-drop-quant", type=float, default=None, metavar="PP",
                        help="accuracy quantized exports may lose, percentage points (default 0.10)")
    parser.add_argument("--min-confidence", type=float, default=None,
                        help="11-output models: the best digit's probability below which a crop is \"not a digit\" "
                             "(default: reject/operating_point.json beside the model, made by `mnist-edge reject-report` for it)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show the converters' and TensorFlow's own output (hidden by default)")
    parser.add_argument("--recover", action="store_true",
                        help="only finish (or clean up) an export into --out that was killed, then exit")
    return parser


def tolerances_from(args) -> dict:
    from dataclasses import replace

    from export.formats import EXACT, FORMATS

    out = {}
    for name, fmt in FORMATS.items():
        tol = fmt.tolerance
        exact = tol == EXACT
        if exact and args.min_agreement_float is not None:
            tol = replace(tol, min_agreement=args.min_agreement_float / 100)
        if not exact and args.min_agreement_quant is not None:
            tol = replace(tol, min_agreement=args.min_agreement_quant / 100)
        if not exact and args.max_drop_quant is not None:
            tol = replace(tol, max_accuracy_drop_pp=args.max_drop_quant)
        out[name] = tol
    return out


def interrupted_state(out: Path) -> str:
    """What an interrupted export left in `out`: the old files, or a swap to finish (export/staging.py)."""
    from runtime.manifest import SWAP_JOURNAL

    if (out / SWAP_JOURNAL).exists():
        return f"the new files were being swapped in: run `mnist-edge export --recover --out {out}` to finish"
    return f"{out} left as it was"


def _validate(parser, args) -> None:
    """Exit 2 with the flag's name for a value no export can use (NaN passes every comparison test otherwise)."""
    for flag in ("min_agreement_float", "min_agreement_quant", "max_drop_quant"):
        value = getattr(args, flag)
        if value is not None and not (math.isfinite(value) and 0 <= value <= 100):
            parser.error(f"--{flag.replace('_', '-')} is in percent{'age points' if 'drop' in flag else ''}, "
                         f"from 0 to 100; got {value}")
    if args.min_confidence is not None and not (math.isfinite(args.min_confidence) and 0 <= args.min_confidence <= 1):
        parser.error(f"--min-confidence is a probability in [0, 1], got {args.min_confidence}")
    for flag in ("m4_images", "calibration_size"):
        if getattr(args, flag) <= 0:
            parser.error(f"--{flag.replace('_', '-')} must be positive, got {getattr(args, flag)}")
    if args.calibration_seed < 0:
        parser.error(f"--calibration-seed must be 0 or more, got {args.calibration_seed}")
    if not STEM.fullmatch(args.stem):
        parser.error(f"--stem must be a plain file name stem (letters, digits, '_', '-', '.', not first), "
                     f"got {args.stem!r}")
    if args.int8 and args.formats:
        parser.error("--int8 selects the int8 format; do not combine it with --formats")
    if not args.out.strip():
        parser.error("--out is empty; give a folder (an unset variable in a script?)")


def _not_a_model_file(path: Path) -> str | None:
    """Why `path` cannot be a Keras model, judged from its first bytes (a .keras file is a zip archive, an .h5
    file HDF5), or None."""
    try:
        if not path.is_file():
            return "not a model file (a folder or a device)" if path.exists() else "no such model file"
        with open(path, "rb") as file:
            head = file.read(8)
        suffix = path.suffix.lower()
        if suffix == ".keras" and head.startswith(b"PK\x03\x04") and not zipfile.is_zipfile(path):
            return "not a Keras model file (a zip archive cut short: copied or downloaded only in part?)"
    except OSError as exc:  # a name too long, a folder on the way that cannot be entered, no read permission
        return f"cannot be read ({exc.strerror or exc})"
    if suffix == ".keras" and not head.startswith(b"PK\x03\x04"):
        return "not a Keras model file (" + ("empty" if not head else "a .keras file is a zip archive; this is not") + ")"
    if suffix in (".h5", ".hdf5") and head != b"\x89HDF\r\n\x1a\n":
        return "not a Keras model file (" + ("empty" if not head else "an .h5 file is HDF5; this is not") + ")"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _validate(parser, args)
    why = None if args.recover else _not_a_model_file(Path(args.model))
    if why:  # before TensorFlow loads (seconds), and before the TFLM note
        print(f"{PROG}: error: {args.model}: {why} (train one with `mnist-edge train`)", file=sys.stderr)
        return 2
    from runtime.stops import stop_report, stops_as_interrupts

    try:
        with stops_as_interrupts():  # SIGTERM and SIGHUP end it as Ctrl-C does, with the same report
            return _recover(Path(args.out)) if args.recover else _run(args)
    except KeyboardInterrupt as exc:  # staged: nothing replaced yet, or a journal that the next export rolls forward
        how, code = stop_report(exc)
        print(f"{PROG}: {how}; {interrupted_state(Path(args.out))}", file=sys.stderr)
        return code


def _recover(out: Path) -> int:
    """`--recover`: finish or drop an interrupted export in `out` (no TensorFlow needed)."""
    from export.staging import recover

    try:
        if not out.is_dir():
            why = "not a folder" if os.path.lexists(out) else "no such folder"
            print(f"{PROG}: error: --out {out}: {why}, so nothing there to recover", file=sys.stderr)
            return 2
        print(recover(out) or f"{out}: nothing to recover")
    except (OSError, RuntimeError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    return 0


def _run(args) -> int:
    import runtime.quiet
    from export.tf_quiet import quiet_tensorflow

    runtime.quiet.SHOW_NATIVE_OUTPUT = args.verbose
    quiet_tensorflow(args.verbose)
    from export.formats import INT8_FORMAT
    from export.pipeline import ExportError, export_model
    from runtime.files import ArtifactExistsError
    from runtime.mnist_data import MnistDataError

    formats = [INT8_FORMAT] if args.int8 else (args.formats.split(",") if args.formats else None)
    cpp = not args.no_cpp and not args.no_micro and (formats is None or INT8_FORMAT in formats)  # else no bundle
    if cpp:
        from export.tflm_kit import missing_tools

        missing = list(dict.fromkeys(missing_tools("host") + missing_tools("m4")))
        if missing:
            print(f"{PROG}: note: the TFLM bundle is not proven in C++ (missing {', '.join(missing)}; "
                  "scripts/install_mcu_toolchain.sh installs the compilers and qemu; the prebuilt kit is found "
                  "at ../shared/tflm or $TFLM_DIR)", file=sys.stderr)
            cpp = False
    try:
        report = export_model(
            args.model, args.out, formats=formats, micro=not args.no_micro, data=args.data,
            calibration_size=args.calibration_size, calibration_seed=args.calibration_seed,
            tolerances=tolerances_from(args), force=args.force, progress=not args.quiet, stem=args.stem,
            cpp=cpp, m4_images=args.m4_images, min_confidence=args.min_confidence)
    except (ExportError, ArtifactExistsError, MnistDataError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    print(report.table)
    for why in report.kept.values():
        print(f"kept: {why}", file=sys.stderr)
    if report.micro:
        print(f"TFLM bundle: {Path(args.out) / 'micro'} (arena {report.micro['arena']['recommended_bytes']:,} bytes, "
              f"ops {', '.join(report.micro['ops'])})")
    if not report.ok:
        failed = [r.format for r in report.results if not r.passed] + list(report.errors)
        print(f"{PROG}: FAILED: {', '.join(failed)} (see the table above)", file=sys.stderr)
        return 1
    print(f"all {len(report.results)} exports passed their parity checks; manifest: {Path(args.out) / 'manifest.json'}")
    return 0
