"""Dotted glyphs (runtime/dots.py): an i, j, ! or ? is not a digit; a digit with a point or dust beside it is."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from runtime.dots import MAX_LOOSE, dots_of
from runtime.predictor import load_predictor


@pytest.fixture(scope="module")
def int8():
    return load_predictor("tflite-int8", threads=1)


def on_paper(alpha: np.ndarray, top: int = 100, left: int = 200) -> np.ndarray:
    """Ink alpha (0-1) written on plain light paper, 640x480, a little blurred as a camera would."""
    frame = np.full((480, 640), 220, np.float32)
    h, w = min(alpha.shape[0], 480 - top), min(alpha.shape[1], 640 - left)
    frame[top:top + h, left:left + w] -= 180 * alpha[:h, :w]
    return cv2.GaussianBlur(np.clip(frame, 0, 255).astype(np.uint8), (3, 3), 0)


def mnist_alpha(image: np.ndarray, height: int) -> np.ndarray:
    ys, xs = np.nonzero(image)
    digit = image[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    return cv2.resize(digit, (max(1, digit.shape[1] * height // digit.shape[0]), height)).astype(np.float32) / 255.0


def with_dot(digit: np.ndarray, where: str, radius: int) -> np.ndarray:
    """A digit's alpha with a round dot centred above it, below it, or beside its foot (a decimal point)."""
    canvas = np.zeros((220, digit.shape[1] + 80), np.float32)
    canvas[50:170, 20:20 + digit.shape[1]] = digit
    centre = {"above": (20 + digit.shape[1] // 2, 30), "below": (20 + digit.shape[1] // 2, 190),
              "beside": (20 + digit.shape[1] + 25, 165)}[where]
    cv2.circle(canvas, centre, radius, 1.0, -1, cv2.LINE_AA)
    return canvas


def digits_read(int8, frame) -> str:
    return "".join(str(d.digit) for d in int8.read_digits(frame).digits if d.status == "ok")


def test_i_j_exclamation_and_question_marks_are_not_digits(int8):
    """Printed and pen-drawn i, j, ! and ? (TrueType and Hershey fonts, 20 each): before the dot was looked at,
    17, 11, 19 and 0 of them reported a digit (the i and ! as a 1); 11, 7, 11 and 0 now. The rest sit closer to
    their dot than their stroke is wide, as a pen's skip does (`test_a_1_or_7_whose_pen_skipped_is_still_read`)."""
    from bench.field_scenes import text_hershey, text_ttf

    reporting = {}
    for mark in "ij!?":
        for k in range(20):
            rng = np.random.default_rng(2000 + k)
            alpha = (text_ttf if k % 2 == 0 else text_hershey)(mark, rng.uniform(80, 160), rng)
            if digits_read(int8, on_paper(alpha, 120)):
                reporting[mark] = reporting.get(mark, 0) + 1
    assert sum(reporting.values()) <= 32, f"marks reporting a digit (of 20 each): {reporting}"


def test_a_digit_with_a_point_beside_it_or_a_dot_over_a_3_is_still_read(mnist, int8):
    """A decimal point beside a 1, 7 or 2 is not over it; a dot over any digit but a 1 (above) or a 1 or 7
    (below) does not make it a letter (dust over a 3 in the field's letters_mixed frames; a thin pen's 2 broken at
    its foot in the bench reader's frames)."""
    misread = []
    for digit, where in [(1, "beside"), (7, "beside"), (2, "beside"), (3, "above"), (3, "below"), (2, "above"),
                         (2, "below"), (7, "above")]:
        for k, index in enumerate(np.flatnonzero(mnist.y_test == digit)[:10]):
            frame = on_paper(with_dot(mnist_alpha(mnist.x_test[index], 120), where, 5 + k % 4))
            if digits_read(int8, frame) != str(digit):
                misread.append(f"{digit} {where}")
    assert len(misread) <= 3, f"{len(misread)} of 80 misread: {misread}"


def test_on_a_dusty_page_a_speck_over_a_1_is_dust(mnist, int8):
    """With more than MAX_LOOSE specks lying about, a speck over a 1 does not make it an i (the field's dusty
    frames: 19 lines lost to specks over 1s, 2s and 7s in 100 of seed 7 before this)."""
    rng = np.random.default_rng(5)
    read = read_clean = 0
    for index in np.flatnonzero(mnist.y_test == 1)[:10]:
        alpha = with_dot(mnist_alpha(mnist.x_test[index], 120), "above", 6)
        page = np.zeros((380, 440), np.float32)
        page[80:80 + alpha.shape[0], 100:100 + alpha.shape[1]] = alpha
        for _ in range(MAX_LOOSE + 3):  # dust lying about, off the 1's row (specks beside it are punctuation)
            x, y = int(rng.integers(10, 400)), int(rng.integers(10, 60))
            cv2.circle(page, (x, y), 3, 1.0, -1, cv2.LINE_AA)
        read += digits_read(int8, on_paper(page, 50, 100)) == "1"
        read_clean += digits_read(int8, on_paper(alpha, 100, 200)) == "1"
    assert read >= 8, f"a 1 with dust over it on a dusty page read in {read} of 10"
    assert read_clean <= 2, f"the same 1s with their dot on a clean page (i's) read in {read_clean} of 10"


def components(mask: np.ndarray):
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return labels, stats, list(range(1, count))


def test_a_dot_is_found_only_over_the_end_of_the_stroke_and_close_to_it():
    """The unit: a stem with a dot over its top is dotted "above"; the same dot off to the side, too far up, or
    a flat dash instead (a 5's bar), is no dot; a stem with two pieces over it (a broken stroke) has none."""
    def stem_with(dot_box):
        mask = np.zeros((120, 120), np.uint8)
        mask[40:100, 50:56] = 255  # the stem: 6 x 60
        x, y, w, h = dot_box
        mask[y:y + h, x:x + w] = 255
        return mask

    for dot_box, expected in [((49, 26, 8, 8), "above"), ((49, 106, 8, 8), "below"), ((70, 26, 8, 8), ""),
                              ((49, 2, 8, 8), ""), ((45, 30, 24, 5), "")]:
        labels, stats, ids = components(stem_with(dot_box))
        assert dots_of([(50, 40, 6, 60)], stats, ids, labels) == [expected], dot_box
    broken = stem_with((49, 26, 8, 8))
    broken[106:110, 52:58] = 255  # a second piece under the stem: a stroke broken in three, not a dotted glyph
    labels, stats, ids = components(broken)
    assert dots_of([(50, 40, 6, 60)], stats, ids, labels) == [""]
    assert dots_of([], *components(stem_with((49, 26, 8, 8)))[1:2], [1], None) == []


def test_a_tick_over_a_1_or_a_period_of_the_line_above_is_not_its_dot(mnist, int8):
    """Attack review: a short slanted tick over a 1 (0 of 20 read as 1 when any compact mark was a dot) and the
    point of "8." on the line above landing over the 1 of "81" below (14 of 20) are no i's dot."""
    ones = np.flatnonzero(mnist.y_test == 1)[:10]
    eights = np.flatnonzero(mnist.y_test == 8)[:10]
    ticked = stacked = 0
    for k, (one, eight) in enumerate(zip(ones, eights)):
        digit = mnist_alpha(mnist.x_test[one], 120)
        canvas = np.zeros((220, digit.shape[1] + 80), np.float32)
        canvas[50:170, 20:20 + digit.shape[1]] = digit
        centre = 20 + digit.shape[1] // 2
        cv2.line(canvas, (centre - 5, 40), (centre + 5, 28), 1.0, 5, cv2.LINE_AA)
        ticked += digits_read(int8, on_paper(canvas)) == "1"
        page = np.zeros((340, 260), np.float32)
        above = mnist_alpha(mnist.x_test[eight], 100)
        page[10:110, 10:10 + above.shape[1]] = above
        below = mnist_alpha(mnist.x_test[one], 100)
        x = 10 + above.shape[1] + 12
        page[140:240, x:x + below.shape[1]] = below  # line spacing 1.3 x the height
        cv2.circle(page, (x + below.shape[1] // 2, 112), 6, 1.0, -1, cv2.LINE_AA)  # "8." its point over the 1
        read = int8.read_digits(on_paper(page, 80, 180))
        stacked += [d.status for d in read.lines[-1]].count("ok") == 1 if read.lines else 0
    assert ticked >= 8, f"a 1 with a tick over it read in {ticked} of 10"
    assert stacked >= 8, f"the 1 under the point of the line above read in {stacked} of 10"


def test_punctuation_on_a_line_is_not_dust(int8):
    """"Wait...." beside an i: four periods on their line's row are punctuation, not loose dust that switches
    the dot rule off (attack review: 2 of 20 i's told before)."""
    from bench.field_scenes import text_ttf

    told = 0
    for k in range(10):
        rng = np.random.default_rng(3000 + k)
        page = np.zeros((300, 560), np.float32)
        i = text_ttf("i", 120, rng)
        page[20:20 + i.shape[0], 20:20 + i.shape[1]] = i
        wait = text_ttf("Wait....", 70, rng)
        w = min(wait.shape[1], 440)
        page[200:200 + wait.shape[0], 100:100 + w] = np.maximum(page[200:200 + wait.shape[0], 100:100 + w],
                                                                wait[:, :w])
        told += digits_read(int8, on_paper(page, 60, 40)) == ""
    assert told >= 8, f"an i beside a line ending in periods told from a 1 in {told} of 10"


def test_a_1_or_7_whose_pen_skipped_is_still_read(mnist, int8):
    """A 6 px gap cut through a 1 or a 7 10-25 % from an end (attack review: 6-9 of 20 read before a dot had to sit
    further off than the stroke is wide)."""
    misread = []
    for digit in (1, 7):
        for k, index in enumerate(np.flatnonzero(mnist.y_test == digit)[:10]):
            alpha = mnist_alpha(mnist.x_test[index], 120).copy()
            at = int((0.10 + 0.015 * k) * alpha.shape[0])
            rows = slice(at, at + 6) if k % 2 == 0 else slice(alpha.shape[0] - at - 6, alpha.shape[0] - at)
            alpha[rows] = 0
            if digits_read(int8, on_paper(alpha)) != str(digit):
                misread.append(f"{digit}/{k}")
    assert len(misread) <= 2, f"{len(misread)} of 20 skipped strokes misread: {misread}"
