"""Text lines: boxes grouped by vertical overlap, read top to bottom and left to right."""

from __future__ import annotations

from statistics import median

MIN_OVERLAP = 0.5  # a box joins a line when at least this much of its height lies in the line's band
PIECE_HEIGHT = 0.5  # a box shorter than this x a digit's height...
PIECE_GAP = 0.25  # ...and at most this x its height above or below it, overlapping it in x, is a piece of it
TILTED_GAP = 1.5  # x the taller box's height: two lines side by side whose facing boxes are this close and
# overlap MIN_OVERLAP in height are one tilted line (a page turned 20 degrees drifts half a digit per digit)


def group_lines(boxes) -> list[list[int]]:
    """Indices of `boxes` (x, y, w, h) per text line, lines top to bottom, each left to right.

    The tallest boxes seed the lines; each line's band is the median top and
    bottom of its members, so a long tail (a 7, a 9) neither stretches the line
    into the next one nor leaves a small digit beside it out. A line written or
    photographed at a tilt drifts out of its band: its two ends, seeded apart,
    are joined when they meet side by side.
    """
    order = sorted(range(len(boxes)), key=lambda i: -boxes[i][3])
    lines: list[dict] = []
    for i in order:
        _, y, _, h = boxes[i]
        best, best_overlap = None, 0.0
        for line in lines:
            overlap = (min(y + h, line["bottom"]) - max(y, line["top"])) / max(1, min(h, line["bottom"] - line["top"]))
            if overlap > best_overlap:
                best, best_overlap = line, overlap
        if best is None or best_overlap < MIN_OVERLAP:
            owner = _owner_of_piece(boxes, lines, i)
            if owner is not None:  # a 5's bar, a stroke end: beside a digit of a line, not a line of its own
                owner["members"].append(i)
            else:
                lines.append({"top": y, "bottom": y + h, "members": [i], "band": [i]})
            continue
        best["members"].append(i)
        best["band"].append(i)
        _set_band(boxes, best)
    lines = _tilted_joined(boxes, lines)
    lines.sort(key=lambda line: line["top"] + line["bottom"])
    return [sorted(line["members"], key=lambda j: boxes[j][0]) for line in lines]


def _set_band(boxes, line: dict) -> None:
    """A line's band: the median top and bottom of the boxes that joined it by overlap (not the pieces beside
    a digit). statistics.median: a few short lists per box, where NumPy's per-call overhead cost 1.7 ms a page
    of 40."""
    line["top"] = float(median([boxes[j][1] for j in line["band"]]))
    line["bottom"] = float(median([boxes[j][1] + boxes[j][3] for j in line["band"]]))


def _tilted_joined(boxes, lines: list[dict]) -> list[dict]:
    """Lines side by side (no overlap in x) whose facing boxes nearly touch and overlap in height, joined: the
    two ends of one tilted line, each seeded by one of its tall digits before the digits between them. Each
    pair is looked at once, and a joined line against the others (a pair that did not meet still does not)."""
    lines = list(lines)
    ends = [_ends(boxes, line["members"]) for line in lines]
    todo = [(a, b) for a in range(len(lines)) for b in range(len(lines)) if a != b]
    alive = [True] * len(lines)
    while todo:
        a, b = todo.pop()
        if not (alive[a] and alive[b]) or not _continues(boxes, ends[a], ends[b]):
            continue
        lines.append({"members": lines[a]["members"] + lines[b]["members"], "band": lines[a]["band"] + lines[b]["band"]})
        _set_band(boxes, lines[-1])
        ends.append(_ends(boxes, lines[-1]["members"]))
        alive[a] = alive[b] = False
        alive.append(True)
        m = len(lines) - 1
        todo += [pair for k in range(m) if alive[k] for pair in ((m, k), (k, m))]
    return [line for line, kept in zip(lines, alive) if kept]


def _ends(boxes, members: list[int]) -> tuple[int, int]:
    """A line's first glyph (leftmost start) and last (rightmost end), of those at least half as tall as its
    tallest: a speck or a dot beside its end is not what the next part of the line meets."""
    tallest = max(boxes[j][3] for j in members)
    glyphs = [j for j in members if boxes[j][3] >= 0.5 * tallest]
    return (min(glyphs, key=lambda j: boxes[j][0]), max(glyphs, key=lambda j: boxes[j][0] + boxes[j][2]))


def _continues(boxes, left: tuple[int, int], right: tuple[int, int]) -> bool:
    """Does the line with ends `right` start just right of where the line with ends `left` ends, at the height
    of its last glyph, with a glyph of about its size (not a speck)?"""
    x0, y0, w0, h0 = boxes[left[1]]
    x1, y1, _, h1 = boxes[right[0]]
    if x0 + w0 > x1 + 0.25 * min(h0, h1) or min(h0, h1) < 0.5 * max(h0, h1):
        return False  # the lines overlap in x (one above the other), or a speck faces a digit
    overlap = (min(y0 + h0, y1 + h1) - max(y0, y1)) / max(1, min(h0, h1))
    return x1 - (x0 + w0) <= TILTED_GAP * max(h0, h1) and overlap >= MIN_OVERLAP


def _owner_of_piece(boxes, lines: list[dict], i: int) -> dict | None:
    """The line with a digit that box i overlaps in x and nearly touches vertically, if box i is much shorter."""
    x, y, w, h = boxes[i]
    for line in lines:
        for j in line["members"]:
            xj, yj, wj, hj = boxes[j]
            gap = max(yj - (y + h), y - (yj + hj))
            if h < PIECE_HEIGHT * hj and min(x + w, xj + wj) > max(x, xj) and gap <= PIECE_GAP * hj:
                return line
    return None
