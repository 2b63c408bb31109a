"""`python -m camera_demo` / `mnist-edge camera`: live digit reading; `mnist-edge demo`: the same, headless, on the bundled sample."""

from __future__ import annotations

import argparse
import sys

from runtime.manifest import DEFAULT_FORMAT


def build_parser(prog: str = "mnist-edge camera") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="auto",
                        help="auto (Pi camera, webcam 0, else the bundled sample), a webcam index, picam, "
                             "a video file, an image, a folder of images, or sample")
    parser.add_argument("--model", default=DEFAULT_FORMAT, help="format in models/manifest.json or a model path")
    parser.add_argument("--backend", default="auto", choices=("auto", "litert", "onnxruntime", "tflm"))
    parser.add_argument("--threads", type=int, default=1, help="interpreter threads (default 1)")
    parser.add_argument("--width", type=int, default=640, help="capture width")
    parser.add_argument("--height", type=int, default=480, help="capture height")
    parser.add_argument("--fps", type=float, default=None, help="capture frame rate (and of the recording)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--headless", dest="headless", action="store_true", default=None,
                      help="no window: JSON lines per frame (automatic without a display)")
    mode.add_argument("--window", dest="headless", action="store_false", help="force a window")
    parser.add_argument("--jsonl", default=None, help="JSON lines to this file ('-' for stdout; headless default: stdout)")
    parser.add_argument("--record", default=None, metavar="OUT.mp4", help="write the annotated video")
    parser.add_argument("--snapshots", default="snapshots", help="folder for snapshots (key s)")
    parser.add_argument("--max-frames", type=int, default=None)
    parser.add_argument("--min-confidence", type=float, default=None,
                        help="below it a digit is shown as uncertain (default: the model's own operating point from the manifest)")
    parser.add_argument("--smooth", type=int, default=5, help="frames the shown number is voted over (1: off)")
    parser.add_argument("--force", action="store_true", help="overwrite existing --record / --jsonl files")
    return parser


def _validate(parser, args) -> None:
    for name in ("threads", "width", "height", "max_frames", "smooth"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive, got {value}")
    if args.fps is not None and args.fps <= 0:
        parser.error(f"--fps must be positive, got {args.fps}")
    if args.min_confidence is not None and not 0 <= args.min_confidence <= 1:
        parser.error(f"--min-confidence is a probability in [0, 1], got {args.min_confidence}")


def run(args) -> int:
    from camera_demo.app import DemoConfig, format_summary, run_demo
    from camera_demo.sources import SourceError
    from runtime.backends import BackendUnavailableError, ModelLoadError
    from runtime.files import ArtifactExistsError
    from runtime.manifest import ManifestError

    config = DemoConfig(source=args.source, model=args.model, backend=args.backend, threads=args.threads,
                        width=args.width, height=args.height, fps=args.fps, headless=args.headless, jsonl=args.jsonl,
                        record=args.record, snapshot_dir=args.snapshots, max_frames=args.max_frames,
                        min_confidence=args.min_confidence, smooth_window=args.smooth, force=args.force)
    try:
        summary = run_demo(config)
    except (SourceError, ModelLoadError, ManifestError, BackendUnavailableError, ArtifactExistsError) as exc:
        print(f"mnist-edge camera: error: {exc}", file=sys.stderr)
        return 2
    print(format_summary(summary), file=sys.stderr)
    if summary.ended_by.startswith("source lost"):
        return 3
    return 130 if summary.ended_by.startswith("interrupted") else 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _validate(parser, args)
    return run(args)


def demo_main(argv: list[str] | None = None) -> int:
    """The README's main command: the shipped int8 model on the bundled sample, headless, no camera needed."""
    parser = build_parser("mnist-edge demo")
    parser.set_defaults(source="sample", headless=True, jsonl="runs/demo/frames.jsonl", force=True)
    args = parser.parse_args(argv)
    _validate(parser, args)
    print(f"mnist-edge demo: {args.model} on {args.source}, headless; one JSON line per frame -> {args.jsonl}",
          file=sys.stderr)
    return run(args)
