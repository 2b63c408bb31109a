"""A digit's ink -> the 28x28 MNIST convention the model was trained on.

MNIST digits are white ink on black, size-normalized to fit a 20x20 box
(aspect ratio kept, anti-aliased) and centred by centre of mass in 28x28.
"""

from __future__ import annotations

import cv2
import numpy as np

_GRID_Y, _GRID_X = np.mgrid[0:28, 0:28].astype(np.float32)
_SQUARE3 = np.ones((3, 3), np.uint8)
_LEVELS = np.arange(256, dtype=np.float32)


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
        cy, cx = (canvas * _GRID_Y).sum() / total, (canvas * _GRID_X).sum() / total
        shift = np.float32([[1, 0, 13.5 - cx], [0, 1, 13.5 - cy]])
        canvas = cv2.warpAffine(canvas, shift, (28, 28), flags=cv2.INTER_LINEAR, borderValue=0)
    return np.minimum(canvas + 0.5, 255).astype(np.uint8)  # never negative: resized and shifted ink


def stroke_image(signal: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Ink of one digit (signal and its 0/1 mask, same crop): background zeroed, core stretched to 255 as in MNIST."""
    strokes = cv2.dilate(mask, _SQUARE3)
    ink = cv2.bitwise_and(signal, signal, mask=strokes)
    core = 1.1 * cv2.mean(signal, mask)[0]  # about the 60th percentile of the ink (the mask lies within the strokes)
    stretched = np.minimum(_LEVELS * np.float32(255.0 / max(core, 1.0)), 255).astype(np.uint8)  # per grey level
    return cv2.LUT(ink, stretched)
