"""SIGTERM (systemctl stop, `timeout`) and SIGHUP (a lost SSH session) ended as Ctrl-C ends a command: raised as
a KeyboardInterrupt where the work is, so its cleanup runs and it says how it was stopped."""

from __future__ import annotations

import contextlib
import signal


class StopRequested(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the work is, so it ends as Ctrl-C does (pools closed, nothing half-written)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stop(signum, _frame):
    raise StopRequested(signum)


def stop_report(exc: KeyboardInterrupt) -> tuple[str, int]:
    """How a stop is told ("interrupted" for Ctrl-C, "stopped by SIGTERM") and its exit code, 128 + the signal."""
    signum = getattr(exc, "signum", signal.SIGINT)
    how = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
    return how, 128 + signum


@contextlib.contextmanager
def stops_as_interrupts():
    """Within the block, SIGTERM (systemctl stop, `timeout`) and SIGHUP (a lost SSH session) raise StopRequested."""
    stops = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {s: signal.signal(s, _raise_stop) for s in stops}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
