"""A style-shifted MNIST test set: the same test digits, written thicker, thinner, slanted or distorted.

Built with OpenCV (not the training augmentation's TensorFlow ops) at 4x
resolution, then fitted back like an MNIST digit (runtime.preprocess.fit_to_mnist),
so each style is what the runtime would hand the model for such a writer.
Fixed seed: the set is the same on every machine and run.
"""

from __future__ import annotations

import cv2
import numpy as np

from runtime.preprocess import fit_to_mnist

STYLE_SEED = 90210
UP = 4  # work at 112x112
STYLES = ("clean", "thick", "thin", "slanted", "elastic")
STYLE_DESCRIPTIONS = {
    "clean": "the MNIST test set as is",
    "thick": "strokes dilated by ~1.5 px each side at 28x28 (ellipse, radius 6 at 112x112), refitted",
    "thin": "strokes eroded by ~0.75 px each side (radius 3 at 112x112), refitted, ink stretched to full scale",
    "slanted": "sheared by +-0.3 to 0.5 (17-27 degrees, random sign), refitted",
    "elastic": "Simard elastic distortion, alpha 34 px, sigma 4 px (at 28x28 scale), refitted",
}


def _refit(big: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(big > 20)
    if len(ys) == 0:
        return np.zeros((28, 28), np.uint8)
    return fit_to_mnist(big[ys.min():ys.max() + 1, xs.min():xs.max() + 1])


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _thick(big, rng):
    return cv2.dilate(big, _disk(6))


def _thin(big, rng):
    thin = cv2.erode(big, _disk(3))
    if thin.max() == 0:
        return big
    return np.clip(thin.astype(np.float32) * (big.max() / thin.max()), 0, 255).astype(np.uint8)


def _slanted(big, rng):
    h, w = big.shape
    shear = rng.uniform(0.3, 0.5) * rng.choice([-1, 1])
    pad = int(abs(shear) * h / 2) + 2
    big = cv2.copyMakeBorder(big, 0, 0, pad, pad, cv2.BORDER_CONSTANT, value=0)
    m = np.float32([[1, shear, -shear * h / 2], [0, 1, 0]])
    return cv2.warpAffine(big, m, (big.shape[1], h), flags=cv2.INTER_LINEAR, borderValue=0)


def _elastic(big, rng, alpha: float = 34.0, sigma: float = 4.0):
    h, w = big.shape
    field = rng.uniform(-1, 1, (2, 28, 28)).astype(np.float32)
    field = np.stack([cv2.GaussianBlur(f, (0, 0), sigma) * alpha for f in field])
    dx, dy = (cv2.resize(f, (w, h), interpolation=cv2.INTER_CUBIC) * UP for f in field)
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    return cv2.remap(big, gx + dx, gy + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


TRANSFORMS = {"thick": _thick, "thin": _thin, "slanted": _slanted, "elastic": _elastic}


def style_shifted(images: np.ndarray, style: str, seed: int = STYLE_SEED) -> np.ndarray:
    """uint8 (N, 28, 28) digits rewritten in `style` (one of STYLES), same order."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; choose from {', '.join(STYLES)}")
    if style == "clean":
        return images.copy()
    rng = np.random.default_rng([seed, STYLES.index(style)])
    out = np.empty_like(images)
    for i, image in enumerate(images):
        big = cv2.resize(image, (28 * UP, 28 * UP), interpolation=cv2.INTER_CUBIC)
        fitted = _refit(TRANSFORMS[style](big, rng))
        if style == "thin" and fitted.max() > 0:
            # A thin pen is still dark ink: the runtime stretches a crop's strokes to full scale.
            fitted = np.clip(fitted.astype(np.float32) * (255.0 / np.percentile(fitted[fitted > 0], 95)), 0, 255).astype(np.uint8)
        out[i] = fitted
    return out


def style_shifted_sets(images: np.ndarray, seed: int = STYLE_SEED) -> dict[str, np.ndarray]:
    """Every style of the same digits."""
    return {style: style_shifted(images, style, seed) for style in STYLES}
