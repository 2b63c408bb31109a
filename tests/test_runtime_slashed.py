"""Slashed 0s (runtime/slashed.py): the slash taken out of a 0 the model does not read surely, and nothing else."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from runtime.mnist_style import fit_to_mnist
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


def written_as_slashed(mnist, count: int = 400) -> np.ndarray:
    from train.digit_forms import written_as

    return written_as(mnist.x_test[mnist.y_test == 0][:count], "slashed_0")


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
    (33.4 % no digit), 73.6 % with the slash taken out of those it does not read surely (the first 400: 243 ->
    295; MNIST train 0s slashed with another seed: 60.8 -> 73.7 % of 3,000). It makes a 0 of no MNIST test digit,
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


def test_odd_crops_phi_and_a_stricter_bar_make_no_0s(mnist, int8):
    """Attack review: a transposed (column-major) crop made OpenCV's flood fill raise; a Phi (an upright bar
    through a ring: 87.9 degrees measured) was read as 0 in 48 of 48 Hershey renderings; with min_confidence 0.9
    or 0.99 MNIST test 8s read surely at 0.98-0.99 (266, 2107) and a 6 at 0.84 (4571) became sure 0s."""
    zeros = written_as_slashed(mnist)
    for image in zeros[:50]:
        cleaned = without_slash(np.asfortranarray(image))
        assert (cleaned is None) == (without_slash(image) is None)
    int8.read_crops([DigitCrop((0, 0, 28, 28), np.asfortranarray(image), line=k) for k, image in enumerate(zeros[:50])])
    phis = []
    for font in range(8):
        big = np.zeros((200, 200), np.uint8)
        cv2.putText(big, "\u03a6", (40, 150), font, 3, 255, 2)
        ys, xs = np.nonzero(big)
        phis.append(fit_to_mnist(big[ys.min():ys.max() + 1, xs.min():xs.max() + 1]))
    assert [without_slash(phi) for phi in phis] == [None] * 8
    for bar in (0.9, 0.99):
        images = mnist.x_test[[266, 2107, 4571]]
        reading = int8.read_crops([DigitCrop((0, 0, 28, 28), image, line=k) for k, image in enumerate(images)], bar)
        assert [d.digit for d in reading.digits].count(0) == 0, bar


def test_a_0_read_without_its_slash_but_overruled_by_its_word_keeps_its_own_crop(mnist, int8):
    """A slashed 0 beside a letter of its size on a line with no other digit is an O ("OK"): its status is "not a
    digit", and its input_28x28 and probabilities are the crop as found, not the crop without its slash."""
    zeros = written_as_slashed(mnist)
    found = [k for k, d in enumerate(_read(int8, zeros)) if d == 0 and _read_plainly(int8, zeros[k:k + 1]) == [None]]
    big = np.zeros((112, 112), np.uint8)
    cv2.putText(big, "K", (14, 100), cv2.FONT_HERSHEY_SIMPLEX, 3.5, 255, 8)
    ys, xs = np.nonzero(big)
    letter = fit_to_mnist(big[ys.min():ys.max() + 1, xs.min():xs.max() + 1])
    zero = zeros[found[0]]
    reading = int8.read_crops([DigitCrop((0, 0, 40, 40), zero), DigitCrop((46, 0, 40, 40), letter)])
    first = reading.digits[0]
    assert first.status == "not a digit"
    np.testing.assert_array_equal(first.input_28x28, zero)
    np.testing.assert_allclose(first.probabilities, int8.predict(zero[None])[0])


def test_crops_of_mixed_kinds_are_read_and_a_10_output_model_takes_no_slash_out(mnist, int8):
    """Attack review: a uint8 crop beside a float or a (28, 28, 1) one made read_crops raise (stacked, the uint8
    pixels became floats of 0-255); the 10-output edge model read MNIST test 8 number 2636 (an unsure 8 at 0.54)
    as a sure 0 once its crossing was taken for a slash."""
    image = mnist.x_test[0]
    mixed = [image, image.astype(np.float32) / 255, image[..., None]]
    reading = int8.read_crops([DigitCrop((40 * k, 0, 28, 28), im, line=k) for k, im in enumerate(mixed)])
    assert [d.digit for d in reading.digits] == [int(mnist.y_test[0])] * 3
    edge = load_predictor("models/edge/mnist_edge_cnn.fp32.tflite", threads=1)
    assert edge.read_crops([DigitCrop((0, 0, 28, 28), mnist.x_test[2636])]).digits[0].digit != 0
