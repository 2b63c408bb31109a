"""Today's (pre issue 9) frame preprocessing, kept verbatim as the baseline the benchmarks compare against.

A copy of runtime/preprocess.py as of commit 90cfc92; not used by the runtime.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MIN_FRAME_SIDE = 16  # below this there is nothing to read
MIN_INK_CONTRAST = 40  # gray levels between ink and its local background; less is paper texture or noise
MIN_DIGIT_HEIGHT_FRAC = 0.06  # of the frame's shorter side
MAX_DIGIT_HEIGHT_FRAC = 0.95
BORDER_MARGIN = 2  # px; blobs touching the frame edge are cut-off objects, not digits
MAX_FILL = 0.80  # ink pixels / box area; above this it is a solid blob (shadow, object), unless thin like a 1
MIN_FILL = 0.04
MAX_WIDTH_OVER_HEIGHT = 2.0  # wider than this: a ruled line, a smear, several touching digits
MIN_HEIGHT_VS_TALLEST = 0.45  # candidates much smaller than the tallest digit are specks or punctuation
MAX_DIGITS = 12  # more candidates than this is texture, not writing
WORK_SIDE = 240  # frames are analysed with their shorter side at most this (a digit needs ~20 px)
SMALL_FRAME_SIDE = 100  # below this the frame is taken to be a crop around one digit
RULED_LINE_FRAC = 0.6  # an ink run longer than this fraction of the frame is a ruled line or an edge


class FrameError(ValueError):
    """A frame that cannot be a picture: empty, 1-pixel, wrong dtype or shape."""


@dataclass(frozen=True)
class DigitCrop:
    """One digit found in a frame: its box (x, y, w, h in frame pixels) and its MNIST-style 28x28 image."""

    box: tuple[int, int, int, int]
    image: np.ndarray  # uint8 (28, 28), white on black


def to_gray(frame) -> np.ndarray:
    """Any frame (gray, BGR, BGRA; uint8, uint16 or float 0-1) -> uint8 gray, with clear errors."""
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
    if frame.dtype == np.uint16:
        frame = (frame >> 8).astype(np.uint8)
    elif np.issubdtype(frame.dtype, np.floating):
        if not np.isfinite(frame).all():
            raise FrameError("frame contains NaN or infinite values")
        frame = np.clip(frame * 255.0 + 0.5, 0, 255).astype(np.uint8)
    elif frame.dtype == np.bool_:
        frame = frame.astype(np.uint8) * 255
    elif frame.dtype != np.uint8:
        raise FrameError(f"unsupported frame dtype {frame.dtype}; use uint8, uint16 or float in [0, 1]")
    if frame.ndim == 2:
        return np.ascontiguousarray(frame)
    code = cv2.COLOR_BGR2GRAY if frame.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
    return cv2.cvtColor(np.ascontiguousarray(frame), code)


def ink_signal(gray: np.ndarray) -> np.ndarray:
    """How much ink each pixel holds above its local background (0 = none), whatever the lighting.

    Dark ink on light paper and light ink on dark ground are both handled:
    the polarity follows the frame's median (mostly paper).
    """
    inv = 255 - gray if np.median(gray[::8, ::8]) >= 128 else gray
    side = min(gray.shape)
    if side < SMALL_FRAME_SIDE:
        # A small image is a crop of one digit (an MNIST-style 28x28 file, say): strokes are too
        # wide relative to the frame for a local background estimate; its median is the background.
        return cv2.subtract(inv, np.full_like(inv, int(np.median(inv))))
    # Background: the frame with thin strokes removed (opening wider than a stroke),
    # computed at quarter size for speed and smoothed back up.
    small = cv2.resize(inv, (max(gray.shape[1] // 4, 1), max(gray.shape[0] // 4, 1)), interpolation=cv2.INTER_AREA)
    k = max(3, (side // 4) // 12 | 1)
    background = cv2.morphologyEx(small, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    background = cv2.blur(background, (k, k))
    background = cv2.resize(background, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    return cv2.subtract(cv2.GaussianBlur(inv, (3, 3), 0), background)


def ink_mask(signal: np.ndarray) -> np.ndarray:
    """Binary ink mask (255 = ink): Otsu, never below the ink-contrast floor; ruled lines removed."""
    otsu, _ = cv2.threshold(signal, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    threshold = max(float(otsu), MIN_INK_CONTRAST / 2)
    if int(signal.max()) < MIN_INK_CONTRAST:
        return np.zeros_like(signal)
    _, mask = cv2.threshold(signal, threshold, 255, cv2.THRESH_BINARY)
    if min(signal.shape) < SMALL_FRAME_SIDE:
        return mask  # a crop of one digit has no ruled lines, and its strokes span the frame
    # Long thin horizontal or vertical runs are ruled lines or paper edges: take them out.
    w = max(15, int(RULED_LINE_FRAC * signal.shape[1]))
    h = max(15, int(RULED_LINE_FRAC * signal.shape[0]))
    lines = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (w, 1)))
    lines |= cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, h)))
    if lines.any():
        mask = cv2.subtract(mask, cv2.dilate(lines, np.ones((3, 3), np.uint8)))
    return mask


def _merge_overlapping(boxes: list[list[int]]) -> list[list[int]]:
    """Join boxes whose x-ranges overlap by half the narrower one (pieces of one digit)."""
    boxes = sorted(boxes)
    merged: list[list[int]] = []
    for box in boxes:
        if merged:
            last = merged[-1]
            overlap = min(last[0] + last[2], box[0] + box[2]) - max(last[0], box[0])
            if overlap > 0.5 * min(last[2], box[2]):
                x0, y0 = min(last[0], box[0]), min(last[1], box[1])
                x1, y1 = max(last[0] + last[2], box[0] + box[2]), max(last[1] + last[3], box[1] + box[3])
                merged[-1] = [x0, y0, x1 - x0, y1 - y0]
                continue
        merged.append(list(box))
    return merged


def find_digit_boxes(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Boxes (x, y, w, h) of the blobs that look like digits, left to right."""
    height, width = mask.shape
    side = min(height, width)
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    min_h = max(8, MIN_DIGIT_HEIGHT_FRAC * side)
    pieces = [list(map(int, stats[i, :4])) for i in range(1, count) if stats[i, 3] >= min_h / 3 and stats[i, 4] >= 6]
    candidates = []
    for x, y, w, h in _merge_overlapping(pieces):
        if h < min_h or h > MAX_DIGIT_HEIGHT_FRAC * height or w > MAX_WIDTH_OVER_HEIGHT * h:
            continue
        margin = BORDER_MARGIN if side >= SMALL_FRAME_SIDE else -1  # a crop of one digit may touch its edges
        if x <= margin or y <= margin or x + w >= width - margin or y + h >= height - margin:
            continue
        fill = np.count_nonzero(mask[y:y + h, x:x + w]) / float(w * h)
        if fill < MIN_FILL or (fill > MAX_FILL and w >= 0.35 * h):
            continue
        candidates.append((x, y, w, h))
    if not candidates or len(candidates) > MAX_DIGITS:
        return []
    tallest = max(h for _, _, _, h in candidates)
    return [b for b in candidates if b[3] >= MIN_HEIGHT_VS_TALLEST * tallest]


def fit_to_mnist(ink: np.ndarray) -> np.ndarray:
    """A tight crop of ink (0-255, white on black) -> 28x28: fit in 20x20, paste, centre by mass."""
    h, w = ink.shape
    scale = 20.0 / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(ink, (new_w, new_h), interpolation=cv2.INTER_AREA).astype(np.float32)
    canvas = np.zeros((28, 28), np.float32)
    top, left = (28 - new_h) // 2, (28 - new_w) // 2
    canvas[top:top + new_h, left:left + new_w] = small
    total = canvas.sum()
    if total > 0:
        ys, xs = np.mgrid[0:28, 0:28]
        cy, cx = (canvas * ys).sum() / total, (canvas * xs).sum() / total
        shift = np.float32([[1, 0, 13.5 - cx], [0, 1, 13.5 - cy]])
        canvas = cv2.warpAffine(canvas, shift, (28, 28), flags=cv2.INTER_LINEAR, borderValue=0)
    return np.clip(canvas + 0.5, 0, 255).astype(np.uint8)


def _crop_ink(signal: np.ndarray, mask: np.ndarray, box) -> np.ndarray:
    """Ink of one box, background zeroed, strokes stretched so their core is 255 as in MNIST."""
    x, y, w, h = box
    strokes = cv2.dilate(mask[y:y + h, x:x + w], np.ones((3, 3), np.uint8))
    ink = signal[y:y + h, x:x + w].astype(np.float32) * (strokes > 0)
    core = np.percentile(ink[mask[y:y + h, x:x + w] > 0], 60) if mask[y:y + h, x:x + w].any() else 1.0
    return np.clip(ink * (255.0 / max(core, 1.0)), 0, 255).astype(np.uint8)


def working_gray(frame) -> tuple[np.ndarray, float]:
    """Gray frame at working size, and the factor from working to frame pixels."""
    gray = to_gray(frame)
    side = min(gray.shape)
    if side <= WORK_SIDE:
        return gray, 1.0
    factor = side / WORK_SIDE
    size = (max(1, round(gray.shape[1] / factor)), max(1, round(gray.shape[0] / factor)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA), factor


def find_digits(frame) -> list[DigitCrop]:
    """Every digit in the frame, left to right, each as an MNIST-style 28x28 image."""
    gray, factor = working_gray(frame)
    signal = ink_signal(gray)
    mask = ink_mask(signal)
    crops = []
    for box in find_digit_boxes(mask):
        in_frame = tuple(int(round(v * factor)) for v in box)
        crops.append(DigitCrop(in_frame, fit_to_mnist(_crop_ink(signal, mask, box))))
    return crops


def to_mnist_28x28(frame) -> np.ndarray | None:
    """The frame's main digit (the largest one) as uint8 28x28 white on black, or None for "no digit"."""
    crops = find_digits(frame)
    if not crops:
        return None
    return max(crops, key=lambda c: c.box[2] * c.box[3]).image
