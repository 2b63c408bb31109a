"""Per shot (one sheet of paper in view): was its number read, and how soon did the shown number settle on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median


@dataclass
class ShotResult:
    truth: str
    frames: int
    settled_after: int | None  # frames until the shown number was the truth and stayed so; None: not by the shot's end
    look: str = ""  # how the shot was made hard, if it was (the bundled sample's last shots)


@dataclass
class ShotTally:
    """Fed frame by frame with (shot id, truth, shown number); a new shot id closes the previous shot."""

    results: list[ShotResult] = field(default_factory=list)
    _shot: object = None
    _truth: str | None = None
    _frames: int = 0
    _right_since: int | None = None
    _look: str = ""

    def add(self, shot, truth: str, shown: str | None, look: str = "") -> None:
        if shot != self._shot or not self._frames:
            self.close()
            self._shot, self._truth, self._frames, self._right_since, self._look = shot, truth, 0, None, look
        self._frames += 1
        if shown != truth:
            self._right_since = None
        elif self._right_since is None:
            self._right_since = self._frames

    def close(self) -> None:
        """End the current shot (at the end of the run, or when the next one starts)."""
        if self._frames:
            self.results.append(ShotResult(self._truth, self._frames, self._right_since, self._look))
            self._frames = 0

    def summary(self, fps: float | None = None) -> str:
        self.close()
        if not self.results:
            return ""
        read = [r.settled_after for r in self.results if r.settled_after is not None]
        line = (f"{len(read)} of {len(self.results)} shots read right "
                f"({100 * len(read) / len(self.results):.1f} %, the number shown at each shot's last frame)")
        if read:
            typical = median(read)
            at = f" ({1000 * typical / fps:.0f} ms at {fps:g} FPS)" if fps else ""
            line += (f"; the shown number settled on the right one after a median of {typical:g} "
                     f"frame{'' if typical == 1 else 's'}{at}, at most {max(read)}")
        looks = {r.look for r in self.results if r.look and r.look != "ordinary"}
        if looks:
            per_look = [f"{look} {sum(r.settled_after is not None for r in self.results if r.look == look)}/"
                        f"{sum(r.look == look for r in self.results)}" for look in sorted(looks)]
            line += "; hard shots read right: " + ", ".join(per_look)
        return line
