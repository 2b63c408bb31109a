"""Text lines: boxes grouped by vertical overlap, read top to bottom and left to right."""

from __future__ import annotations

from statistics import median

MIN_OVERLAP = 0.5  # a box joins a line when at least this much of its height lies in the line's band
PIECE_HEIGHT = 0.5  # a box shorter than this x a digit's height...
PIECE_GAP = 0.25  # ...and at most this x its height above or below it, overlapping it in x, is a piece of it


def group_lines(boxes) -> list[list[int]]:
    """Indices of `boxes` (x, y, w, h) per text line, lines top to bottom, each left to right.

    The tallest boxes seed the lines; each line's band is the median top and
    bottom of its members, so a long tail (a 7, a 9) neither stretches the line
    into the next one nor leaves a small digit beside it out.
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
                lines.append({"top": y, "bottom": y + h, "members": [i]})
            continue
        best["members"].append(i)
        # statistics.median: a few short lists per box, where NumPy's per-call overhead cost 1.7 ms a page of 40
        best["top"] = float(median([boxes[j][1] for j in best["members"]]))
        best["bottom"] = float(median([boxes[j][1] + boxes[j][3] for j in best["members"]]))
    lines.sort(key=lambda line: line["top"] + line["bottom"])
    return [sorted(line["members"], key=lambda j: boxes[j][0]) for line in lines]


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
