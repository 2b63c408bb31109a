"""`python -m camera_demo` / `mnist-edge camera`: live digit reading; `mnist-edge demo`: the same, headless, on the bundled sample."""

from __future__ import annotations

import argparse
import math
import sys

from runtime.manifest import DEFAULT_FORMAT


# `mnist-edge demo` is `camera` with these defaults (its --help shows them).
DEMO_DEFAULTS = {"source": "sample", "headless": True, "force": True}
# --serve's own options: None when not given, so that giving one without --serve is an error, not ignored.
SERVE_DEFAULTS = {"host": None, "token": None, "port": 8080, "max_clients": 12, "client_timeout": 5.0}
MIN_FPS, MAX_FPS = 0.1, 1000.0  # what a camera can be asked for and the recording's MPEG-4 time base can hold
MIN_CLIENT_TIMEOUT_S, MAX_CLIENT_TIMEOUT_S = 0.1, 3600.0  # below, a client on Wi-Fi is dropped between two frames


def build_parser(prog: str = "mnist-edge camera", defaults: dict | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="auto",
                        help="auto (Pi camera, webcam 0, else the bundled sample), a webcam index, picam, "
                             "a video file, an image, a folder of images, or sample (default: %(default)s)")
    parser.add_argument("--model", default=DEFAULT_FORMAT, help="format in models/manifest.json or a model path")
    parser.add_argument("--backend", default="auto", choices=("auto", "litert", "onnxruntime", "tflm"))
    parser.add_argument("--threads", type=int, default=1, help="interpreter threads, 1-64 (default 1)")
    parser.add_argument("--no-verify", action="store_true", help="skip the model's sha256 check against the manifest")
    parser.add_argument("--allow-failed", action="store_true", help="load a model that failed its parity check at export")
    parser.add_argument("--width", type=int, default=640, help="capture width")
    parser.add_argument("--height", type=int, default=480, help="capture height")
    parser.add_argument("--fps", type=float, default=None, help="capture frame rate (and of the recording)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--headless", dest="headless", action="store_true", default=None,
                      help="no window: JSON lines per frame (automatic without a display; `mnist-edge demo` always is)")
    mode.add_argument("--window", dest="headless", action="store_false", help="force a window")
    parser.add_argument("--jsonl", default=None,
                        help="JSON lines to this file ('-' for stdout; default: stdout when headless, none with a window; "
                             "`mnist-edge demo`: runs/demo/frames.jsonl)")
    parser.add_argument("--record", default=None, metavar="OUT.mp4", help="write the annotated video")
    parser.add_argument("--snapshots", default="snapshots", help="folder for snapshots (key s)")
    parser.add_argument("--max-frames", type=int, default=None)
    parser.add_argument("--min-confidence", type=float, default=None,
                        help="below it a digit is shown as uncertain (default: the model's own operating point from the manifest)")
    parser.add_argument("--smooth", type=int, default=5, help="frames the shown number is voted over (1: off)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite existing --record / --jsonl files (`mnist-edge demo` always does)")
    web = parser.add_argument_group("watch from a browser (--serve)")
    web.add_argument("--serve", action="store_true",
                     help="serve a page with the live annotated video, the digits read, the model inputs and timings; "
                          "a video or images play at their frame rate, in a loop")
    web.add_argument("--host", default=None,
                     help="address to listen on (default 127.0.0.1: this machine only); any other needs the token")
    web.add_argument("--port", type=int, default=None, help=f"port (default {SERVE_DEFAULTS['port']}; 0: any free one)")
    web.add_argument("--token", default=None,
                     help="access token (else $MNIST_EDGE_TOKEN, else one is generated and printed when --host is "
                          "not loopback); at least 16 characters")
    web.add_argument("--max-clients", type=int, default=None,
                     help=f"connections at once, a page holds two; beyond, 503 (default {SERVE_DEFAULTS['max_clients']})")
    web.add_argument("--client-timeout", type=float, default=None,
                     help=f"seconds a client may stall before it is dropped (default {SERVE_DEFAULTS['client_timeout']:g})")
    parser.set_defaults(**(defaults or {}))  # also what --help shows
    return parser


def _validate(parser, args) -> None:
    for name in ("threads", "width", "height", "max_frames", "smooth"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive, got {value}")
    from runtime.backends import MAX_THREADS

    if args.threads > MAX_THREADS:
        parser.error(f"--threads must be from 1 to {MAX_THREADS}, got {args.threads}")
    if args.fps is not None and not (math.isfinite(args.fps) and MIN_FPS <= args.fps <= MAX_FPS):
        parser.error(f"--fps is frames per second, from {MIN_FPS:g} to {MAX_FPS:g}; got {args.fps:g}")
    if not args.source.strip():
        parser.error("--source is empty; give a camera index, picam, a file, a folder, sample or auto")
    if args.min_confidence is not None and not (math.isfinite(args.min_confidence) and 0 <= args.min_confidence <= 1):
        parser.error(f"--min-confidence is a probability in [0, 1], got {args.min_confidence}")
    if not args.serve:
        given = [f"--{name.replace('_', '-')}" for name in SERVE_DEFAULTS if getattr(args, name) is not None]
        if given:
            parser.error(f"{' and '.join(given)} only appl{'y' if len(given) > 1 else 'ies'} with --serve")
        return
    for name, value in SERVE_DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.headless is False:
        parser.error("--serve shows the video in a browser, not a window: drop --window")
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be in 0-65535, got {args.port}")
    if args.max_clients <= 0:
        parser.error(f"--max-clients must be positive, got {args.max_clients}")
    if not (math.isfinite(args.client_timeout) and MIN_CLIENT_TIMEOUT_S <= args.client_timeout <= MAX_CLIENT_TIMEOUT_S):
        parser.error(f"--client-timeout is in seconds, from {MIN_CLIENT_TIMEOUT_S} to {MAX_CLIENT_TIMEOUT_S:g}; "
                     f"got {args.client_timeout}")


def run(args, prog: str = "mnist-edge camera") -> int:
    # OpenCV and NumPy load here (a second or so on a Pi): a Ctrl-C meanwhile is the dispatcher's (mnist_edge.run).
    from camera_demo.app import DemoConfig, format_summary, run_demo
    from camera_demo.web_server import ServeError
    from camera_demo.sources import SourceError
    from camera_demo.stopping import exit_code
    from camera_demo.writers import OutputError
    from runtime.backends import BackendUnavailableError, ModelLoadError
    from runtime.files import ArtifactExistsError
    from runtime.manifest import ManifestError
    from runtime.predictor import InputError

    config = DemoConfig(source=args.source, model=args.model, backend=args.backend, threads=args.threads,
                        width=args.width, height=args.height, fps=args.fps, headless=args.headless, jsonl=args.jsonl,
                        record=args.record, snapshot_dir=args.snapshots, max_frames=args.max_frames,
                        min_confidence=args.min_confidence, smooth_window=args.smooth, force=args.force,
                        verify=not args.no_verify, allow_failed=args.allow_failed)
    try:
        summary = _serve(config, args) if args.serve else run_demo(config)
    except (SourceError, OutputError, ModelLoadError, ManifestError, BackendUnavailableError, ArtifactExistsError,
            InputError, ServeError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # a stop signal while the model or the camera was still opening
        print(f"{prog}: interrupted before the first frame", file=sys.stderr)
        return 130
    # The summary is the result: stdout, unless stdout carries the JSON lines (then it would break them).
    print(format_summary(summary), file=sys.stderr if summary.jsonl_on_stdout else sys.stdout)
    if summary.ended_by.startswith("source lost"):
        return 3
    if summary.signal:
        return exit_code(summary.signal)  # SIGTERM 0 (asked to stop: a clean end), Ctrl-C 130, SIGHUP 129
    if summary.ended_by == "SIGTERM":
        return 0  # asked to stop: a clean end (systemd, docker stop)
    if summary.ended_by == "SIGHUP":  # --serve: its own handler said which signal stopped the loop
        return 129
    return 130 if summary.ended_by.startswith("interrupted") else 0


def _serve(config, args):
    from camera_demo.serve import choose_token, serve_demo
    from camera_demo.web_server import ServeSettings

    host = args.host or "127.0.0.1"
    token, generated = choose_token(host, args.token)
    settings = ServeSettings(host=host, port=args.port, token=token, max_clients=args.max_clients,
                             client_timeout=args.client_timeout)
    return serve_demo(config, settings, generated)


PROG = "mnist-edge camera"  # how the user called it: `python -m camera_demo` sets its own


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(PROG)
    args = parser.parse_args(argv)
    _validate(parser, args)
    return run(args, PROG)


def demo_main(argv: list[str] | None = None) -> int:
    """The README's main command: the shipped int8 model on the bundled sample, headless, no camera needed."""
    parser = build_parser("mnist-edge demo", DEMO_DEFAULTS)
    parser.description = ("The shipped int8 model reading the bundled sample, headless: JSON lines to "
                           "runs/demo/frames.jsonl unless --jsonl or --serve.")
    args = parser.parse_args(argv)
    _validate(parser, args)
    if args.headless is False:
        parser.error("the demo is headless; for a window: mnist-edge camera --source sample --window")
    if args.serve:
        print(f"mnist-edge demo: {args.model} on {args.source}, served to a browser", file=sys.stderr)
        return run(args, "mnist-edge demo")
    args.jsonl = args.jsonl or "runs/demo/frames.jsonl"
    print(f"mnist-edge demo: {args.model} on {args.source}, headless; one JSON line per frame -> {args.jsonl}",
          file=sys.stderr)
    return run(args, "mnist-edge demo")
