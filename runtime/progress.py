"""Progress on stderr for anything that takes more than a few seconds: a tqdm bar on a terminal, plain lines in a log."""

from __future__ import annotations

import sys
import time
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")
PLAIN_EVERY_S = 10.0  # a log gets one line this often (never raw escape codes)
SHOW_AFTER_S = 2.0  # nothing at all for what finishes sooner


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def _plain(items: Iterable[T], total: int, desc: str, unit: str, stream, weights) -> Iterator[T]:
    start = last = time.perf_counter()
    done = 0
    shown = False
    for item in items:
        yield item
        done += weights(item)
        now = time.perf_counter()
        if now - start >= SHOW_AFTER_S and (not shown or now - last >= PLAIN_EVERY_S) and done < total:
            left = (now - start) / done * (total - done) if done else float("nan")
            print(f"{desc}: {done:,}/{total:,} {unit} ({100 * done / total:.0f} %), {_duration(now - start)}, "
                  f"about {_duration(left)} left", file=stream, flush=True)
            shown, last = True, now
    if shown:
        print(f"{desc}: {done:,}/{total:,} {unit} in {_duration(time.perf_counter() - start)}", file=stream, flush=True)


def progress(items: Iterable[T], total: int, desc: str, unit: str = "it", enabled: bool = True,
             weights=lambda item: 1, stream=None) -> Iterator[T]:
    """Yield `items` while reporting on stderr: tqdm (with its estimate) on a terminal, a plain line every 10 s otherwise.

    `total` counts units (e.g. images); `weights(item)` says how many units one item is (a slice of 100 images: 100).
    """
    stream = stream or sys.stderr
    if not enabled:
        yield from items
        return
    isatty = getattr(stream, "isatty", lambda: False)()
    if isatty:
        try:
            from tqdm import tqdm
        except ModuleNotFoundError:
            tqdm = None
        if tqdm is not None:
            with tqdm(total=total, desc=desc, unit=unit, file=stream, delay=SHOW_AFTER_S, leave=False) as bar:
                for item in items:
                    yield item
                    bar.update(weights(item))
            return
    yield from _plain(items, total, desc, unit, stream, weights)


def batches(count: int, size: int) -> list[slice]:
    """Slices of `size` covering range(count)."""
    return [slice(i, min(i + size, count)) for i in range(0, count, size)]
