"""How big the frame's writing is at working size, and whether it is small writing to read at a finer scale
(a page of small digits in a phone photo), from the pieces of its ink mask (cv2 stats rows)."""

from __future__ import annotations

import numpy as np

# Writing shorter than this at working size (`writing_height`) is read at a finer scale: a page of small digits in
# a phone photo (5-12 px there), and pages whose writing is 14-22 px (field seeds 0 / 7: 55 -> 58 / 50 -> 59 frames
# exact; 14 px gained none)...
SMALL_WRITING_PX = 22
WRITING_INK = 0.75  # (the height under which this share of the ink lies)
MIN_WRITING_PX = 5  # ...if at least this tall (dust on a blank page measures 3-4 px)...
WRITING_SHARE = 0.95  # ...and this share of the ink is in pieces 0.6-1.6 x that tall (writing: 0.99-1; dust: 0.84-0.93)
MIN_WRITING_PIECES = 5  # ...and at least this many (a blank page's 3-4 hairs read surely as 1s when enlarged)...
MAX_WRITING_PIECES = 150  # ...and at most this many (a page of small print: its letters, read enlarged, cost seconds)
WRITING_PX = 32  # ...at which it is this tall...
MAX_WORK_AREA = 16 * 320 * 240  # ...within this many working pixels (a 12 MP photo: 1280x960)


def writing_height(stats: np.ndarray) -> float | None:
    """The height of the frame's writing in working pixels: of its pieces of ink (cv2 stats rows, label 0 the
    background; a dropped piece has area 0), the height under which three quarters of the ink lies (weighted by
    area), None without ink. Specks and hairs beside a digit weigh little (as a median by ink they made a third
    of the field's dusty frames "small writing"); a page of small writing is all small pieces."""
    area, height = stats[1:, 4], stats[1:, 3]
    kept = area > 0
    if not kept.any():
        return None
    order = np.argsort(height[kept], kind="stable")
    cumulative = np.cumsum(area[kept][order])
    return float(height[kept][order][np.searchsorted(cumulative, WRITING_INK * cumulative[-1])])


def is_small_writing(stats: np.ndarray, height: float) -> bool:
    """Is the ink writing too small to read at this scale: `height` (its `writing_height`) MIN_WRITING_PX to
    SMALL_WRITING_PX, with WRITING_SHARE of the ink in MIN_WRITING_PIECES to MAX_WRITING_PIECES pieces of about
    that height? Dust on a blank page is smaller, or of every size, its hairs few; a page of small print has
    hundreds of letters. A number of 1-4 small digits is read at the working scale."""
    if not MIN_WRITING_PX <= height < SMALL_WRITING_PX:
        return False
    area, heights = stats[1:, 4], stats[1:, 3]
    near = (area > 0) & (heights >= 0.6 * height) & (heights <= 1.6 * height)
    pieces = int(near.sum())
    return (MIN_WRITING_PIECES <= pieces <= MAX_WRITING_PIECES
            and float(area[near].sum()) >= WRITING_SHARE * float(area.sum()))
