"""Slashed 0s (runtime/slashed.py): the slash taken out of a 0 the model does not read surely, and nothing else."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from runtime.predictor import load_predictor
from runtime.preprocess import DigitCrop
from runtime.slashed import without_slash


@pytest.fixture(scope="module")
def int8():
    return load_predictor("tflite-int8", threads=1)


def _read(predictor, images: np.ndarray) -> list[int | None]:
    """The reader's digits for crops already cut, each alone on its line (None: not read surely)."""
    reading = predictor.read_crops([DigitCrop((0, 0, 28, 28), image, line=k) for k, image in enumerate(images)])
    return [d.digit for d in reading.digits]


def _read_plainly(predictor, images: np.ndarray) -> list[int | None]:
    """The model's sure digits for the same crops, without the reader."""
    probs = predictor.predict(images)
    return [int(p[:10].argmax()) if s == "ok" else None for p, s in zip(probs, predictor.statuses(probs))]


def _drawn(*shapes) -> np.ndarray:
    """A 28x28 crop of pen strokes drawn at 112x112 (ellipses (centre, axes, angle) and lines (p, q))."""
    big = np.zeros((112, 112), np.uint8)
    for shape in shapes:
        if len(shape) == 3:
            cv2.ellipse(big, shape[0], shape[1], shape[2], 0, 360, 255, 9, cv2.LINE_AA)
        else:
            cv2.line(big, shape[0], shape[1], 255, 9, cv2.LINE_AA)
    return cv2.resize(big, (28, 28), interpolation=cv2.INTER_AREA)


def test_a_slashed_ring_loses_its_slash_and_other_shapes_are_left_alone():
    ring, slash = ((56, 56), (26, 40), 0), ((30, 100), (82, 12))
    cleaned = without_slash(_drawn(ring, slash))
    assert cleaned is not None and cleaned.shape == (28, 28) and cleaned.dtype == np.uint8
    assert without_slash(cleaned) is None  # one hole now: a plain 0
    assert without_slash(_drawn(ring)) is None  # a 0
    assert without_slash(_drawn(((56, 34), (18, 18), 0), ((56, 80), (22, 24), 0))) is None  # an 8
    assert without_slash(_drawn(ring, ((26, 56), (86, 56)))) is None  # a theta: a level bar
    assert without_slash(_drawn(ring, slash, ((20, 20), (50, 10)))) is None  # ink outside the ring off the slash
    with pytest.raises(ValueError, match="28x28 uint8"):
        without_slash(np.zeros((28, 28), np.float32))


def test_the_reader_reads_slashed_0s_and_no_more_non_digits_or_8s_as_0s(mnist, int8):
    """MNIST test 0s given a slash (train/digit_forms.py): the shipped model reads 63.7 % of all 980 surely as 0
    (33.4 % no digit), 74.5 % with the slash taken out of those it does not read surely (the first 400: 243 ->
    300; MNIST train 0s slashed with another seed: 60.8 -> 74.6 % of 3,000). It makes a 0 of no MNIST test digit,
    and of 1,500 rendered non-digits in fonts it never saw, 3 (5,000 with seed 777: 8, 0.16 %)."""
    from train.digit_forms import written_as
    from train.negatives import HELD_OUT_FONTS, render_negatives

    zeros = written_as(mnist.x_test[mnist.y_test == 0][:400], "slashed_0")
    plain, read = _read_plainly(int8, zeros).count(0), _read(int8, zeros).count(0)
    assert read >= plain + 30 and read >= 0.72 * 400, f"slashed 0s read {plain} -> {read} of 400"

    others = mnist.x_test[mnist.y_test != 0][:3000]
    made = [a == 0 and b != 0 for a, b in zip(_read(int8, others), _read_plainly(int8, others))]
    assert sum(made) == 0, f"{sum(made)} MNIST digits read as 0 by having a 'slash' taken out"

    negatives, _ = render_negatives(1500, 777, fonts=HELD_OUT_FONTS, digit_images=mnist.x_test,
                                    digit_labels=mnist.y_test)
    made = [a == 0 and b != 0 for a, b in zip(_read(int8, negatives), _read_plainly(int8, negatives))]
    assert sum(made) <= 6, f"{sum(made)} of 1,500 non-digits read as 0 by having a 'slash' taken out"
