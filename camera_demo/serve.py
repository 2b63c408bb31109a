"""`mnist-edge camera --serve`: the demo loop, headless, publishing every frame to the web server until stopped.

Capture and inference run once (run_demo, with a Broadcast as its sink)
however many browsers watch; a video or images play at their frame rate in a
loop; SIGINT, SIGTERM and SIGHUP ask the loop to stop at its next frame, so outputs
(a recording) are closed as at any end.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import replace

from camera_demo.broadcast import Broadcast
from camera_demo.stopping import same_request
from camera_demo.web_server import ServeError, ServeSettings, WebServer, is_loopback, start_server, stop_server

TOKEN_ENV = "MNIST_EDGE_TOKEN"
TOKEN_MIN_LENGTH = 16
TOKEN_CHARACTERS = re.compile(r"[A-Za-z0-9._~-]+")
IMAGES_FPS = 5.0  # the rate a folder of images (or one image) is served at without --fps


def choose_token(host: str, given: str | None) -> tuple[str | None, bool]:
    """(token, generated): the given one (--token or $MNIST_EDGE_TOKEN), a new one off loopback, else none."""
    token = given or os.environ.get(TOKEN_ENV) or None
    if token is not None and (len(token) < TOKEN_MIN_LENGTH or not TOKEN_CHARACTERS.fullmatch(token)):
        raise ServeError(f"the access token must be at least {TOKEN_MIN_LENGTH} characters long, of letters, "
                         f"digits and - _ . ~ only (it travels in URLs and a cookie)")
    if token is None and not is_loopback(host):
        return secrets.token_urlsafe(24), True
    return token, False


@contextmanager
def stop_on_signals(hub: Broadcast):
    """SIGINT, SIGTERM and SIGHUP ask the loop to stop at its next frame (the recording is closed as usual);
    a second signal interrupts at once. Only in the main thread (where Python delivers signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    first = {"signum": None, "at": 0.0}

    def ask_to_stop(signum, _frame):
        if hub.stop_reason:
            if same_request(signum, first["signum"], first["at"]):
                return
            raise KeyboardInterrupt
        first.update(signum=signum, at=time.monotonic())
        hub.stop("interrupted (Ctrl-C)" if signum == signal.SIGINT else signal.Signals(signum).name)

    previous = {s: signal.signal(s, ask_to_stop) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def serving_source(config, say):
    """The configured source; a file (video, images, the sample) replayed at its own rate, in a loop."""
    from camera_demo.app import choose_source
    from camera_demo.sources import ImagesSource, PacedLoop, open_source

    source = choose_source(config.source, config.width, config.height, config.fps, say)
    if source.live:
        return source
    spec = "sample" if config.source == "auto" else config.source
    fps = config.fps or source.fps or (IMAGES_FPS if isinstance(source, ImagesSource) else 30.0)
    return PacedLoop(source, lambda: open_source(spec), fps)


def announce(server: WebServer, generated: bool, say) -> None:
    settings, port = server.settings, server.server_address[1]
    if is_loopback(settings.host):
        say(f"serving on http://127.0.0.1:{port}/ (this machine only; from a laptop: "
            f"ssh -L {port}:localhost:{port} <user>@<this machine>, then open http://localhost:{port}/)")
    else:
        say(f"serving on http://{settings.host}:{port}/ (reachable from the network; every request needs the token)")
    if settings.token and generated:
        say(f"access token: {settings.token}\nopen http://{socket.gethostname()}:{port}/?token={settings.token}")
    elif settings.token:
        say(f"open http://{socket.gethostname()}:{port}/?token=<your token>")


def serve_demo(config, settings: ServeSettings, generated_token: bool = False, predictor=None,
               say=lambda msg: print(msg, file=sys.stderr, flush=True)):
    """Run the demo loop headless, publishing every frame to a web server, until a signal or the end of a live source."""
    from camera_demo.app import run_demo
    from runtime.predictor import load_predictor

    if predictor is None:
        predictor = load_predictor(config.model, backend=config.backend, threads=config.threads,
                                   verify=config.verify, allow_failed=config.allow_failed)
    config = replace(config, headless=True, jsonl=config.jsonl or "")  # JSON lines only when asked (the loop may run for days)
    source = serving_source(config, say)
    hub = Broadcast(source.name)
    try:
        server = start_server(settings, hub)
    except ServeError:
        source.close()
        raise
    announce(server, generated_token, say)
    try:
        with stop_on_signals(hub):
            return run_demo(config, source=source, predictor=predictor, say=say, sink=hub)
    finally:
        stop_server(server, hub)
