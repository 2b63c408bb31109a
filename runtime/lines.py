"""Text lines: boxes grouped by vertical overlap, read top to bottom and left to right."""

from __future__ import annotations

import numpy as np

MIN_OVERLAP = 0.5  # a box joins a line when at least this much of its height lies in the line's band


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
            lines.append({"top": y, "bottom": y + h, "members": [i]})
            continue
        best["members"].append(i)
        best["top"] = float(np.median([boxes[j][1] for j in best["members"]]))
        best["bottom"] = float(np.median([boxes[j][1] + boxes[j][3] for j in best["members"]]))
    lines.sort(key=lambda line: line["top"] + line["bottom"])
    return [sorted(line["members"], key=lambda j: boxes[j][0]) for line in lines]
