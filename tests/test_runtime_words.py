"""runtime/words.py: a digit read among the letters of one word is a letter; numbers keep their digits."""

from __future__ import annotations

import numpy as np
import pytest

from runtime.words import WORD_GAP, in_words, words

OK, NOT = "ok", "not a digit"


def boxes_at(xs: list[int], width: int = 40, height: int = 100) -> list[tuple[int, int, int, int]]:
    return [(x, 0, width, height) for x in xs]


def test_letters_of_a_word_are_grouped_and_far_glyphs_are_not():
    tight = boxes_at([0, 45, 90, 135])  # 5 px gaps: one word
    assert words(tight) == [[0, 1, 2, 3]]
    far = boxes_at([0, 40 + int(2 * WORD_GAP * 100), 400])
    assert words(far) == [[0], [1], [2]]


def test_the_o_of_hello_is_not_a_zero():
    statuses = [NOT, NOT, NOT, NOT, OK]  # H E L L read as letters, O read as 0
    assert in_words(boxes_at([0, 45, 90, 135, 180]), statuses, OK, NOT) == [NOT] * 5


def test_a_number_with_one_unreadable_digit_keeps_the_others():
    statuses = [OK, NOT, OK]
    assert in_words(boxes_at([0, 45, 90]), statuses, OK, NOT) == statuses
    assert in_words(boxes_at([0, 45]), [OK, NOT], OK, NOT) == [OK, NOT]  # a tie of two keeps what was read


def test_moon_is_a_word_though_half_its_letters_read_as_digits():
    assert in_words(boxes_at([0, 45, 90, 135]), [NOT, OK, OK, NOT], OK, NOT) == [NOT] * 4


def test_a_digit_beside_a_word_but_apart_from_it_stays_a_digit():
    statuses = [NOT, NOT, NOT, OK]
    assert in_words(boxes_at([0, 45, 90, 300]), statuses, OK, NOT) == statuses


def test_lowercase_hello_is_a_word_though_its_l_l_o_read_as_1_1_0():
    """A 0 or a 1 in a word of three or more counts half: l, I, O and o are written like them."""
    statuses, digits = [NOT, NOT, OK, OK, OK], [None, None, 1, 1, 0]
    assert in_words(boxes_at([0, 45, 90, 135, 180]), statuses, OK, NOT, digits) == [NOT] * 5
    assert in_words(boxes_at([0, 45, 90, 135, 180]), statuses, OK, NOT) == statuses  # without the digits: as before
    # Numbers keep their digits: "1?0" (one unreadable), "A1" (a pair: a 1 touching a letter), "7?4".
    assert in_words(boxes_at([0, 45, 90]), [OK, NOT, OK], OK, NOT, [1, None, 0]) == [OK, NOT, OK]
    assert in_words(boxes_at([0, 45]), [NOT, OK], OK, NOT, [None, 1]) == [NOT, OK]
    assert in_words(boxes_at([0, 45, 90, 135]), [OK, NOT, OK, NOT], OK, NOT, [7, None, 4, None]) == [NOT] * 4  # a tie of 4
    assert in_words(boxes_at([0, 45, 90, 135]), [OK, NOT, OK, OK], OK, NOT, [7, None, 1, 1]) == [OK, NOT, OK, OK]


def test_letters_written_far_apart_are_a_word_when_the_rest_reads_only_as_0_and_1():
    """"h e l l o" spaced wider than WORD_GAP: two glyphs read as letters and l, l, o as 1, 1, 0 make it text;
    "100  km" keeps its number (the gap before "km" is much wider than the number's own), and so does a
    spaced-out line with any digit but 0 and 1 in it."""
    from runtime.words import spaced_words

    spaced = boxes_at([0, 120, 240, 360, 480])  # 80 px gaps: 0.8 x the glyph height
    assert words(spaced) == [[0], [1], [2], [3], [4]] and spaced_words(spaced) == [[0, 1, 2, 3, 4]]
    hello = ([NOT, NOT, OK, OK, OK], [None, None, 1, 1, 0])
    assert in_words(spaced, *hello[:1], OK, NOT, hello[1]) == [NOT] * 5
    number_then_unit = boxes_at([0, 45, 90, 300, 345])  # "100" then "km" after a wide gap
    assert spaced_words(number_then_unit) == [[0, 1, 2], [3, 4]]
    statuses = [OK, OK, OK, NOT, NOT]
    assert in_words(number_then_unit, statuses, OK, NOT, [1, 0, 0, None, None]) == statuses
    assert in_words(spaced, [NOT, NOT, OK, OK, OK], OK, NOT, [None, None, 1, 7, 0]) == [NOT, NOT, OK, OK, OK]


def test_a_lone_digit_beside_a_short_word_stays_a_digit():
    """Three glyphs, two gaps: the word break is the wide one, not the norm ("1   kg", "0   HK", "km   1")."""
    from runtime.words import spaced_words

    one_kg = [(0, 0, 10, 50), (100, 0, 30, 50), (135, 0, 30, 50)]
    assert spaced_words(one_kg) == [[0], [1, 2]]
    assert in_words(one_kg, [OK, NOT, NOT], OK, NOT, [1, None, None]) == [OK, NOT, NOT]
    km_one = [(0, 0, 30, 50), (35, 0, 30, 50), (150, 0, 10, 50)]
    assert in_words(km_one, [NOT, NOT, OK], OK, NOT, [None, None, 1]) == [NOT, NOT, OK]


def test_lists_of_other_lengths_than_the_boxes_are_refused():
    with pytest.raises(ValueError, match="one status per box: 2 boxes, 1 statuses$"):
        in_words(boxes_at([0, 45]), [OK], OK, NOT)
    with pytest.raises(ValueError, match="one status and one digit per box: 2 boxes, 2 statuses, 1 digits"):
        in_words(boxes_at([0, 45]), [OK, NOT], OK, NOT, [1])


def test_generators_are_read_as_the_lists_they_hold():
    """Statuses and digits given as generators (read twice inside) give the same answer as lists."""
    hello = boxes_at([0, 45, 90, 135, 180])
    statuses, digits = [NOT, NOT, OK, OK, OK], [None, None, 1, 1, 0]
    expected = in_words(hello, statuses, OK, NOT, digits)
    assert expected == [NOT] * 5
    assert in_words(iter(hello), (s for s in statuses), OK, NOT, (d for d in digits)) == expected


def test_a_short_1_beside_digits_is_a_tick_not_a_digit():
    """A 1 under half the line's height (a comma, a pen's lift) is dropped; a full-height 1 and a lone 1 stay."""
    from runtime.words import SHORT_ONE

    line = [(0, 0, 40, 100), (50, 0, 40, 100), (100, 40, 10, int(SHORT_ONE * 100) - 1), (120, 0, 40, 100)]
    assert in_words(line, [OK] * 4, OK, NOT, [8, 0, 1, 7]) == [OK, OK, NOT, OK]
    tall_one = line[:2] + [(100, 0, 10, 95)] + line[3:]
    assert in_words(tall_one, [OK] * 4, OK, NOT, [8, 0, 1, 7]) == [OK] * 4
    half = line[:2] + [(100, 40, 10, int(SHORT_ONE * 100))] + line[3:]  # at the limit: kept
    assert in_words(half, [OK] * 4, OK, NOT, [8, 0, 1, 7]) == [OK] * 4
    assert in_words([(100, 40, 10, 30)], [OK], OK, NOT, [1]) == [OK]  # alone: nothing to be short beside
    assert in_words(line, [OK] * 4, OK, NOT, [8, 0, 7, 7]) == [OK] * 4  # only a 1 is a tick


def test_ticks_outnumbering_the_digits_are_still_ticks():
    """Fifteen short ticks before "305" (attack review): the line's height is its tall glyphs', not the ticks'."""
    ticks = [(20 + 25 * i, 120, 3, 25) for i in range(15)]
    digits = [(400, 80, 40, 62), (445, 80, 40, 62), (490, 80, 40, 62)]
    statuses = in_words(ticks + digits, [OK] * 18, OK, NOT, [1] * 15 + [3, 0, 5])
    assert statuses == [NOT] * 15 + [OK] * 3
    assert in_words(ticks, [OK] * 15, OK, NOT, [1] * 15) == [OK] * 15  # ticks alone: 1s, nothing taller beside them


def test_a_0_beside_one_letter_of_its_size_is_an_o():
    """"OK", "NO": a pair of one height and top whose one glyph reads as a letter and the other as a 0 is a word
    (field test: 10 of seed 0's and 7's 250 non-digit frames showed a 0 for OK); a 0 beside a smaller letter
    ("0u", "0n", "0=") stays a digit, and so does a 1 beside a letter of its size (A1)."""
    ok = [(0, 0, 66, 108), (80, 2, 76, 104)]
    assert in_words(ok, [OK, NOT], OK, NOT, [0, None]) == [NOT, NOT]
    assert in_words(ok[::-1], [NOT, OK], OK, NOT, [None, 0]) == [NOT, NOT]  # NO
    assert in_words(ok, [OK, NOT], OK, NOT, [1, None]) == [OK, NOT]  # 1 beside a letter: A1
    small_u = [(0, 0, 90, 78), (100, 32, 52, 50)]
    assert in_words(small_u, [OK, NOT], OK, NOT, [0, None]) == [OK, NOT]
    lower = [(0, 0, 66, 100), (80, 20, 66, 100)]  # of one height, but one sits a fifth lower
    assert in_words(lower, [OK, NOT], OK, NOT, [0, None]) == [OK, NOT]


def test_a_digit_among_letters_spaced_like_them_is_a_letter():
    """"W A T E R" written far apart with the W read as a 4: three or more letters, at least twice the digits
    (a 0 or a 1 counting half), make the spaced-out line a word; "3 + 4 = 7" and "A 1 2" keep their digits."""
    spaced = boxes_at([0, 120, 240, 360, 480])
    assert in_words(spaced, [OK, NOT, NOT, NOT, NOT], OK, NOT, [4, None, None, None, None]) == [NOT] * 5
    hello = [OK, NOT, NOT, NOT, OK], [4, None, None, None, 0]  # H read as 4, O as 0: 3 letters, 1.5 digits
    assert in_words(spaced, *hello[:1], OK, NOT, hello[1]) == [NOT] * 5
    sum_line = [OK, NOT, OK, NOT, OK], [3, None, 4, None, 7]
    assert in_words(spaced, *sum_line[:1], OK, NOT, sum_line[1]) == sum_line[0]
    assert in_words(spaced[:3], [NOT, OK, OK], OK, NOT, [None, 1, 2]) == [NOT, OK, OK]
    two_letters = [OK, NOT, NOT, OK, OK], [7, None, None, 4, 2]  # only two letters: not a word
    assert in_words(spaced, *two_letters[:1], OK, NOT, two_letters[1]) == two_letters[0]


def test_unsure_digits_are_not_letters_for_the_pair_and_spaced_rules():
    """A page's line "3913490" whose 9 is read unsure keeps its 0, and a line of digits read unsure is not made a
    word by them (bench reader's pages, seed 0: both were lost before the model's own "not a digit" was asked
    for); the same glyphs read as letters are a word."""
    line = [(50 * i, 0, 40, 40) for i in range(7)]
    line[6] = (300, 0, 40, 40)  # the 0 tight after the unsure 9: a pair of one size
    statuses, digits = [OK] * 5 + [NOT, OK], [3, 9, 1, 3, 4, 9, 0]
    assert in_words(line, statuses, OK, NOT, digits, [False] * 7) == statuses
    pair = [(0, 0, 40, 40), (44, 0, 40, 40)]
    assert in_words(pair, [NOT, OK], OK, NOT, [9, 0], [False, False]) == [NOT, OK]
    assert in_words(pair, [NOT, OK], OK, NOT, [None, 0], [True, False]) == [NOT, NOT]
    spaced = boxes_at([0, 120, 240, 360, 480])
    garbled = [OK, NOT, NOT, NOT, OK], [0, 1, 5, 4, 7]
    assert in_words(spaced, *garbled[:1], OK, NOT, garbled[1], [False] * 5) == garbled[0]
    assert in_words(spaced, *garbled[:1], OK, NOT, garbled[1], [False, True, True, True, False]) == [NOT] * 5


def test_a_0_and_a_letter_of_its_size_written_apart_are_a_word_too():
    """"O  K" spaced half a letter apart (field test, seed 7: 2 of 100 non-digit frames showed a 0); "0  K" with
    another digit on the line, or a 0 beside a smaller letter, keeps the 0."""
    spaced_ok = [(206, 194, 122, 132), (392, 212, 114, 122)]
    assert in_words(spaced_ok, [OK, NOT], OK, NOT, [0, None], [False, True]) == [NOT, NOT]
    with_digit = spaced_ok + [(600, 194, 100, 130)]
    assert in_words(with_digit, [OK, NOT, OK], OK, NOT, [0, None, 7], [False, True, False])[0] == OK
    smaller = [(206, 194, 122, 132), (392, 250, 80, 76)]
    assert in_words(smaller, [OK, NOT], OK, NOT, [0, None], [False, True]) == [OK, NOT]


def test_a_sure_digit_among_spaced_letters_keeps_its_line():
    """A form filled in one character to a box ("T E L 7", attack review: 4 of 100 pen-drawn forms kept their
    number before): a digit other than a 0 or 1 read surely is not a letter however many letters surround it; W A T
    E R with its W read as a 4 unsurely is still a word."""
    spaced = boxes_at([0, 120, 240, 360])
    statuses, digits, letters = [NOT, NOT, NOT, OK], [None, None, None, 7], [True, True, True, False]
    assert in_words(spaced, statuses, OK, NOT, digits, letters, [0.0, 0.0, 0.0, 0.999]) == statuses
    assert in_words(spaced, statuses, OK, NOT, digits, letters, [0.0, 0.0, 0.0, 0.9]) == [NOT] * 4


def test_a_line_with_letters_and_no_sure_digit_is_writing():
    """"A B C" with its B read as an 8 at 0.88, "+ = #" with the # cut into a 7 and a 4 read at 0.82-0.85 (field
    test, seed 7: 5 of 100 frames without a digit reported one so): the line holds no digit. One digit read at 0.9 or more keeps the line's digits; one letter or symbol beside unsure digits
    ("5%", "A 23", a 7 beside a hair: attack review, 6 of 140 such numbers lost with one letter counting) keeps
    them too; unsure digits with no letter among them are left to the other rules, and without confidences the
    rule does not apply."""
    line = boxes_at([0, 45, 90, 135, 180])
    statuses, letters = [NOT, NOT, OK, OK, OK], [True, True, False, False, False]
    unsure, digits = [0.0, 0.0, 0.85, 0.7, 0.6], [None, None, 2, 7, 4]  # not 0 or 1: the word rule keeps them
    assert in_words(line, statuses, OK, NOT, digits, letters, unsure) == [NOT] * 5
    assert in_words(line, statuses, OK, NOT, None, letters, unsure) == [NOT] * 5  # without digits too
    one_sure = [0.0, 0.0, 0.85, 0.92, 0.6]
    assert in_words(line, statuses, OK, NOT, [None, None, 2, 3, 5], letters, one_sure) == statuses
    a_23 = boxes_at([0, 120, 160])  # one letter beside two unsure digits
    assert in_words(a_23, [NOT, OK, OK], OK, NOT, [None, 2, 3], [True, False, False], [0.0, 0.84, 0.86]) == \
        [NOT, OK, OK]
    assert in_words(line, [OK] * 5, OK, NOT, [4, 7, 2, 0, 3], [False] * 5, [0.6] * 5) == [OK] * 5
    assert in_words(line, statuses, OK, NOT, [None, None, 2, 3, 5], letters) == statuses
    apart = [(0, 0, 40, 100), (60, 0, 40, 100), (400, 0, 40, 100)]  # a digit far from the letters, on their line
    assert in_words(apart, [NOT, NOT, OK], OK, NOT, [None, None, 6], [True, True, False], [0.0, 0.0, 0.89]) == \
        [NOT] * 3


def test_odd_arguments_get_a_clear_error():
    """Attack review: NaN, inf, 1.5 or "55" as confidences, "False" as a letter, None as a status or a digit
    of 12 were taken silently (a NaN beside a letter wiped the line, "False" counted as a letter), and None
    for the boxes or 10**400 as a confidence raised deep inside."""
    two = boxes_at([0, 45])
    for confidences in ([float("nan"), 0.5], [float("inf"), 0.5], [1.5, 0.5], [-0.1, 0.5], "55", ["0.9", 0.5],
                        [10 ** 400, 0.5], [None, 0.5], 0.9):
        with pytest.raises(ValueError, match="confidences"):
            in_words(two, [OK, OK], OK, NOT, [1, 2], [False, False], confidences)
    for letters in (["False", "False"], [0.5, 0], [None, False], "ab"):
        with pytest.raises(ValueError, match="letters"):
            in_words(two, [OK, OK], OK, NOT, [1, 2], letters, [0.5, 0.5])
    for digits in ([12, 2], [-1, 2], ["1", 2], [1.5, 2]):
        with pytest.raises(ValueError, match="digits"):
            in_words(two, [OK, OK], OK, NOT, digits)
    for statuses in ([None, OK], "ab", None):
        with pytest.raises(ValueError, match="statuses"):
            in_words(two, statuses, OK, NOT)
    with pytest.raises(ValueError, match="boxes"):
        in_words(None, [OK], OK, NOT)
    # Final attack review: a 0-d array raised NumPy's TypeError, a set paired statuses with boxes in no order,
    # and a bool or complex passed as a confidence.
    for name, odd in (("boxes", np.array(5)), ("statuses", {OK, NOT})):
        with pytest.raises(ValueError, match=name):
            in_words(odd if name == "boxes" else two, odd if name == "statuses" else [OK, OK], OK, NOT)
    for confidences in (np.array(0.5), [True, 0.5], np.array([0.5, 0.5], np.complex64)):
        with pytest.raises(ValueError, match="confidences"):
            in_words(two, [OK, OK], OK, NOT, [1, 2], [False, False], confidences)
    # NumPy's own numbers and arrays are taken as the lists they hold.
    assert in_words(np.array(two), np.array([OK, OK]), OK, NOT, np.array([1, 2]), np.array([False, False]),
                    np.array([0.5, 0.95], np.float32)) == [OK, OK]


def test_two_o_pairs_on_one_line_are_both_words():
    """"OK OK", "NO NO", "OK NO": each pair's O is no "other digit" for the other pair (attack review)."""
    line = [(0, 0, 40, 100), (45, 0, 40, 100), (200, 0, 40, 100), (245, 0, 40, 100)]
    assert in_words(line, [OK, NOT, OK, NOT], OK, NOT, [0, 4, 0, 4], [False, True, False, True]) == [NOT] * 4
    assert in_words(line, [OK, NOT, OK, OK], OK, NOT, [0, 4, 3, 5], [False, True, False, False]) == \
        [OK, NOT, OK, OK]  # "0K 35": a number on the line keeps the 0


def test_odd_boxes_get_a_clear_error():
    with pytest.raises(ValueError, match="four numbers"):
        in_words([(0, 0, 40)], [OK], OK, NOT)
    with pytest.raises(ValueError, match="no negative width or height"):
        in_words([(0, 0, 40, -5)], [OK], OK, NOT, [1])
    for odd in ["1234", (0, 0, float("inf"), 40)]:
        with pytest.raises(ValueError, match="four numbers"):
            in_words([odd], [OK], OK, NOT)
    with pytest.raises(ValueError, match="confidences are probabilities"):
        in_words(boxes_at([0]), [OK], OK, NOT, [1], [False], [None])
    assert words(b for b in boxes_at([0, 45])) == [[0, 1]]  # a generator, as in_words takes
