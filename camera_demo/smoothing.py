"""Temporal smoothing of the number read, so the label does not flicker but a real change shows within a few frames."""

from __future__ import annotations

from collections import Counter, deque


class NumberSmoother:
    """What to show: a value read in the last two frames in a row, or the majority of the last `window`.

    A one-frame glitch never shows; a real change shows on its second frame.
    """

    def __init__(self, window: int = 5, needed: int = 3):
        if not 1 <= needed <= window:
            raise ValueError(f"need 1 <= needed <= window, got needed={needed}, window={window}")
        self.window, self.needed = window, needed
        self._recent: deque[str | None] = deque(maxlen=window)
        self.shown: str | None = None

    def update(self, number: str | None) -> str | None:
        """Feed this frame's reading (None: no digit / uncertain); returns what to show."""
        self._recent.append(number)
        if len(self._recent) >= 2 and self._recent[-1] == self._recent[-2]:
            self.shown = number
            return self.shown
        value, votes = Counter(self._recent).most_common(1)[0]
        if votes >= self.needed:
            self.shown = value
        return self.shown
