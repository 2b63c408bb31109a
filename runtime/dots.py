"""Dotted glyphs: a 1 with a dot of its own just above it (i, j) or below it (!), or a 7 with one below it (?),
is not a digit.

The classifier, which sees one glyph, reads an i or a ! as a 1 and a ? as a 7.
A dot is a small, roughly round blob (not a 5's flat bar, not a hair) over the
end of the glyph's stroke, within DOT_REACH x the glyph's height of its top or
bottom, and the only piece there beside the glyph's body (a thin pen's stroke
broken in three is no dot); a decimal point or a comma beside a digit is not
over it. Only those
digits: a speck of dust over any digit would make it a letter (3 of 150 of the
field's letters_mixed frames have dust over a 3, a 5 or a 9). And only on a
clean page: where more than MAX_LOOSE specks lie about, a speck over a 1 is
more likely dust than a dot (the field's dusty frames hold 7-45, its i's 0-1).
"""

from __future__ import annotations

import numpy as np

from runtime.ink import stroke_width

BODY = 0.45  # x the glyph box's height: ink pieces in the box this tall are its body
DOT_SIZE = 0.55  # x the body's height: a dot is no taller and no wider than this (a Hershey i's is 0.4-0.5)...
DOT_MIN = 0.1  # ...and taller or wider than this (an i's is 0.2-0.35, a !'s 0.35-0.45; dust under a 7's foot 0.05)...
DOT_ASPECT = 2.0  # ...no longer one way than this x the other (a 5's bar or a dash is longer)...
DOT_FILL = 0.45  # ...its box at least this full of ink (a blob, not the curl of a hair)...
DOT_PEN = 0.6  # ...at least this x the body's stroke width across (dust and JPEG crumbs are finer than the pen)...
DOT_GAP = 2  # ...apart from it by at least this many pixels (a stroke broken by a grid line's removal: 1)...
DOT_REACH = 0.45  # ...at most this x the body's height above its top or below its bottom...
STROKE_END = 0.15  # ...with its centre over the body's ink in this top or bottom fraction of its height
MAX_LOOSE = 3  # loose specks (small pieces in no glyph's box) a frame may hold for its dots to count
READ_AS = {"above": {1}, "below": {1, 7}}  # the digits an i or j (dot above), a ! or a ? (below) is read as

Box = tuple[int, int, int, int]


def is_dotted(dot: str, digit: int) -> bool:
    """Is a glyph read as `digit` with a dot `dot` ("above", "below" or "": none) a letter or a sign?"""
    return digit in READ_AS.get(dot, ())


def dots_of(boxes: list[Box], stats: np.ndarray, ids: list[int], labels: np.ndarray) -> list[str]:
    """Where each glyph in `boxes` (x, y, w, h at working size) has a dot of its own: "above", "below" or ""
    (none); all "" on a dusty frame. `stats`: the frame's connectedComponentsWithStats rows (x, y, w, h, area),
    `ids`: the rows that are ink, `labels`: the component of each pixel."""
    if not boxes or not len(ids):
        return [""] * len(boxes)
    ids = np.asarray(ids)
    rows = stats[ids].astype(np.int64)
    blobs = rows[(np.maximum(rows[:, 2], rows[:, 3]) <= DOT_ASPECT * np.minimum(rows[:, 2], rows[:, 3]))
                 & (rows[:, 4] >= DOT_FILL * rows[:, 2] * rows[:, 3])]  # anything that could be a dot
    sides = np.maximum(blobs[:, 2], blobs[:, 3])
    dots = []
    for box in boxes:
        dot = _dot_of(box, rows, ids, labels) if (_near(blobs, box) & (sides <= DOT_SIZE * box[3])).any() else ""
        if dot and not any(dots) and _loose_specks(boxes, rows) > MAX_LOOSE:
            return [""] * len(boxes)  # a dusty frame: asked once, at the first dot
        dots.append(dot)
    return dots


def _near(rows: np.ndarray, box: Box) -> np.ndarray:
    """Which pieces could be the glyph in `box` or its dot: over its columns, from a height above it to two below."""
    x, y, w, h = box
    return (rows[:, 0] < x + w) & (rows[:, 0] + rows[:, 2] > x) & (rows[:, 1] < y + 2 * h) & (rows[:, 1] + rows[:, 3] > y - h)


def _loose_specks(boxes: list[Box], rows: np.ndarray) -> int:
    """Small pieces of ink (no larger than a dot of the median glyph) inside no glyph's box."""
    height = float(np.median([b[3] for b in boxes]))
    inside_any = np.zeros(len(rows), bool)
    for x, y, w, h in boxes:
        inside_any |= (rows[:, 0] >= x) & (rows[:, 1] >= y) & (rows[:, 0] + rows[:, 2] <= x + w) \
            & (rows[:, 1] + rows[:, 3] <= y + h)
    return int(np.count_nonzero(~inside_any & (np.maximum(rows[:, 2], rows[:, 3]) <= DOT_SIZE * height)))


def _dot_of(box: Box, rows: np.ndarray, ids: np.ndarray, labels: np.ndarray) -> str:
    x, y, w, h = box
    near = _near(rows, box)
    rows, ids = rows[near], ids[near]
    cx0, cy0, cw, ch, area = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4]
    body = (cx0 < x + w) & (cx0 + cw > x) & (cy0 < y + h) & (cy0 + ch > y) & (ch >= BODY * h)
    if not body.any():
        return ""
    by0, by1 = int(cy0[body].min()), int((cy0 + ch)[body].max())
    height = by1 - by0
    small = (~body & (np.maximum(cw, ch) <= DOT_SIZE * height) & (np.maximum(cw, ch) >= DOT_MIN * height)
             & (np.maximum(cw, ch) <= DOT_ASPECT * np.minimum(cw, ch)) & (area >= DOT_FILL * cw * ch))
    above = small & (cy0 + ch <= by0 - DOT_GAP) & (cy0 + ch >= by0 - DOT_REACH * height)
    below = small & (cy0 >= by1 + DOT_GAP) & (cy0 <= by1 + DOT_REACH * height)
    if not (above | below).any():
        return ""
    reach = (cy0 + ch >= by0 - DOT_REACH * height) & (cy0 <= by1 + DOT_REACH * height)
    if np.count_nonzero(~body & reach) > 1:
        return ""  # pieces of a broken stroke (a thin pen's 2 or 4), not a lone dot
    bx0, bx1 = int(cx0[body].min()), int((cx0 + cw)[body].max())
    pen = stroke_width(np.pad(np.isin(labels[by0:by1, bx0:bx1], ids[body]), 1).view(np.uint8))
    wide_enough = np.minimum(cw, ch) >= DOT_PEN * pen
    above, below = above & wide_enough, below & wide_enough
    end = max(1, int(round(STROKE_END * height)))
    for k in np.flatnonzero(above | below):
        x0, x1 = int(cx0[k]), int(cx0[k] + cw[k])
        ends = slice(by0, by0 + end) if above[k] else slice(by1 - end, by1)
        columns = np.flatnonzero(np.isin(labels[ends, x:x + w], ids[body]).any(axis=0)) + x
        if not len(columns) or np.abs((x0 + x1) / 2.0 - columns).min() > cw[k] / 2.0:
            continue  # not over the end of the stroke
        return "above" if above[k] else "below"
    return ""
