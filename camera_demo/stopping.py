"""Every way a process is asked to stop ends the loop as Ctrl-C does: SIGINT, SIGTERM (systemctl stop, `timeout`), SIGHUP (a lost SSH session)."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Callable

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Stopped(KeyboardInterrupt):
    """Raised in the main thread by a stop signal; a KeyboardInterrupt, so Ctrl-C's cleanup path handles it."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)


def catch_stop_signals(signals=STOP_SIGNALS) -> Callable[[], None]:
    """Make the stop signals raise `Stopped` in the main thread; returns the function that restores the earlier handlers.

    Only the first signal raises: a second one while the first is being
    handled is ignored, so the cleanup (finishing a recording) is not cut
    short. Outside the main thread (where Python cannot set handlers) it does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    raised: list[int] = []

    def handler(signum, _frame):
        if not raised:
            raised.append(signum)
            raise Stopped(signum)

    previous = {signum: signal.signal(signum, handler) for signum in signals}

    def restore() -> None:
        for signum, old in previous.items():
            signal.signal(signum, old if old is not None else signal.SIG_DFL)

    return restore


@contextlib.contextmanager
def stop_on_signals(signals=STOP_SIGNALS):
    """`with stop_on_signals():` the block ends by `Stopped` on any stop signal; handlers restored after."""
    restore = catch_stop_signals(signals)
    try:
        yield
    finally:
        restore()


def exit_code(signum: int | None) -> int:
    """The shell's convention for a run ended by a signal: 128 + its number (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP)."""
    return 128 + int(signum) if signum else 0
