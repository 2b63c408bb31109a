"""The camera loop's latest frame and reading, shared with every web client; the clients' requests back to the loop.

One producer (run_demo, through Outputs) publishes; any number of clients
each take the latest published frame when they are ready for one, so a slow
client skips frames and never holds up the loop or the others. A frame is
encoded (JPEG, JSON) once, by the first client that wants it, never when
nobody watches.
"""

from __future__ import annotations

import base64
import threading
import time
from collections import deque

import cv2

JPEG_QUALITY = 80
FPS_WINDOW = 30  # frames the published FPS is measured over


def _png_data_url(gray) -> str:
    ok, png = cv2.imencode(".png", gray)
    return "data:image/png;base64," + base64.b64encode(png.tobytes()).decode("ascii")


def _lines(reading, count: int) -> list[list[int]]:
    """Each line of the reading, top to bottom, as indices into its digits (one line when the reader has no lines)."""
    lines = getattr(reading, "lines", None) if reading is not None else None
    if not lines:
        return [list(range(count))] if count else []
    position = {id(d): k for k, d in enumerate(reading.digits)}
    return [[position[id(d)] for d in line if id(d) in position] for line in lines]


class Published:
    """One annotated frame and what was read in it; its JPEG and JSON are made on first use, then kept."""

    def __init__(self, seq: int, image, record: dict, reading, fps: float | None, source: str):
        self.seq, self.image, self.record, self.reading, self.fps, self.source = seq, image, record, reading, fps, source
        self._lock = threading.Lock()
        self._jpeg: bytes | None = None
        self._dict: dict | None = None

    def jpeg(self) -> bytes:
        with self._lock:
            if self._jpeg is None:
                ok, data = cv2.imencode(".jpg", self.image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
                self._jpeg = data.tobytes()
            return self._jpeg

    def as_dict(self) -> dict:
        """The frame's JSON record (as in the JSON lines) plus lines, the 28x28 inputs as PNG data URLs and FPS."""
        with self._lock:
            if self._dict is None:
                digits = [dict(d) for d in self.record["digits"]]
                inputs = self.reading.digits if self.reading is not None else []
                for d, prediction in zip(digits, inputs):
                    if prediction.input_28x28 is not None:
                        d["input_28x28_png"] = _png_data_url(prediction.input_28x28)
                self._dict = {**self.record, "digits": digits, "lines": _lines(self.reading, len(digits)),
                              "fps": round(self.fps, 2) if self.fps else None, "seq": self.seq, "source": self.source}
            return self._dict


class Broadcast:
    """The sink run_demo writes to (publish) and takes actions from (action); clients wait on it."""

    def __init__(self, source: str = ""):
        self.source = source
        self._cond = threading.Condition()
        self._latest: Published | None = None
        self._times: deque[float] = deque(maxlen=FPS_WINDOW)
        self.closed = False
        self.frozen = False  # as the loop has it
        self.want_frozen = False  # as the page asked
        self.stop_reason: str | None = None

    # The producer's side (run_demo's Outputs).
    def publish(self, record: dict, annotated, reading) -> None:
        now = time.perf_counter()
        self._times.append(now)
        fps = (len(self._times) - 1) / (now - self._times[0]) if len(self._times) > 1 and now > self._times[0] else None
        with self._cond:
            seq = self._latest.seq + 1 if self._latest else 0
            self._latest = Published(seq, annotated, record, reading, fps, self.source)
            self._cond.notify_all()

    def action(self) -> str | None:
        """"quit" once a stop was asked for; "freeze" when the page wants the other freeze state."""
        if self.stop_reason:
            return "quit"
        if self.want_frozen != self.frozen:
            self.frozen = self.want_frozen
            return "freeze"
        return None

    # The clients' side.
    def latest(self) -> Published | None:
        with self._cond:
            return self._latest

    def wait_newer(self, seq: int, timeout: float) -> Published | None:
        """The latest frame if newer than `seq`, waiting up to `timeout` s for one; None on timeout or close."""
        with self._cond:
            self._cond.wait_for(lambda: self.closed or (self._latest is not None and self._latest.seq > seq), timeout)
            if self.closed or self._latest is None or self._latest.seq <= seq:
                return None
            return self._latest

    def stop(self, reason: str) -> None:
        """Ask the loop to end (it does at its next frame)."""
        self.stop_reason = self.stop_reason or reason

    def close(self) -> None:
        """The loop has ended: wake every waiting client so it can hang up."""
        with self._cond:
            self.closed = True
            self._cond.notify_all()
