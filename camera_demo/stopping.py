"""Every way a process is asked to stop ends the loop as Ctrl-C does: SIGINT, SIGTERM (systemctl stop, `timeout`), SIGHUP (a lost SSH session).

The first signal sets a flag the loop checks once per frame, so the frame in
hand is finished (its JSON line and its video frame both written); a second
one raises `Stopped` (a KeyboardInterrupt) to break out of a loop that is
stuck (SIGTERM again within DUPLICATE_WINDOW is one request delivered twice:
coreutils `timeout` signals the command and then its process group; a second
Ctrl-C always breaks out);
once cleanup has begun, further signals are ignored so the recording is
always finished.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time

DUPLICATE_WINDOW = 0.2  # s: SIGTERM again this soon is the same request (timeout's two sends are microseconds apart)
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Stopped(KeyboardInterrupt):
    """Raised in the main thread by a second stop signal; a KeyboardInterrupt, so Ctrl-C's cleanup path handles it."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)


class StopRequest:
    """The stop signals caught while a loop runs: `signum` is None until one arrives; `restore()` puts the old handlers back."""

    def __init__(self, signals=STOP_SIGNALS):
        self.signum: int | None = None
        self._first_at = 0.0
        self._closing = False
        self._previous = {}
        if threading.current_thread() is threading.main_thread():  # Python sets handlers only there
            self._previous = {s: signal.signal(s, self._handle) for s in signals}

    def _handle(self, signum, _frame) -> None:
        if self._closing:
            return
        if self.signum is None:
            self.signum, self._first_at = int(signum), time.monotonic()
            return
        if same_request(signum, self.signum, self._first_at):
            return
        raise Stopped(signum)

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def closing(self) -> None:
        """Cleanup has begun: ignore further stop signals until restore()."""
        self._closing = True

    def restore(self) -> None:
        for signum, old in self._previous.items():
            signal.signal(signum, old if old is not None else signal.SIG_DFL)
        self._previous = {}


def same_request(signum: int, first_signum: int | None, first_at: float) -> bool:
    """A second stop signal that is the first SIGTERM delivered again (see DUPLICATE_WINDOW), not a new request."""
    return signum == first_signum == signal.SIGTERM and time.monotonic() - first_at < DUPLICATE_WINDOW


def catch_stop_signals(signals=STOP_SIGNALS) -> StopRequest:
    """Start catching the stop signals; check `.requested` in the loop, call `.closing()` then `.restore()` after."""
    return StopRequest(signals)


@contextlib.contextmanager
def stop_on_signals(signals=STOP_SIGNALS):
    """`with stop_on_signals() as stop:` loop while not stop.requested; old handlers restored after the block."""
    stop = StopRequest(signals)
    try:
        yield stop
    finally:
        stop.closing()
        stop.restore()


def exit_code(signum: int | None) -> int:
    """0 for SIGTERM (asked to stop, as systemd and docker do: a clean end); else the shell's 128 + its number
    (130 Ctrl-C, 129 SIGHUP)."""
    if not signum or signum == signal.SIGTERM:
        return 0
    return 128 + int(signum)


def describe(signum: int) -> str:
    """How a summary says what ended the run: "interrupted (Ctrl-C)", "SIGTERM", "SIGHUP"."""
    return "interrupted (Ctrl-C)" if signum == signal.SIGINT else signal.Signals(signum).name
