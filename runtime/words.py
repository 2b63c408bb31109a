"""Words: a mark read as a digit among letters of the same word is a letter too ("HELLO" is not "0").

The classifier sees one glyph at a time, and some letters are written like a
digit (O and 0, l and 1, S and 5). Glyphs of one text line closer than
WORD_GAP x the line's height belong to one word; in a word where more glyphs
are "not a digit" than digits, every glyph is "not a digit", and so in a word
of four or more where as many are (MOON, ROOM: the O's read as 0). In a word
of three or more, a 0 or a 1 counts half (an O, o, l or I is written the same:
"hello" read as "??110" is a word), and letters written far apart are a word
too when two of them read as letters and the rest only as 0s and 1s ("p O t",
"h e l l o"; "100 km" stays a number: its gap to "km" is wider than its
others), and so are letters written far apart when three or more of them
outnumber the digits among them twice (W A T E R with its W read as a 4; a 0 or
a 1 counting half), unless a digit among them other than a 0 or 1 reads surely
(T E L 7 written one letter to a box). A number with one unreadable digit keeps
the others; so does a pair with one (a 1 touching an A), unless the pair (close
or spaced out) is of one height and top, its digit is a 0 and no other digit is
on its line (OK, O K, NO: a 0 beside a smaller u or =, or ending a number
"3913490" whose 9 is unsure, stays a digit). Only glyphs read as letters count
as letters there, not digits read unsure. A line holding two letters or more and
no digit read at SURE_ON_A_LINE or more is writing, not a number ("A B C" with
its B read as an 8 at 0.88); one letter or symbol beside unsure digits ("5%",
"A 23", a 7 beside a hair) is not enough. A 1 less than half as tall as its
line's glyphs is a tick, a comma or a stray stroke ("80,7", a pen's lift beside
"1989"): a written 1 is as tall as its digits.
"""

from __future__ import annotations

import reprlib

import numpy as np

TIE_REJECTS_FROM = 4  # glyphs in a word: from this many, as many letters as digits make it a word
LETTER_SHAPED = {0, 1}  # digits written like a letter (O o, l I)...
LETTER_SHAPED_WEIGHT = 0.5  # ...count this much as a digit...
LETTER_SHAPED_FROM = 3  # ...in a word of this many glyphs or more
PAIR_LETTER_SHAPED = {0}  # a 0 in a pair of one size with a letter, on a line with no other digit, is an O (OK,
# NO; a 1 beside a letter is kept: A1)
ONE_SIZE = 0.9  # a pair is of one size when the shorter is at least this x the taller's height...
ONE_TOP = 0.15  # ...and their tops differ by at most this x it (a 0 beside a smaller u or n is a digit)
MOSTLY_LETTERS = 3  # glyphs read as letters (not merely unsure digits) in a spaced-out word that...
LETTERS_PER_DIGIT = 2.0  # ...outnumber its digits (0 and 1 counting half) this many times make it a word (W A T E R)...
SURE_AMONG_LETTERS = 0.95  # ...unless one of them, not a 0 or a 1, reads this surely (a form's TEL 7, one box each)
LINE_OF_LETTERS = 2  # glyphs read as letters that make a spaced-out word with only 0s and 1s text (h e l l o)
SPACED_WORD_GAP = 1.6  # x the line's (lower) median gap: a wider gap ends a spaced-out word ("100  km" is two)
SHORT_ONE = 0.5  # x the line's glyph height (_height_of_tall): a 1 shorter than this beside other glyphs is a tick or a stray stroke
WORD_GAP = 0.3  # x the line's glyph height: letters of a printed or written word sit closer than this
SURE_ON_A_LINE = 0.9  # a line holding LETTERS_ON_A_LINE letters and no digit read at least this surely is writing...
LETTERS_ON_A_LINE = 2  # ...not a number (one letter or symbol beside unsure digits: "5%", "A 23", a 7 beside a hair)


def _height(boxes: list[tuple[int, int, int, int]]) -> float:
    heights = sorted(b[3] for b in boxes)
    return float(heights[len(heights) // 2])


def _height_of_tall(boxes: list[tuple[int, int, int, int]]) -> float:
    """The line's glyph height, ticks and commas left out however many: the median of the glyphs at least
    half as tall as the tallest."""
    tallest = max(b[3] for b in boxes)
    return _height([b for b in boxes if b[3] >= 0.5 * tallest])


def _one_size(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Are two glyph boxes of one height and top, as the letters of a printed or written word are?"""
    tall = max(a[3], b[3])
    return min(a[3], b[3]) >= ONE_SIZE * tall and abs(a[1] - b[1]) <= ONE_TOP * tall


def _in_reading_order(boxes: list[tuple[int, int, int, int]]) -> tuple[list[int], list[int]]:
    """Box indices left to right, and the gap (px) between each box and the next."""
    order = sorted(range(len(boxes)), key=lambda i: boxes[i][0])
    return order, [boxes[b][0] - (boxes[a][0] + boxes[a][2]) for a, b in zip(order, order[1:])]


def _grouped(order: list[int], gaps: list[int], joined) -> list[list[int]]:
    """`order` cut into groups wherever `joined(gap)` is false."""
    groups = [[order[0]]]
    for i, gap in zip(order[1:], gaps):
        if joined(gap):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def words(boxes: list[tuple[int, int, int, int]]) -> list[list[int]]:
    """Indices of one line's glyph boxes (x, y, w, h), left to right, grouped into words by their gaps."""
    boxes = [glyph_box(b) for b in boxes]
    if not boxes:
        return []
    gap = WORD_GAP * _height(boxes)
    return _grouped(*_in_reading_order(boxes), lambda g: g < gap)


def in_words(boxes: list[tuple[int, int, int, int]], statuses: list[str], ok: str, not_a_digit: str,
             digits: list[int | None] | None = None, letters: list[bool] | None = None,
             confidences: list[float] | None = None) -> list[str]:
    """One line's statuses with every glyph of a mostly-letters word set to `not_a_digit` (`digits`: the
    digit each glyph was read as, for the letter-shaped 0 and 1; `letters`: which glyphs read as letters, not
    merely as unsure digits (the model's "not a digit" output wins), by default every glyph not read as a
    digit; `confidences`: each glyph's best digit probability, by default none sure)."""
    boxes, statuses, digits, letters, confidences = _checked(boxes, statuses, digits, letters, confidences)
    letters = letters if letters is not None else [s == not_a_digit for s in statuses]
    sure = [c >= SURE_AMONG_LETTERS for c in confidences or [0.0] * len(boxes)]
    out = statuses[:]
    for group in words(boxes):
        rejected = sum(statuses[i] == not_a_digit for i in group)
        half = digits is not None and len(group) >= LETTER_SHAPED_FROM
        read = sum((LETTER_SHAPED_WEIGHT if half and digits[i] in LETTER_SHAPED else 1.0)
                   for i in group if statuses[i] == ok)
        if rejected > read or (rejected == read and len(group) >= TIE_REJECTS_FROM):
            for i in group:
                out[i] = not_a_digit
    if confidences is not None and sum(letters) >= LETTERS_ON_A_LINE \
            and not any(out[i] == ok and confidences[i] >= SURE_ON_A_LINE for i in range(len(boxes))):
        return [not_a_digit] * len(boxes)  # "A B C" with its B read as an 8 at 0.88 (field test, seed 7)
    if digits is None:
        return out
    if len(boxes) > 1:
        short = SHORT_ONE * _height_of_tall(boxes)
        for i, box in enumerate(boxes):  # a tick, a stray stroke or a comma beside the digits, read as a 1
            if out[i] == ok and digits[i] == 1 and box[3] < short:
                out[i] = not_a_digit
    for group in spaced_words(boxes):
        read = [i for i in group if out[i] == ok]
        lettered = sum(letters[i] for i in group)
        weighed = sum(LETTER_SHAPED_WEIGHT if digits[i] in LETTER_SHAPED else 1.0 for i in read)
        sure_digit = any(sure[i] and digits[i] not in LETTER_SHAPED for i in read)  # TEL 7 in a form's boxes
        if read and ((sum(out[i] == not_a_digit for i in group) >= LINE_OF_LETTERS
                      and {digits[i] for i in read} <= LETTER_SHAPED)
                     or (lettered >= MOSTLY_LETTERS and lettered >= LETTERS_PER_DIGIT * weighed and not sure_digit)):
            for i in group:
                out[i] = not_a_digit
    pairs = [group for group in words(boxes) + spaced_words(boxes)
             if len(group) == 2 and _one_size(*(boxes[i] for i in group)) and any(letters[i] for i in group)
             and any(out[i] == ok and digits[i] in PAIR_LETTER_SHAPED for i in group)]
    in_pairs = {i for group in pairs for i in group}
    if not any(out[i] == ok for i in range(len(boxes)) if i not in in_pairs):  # OK, O K, OK NO: no other digit
        for a, b in pairs:
            if (out[a] == ok and digits[a] in PAIR_LETTER_SHAPED and letters[b]) or \
                    (out[b] == ok and digits[b] in PAIR_LETTER_SHAPED and letters[a]):
                out[a] = out[b] = not_a_digit
    return out


def _checked(boxes, statuses, digits, letters, confidences) -> tuple:
    """in_words' arguments as lists (any sequence, a generator too), each checked, or a clear ValueError."""
    def listed(name, values):
        if values is None and name in ("boxes", "statuses"):
            raise ValueError(f"in_words needs {name}, one per glyph, got None")
        if values is None:
            return None
        zero_d = isinstance(values, np.ndarray) and values.ndim == 0  # iterable in name only
        if isinstance(values, (str, bytes, set, frozenset, dict)) or not hasattr(values, "__iter__") or zero_d:
            raise ValueError(f"{name} are a list in reading order, one per glyph, got {reprlib.repr(values)}")
        return list(values)

    boxes, statuses, digits, letters, confidences = (listed(n, v) for n, v in zip(
        ("boxes", "statuses", "digits", "letters", "confidences"), (boxes, statuses, digits, letters, confidences)))
    boxes = [glyph_box(b) for b in boxes]
    if not all(isinstance(s, str) for s in statuses):
        raise ValueError(f"statuses are strings, got {reprlib.repr(statuses)}")
    if digits is not None and not all(d is None or (_integral(d) and 0 <= int(d) <= 9) for d in digits):
        raise ValueError(f"digits are 0-9 or None, got {reprlib.repr(digits)}")
    if letters is not None and not all(isinstance(v, (bool, np.bool_)) or (_integral(v) and int(v) in (0, 1))
                                       for v in letters):
        raise ValueError(f"letters are True or False, got {reprlib.repr(letters)}")
    if confidences is not None:
        confidences = glyph_probabilities(confidences)
    extras = {"digits": digits, "letters": letters, "confidences": confidences}
    if len(statuses) != len(boxes) or any(v is not None and len(v) != len(boxes) for v in extras.values()):
        raise ValueError(f"in_words needs one status{'' if digits is None else ' and one digit'} per box: "
                         f"{len(boxes)} boxes, {len(statuses)} statuses"
                         + "".join(f", {len(v)} {k}" for k, v in extras.items() if v is not None))
    return (boxes, statuses, None if digits is None else [None if d is None else int(d) for d in digits],
            None if letters is None else [bool(v) for v in letters], confidences)


def glyph_probabilities(values: list) -> list[float]:
    """Each value as a float from 0 to 1 (not text, not NaN), or a clear ValueError."""
    try:
        if any(isinstance(v, (str, bytes, bool, np.bool_, complex, np.complexfloating)) for v in values):
            raise TypeError
        floats = [float(v) for v in values]
    except (TypeError, ValueError, OverflowError):
        floats = None
    if floats is None or not all(0.0 <= c <= 1.0 for c in floats):  # NaN fails the comparison too
        raise ValueError(f"confidences are probabilities from 0 to 1, one per glyph, got {reprlib.repr(values)}")
    return floats


def _integral(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def glyph_box(box) -> tuple[int, int, int, int]:
    """A glyph box as four ints (x, y, w, h), or a clear error."""
    try:
        if isinstance(box, (str, bytes)):
            raise TypeError
        x, y, w, h = (int(v) for v in box)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"a glyph box is four numbers (x, y, w, h), got {box!r}") from None
    if w < 0 or h < 0:
        raise ValueError(f"a glyph box has no negative width or height, got {box!r}")
    return x, y, w, h


def spaced_words(boxes: list[tuple[int, int, int, int]]) -> list[list[int]]:
    """Words of letters written far apart (h e l l o): glyphs split where a gap is much wider than the line's
    usual one (and wider than WORD_GAP x its height)."""
    boxes = [glyph_box(b) for b in boxes]
    if not boxes:
        return []
    order, gaps = _in_reading_order(boxes)
    # The lower median: with two gaps, the narrower ("1   kg": the wide gap is the word break, not the norm).
    limit = max(WORD_GAP * _height(boxes), SPACED_WORD_GAP * sorted(gaps)[(len(gaps) - 1) // 2] if gaps else 0.0)
    return _grouped(order, gaps, lambda g: g <= limit)
