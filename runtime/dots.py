"""Dotted glyphs: a 1 with a dot of its own just above it (i, j) or below it (!), or a 7 with one below it (?),
is not a digit.

The classifier, which sees one glyph, reads an i or a ! as a 1 and a ? as a 7.
A dot is a small, roughly round blob (not a 5's flat bar, not a hair) over the
end of the glyph's stroke, within DOT_REACH x the glyph's height of its top or
bottom, and the only piece there beside the glyph's body (a thin pen's stroke
broken in three is no dot); a decimal point or a comma beside a digit is not
over it, nor is a period of another line. Only those digits: a speck of dust
over any digit would make it a letter (3 of 150 of the field's letters_mixed
frames have dust over a 3, a 5 or a 9). And only on a clean page: where more
than MAX_LOOSE specks lie about off every glyph's row, a speck over a 1 is more
likely dust than a dot (the field's dusty frames hold 7-45, its i's 0-1).
"""

from __future__ import annotations

import numpy as np

from runtime.cuts import pieces_in
from runtime.ink import stroke_width

BODY = 0.45  # x the glyph box's height: ink pieces in the box this tall are its body
DOT_SIZE = 0.55  # x the body's height: a dot is no taller and no wider than this (a Hershey i's is 0.4-0.5)...
DOT_MIN = 0.1  # ...and taller or wider than this (an i's is 0.2-0.35, a !'s 0.35-0.45; dust under a 7's foot 0.05)...
DOT_ASPECT = 1.4  # ...no longer one way than this x the other (an i's dot is 1.0-1.3; a 5's bar, a dash, the end
# of a 1 cut off by a pen's skip are longer)...
DOT_FILL = 0.6  # ...its box at least this full of ink (a blob, not a tick or the curl of a hair)...
DOT_PEN = 0.6  # ...at least this x the body's stroke width across (dust and JPEG crumbs are finer than the pen)...
DOT_GAP = 2  # ...apart from it by at least this many pixels (a stroke broken by a grid line's removal: 1)...
GAP_PEN = 0.6  # ...and this x its stroke width (a 1 or a 7 whose pen skipped 3 px near its end: 6-9 of 20 read as a
# digit at 0, 20 of 20 at 0.6; printed i, j, ! lose most of their dots at 0.8 and 11, 7, 11 of 20 at 0.6)...
DOT_REACH = 0.45  # ...at most this x the body's height above its top or below its bottom...
STROKE_END = 0.15  # ...with its centre over the body's ink in this top or bottom fraction of its height
MAX_LOOSE = 3  # loose specks (small pieces in no glyph's box, on no glyph's row) a frame may hold for its dots to count
ROW_TOP, ROW_BELOW, ROW_SIDE = 0.4, 0.3, 0.6  # x a glyph's height: a piece beside it (this far off its sides) from
# this far under its top to this far under its foot is on its row: punctuation (a period written low), not dust
READ_AS = {"above": {1}, "below": {1, 7}}  # the digits an i or j (dot above), a ! or a ? (below) is read as

Box = tuple[int, int, int, int]


def is_dotted(dot: str, digit: int) -> bool:
    """Is a glyph read as `digit` with a dot `dot` ("above", "below" or "": none) a letter or a sign?"""
    if not isinstance(dot, str):
        raise ValueError(f'a dot is "above", "below" or "", got {dot!r}')
    return digit in READ_AS.get(dot, ())


def dots_of(boxes: list[Box], stats: np.ndarray, ids: list[int], labels: np.ndarray) -> list[str]:
    """Where each glyph in `boxes` (x, y, w, h at working size) has a dot of its own: "above", "below" or ""
    (none); all "" on a dusty frame. `stats`: the frame's connectedComponentsWithStats rows (x, y, w, h, area),
    `ids`: the rows that are ink, `labels`: the component of each pixel."""
    boxes = [tuple(int(v) for v in box) for box in boxes]
    ids = np.asarray(list(ids), dtype=np.int64)
    if not boxes or not len(ids):
        return [""] * len(boxes)
    rows = stats[ids].astype(np.int64)
    glyphs = np.array(boxes, dtype=np.int64)
    blobs = rows[(np.maximum(rows[:, 2], rows[:, 3]) <= DOT_ASPECT * np.minimum(rows[:, 2], rows[:, 3]))
                 & (rows[:, 4] >= DOT_FILL * rows[:, 2] * rows[:, 3])]  # anything that could be a dot
    sides = np.maximum(blobs[:, 2], blobs[:, 3])
    dots = []
    for k, box in enumerate(boxes):
        others = np.delete(glyphs, k, axis=0)
        dot = _dot_of(box, rows, ids, labels, others) if (_near(blobs, box) & (sides <= DOT_SIZE * box[3])).any() \
            else ""
        if dot and not any(dots) and _loose_specks(glyphs, rows) > MAX_LOOSE:
            return [""] * len(boxes)  # a dusty frame: asked once, at the first dot
        dots.append(dot)
    return dots


def _near(rows: np.ndarray, box: Box) -> np.ndarray:
    """Which pieces could be the glyph in `box` or its dot: over its columns, from a height above it to two below."""
    x, y, w, h = box
    return ((rows[:, 0] < x + w) & (rows[:, 0] + rows[:, 2] > x)
            & (rows[:, 1] < y + 2 * h) & (rows[:, 1] + rows[:, 3] > y - h))


def _on_a_row(rows: np.ndarray, glyphs: np.ndarray) -> np.ndarray:
    """Which pieces sit on the row of one of `glyphs`, beside it (a period, a comma, a colon's dot): their middle
    from ROW_TOP x its height under its top to ROW_BELOW x its height under its foot, within ROW_SIDE x its
    height of its sides."""
    if not len(glyphs) or not len(rows):
        return np.zeros(len(rows), bool)
    mid = rows[:, 1:2] + rows[:, 3:4] / 2.0
    gx0, gy0, gw, gh = (glyphs[None, :, i] for i in range(4))
    beside = (rows[:, 0:1] < gx0 + gw + ROW_SIDE * gh) & (rows[:, 0:1] + rows[:, 2:3] > gx0 - ROW_SIDE * gh)
    return ((mid >= gy0 + ROW_TOP * gh) & (mid <= gy0 + gh * (1 + ROW_BELOW)) & beside).any(axis=1)


def _loose_specks(glyphs: np.ndarray, rows: np.ndarray) -> int:
    """Small pieces of ink (no larger than a dot of the median glyph) inside no glyph's box and on no glyph's row
    (dust, not punctuation)."""
    height = float(np.median(glyphs[:, 3]))
    x, y, w, h = (glyphs[None, :, i] for i in range(4))
    inside_any = ((rows[:, 0:1] >= x) & (rows[:, 1:2] >= y) & (rows[:, 0:1] + rows[:, 2:3] <= x + w)
                  & (rows[:, 1:2] + rows[:, 3:4] <= y + h)).any(axis=1)
    small = np.maximum(rows[:, 2], rows[:, 3]) <= DOT_SIZE * height
    return int(np.count_nonzero(small & ~inside_any & ~_on_a_row(rows, glyphs)))


def _dot_of(box: Box, rows: np.ndarray, ids: np.ndarray, labels: np.ndarray, others: np.ndarray) -> str:
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
    others_row = _on_a_row(rows, others)
    above, below = above & ~others_row, below & ~others_row  # a period of the line above is not this glyph's dot
    if not (above | below).any():
        return ""
    bx0, bx1 = int(cx0[body].min()), int((cx0 + cw)[body].max())
    body_ids = ids[body]
    pen = stroke_width(np.pad(pieces_in(labels[by0:by1, bx0:bx1], body_ids), 1).view(np.uint8))
    wide_enough = np.minimum(cw, ch) >= DOT_PEN * pen
    gap = GAP_PEN * pen  # a pen's skip is narrower than its stroke; an i's dot sits further off
    above = above & wide_enough & (cy0 + ch <= by0 - gap)
    below = below & wide_enough & (cy0 >= by1 + gap)
    end = max(1, int(round(STROKE_END * height)))
    for k in np.flatnonzero(above | below):
        centre = (2 * int(cx0[k]) + int(cw[k])) / 2.0
        ends = slice(by0, by0 + end) if above[k] else slice(by1 - end, by1)
        columns = np.flatnonzero(pieces_in(labels[ends, x:x + w], body_ids).any(axis=0)) + x
        if not len(columns):
            continue
        slack = cw[k] / (2.0 if above[k] else 4.0)  # an italic i's dot sits right of its stem; a ! has its dot under it
        if columns.min() - slack <= centre <= columns.max() + slack:
            return "above" if above[k] else "below"
    return ""
