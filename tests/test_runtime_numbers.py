"""runtime/numbers.py: a glyph read as "not a digit" inside a long number is read as its best digit."""

from __future__ import annotations

import numpy as np
import pytest

from runtime.numbers import DIGIT_WEIGHT, DIGITS_PER_TAKEN, LONG_NUMBER, in_numbers


def line(xs: list[int], heights: list[int] | None = None, width: int = 40) -> list[tuple[int, int, int, int]]:
    heights = heights or [100] * len(xs)
    return [(x, 100 - h, width, h) for x, h in zip(xs, heights)]


XS = [0, 60, 120, 180, 240]  # five glyphs of one size, 20 px apart


def test_an_unread_glyph_among_four_sure_digits_is_taken():
    read = [True, True, False, True, True]
    assert in_numbers(line(XS), read, [not r for r in read], [1.0, 1.0, 0.3, 1.0, 1.0]) == \
        [False, False, True, False, False]


@pytest.mark.parametrize("place", [0, 4])
def test_a_mark_before_or_after_the_number_is_left_alone(place):
    """"?1234", "1234?": taken, it made an unsure number look sure (attack review, 2026-11-30)."""
    read = [k != place for k in range(5)]
    assert not any(in_numbers(line(XS), read, [not r for r in read], [0.9 if not r else 1.0 for r in read]))


def test_a_mark_set_apart_from_the_digits_on_one_side_is_not_taken():
    """"1234 A5678": near the 5, far from the 4 (second attack review)."""
    read = [True] * 4 + [False] + [True] * 4
    xs = [30 * k for k in range(4)] + [180 + 30 * k for k in range(5)]
    boxes = [(x, 0, 20, 28) for x in xs]
    assert not any(in_numbers(boxes, read, [not r for r in read], [1.0] * 4 + [0.5] + [1.0] * 4))


def test_a_glyph_on_another_line_is_not_taken():
    read = [True, True, False, True, True]
    boxes = line(XS)
    boxes[2] = (120, 160, 40, 100)  # below the number (crops read without their line)
    assert not any(in_numbers(boxes, read, [not r for r in read], [1, 1, 0.3, 1, 1]))


def test_a_short_number_keeps_its_unread_glyph_unread():
    assert LONG_NUMBER == 4
    read = [True, True, False, True]
    assert not any(in_numbers(line(XS[:4]), read, [not r for r in read], [1, 1, 0.3, 1]))


@pytest.mark.parametrize("heights, width", [([100, 100, 40, 100, 100], 40),  # a comma or a dash
                                            ([100, 100, 160, 100, 100], 40),  # taller than the digits
                                            ([100] * 5, 150)])  # a wide scribble (all glyphs this wide)
def test_a_glyph_not_of_the_digits_size_is_not_taken(heights, width):
    read = [True, True, False, True, True]
    xs = [0, 60, 120, 180, 240] if width == 40 else [0, 170, 340, 510, 680]
    boxes = line(xs, heights, width)
    if width != 40:
        boxes = [(x, y, 40, h) if r else (x, y, width, h) for (x, y, _, h), r in zip(boxes, read)]
    assert not any(in_numbers(boxes, read, [not r for r in read], [1, 1, 0.3, 1, 1]))


def test_a_letter_beside_another_letter_is_not_taken():
    read = [True, True, True, True, False, False]  # "1234" then a word's first two letters
    xs = XS + [300]
    assert not any(in_numbers(line(xs), read, [not r for r in read], [1, 1, 1, 1, 0.3, 0.3]))


def test_a_glyph_set_apart_from_the_number_is_not_taken():
    read = [True, True, True, True, False]
    xs = [0, 60, 120, 180, 500]  # 280 px after a number spaced 20 px
    assert not any(in_numbers(line(xs), read, [not r for r in read], [1, 1, 1, 1, 0.3]))


def test_a_glyph_the_model_gives_almost_no_digit_is_not_taken():
    read = [True, True, False, True, True]
    weights = [1, 1, DIGIT_WEIGHT / 2, 1, 1]
    assert not any(in_numbers(line(XS), read, [not r for r in read], weights))


def test_a_glyph_that_is_not_a_candidate_is_not_taken():
    read = [True, True, False, True, True]  # an i or j: read as a letter by its dot
    assert not any(in_numbers(line(XS), read, [False] * 5, [1, 1, 0.3, 1, 1]))


def test_a_number_with_too_many_unread_glyphs_keeps_them_all():
    assert DIGITS_PER_TAKEN == 4
    xs = [60 * k for k in range(7)]
    read = [True, False, True, False, True, True, True]  # 5 sure digits, 2 unread: more than one per four
    assert not any(in_numbers(line(xs), read, [not r for r in read], [1, 0.3, 1, 0.3, 1, 1, 1]))


def test_arguments_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="one of each per glyph"):
        in_numbers(line(XS), [True] * 5, [False] * 4, [1.0] * 5)


READ = [True, True, False, True, True]


@pytest.mark.parametrize("boxes, read, candidates, weights, message", [
    (line(XS)[:4] + [(240, 0, 40)], READ, [False] * 5, [1.0] * 5, "in_numbers: boxes: .*four numbers"),
    (line(XS)[:4] + [(240, 0, -40, 100)], READ, [False] * 5, [1.0] * 5, "no negative"),
    (line(XS)[:4] + [None], READ, [False] * 5, [1.0] * 5, "four numbers"),
    (line(XS), READ, [False] * 5, [1, 1, float("nan"), 1, 1], "in_numbers: weights: .*probabilities from 0 to 1"),
    (line(XS), READ, [False] * 5, [1, 1, 7.0, 1, 1], "probabilities from 0 to 1"),
    (line(XS), READ, [False] * 5, [1, 1, None, 1, 1], "probabilities from 0 to 1"),
    (line(XS), [1, 1, 2, 1, 1], [False] * 5, [1.0] * 5, "True or False"),
    (line(XS), READ, [True] * 5, [1.0] * 5, "not a candidate too"),
    ("boxes", READ, [False] * 5, [1.0] * 5, "are a list"),
])
def test_bad_arguments_get_a_clear_error(boxes, read, candidates, weights, message):
    with pytest.raises(ValueError, match=message):
        in_numbers(boxes, read, candidates, weights)


def test_any_sequence_is_accepted():
    got = in_numbers(iter(line(XS)), np.array(READ), tuple(not r for r in READ), np.array([1, 1, 0.3, 1, 1]))
    assert got == [False, False, True, False, False]
