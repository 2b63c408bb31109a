"""Ruled and squared paper: find the long thin lines in an ink mask and take them out, digits kept.

A ruled line is a chain of short straight runs (so a slightly tilted line is
still found) that reaches across much of the frame; a digit's own bar is
shorter. Only the line's thin part is removed: where a stroke crosses the line
or a digit's bar lies on it, the ink is thicker across the line than the line
itself, and stays.
"""

from __future__ import annotations

import cv2
import numpy as np

RUN = 0.08  # a straight run at least this fraction of the frame's shorter side starts a line
LINE_FRAC = 0.4  # a chain of runs across at least this fraction of the frame is a line...
LINE_VS_OTHER_SIDE = 2.0  # ...or at least this many times the other side (a long strip)
MAX_THICKNESS = 6  # px at working size; a line thicker than this is a bar, a frame edge or a shadow


def _long_lines(mask: np.ndarray, horizontal: bool) -> tuple[np.ndarray, float]:
    """The pixels of `mask` (0/1) on long thin lines in one direction, and the lines' typical thickness."""
    h, w = mask.shape
    along, across = (w, h) if horizontal else (h, w)
    run = max(7, int(RUN * min(h, w)))
    need = min(LINE_FRAC * along, LINE_VS_OTHER_SIDE * across)
    tilt = np.ones((3, 1) if horizontal else (1, 3), np.uint8)  # a tilted line steps one pixel now and then
    straight = cv2.getStructuringElement(cv2.MORPH_RECT, (run, 1) if horizontal else (1, run))
    runs = cv2.morphologyEx(cv2.dilate(mask, tilt), cv2.MORPH_OPEN, straight) & mask
    if not runs.any():
        return runs, 0.0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
    length = stats[:, 2] if horizontal else stats[:, 3]
    thickness = stats[:, 4] / np.maximum(length, 1)
    is_line = (length >= need) & (thickness <= MAX_THICKNESS)
    is_line[0] = False
    if not is_line[1:].any():
        return np.zeros_like(mask), 0.0
    return is_line.view(np.uint8).take(labels), float(np.median(thickness[is_line]))


def remove_rules(mask: np.ndarray) -> np.ndarray:
    """`mask` (0/1 uint8) without ruled or squared paper lines; strokes crossing them are kept."""
    if min(mask.shape) < 32:
        return mask
    out = mask
    for horizontal in (True, False):
        lines, thickness = _long_lines(mask, horizontal)
        if not lines.any():
            continue
        # Ink thicker across the line than the line itself (a crossing stroke, a bar on the line) stays.
        thickness = max(2, int(round(thickness)))
        cross = cv2.getStructuringElement(cv2.MORPH_RECT, (1, 2 * thickness + 2) if horizontal else (2 * thickness + 2, 1))
        stroke = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cross)
        out = out & ~(lines & ~stroke)
    return out
