"""runtime/preprocess.py: camera frames of real MNIST digits come back as MNIST, and nothing crashes it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.predictor import NO_DIGIT, load_predictor
from runtime.preprocess import FrameError, find_digits, to_gray, to_mnist_28x28
from camera_demo.synthetic import blank_paper, render, textured


@pytest.fixture(scope="module")
def int8():
    return load_predictor("tflite-int8")


def test_round_trip_of_500_test_digits_photographed_on_paper(mnist, int8):
    """Dark ink on light paper, lighting gradient, noise, blur, JPEG: >= 98 % read right.

    The first 500 digits (rendering a frame costs 20x reading it; `mnist-edge bench field` measures the
    reader on thousands of frames).
    """
    rng = np.random.default_rng(2026)
    correct, no_digit = 0, 0
    indices = range(500)
    for i in indices:
        frame = render([mnist.x_test[i]], [int(mnist.y_test[i])], rng)
        image = to_mnist_28x28(frame.image)
        if image is None:
            no_digit += 1
            continue
        assert image.shape == (28, 28) and image.dtype == np.uint8
        correct += int(int8.predict(image[None])[0].argmax() == mnist.y_test[i])
    assert correct / len(indices) >= 0.98, f"{correct} of {len(indices)} right, {no_digit} not found"


def test_output_follows_the_mnist_convention(mnist):
    frame = render([mnist.x_test[3]], [int(mnist.y_test[3])], np.random.default_rng(5)).image
    image = to_mnist_28x28(frame).astype(np.float64)
    ys, xs = np.nonzero(image)
    # White on black, digit inside the central 20x20-ish box, centre of mass at the centre.
    assert image[0].sum() == 0 and image[-1].sum() == 0 and image.max() >= 250
    assert max(ys.max() - ys.min(), xs.max() - xs.min()) <= 22
    grid_y, grid_x = np.mgrid[0:28, 0:28]
    cy, cx = (image * grid_y).sum() / image.sum(), (image * grid_x).sum() / image.sum()
    assert abs(cy - 13.5) < 0.6 and abs(cx - 13.5) < 0.6


def test_multi_digit_frames_are_read_left_to_right(mnist, int8):
    rng = np.random.default_rng(7)
    right = 0
    for k in range(100):
        n = int(rng.integers(2, 5))
        idx = rng.choice(10000, n, replace=False)
        frame = render([mnist.x_test[i] for i in idx], [int(mnist.y_test[i]) for i in idx], rng, digit_height=(90, 150))
        reading = int8.read_digits(frame.image)
        boxes = [d.box[0] for d in reading.digits]
        assert boxes == sorted(boxes)
        right += int(reading.number == "".join(str(v) for v in frame.labels))
    assert right >= 93, f"{right} of 100 multi-digit numbers read right"


def test_ruled_lines_are_ignored(mnist, int8):
    """100 digits on ruled paper (camera_demo/synthetic). 95 right before the heavy-JPEG mode, 93 with it: the
    renderer's JPEG at quality 55-90 of frames with little noise reads as blocky on some of these frames."""
    rng = np.random.default_rng(11)
    right = 0
    for i in range(100):
        frame = render([mnist.x_test[i]], [int(mnist.y_test[i])], rng).image.copy()
        for y in range(30, frame.shape[0], 60):  # blue-grey ruled lines across the page, through the digit too
            cv2.line(frame, (0, y), (frame.shape[1] - 1, y), (150, 120, 110), 2)
        prediction = int8.predict_digit(frame)
        right += int(prediction.digit == mnist.y_test[i])
    assert right >= 92


@pytest.mark.parametrize("make", [blank_paper, textured], ids=["blank", "textured"])
def test_frames_without_a_digit_say_no_digit(make, int8):
    rng = np.random.default_rng(3)
    for _ in range(40):
        prediction = int8.predict_digit(make(rng))
        assert prediction.status == NO_DIGIT and prediction.digit is None


def test_low_confidence_is_not_reported_as_a_digit(mnist, int8):
    """Just below its confidence a reading is not reported as a digit ("not a digit" for a model with that
    output, "low confidence" for a 10-output one), with a best guess only; at it, "ok"."""
    frame = render([mnist.x_test[0]], [7], np.random.default_rng(4)).image
    read = int8.predict_digit(frame, min_confidence=0.0)
    assert read.status == "ok" and read.digit == 7
    confidence = read.confidence
    assert 0.0 < confidence < 1.0  # an int8 output tops out at 255/256, so a threshold above it exists
    above = int8.predict_digit(frame, min_confidence=float(np.nextafter(confidence, 1.0)))
    assert above.status == ("not a digit" if int8.rejects_non_digits else "low confidence")
    assert above.digit is None and above.best_guess == 7 and above.confidence == confidence
    at = int8.predict_digit(frame, min_confidence=confidence)
    assert at.status == "ok" and at.digit == 7


def test_frame_formats_are_accepted(mnist):
    frame = render([mnist.x_test[0]], [7], np.random.default_rng(0)).image
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    variants = [frame, gray, gray[..., None], cv2.cvtColor(frame, cv2.COLOR_BGR2BGRA),
                gray.astype(np.uint16) * 257, gray.astype(np.float32) / 255.0]
    reference = to_mnist_28x28(gray)
    for variant in variants:
        image = to_mnist_28x28(variant)
        assert image is not None and np.abs(image.astype(int) - reference.astype(int)).mean() < 3


@pytest.mark.parametrize("bits", [10, 12, 16])
def test_a_10_or_12_bit_sensor_frame_in_uint16_reads_like_its_8_bit_version(mnist, int8, bits):
    """Machine-vision and Pi HQ cameras deliver 10- or 12-bit values in uint16: read by their own top 8 bits,
    not as a black frame (the 16-bit rule's >> 8 left a 10-bit frame at 0-3)."""
    frame = render([mnist.x_test[0]], [7], np.random.default_rng(0)).image
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    deep = (gray.astype(np.uint16) << (bits - 8)) | np.uint16((1 << (bits - 8)) - 1)
    assert to_gray(deep).tolist() == gray.tolist()
    assert int8.read_digits(deep).number == int8.read_digits(gray).number == "7"


def test_a_hot_pixel_or_an_opaque_16_bit_alpha_does_not_darken_a_10_bit_frame(mnist, int8):
    """The bit depth comes from the colour's 99.9th percentile: one pixel at 65535, or an alpha channel at
    65535 beside 10-bit colour, leaves the frame as bright as its 8-bit version (the hot pixel saturates)."""
    frame = render([mnist.x_test[0]], [7], np.random.default_rng(0)).image
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    ten = gray.astype(np.uint16) << 2
    hot = ten.copy()
    hot[0, 0] = 65535
    assert to_gray(hot)[1:].tolist() == gray[1:].tolist() and to_gray(hot)[0, 0] == 255
    bgra = np.dstack([frame.astype(np.uint16) << 2, np.full(gray.shape, 65535, np.uint16)])
    assert np.abs(to_gray(bgra).astype(int) - gray.astype(int)).max() <= 1
    assert int8.read_digits(bgra).number == "7"


def test_writing_only_in_the_alpha_of_a_16_bit_picture_is_read(mnist, int8):
    """Black colour everywhere, the digit drawn in a 16-bit alpha channel (a PNG exported from a drawing app): the
    colour's bit depth (0 bits) saturated the alpha, so its faint ground (2000 of 65535) became opaque black and the
    frame read "no digit" (the attack review)."""
    alpha = np.maximum(np.pad(cv2.resize(mnist.x_test[0], (200, 200)), 60).astype(np.uint16) * 257, 2000)
    bgra = np.dstack([np.zeros((*alpha.shape, 3), np.uint16), alpha])
    assert int8.read_digits(bgra).number == int8.read_digits((bgra >> 8).astype(np.uint8)).number == "7"


@pytest.mark.parametrize(
    "frame, message",
    [
        (None, "no frame"),
        (np.zeros((0, 0, 3), np.uint8), "empty frame"),
        (np.zeros((1, 1), np.uint8), "too small"),
        (np.zeros((4, 4, 4, 4), np.uint8), "must be HxW"),
        (np.zeros((40, 40, 2), np.uint8), "must be HxW"),
        (np.full((40, 40), np.nan, np.float32), "NaN"),
        (np.zeros((40, 40), np.complex64), "unsupported frame dtype"),
    ],
)
def test_bad_frames_give_specific_errors(frame, message):
    with pytest.raises(FrameError, match=message):
        to_gray(frame)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    height=st.integers(1, 300), width=st.integers(1, 300), channels=st.sampled_from([None, 1, 3, 4]),
    kind=st.sampled_from(["uint8", "float32", "uint16"]), seed=st.integers(0, 2**32 - 1),
    pattern=st.sampled_from(["noise", "flat", "blobs", "stripes"]),
)
def test_random_frames_never_crash(height, width, channels, kind, seed, pattern):
    rng = np.random.default_rng(seed)
    shape = (height, width) if channels is None else (height, width, channels)
    if pattern == "noise":
        frame = rng.random(shape)
    elif pattern == "flat":
        frame = np.full(shape, rng.random())
    elif pattern == "stripes":
        frame = np.broadcast_to((np.arange(width) // max(1, width // 7) % 2).astype(float)[None, :, None][..., :1], (height, width, 1))
        frame = frame[..., 0] if channels is None else np.repeat(frame, channels, axis=2)
    else:
        frame = (rng.random(shape) > 0.97).astype(float)
    frame = {"uint8": (frame * 255).astype(np.uint8), "float32": frame.astype(np.float32),
             "uint16": (frame * 65535).astype(np.uint16)}[kind]
    try:
        crops = find_digits(frame)
    except FrameError:
        assert min(height, width) < 16
        return
    for crop in crops:
        x, y, w, h = crop.box
        assert crop.image.shape == (28, 28) and crop.image.dtype == np.uint8
        assert 0 <= x and 0 <= y and x + w <= width + 2 and y + h <= height + 2


def test_mnist_style_28x28_images_are_read_too(mnist, int8):
    """A small image is one digit's crop: MNIST's own 28x28 test images come through the frame path."""
    right = sum(int8.predict_digit(mnist.x_test[i]).digit == mnist.y_test[i] for i in range(1000))
    assert right >= 985


@pytest.mark.parametrize("ink, ground", [(20, 0), (235, 255)])
def test_writing_on_a_transparent_background_is_read(ink, ground, int8):
    """A BGRA PNG with dark (or light) strokes on a transparent background whose colour is black (or white),
    the way drawing apps save it: the transparent parts are laid on a contrasting ground, not read as colour."""
    frame = np.zeros((240, 320, 4), np.uint8)
    frame[..., :3] = ground
    cv2.putText(frame, "42", (60, 190), cv2.FONT_HERSHEY_SIMPLEX, 5, (ink, ink, ink, 255), 12)
    assert int8.read_digits(frame).number == "42"


def test_small_writing_is_read_again_finer_within_the_work_area_and_never_coarser(monkeypatch):
    """The second reading's working side: the scale that makes the writing WRITING_PX tall, at most the frame's
    own and MAX_WORK_AREA; a frame with no finer scale (at working size already, or a long strip) is read once."""
    import runtime.preprocess as pp

    calls = []

    from runtime.segment import Found

    def found_at(full, work_side, classify, finer, area=None):
        calls.append((full.shape, round(work_side, 1), finer, area and round(area, 2)))
        digit = Found((1, 2, 3, 4), 0, np.zeros((28, 28), np.uint8))
        return (None if finer else [digit]), max(1.0, min(full.shape) / work_side), 8.0

    monkeypatch.setattr(pp, "_found_at", found_at)
    for shape in [(3024, 4032), (480, 640), (240, 320), (480, 120000)]:
        pp.find_digits(np.full(shape, 200, np.uint8))
    finest_12mp = (pp.MAX_WORK_AREA * 3 / 4) ** 0.5
    # the finer reading keeps the budgets of the working size: 320x240 = 1 unit
    assert calls == [((3024, 4032), 240, True, None),
                     ((3024, 4032), round(min(finest_12mp, 240 * pp.WRITING_PX / 8), 1), False, 1.0),
                     ((480, 640), 240, True, None), ((480, 640), 480, False, 1.0),
                     ((240, 320), 240, False, None), ((480, 120000), 240, False, None)]


def test_a_finer_reading_that_finds_nothing_falls_back_to_the_working_size(monkeypatch):
    """Specks too fine to show at working size (800 dots of 8 px on a 12 MP page, a dot grid) made the finer pass
    go over its budget of candidates and return nothing: the page read "no digit" where the working size read 33 of
    its 40 digits (the second attack review). Nothing found finer: the working size's reading."""
    import runtime.preprocess as pp
    from runtime.segment import Found

    coarse = [Found((1, 2, 3, 4), 0, np.zeros((28, 28), np.uint8))]
    calls = []

    def found_at(full, work_side, classify, finer, area=None):
        calls.append((round(work_side), finer))
        if finer:
            return None, min(full.shape) / 240, 8.0
        return (coarse if work_side == 240 else []), min(full.shape) / work_side, None

    monkeypatch.setattr(pp, "_found_at", found_at)
    crops = pp.find_digits(np.full((3024, 4032), 200, np.uint8))
    assert calls == [(240, True), (960, False), (240, False)]
    assert [c.box for c in crops] == [tuple(round(v * 3024 / 240) for v in (1, 2, 3, 4))]
