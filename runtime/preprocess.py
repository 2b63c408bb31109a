"""Camera frame -> 28x28 digits the way MNIST was made, in reading order.

The steps, each in its own module: grayscale at working size; lighting
flattened and ink found against the frame's own noise with hysteresis
(runtime/ink.py; on a heavily JPEG-compressed frame weak ink must also hold
its own against the strokes of its block); ruled and squared lines removed (runtime/rules.py); text
lines grouped, specks dropped, pieces joined, touching digits split by
recognition (runtime/lines.py, runtime/segment.py); each digit brought to the
MNIST convention (runtime/mnist_style.py). Cost is linear in frame area.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from runtime.ink import (BLOCKY, BLOCKY_NEIGHBOURHOOD, BLOCKY_STROKE_EDGE, LINE_SEED_SIGMAS, SEED_SIGMAS,
                         SMALL_FRAME_SIDE, STROKE_EDGE, STROKE_NEIGHBOURHOOD, WORK_SIDE, along_strokes, blockiness,
                         faint_seeds, flatten_with_paper, hysteresis, in_paper_terms, ink_masks, ink_signal, is_faint,
                         light_steps, noise_of_signal, sample_counts)
from runtime.ink import working_gray as _working_gray
from runtime.mnist_style import fit_to_mnist
from runtime.rules import remove_rules
from runtime.scale import MAX_WORK_AREA, WRITING_PX, is_small_writing, writing_height
from runtime.segment import Classify, find_in_mask, one_digit_in_mask

__all__ = ["FrameError", "DigitCrop", "to_gray", "working_gray", "ink_signal", "ink_mask",
           "fit_to_mnist", "find_digits", "to_mnist_28x28", "WORK_SIDE"]

MIN_FRAME_SIDE = 16  # below this there is nothing to read

class FrameError(ValueError):
    """A frame that cannot be a picture: empty, 1-pixel, wrong dtype or shape."""


@dataclass(frozen=True)
class DigitCrop:
    """One digit found in a frame: its box (x, y, w, h in frame pixels) and its MNIST-style 28x28 image."""

    box: tuple[int, int, int, int]
    image: np.ndarray  # uint8 (28, 28), white on black
    line: int = 0  # text line, 0 = top
    probabilities: np.ndarray | None = None  # the classifier's output when splitting already read it
    dot: str = ""  # where it has a dot of its own: "above", "below" or "" (an i, j, ! or ?: runtime/dots.py)


def to_gray(frame) -> np.ndarray:
    """Any frame (gray, BGR, BGRA; uint8, uint16 (16, 12 or 10 bits used) or float 0-1) -> uint8 gray, with clear errors."""
    if frame is None:
        raise FrameError("no frame (None): the camera or file returned nothing")
    frame = np.asarray(frame)
    if frame.size == 0:
        raise FrameError(f"empty frame of shape {frame.shape}")
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[..., 0]
    if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] not in (3, 4)):
        raise FrameError(f"a frame must be HxW, HxWx1, HxWx3 or HxWx4, got shape {frame.shape}")
    if min(frame.shape[:2]) < MIN_FRAME_SIDE:
        raise FrameError(f"frame of {frame.shape[1]}x{frame.shape[0]} pixels is too small (min {MIN_FRAME_SIDE})")
    if frame.dtype == np.uint16:  # 16-bit, or a 10/12-bit sensor's values in 16 bits: its top 8 bits
        frame = _to_8_bits(frame)
    elif np.issubdtype(frame.dtype, np.floating):
        if not np.isfinite(frame).all():
            raise FrameError("frame contains NaN or infinite values")
        if frame.min() < -1e-6 or frame.max() > 1.0 + 1e-6:  # the rule of predict()'s check_images
            raise FrameError(f"float frames must lie in [0, 1], got [{frame.min():.3g}, {frame.max():.3g}]; "
                             "pass uint8 for 0-255")
        frame = np.clip(frame * 255.0 + 0.5, 0, 255).astype(np.uint8)
    elif frame.dtype == np.bool_:
        frame = frame.astype(np.uint8) * 255
    elif frame.dtype != np.uint8:
        raise FrameError(f"unsupported frame dtype {frame.dtype}; use uint8, uint16 or float in [0, 1]")
    if frame.ndim == 2:
        return np.ascontiguousarray(frame)
    if frame.shape[2] == 4:
        return _flattened_alpha(np.ascontiguousarray(frame))
    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_BGR2GRAY)


def _to_8_bits(frame: np.ndarray) -> np.ndarray:
    """uint16 -> uint8 by the bit depth the colour uses: its 99.9th percentile's bits, so one hot pixel does not
    darken a 10-bit frame; brighter values saturate. An alpha channel keeps its top 8 bits (writing drawn only in
    the alpha of a black 16-bit picture saturated to opaque)."""
    colour = frame[..., :3] if frame.ndim == 3 else frame
    step = max(1, int(np.sqrt(colour.size / 100_000)))
    top = int(np.percentile(colour[::step, ::step], 99.9))
    shift = max(0, top.bit_length() - 8)
    out = np.minimum(frame >> shift, 255).astype(np.uint8)
    if frame.ndim == 3 and frame.shape[2] == 4:  # a 16-bit alpha channel uses all 16 bits, whatever the colour's
        out[..., 3] = frame[..., 3] >> 8
    return out


def _flattened_alpha(bgra: np.ndarray) -> np.ndarray:
    """A BGRA frame as gray, its transparent parts laid on a ground that contrasts with the opaque ink
    (white under dark strokes, black under light ones): a PNG of writing on a transparent background."""
    gray = cv2.cvtColor(bgra, cv2.COLOR_BGRA2GRAY)
    alpha = bgra[..., 3]
    if alpha.min() == 255:
        return gray
    opaque = alpha > 127
    ground = 255.0 if not opaque.any() or gray[opaque].mean() < 128 else 0.0
    a = alpha.astype(np.float32) / 255.0
    return np.clip(gray * a + ground * (1.0 - a) + 0.5, 0, 255).astype(np.uint8)


def working_gray(frame) -> tuple[np.ndarray, float]:
    """Gray frame at working size, and the factor from working to frame pixels."""
    return _working_gray(to_gray(frame))


def ink_mask(signal: np.ndarray) -> np.ndarray:
    """Binary ink mask (255 = ink): noise-relative hysteresis thresholds, ruled lines removed."""
    weak, strong, above = ink_masks(signal, noise_of_signal(signal))
    mask, _, _ = hysteresis(remove_rules(weak, above), strong)
    return mask


def _in_signal(signal: np.ndarray, sigma: float, classify: Classify | None, crop: bool,
               seed_sigmas: float = SEED_SIGMAS, plain: np.ndarray | None = None, blocky: bool = False,
               counts: np.ndarray | None = None, relative: np.ndarray | None = None, finer: bool = False,
               area: float | None = None):
    """Digits in one signal: hysteresis masks, ruled lines out. With `finer` (a finer scale exists) also the
    writing's height (`writing_height`, else None), and no digits (None) when it is small writing
    (`is_small_writing`); `area`: the budgets' frame size (`runtime.segment.find_in_mask`).
    `plain`: for the faint pass, its plain line average (seeds by `runtime.ink.faint_seeds`); `blocky`: a heavily
    JPEG-compressed frame, whose weak ink is judged against the strokes of its whole block; `counts`: the
    signal's sample_counts, when already taken; `relative`: the signal in its paper's terms
    (`runtime.ink.in_paper_terms`), for the tests that weigh ink against other ink and for the digits' images."""
    edge, reach = (BLOCKY_STROKE_EDGE, BLOCKY_NEIGHBOURHOOD) if blocky else (STROKE_EDGE, STROKE_NEIGHBOURHOOD)
    weak, strong, above = ink_masks(signal, sigma, seed_sigmas, edge, reach, counts, relative)
    if plain is not None:
        strong = faint_seeds(signal, plain, sigma, strong)
    mask, labels, stats = hysteresis(remove_rules(weak, above), strong)
    if crop:  # an MNIST-style crop of one digit: all its ink is that digit
        return one_digit_in_mask(mask, labels, stats, signal), None
    height = writing_height(stats) if finer else None
    if height is not None and is_small_writing(stats, height):
        return None, height  # to be read at a finer scale
    return find_in_mask(mask, labels, stats, signal if relative is None else relative, classify, area), height


def _found_at(full: np.ndarray, work_side: float, classify: Classify | None, finer: bool,
              area: float | None = None):
    """Digits of the gray frame analysed with its shorter side at most `work_side`: (found, factor, writing
    height in working pixels or None); with `finer`, found is None when the writing is too small to read there;
    `area`: the budgets' frame size (default: this working size's)."""
    gray, factor = _working_gray(full, work_side)
    signal, sigma, paper = flatten_with_paper(gray)
    crop = min(gray.shape) < SMALL_FRAME_SIDE
    counts = sample_counts(signal)
    if not crop and is_faint(signal, sigma, counts):  # nothing stands out pixel by pixel: look along strokes (pencil)
        ridge, plain, along_sigma = along_strokes(signal)
        ridge[light_steps(gray, signal, counts).view(bool)] = 0
        found, height = _in_signal(ridge, along_sigma, classify, False, LINE_SEED_SIGMAS, plain=plain, finer=finer,
                                   area=area)
        return found, factor, height
    relative = None if paper is None else in_paper_terms(signal, paper)
    found, height = _in_signal(signal, sigma, classify, crop, blocky=blockiness(full) > BLOCKY, counts=counts,
                               relative=relative, finer=finer, area=area)
    return found, factor, height


def _found(frame, classify: Classify | None):
    """Digits of the frame at working size; small writing there (`is_small_writing`: a page of small digits in a
    large photo) is read again at the scale that makes it WRITING_PX tall, or at the frame's own, within
    MAX_WORK_AREA."""
    full = to_gray(frame)
    side = min(full.shape)
    finest = min(side, np.sqrt(MAX_WORK_AREA * side / max(full.shape)))  # a long strip may have no finer scale
    found, factor, height = _found_at(full, WORK_SIDE, classify, finer=finest > WORK_SIDE)
    if found is None:  # read finer, with the budgets (candidates, spans) of the working size: cost stays bounded
        area = full.size / factor ** 2 / (320 * 240)
        finer, finer_factor, _ = _found_at(full, min(finest, WORK_SIDE * WRITING_PX / height), classify, False, area)
        if finer:
            return finer, finer_factor
        # Nothing there: over its budget of candidates (specks too fine to show at working size, a dot grid), or
        # truly nothing. The working size's reading, as without the finer scale.
        found, factor, _ = _found_at(full, WORK_SIDE, classify, finer=False)
    return found, factor


def find_digits(frame, classify: Classify | None = None) -> list[DigitCrop]:
    """Every digit in the frame in reading order (lines top to bottom, each left to right), as MNIST 28x28.

    `classify` (a predictor's `predict`: (N, 28, 28) uint8 -> probabilities) lets
    touching digits be split where the pieces read best; without it a wide box
    is cut at its deepest valleys.
    """
    found, factor = _found(frame, classify)
    return [DigitCrop(tuple(int(round(v * factor)) for v in f.box), f.image, f.line, f.probabilities, f.dot)
            for f in found]


def to_mnist_28x28(frame) -> np.ndarray | None:
    """The frame's main digit (the largest one) as uint8 28x28 white on black, or None for "no digit"."""
    crops = find_digits(frame)
    if not crops:
        return None
    return max(crops, key=lambda c: c.box[2] * c.box[3]).image
