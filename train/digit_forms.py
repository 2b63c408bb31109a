"""Digits as other writers form them: a 7 crossed through its stem, a 1 with a long flag, a 0 slashed.

MNIST's writers were American: its 7s are mostly uncrossed and its 1s a
single stroke, while much of Europe, Latin America and Asia crosses the 7
and starts the 1 with a long up-stroke; a model trained on MNIST alone reads
such a 1 as a 7 and such a 7 as a 4 or 9. Programmers, engineers and much of
Scandinavia slash the 0 (the shipped model, not trained on it, rejects a third of such 0s).
Each form is drawn onto a real MNIST
digit of that class with OpenCV at 4x resolution, in the digit's own stroke
width and ink, then fitted back like any crop (runtime.preprocess.fit_to_mnist).
The same code makes the test sets (from MNIST test digits, fixed seed) and
the training images (from MNIST train digits, another seed).
"""

from __future__ import annotations

import cv2
import numpy as np

from train.style_shift import UP, _refit

FORMS_SEED = 4711
FORM_DIGITS = {"crossed_7": 7, "flagged_1": 1, "slashed_0": 0}
FORM_DESCRIPTIONS = {
    "crossed_7": "MNIST test 7s with a bar across the stem at 40-60 % of the height, in the digit's own stroke",
    "flagged_1": "MNIST test 1s with a flag from the top down to the left (20-42 % of the height, 25-50 degrees from the "
                 "stem), a third also with a foot",
    "slashed_0": "MNIST test 0s with a slash through the middle, 55-80 degrees from level, 0.9-1.3 x the 0's height",
}
SLASH_ANGLE = (55, 80)  # degrees from level, rising to the right
SLASH_LENGTH = (0.9, 1.3)  # x the 0's height: from just inside the ring to well out of it
FLAG_FROM_STEM = (25, 50)  # degrees between a 1's flag and its stem (a 7's top meets its stem at about 90-120)
FLAG_LENGTH = (0.2, 0.42)  # x the 1's height
INK = 100  # at 112x112: brighter than this is the digit's ink (or than 0.4 x its brightest, for a faint digit)
FAINT_INK = 0.4


def _ink(big: np.ndarray) -> np.ndarray:
    return big > min(INK, FAINT_INK * int(big.max()))


def _pen(big: np.ndarray) -> tuple[int, int]:
    """The digit's stroke width (px at 4x) and ink level, so an added stroke looks written by the same pen."""
    ink = _ink(big).astype(np.uint8)
    dist = cv2.distanceTransform(ink, cv2.DIST_L2, 3)
    inside = dist[(dist > 0) & (dist <= max(big.shape))]  # an image all ink has no edge: its distances are huge
    width = int(np.clip(round(2 * np.percentile(inside, 90)), 4, 28)) if inside.size else 8
    level = int(np.percentile(big[ink > 0], 90)) if ink.any() else 255
    return width, level


def _stroke(big: np.ndarray, start, end, width: int, level: int) -> np.ndarray:
    layer = np.zeros_like(big)
    cv2.line(layer, tuple(int(round(v)) for v in start), tuple(int(round(v)) for v in end), level, width, cv2.LINE_AA)
    return np.maximum(big, layer)


def crossed_seven(big: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A bar across the stem of a 7 (4x image, white on black)."""
    ink = _ink(big)
    ys, xs = np.nonzero(ink)
    if len(ys) == 0:
        return big
    top, height = ys.min(), ys.max() - ys.min() + 1
    width, level = _pen(big)
    for share in np.clip(rng.uniform(0.4, 0.6) + np.array([0, 0.05, -0.05, 0.1, -0.1]), 0.3, 0.7):
        row = int(top + share * height)
        cols = np.nonzero(ink[row])[0]
        if len(cols):
            break
    else:
        return big
    # The stem is the run of ink in that row nearest the digit's middle (a 7 with a curled foot has two).
    runs = np.split(cols, np.nonzero(np.diff(cols) > 1)[0] + 1)
    centre = min((r.mean() for r in runs), key=lambda c: abs(c - xs.mean()))
    half = rng.uniform(0.16, 0.28) * height
    tilt = np.tan(np.radians(rng.uniform(-10, 6))) * half
    return _stroke(big, (centre - half, row + tilt), (centre + half * rng.uniform(0.7, 1.0), row - tilt), width, level)


def flagged_one(big: np.ndarray, rng: np.random.Generator, foot_p: float = 1 / 3) -> np.ndarray:
    """A long flag from the top of a 1 down to the left, sometimes a foot (4x image, white on black)."""
    ys, xs = np.nonzero(_ink(big))
    if len(ys) == 0:
        return big
    top, bottom = ys.min(), ys.max()
    height = bottom - top + 1
    width, level = _pen(big)
    tip = (xs[ys <= top + 0.05 * height].mean(), top + width / 3)
    base = xs[ys >= bottom - 0.05 * height].mean()
    # The flag leaves the stem at FLAG_FROM_STEM degrees, measured against the stem (a 1 leaning right keeps its
    # flag's look): against the page, a long flag on an upright stem at 30 degrees below level was a 7's top.
    length, angle = rng.uniform(*FLAG_LENGTH) * height, np.radians(rng.uniform(*FLAG_FROM_STEM))
    down = np.array([base - tip[0], bottom - tip[1]], np.float64)
    down /= np.linalg.norm(down)
    flag = np.array([down[0] * np.cos(angle) - down[1] * np.sin(angle), down[0] * np.sin(angle) + down[1] * np.cos(angle)])
    out = _stroke(big, tip, (tip[0] + length * flag[0], tip[1] + length * flag[1]), width, level)
    if rng.random() < foot_p:
        half = rng.uniform(0.15, 0.25) * height
        out = _stroke(out, (base - half, bottom - width / 3), (base + half, bottom - width / 3), width, level)
    return out


def slashed_zero(big: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A slash through the middle of a 0, rising to the right and out of the ring (4x image, white on black)."""
    ys, xs = np.nonzero(_ink(big))
    if len(ys) == 0:
        return big
    height = ys.max() - ys.min() + 1
    centre = np.array([(xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2])
    width, level = _pen(big)
    angle, half = np.radians(rng.uniform(*SLASH_ANGLE)), rng.uniform(*SLASH_LENGTH) * height / 2
    reach = half * np.array([np.cos(angle), -np.sin(angle)])
    return _stroke(big, centre - reach, centre + reach, width, level)


DRAW = {"crossed_7": crossed_seven, "flagged_1": flagged_one, "slashed_0": slashed_zero}


def _check_digits(images) -> None:
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        what = f"{images.dtype} {images.shape}" if isinstance(images, np.ndarray) else type(images).__name__
        raise ValueError(f"digits must be a uint8 array (N, 28, 28) like MNIST's, got {what}")


def written_as(images: np.ndarray, form: str, seed: int = FORMS_SEED) -> np.ndarray:
    """uint8 (N, 28, 28) digits (all of the form's class) rewritten in `form`, same order. Each image's form is
    drawn from one random stream in order: the same image at another place in the batch gets another form."""
    if not isinstance(form, str) or form not in DRAW:
        raise ValueError(f"unknown form {form!r}; choose from {', '.join(DRAW)}")
    _check_digits(images)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    rng = np.random.default_rng([seed, list(DRAW).index(form)])
    out = np.empty_like(images)
    for i, image in enumerate(images):
        big = cv2.resize(image, (28 * UP, 28 * UP), interpolation=cv2.INTER_CUBIC)
        out[i] = _refit(DRAW[form](big, rng))
    return out


def form_sets(images: np.ndarray, labels: np.ndarray, seed: int = FORMS_SEED) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each form's (images, labels), made from the digits of its class in `images`."""
    _check_digits(images)
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(images) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be one integer per digit, got {labels.dtype} {labels.shape} for {len(images)} digits")
    sets = {}
    for form, digit in FORM_DIGITS.items():
        chosen = images[labels == digit]
        sets[form] = (written_as(chosen, form, seed), np.full(len(chosen), digit, labels.dtype))
    return sets
