"""Quiet by default: what C/C++ libraries print (a converter, LiteRT's delegate line) kept off the terminal.

Those libraries write to file descriptors 1 and 2 directly, so redirecting
sys.stdout is not enough: the descriptors themselves point at /dev/null for the
block. A command's `-v` sets SHOW_NATIVE_OUTPUT to let it through.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading

SHOW_NATIVE_OUTPUT = False
# Descriptors 1 and 2 and sys.stdout/stderr belong to the whole process: two threads silencing at once (each
# building its own interpreter) would restore each other's /dev/null copies. One block at a time.
_SWAP_LOCK = threading.RLock()


@contextlib.contextmanager
def native_output_silenced(enabled: bool | None = None):
    """Within the block, everything written to stdout and stderr (Python's and the C libraries') is dropped."""
    if SHOW_NATIVE_OUTPUT if enabled is None else not enabled:
        yield
        return
    with _SWAP_LOCK:
        with _silenced():
            yield


@contextlib.contextmanager
def _silenced():
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = []
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        devnull = None
    try:
        for fd in (1, 2):
            with contextlib.suppress(OSError):
                saved.append((fd, os.dup(fd)))
                if devnull is not None:
                    os.dup2(devnull, fd)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        for fd, copy in saved:
            os.dup2(copy, fd)
            os.close(copy)
        if devnull is not None:
            os.close(devnull)


@contextlib.contextmanager
def native_stderr_silenced():
    """Within the block, what C libraries write to file descriptor 2 (FFmpeg's "moov atom not found") is dropped."""
    with _SWAP_LOCK:
        with _stderr_silenced():
            yield


@contextlib.contextmanager
def _stderr_silenced():
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        yield
        return
    try:
        with _stderr_to(devnull):
            yield
    finally:
        os.close(devnull)


@contextlib.contextmanager
def _stderr_to(fd: int):
    """File descriptor 2 pointed at `fd` within the block, then put back."""
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(fd, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def native_stderr_captured():
    """Within the block, what C libraries write to file descriptor 2 is kept off the terminal and collected:
    the yielded list holds it (one string) after the block (libjpeg's "Premature end of JPEG file")."""
    import tempfile

    captured: list[str] = []
    with _SWAP_LOCK, tempfile.TemporaryFile() as sink:
        try:
            with _stderr_to(sink.fileno()):
                yield captured
        finally:
            sink.seek(0)
            captured.append(sink.read().decode("utf-8", "replace"))
