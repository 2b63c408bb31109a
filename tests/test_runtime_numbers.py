"""runtime/numbers.py: a glyph read as "not a digit" inside a long number is read as its best digit."""

from __future__ import annotations

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


def test_an_unread_glyph_ending_the_number_is_taken():
    read = [False, True, True, True, True]
    assert in_numbers(line(XS), read, [not r for r in read], [0.3, 1, 1, 1, 1])[0]


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


@pytest.mark.parametrize("weight", [DIGIT_WEIGHT / 2, float("nan")])
def test_a_glyph_the_model_gives_almost_no_digit_is_not_taken(weight):
    read = [True, True, False, True, True]
    weights = [1, 1, weight, 1, 1]
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
