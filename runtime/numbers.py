"""Numbers: a glyph read as "not a digit" in the middle of a long number is read as its best digit.

On a page of digits the model says "not a digit" to some odd or dimly written
digits (field test pages, seed 0: 53 of 2,014 digits, most in lines of four or
more digits read surely), and the number loses a digit. A glyph is taken for
its best digit when its line holds at least LONG_NUMBER digits read surely,
it is of their size (not a comma, a dash or a wide scribble), it sits between
two of them (beside each on the line, level with both) no further from them
than NEAR x their usual gap, and the model gives its best digit at least
DIGIT_WEIGHT; at most one glyph per DIGITS_PER_TAKEN sure digits (or none). A mark before or after a number ("1234?", "A1234") is left
alone: taken, it made an unsure number look sure. A letter or symbol inside a
long number ("12A45") can be read as a digit so.
"""

from __future__ import annotations

import reprlib

import numpy as np

from runtime.words import glyph_box, glyph_probabilities

LONG_NUMBER = 4  # digits read surely on the line that make it a number
DIGIT_WEIGHT = 0.1  # the glyph's best digit probability at least this
SHORTEST, TALLEST = 0.75, 1.3  # its height x the number's median digit height
WIDEST = 1.3  # its width at most this x that height
NEAR = 2.0  # its gap to each of the two digits at most this x the number's usual gap (at least NEAR_FLOOR x its height)
NEAR_FLOOR = 0.3
LEVEL = 0.5  # it shares at least this x its height with each neighbour's rows (one line, not one above the other)
DIGITS_PER_TAKEN = 4  # at most one glyph taken per this many digits read surely on the line


def in_numbers(boxes, read, candidates, weights) -> list[bool]:
    """Which glyphs of one line to read as their best digit. `boxes`: (x, y, w, h) per glyph; `read`: glyphs read
    as digits surely; `candidates`: glyphs the model reads as "not a digit" that may be digits (not an i or j);
    `weights`: each glyph's best digit probability. Bad arguments raise a ValueError that names them."""
    boxes, read, candidates, weights = _checked(boxes, read, candidates, weights)
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
    for place, i in enumerate(order[1:-1], start=1):
        x, _, w, h = boxes[i]
        if read[i] or not candidates[i] or weights[i] < DIGIT_WEIGHT:
            continue
        if not (SHORTEST * height <= h <= TALLEST * height and w <= WIDEST * height):
            continue
        left, right = order[place - 1], order[place + 1]
        if not (read[left] and read[right] and _level(boxes[i], boxes[left]) and _level(boxes[i], boxes[right])):
            continue
        gap = max(x - (boxes[left][0] + boxes[left][2]), boxes[right][0] - (x + w))  # near both: not a mark set apart
        if gap <= near:
            chosen.append(i)
    if chosen and len(chosen) * DIGITS_PER_TAKEN <= len(digits):
        for i in chosen:
            taken[i] = True
    return taken


def _level(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Do boxes a and b share rows for at least LEVEL x a's height?"""
    shared = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return shared >= LEVEL * a[3]


def _checked(boxes, read, candidates, weights) -> tuple[list, list, list, list]:
    """in_numbers' arguments as lists, each checked, or a ValueError that names the bad one."""
    def listed(name, values):
        if isinstance(values, (str, bytes, set, frozenset, dict)) or not hasattr(values, "__iter__") \
                or (isinstance(values, np.ndarray) and values.ndim == 0):
            raise ValueError(f"in_numbers: {name} are a list, one per glyph, got {reprlib.repr(values)}")
        return list(values)

    def flags(name, values):
        values = listed(name, values)
        if not all(isinstance(v, (bool, np.bool_)) or (isinstance(v, (int, np.integer)) and int(v) in (0, 1))
                   for v in values):
            raise ValueError(f"in_numbers: {name} are True or False, one per glyph, got {reprlib.repr(values)}")
        return [bool(v) for v in values]

    boxes = listed("boxes", boxes)
    try:
        boxes = [glyph_box(b) for b in boxes]
    except ValueError as error:
        raise ValueError(f"in_numbers: boxes: {error}") from None
    read, candidates = flags("read", read), flags("candidates", candidates)
    weights = listed("weights", weights)
    try:
        weights = glyph_probabilities(weights)
    except ValueError as error:
        raise ValueError(f"in_numbers: weights: {error}") from None
    if not len(boxes) == len(read) == len(candidates) == len(weights):
        raise ValueError(f"in_numbers needs one of each per glyph: {len(boxes)} boxes, {len(read)} read, "
                         f"{len(candidates)} candidates, {len(weights)} weights")
    if any(r and c for r, c in zip(read, candidates)):
        raise ValueError("in_numbers: a glyph read surely as a digit is not a candidate too")
    return boxes, read, candidates, weights
