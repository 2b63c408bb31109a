"""Numbers: a glyph read as "not a digit" in the middle of a long number is read as its best digit.

On a page of digits the model says "not a digit" to some odd or dimly written
digits (field test pages, seed 0: 53 of 2,014 digits, most in lines of four or
more digits read surely), and the number loses a digit. A glyph is taken for
its best digit when its line holds at least LONG_NUMBER digits read surely,
it is of their size (not a comma, a dash or a wide scribble), it sits as close
to them as they sit to each other, each of its neighbours on the line is such
a digit (a letter of a word beside the number has a letter beside it), and the
model gives its best digit at least DIGIT_WEIGHT. A letter or symbol inside a
long number ("12A45", "$1234") can be read as a digit so; the model's own
"not a digit" elsewhere stands.
"""

from __future__ import annotations

import numpy as np

LONG_NUMBER = 4  # digits read surely on the line that make it a number
DIGIT_WEIGHT = 0.1  # the glyph's best digit probability at least this
SHORTEST, TALLEST = 0.75, 1.3  # its height x the number's median digit height
WIDEST = 1.3  # its width at most this x that height
NEAR = 2.0  # its gap to the nearest digit at most this x the number's usual gap (at least NEAR_FLOOR x its height)
NEAR_FLOOR = 0.3
DIGITS_PER_TAKEN = 4  # at most one glyph taken per this many digits read surely on the line


def in_numbers(boxes: list[tuple[int, int, int, int]], read: list[bool], candidates: list[bool],
               weights: list[float]) -> list[bool]:
    """Which glyphs of one line to read as their best digit. `boxes`: (x, y, w, h) per glyph; `read`: glyphs read
    as digits surely; `candidates`: glyphs the model reads as "not a digit" that may be digits (not an i or j);
    `weights`: each glyph's best digit probability."""
    if not len(boxes) == len(read) == len(candidates) == len(weights):
        raise ValueError(f"in_numbers needs one of each per glyph: {len(boxes)} boxes, {len(read)} read, "
                         f"{len(candidates)} candidates, {len(weights)} weights")
    taken = [False] * len(boxes)
    digits = [i for i, r in enumerate(read) if r]
    if len(digits) < LONG_NUMBER:
        return taken
    height = float(np.median([boxes[i][3] for i in digits]))
    by_x = sorted(digits, key=lambda i: boxes[i][0])
    gaps = [boxes[b][0] - (boxes[a][0] + boxes[a][2]) for a, b in zip(by_x, by_x[1:])]
    near = NEAR * max(float(np.median(gaps)), NEAR_FLOOR * height)
    order = sorted(range(len(boxes)), key=lambda i: boxes[i][0])
    chosen = []
    for place, i in enumerate(order):
        x, _, w, h = boxes[i]
        if read[i] or not candidates[i] or not weights[i] >= DIGIT_WEIGHT:  # (a NaN weight is no weight)
            continue
        if not (SHORTEST * height <= h <= TALLEST * height and w <= WIDEST * height):
            continue
        neighbours = [order[n] for n in (place - 1, place + 1) if 0 <= n < len(order)]
        if not all(read[n] for n in neighbours):
            continue
        gap = min(max(boxes[n][0] - (x + w), x - (boxes[n][0] + boxes[n][2])) for n in neighbours)
        if gap <= near:
            chosen.append(i)
    if chosen and len(chosen) * DIGITS_PER_TAKEN <= len(digits):
        for i in chosen:
            taken[i] = True
    return taken
