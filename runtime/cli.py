"""`python -m runtime` / `mnist-edge predict`: run a shipped model on MNIST test digits or on image files."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

import numpy as np

from runtime.manifest import DEFAULT_FORMAT

# What libjpeg says of a file it decoded only in part (the rest would be grey or blurred, read wrongly). The
# same warning comes with whole pictures that only lack their end marker, or with stray bytes before a marker:
# a file is damaged if a warning other than those is left when the end marker is added and it is decoded again.
DAMAGED_IMAGE = ("Premature end of JPEG file", "Corrupt JPEG data")
HARMLESS = "extraneous bytes before marker"
END_OF_IMAGE = b"\xff\xd9"


def damage_of(path: str, decoder_log: str) -> str | None:
    """The decoder's line that says the file is damaged, or None for a whole picture."""
    import cv2

    from runtime.quiet import native_stderr_captured

    def warnings(log: str) -> list[str]:
        return [line.strip() for line in log.splitlines() if any(m in line for m in DAMAGED_IMAGE) and HARMLESS not in line]

    first = warnings(decoder_log)
    if not first:
        return None
    try:
        data = Path(path).read_bytes()
    except OSError:  # gone since it was decoded: as damaged as the decoder said
        return first[0]
    with native_stderr_captured() as again:
        cv2.imdecode(np.frombuffer(data + END_OF_IMAGE, np.uint8), cv2.IMREAD_UNCHANGED)
    return first[0] if warnings(again[0]) else None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mnist-edge predict", description=__doc__)
    parser.add_argument("images", nargs="*", help="image files to read digits from (default: the MNIST test set)")
    parser.add_argument("--model", default=DEFAULT_FORMAT,
                        help="format in models/manifest.json (tflite-int8, onnx-fp32, ...) or a .tflite/.onnx path")
    parser.add_argument("--backend", default="auto", choices=("auto", "litert", "onnxruntime", "tflm"))
    parser.add_argument("--threads", type=int, default=None, help="interpreter threads, 1-64 (default: the library's)")
    parser.add_argument("--no-verify", action="store_true", help="skip the model's sha256 check against the manifest")
    parser.add_argument("--allow-failed", action="store_true", help="load a model that failed its parity check at export")
    parser.add_argument("--data", default=None, help="path to mnist.npz (default: $MNIST_NPZ, Keras cache, download)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N test images")
    return parser


def evaluate_on_mnist(predictor, x: np.ndarray, y: np.ndarray, progress: bool = True) -> dict:
    """Accuracy of a predictor on MNIST images, with the time it took (progress on stderr when it takes a while)."""
    from runtime.progress import batches, progress as report

    step = 100 if predictor.backend.name == "tflm" else 1000  # TFLM runs one image at a time, 10-16 ms each
    start = time.perf_counter()
    parts = batches(len(x), step)
    probs = np.concatenate([predictor.predict(x[s]) for s in report(
        parts, total=len(x), desc=f"{predictor.backend.name}", unit="digits", enabled=progress,
        weights=lambda s: s.stop - s.start)])
    seconds = time.perf_counter() - start
    pred = probs.argmax(1)
    return {"images": int(len(y)), "accuracy": float((pred == y).mean()), "errors": int((pred != y).sum()),
            "seconds": seconds, "ms_per_image": 1000 * seconds / len(y)}


def read_image_files(predictor, paths: list[str]) -> int:
    """Read the digits in each image file (photos of writing, or 28x28 MNIST-style images); one line each."""
    import cv2

    from runtime.image_files import decode_image
    from runtime.preprocess import FrameError
    from runtime.quiet import native_stderr_captured

    status = 0
    for path in paths:
        if not Path(path).is_file():
            what = ("is a folder, not an image file" if Path(path).is_dir() else
                    "not a regular file (a device, a pipe?)" if Path(path).exists() else "no such file")
            print(f"{path}: error: {what}", file=sys.stderr)
            status = 2
            continue
        try:
            with native_stderr_captured() as decoder_log:  # OpenCV's "[ WARN] imread_(...)", libjpeg's warnings
                image = decode_image(path)  # upright by its EXIF orientation (runtime/image_files.py)
        except cv2.error as exc:  # e.g. a header claiming more pixels than OpenCV decodes (CV_IO_MAX_IMAGE_PIXELS)
            reason = "too many pixels to decode" if "MAX_IMAGE_PIXELS" in str(exc) else "OpenCV could not decode it"
            print(f"{path}: error: not a readable image file ({reason})", file=sys.stderr)
            status = 2
            continue
        damage = damage_of(path, decoder_log[0]) if image is not None else None
        if image is None or damage:
            what = f"a damaged image ({damage})" if damage else "not a readable image file"
            print(f"{path}: error: {what}", file=sys.stderr)
            status = 2
            continue
        try:
            reading = predictor.read_digits(image)
        except FrameError as exc:
            print(f"{path}: error: {exc}", file=sys.stderr)
            status = 2
            continue
        if not reading.digits:
            print(f"{path}: no digit")
            continue
        # One text line: its number; a page: each line's, top to bottom, " / " between them ("uncertain" for a
        # line with a mark that is not a sure digit); then every mark with its confidence, line by line.
        numbers = " / ".join(number or "uncertain" for number in reading.numbers)
        marks = " / ".join(", ".join(f"{d.digit} ({100 * d.confidence:.1f} %)" if d.status == "ok"
                                     else f"? ({d.status}: {d.best_guess} at {100 * d.confidence:.1f} %)" for d in line)
                           for line in reading.lines)
        print(f"{path}: {numbers}  [{marks}]")
    return status


class _Stopped(Exception):
    """SIGTERM or SIGHUP arrived: end as Ctrl-C does, between two images."""


_stopped_by: list[int] = []  # the stop signals raised, in case a library turns one into its own error


def _raise_stopped(signum, _frame):
    _stopped_by.append(signum)
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise _Stopped(signum)


def main(argv: list[str] | None = None) -> int:
    """Ctrl-C, SIGTERM and SIGHUP end it between two results (whole lines on stdout), exit 128 + the signal."""
    import threading

    _stopped_by.clear()  # a library call in this process may run main() again
    stop_signals = [getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)]
    on_main_thread = threading.current_thread() is threading.main_thread()  # only it may set handlers
    before = {s: signal.signal(s, _raise_stopped) for s in stop_signals} if on_main_thread else {}
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("mnist-edge predict: interrupted (Ctrl-C)", file=sys.stderr)
        return 128 + signal.SIGINT
    except _Stopped as stopped:
        print(f"mnist-edge predict: stopped ({signal.Signals(stopped.args[0]).name})", file=sys.stderr)
        return 128 + stopped.args[0]
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from runtime.backends import MAX_THREADS

    if args.threads is not None and not 1 <= args.threads <= MAX_THREADS:
        parser.error(f"--threads must be from 1 to {MAX_THREADS}, got {args.threads}")
    if args.limit is not None and args.limit <= 0:
        parser.error(f"--limit must be positive, got {args.limit}")

    from runtime.backends import BackendUnavailableError, ModelLoadError
    from runtime.manifest import ManifestError
    from runtime.mnist_data import MnistDataError, load_mnist
    from runtime.predictor import load_predictor

    try:
        start = time.perf_counter()
        predictor = load_predictor(args.model, backend=args.backend, threads=args.threads,
                                   verify=not args.no_verify, allow_failed=args.allow_failed)
        load_s = time.perf_counter() - start
        print(f"model: {predictor.name} ({predictor.backend.path}, {predictor.backend.library}), loaded in {1000 * load_s:.0f} ms",
              file=sys.stderr)
        if args.images:
            return read_image_files(predictor, args.images)
        data = load_mnist(args.data)
        x, y = data.x_test[: args.limit], data.y_test[: args.limit]
        result = evaluate_on_mnist(predictor, x, y)
    except (BackendUnavailableError, ModelLoadError, ManifestError, MnistDataError, ValueError) as exc:
        if _stopped_by:  # LiteRT's native loader turns a stop raised inside it into "initialization failed"
            raise KeyboardInterrupt if _stopped_by[-1] == signal.SIGINT else _Stopped(_stopped_by[-1]) from exc
        print(f"mnist-edge predict: error: {exc}", file=sys.stderr)
        return 2
    print(f"MNIST test: {100 * result['accuracy']:.2f} % of {result['images']:,} digits "
          f"({result['errors']} errors), {result['ms_per_image']:.3f} ms/digit")
    return 0
