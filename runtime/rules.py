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
    if np.count_nonzero(mask.any(axis=0 if horizontal else 1)) < need:  # the runs below are part of mask:
        return np.zeros_like(mask), 0.0                                   # they cannot reach further
    tilt = np.ones((3, 1) if horizontal else (1, 3), np.uint8)  # a tilted line steps one pixel now and then
    straight = cv2.getStructuringElement(cv2.MORPH_RECT, (run, 1) if horizontal else (1, run))
    runs = cv2.morphologyEx(cv2.dilate(mask, tilt), cv2.MORPH_OPEN, straight) & mask
    if np.count_nonzero(runs.any(axis=0 if horizontal else 1)) < need:  # nothing reaches far enough
        return np.zeros_like(mask), 0.0
    count, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(runs, 8, cv2.CV_32S, cv2.CCL_GRANA)
    length = stats[:, 2] if horizontal else stats[:, 3]
    is_line = length >= need
    is_line[0] = False
    thickness = np.zeros(count, np.float32)
    for i in np.nonzero(is_line)[0]:  # the median cross-section: a digit the line passes does not count,
        x, y, w, h = stats[i, :4]       # nor a second line joined to it through a digit
        part = labels[y:y + h, x:x + w] == i
        if not horizontal:
            part = part.T
        runs_across = part[0].astype(np.int32) + (part[1:] & ~part[:-1]).sum(axis=0)
        section = part.sum(axis=0)[runs_across > 0] / runs_across[runs_across > 0]
        thickness[i] = np.median(section)
    is_line &= thickness <= MAX_THICKNESS
    if not is_line.any():
        return np.zeros_like(mask), 0.0
    return is_line.view(np.uint8).take(labels), float(np.median(thickness[is_line]))


def _thin(lines: np.ndarray, ink: np.ndarray, thickness: float, horizontal: bool) -> np.ndarray:
    """The pixels of `lines` where `ink` is no thicker across the line than the line itself."""
    reach = int(round(thickness)) + 3
    cross = cv2.getStructuringElement(cv2.MORPH_RECT, (1, reach) if horizontal else (reach, 1))
    return lines & ~cv2.morphologyEx(ink, cv2.MORPH_OPEN, cross)


def remove_rules(mask: np.ndarray, found_in: np.ndarray | None = None) -> np.ndarray:
    """`mask` (0/1 uint8) without ruled or squared paper lines; strokes crossing them are kept.

    `found_in` (default: `mask`) is where the lines are looked for: a mask that
    keeps the lines whole where they pass a digit. Where a stroke crosses a line
    or a bar lies on it, the ink is thicker across the line than the line, and
    stays; the other direction's thin lines do not count as such a stroke (so the
    crossings of squared paper go too).
    """
    if min(mask.shape) < 32:
        return mask
    source = mask if found_in is None else found_in
    rows, row_thickness = _long_lines(source, True)
    cols, col_thickness = _long_lines(source, False)
    if not rows.any() and not cols.any():
        return mask
    thin_rows = _thin(rows, source, row_thickness, True) if rows.any() else rows
    thin_cols = _thin(cols, source, col_thickness, False) if cols.any() else cols
    if rows.any() and cols.any():
        thin_rows, thin_cols = (_thin(rows, source & ~thin_cols, row_thickness, True),
                                _thin(cols, source & ~thin_rows, col_thickness, False))
    return mask & ~(thin_rows | thin_cols)
