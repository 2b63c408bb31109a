"""Synthetic camera frames: real MNIST digits as dark ink on paper, under uneven light, with camera noise.

Used to test preprocessing end to end, to benchmark it, and to make the
camera demo's bundled sample. Every frame is seeded and returns its truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class SyntheticFrame:
    image: np.ndarray  # uint8 BGR (H, W, 3)
    labels: tuple[int, ...]  # digits left to right
    boxes: tuple[tuple[int, int, int, int], ...]  # where each 28x28 digit tile was pasted (x, y, w, h)


def lighting(shape: tuple[int, int], rng: np.random.Generator, angle: float | None = None,
             strength: float = 0.35) -> np.ndarray:
    """Paper brightness (0-1): a linear gradient in direction `angle` plus a soft spot of light."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi) if angle is None else angle
    ramp = ((xs - w / 2) * np.cos(angle) + (ys - h / 2) * np.sin(angle)) / max(h, w)
    cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    spot = np.exp(-(((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * (0.45 * max(h, w)) ** 2)))
    light = 0.8 + strength * ramp + 0.15 * spot
    return np.clip(light, 0.35, 1.0)


# Hard shots of the bundled sample: what each changes (see `render`).
HARD_LOOKS = {
    "faint pencil": {"darkness": (0.12, 0.3)},
    "cast shadow": {"shadow": (0.45, 0.65)},
    "yellow note": {"tint": (0.55, 0.92, 1.0)},
    "ruled paper": {"rules": (38, 60)},
    "heavy JPEG": {"jpeg_quality": (6, 14)},
    "dim and noisy": {"paper_level": (50, 90), "noise": (6.0, 10.0)},
}


def _hard_shadow(size: tuple[int, int], rng: np.random.Generator, darkness: float) -> np.ndarray:
    """Light (0-1) with a hard-edged shadow: a half-plane through the frame at a random angle."""
    h, w = size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
    side = (xs - cx) * np.cos(angle) + (ys - cy) * np.sin(angle) > 0
    return cv2.GaussianBlur(np.where(side, 1.0 - darkness, 1.0).astype(np.float32), (0, 0), 1.5)


def render(digits: list[np.ndarray], labels: list[int], rng: np.random.Generator,
           size: tuple[int, int] = (480, 640), digit_height: tuple[int, int] = (110, 220),
           light_angle: float | None = None, noise: tuple[float, float] = (2.0, 7.0),
           blur: tuple[float, float] = (0.3, 1.2), jpeg_quality: tuple[int, int] = (55, 90),
           paper_level: tuple[int, int] = (185, 240), darkness: tuple[float, float] = (0.65, 0.85),
           shadow: tuple[float, float] | None = None, tint: tuple[float, float, float] | None = None,
           rules: tuple[int, int] | None = None) -> SyntheticFrame:
    """Paste MNIST digits (uint8 28x28, white on black) as ink on paper, side by side, then add camera effects.

    `darkness`: how much of the light the ink takes (faint pencil: 0.12-0.3); `shadow`: a hard-edged
    shadow this dark; `tint`: the paper's BGR colour (a yellow note); `rules`: ruled lines this far apart.
    """
    h, w = size
    paper = rng.uniform(*paper_level)
    tint = rng.uniform(0.92, 1.0, size=3) if tint is None else np.asarray(tint) * rng.uniform(0.95, 1.0, size=3)
    light = lighting(size, rng, light_angle)
    ink = np.zeros(size, np.float32)
    tile = int(rng.integers(digit_height[0], digit_height[1] + 1))
    tile = min(tile, int(0.9 * h), int(0.9 * w / max(len(digits), 1)))
    gap = int(tile * rng.uniform(-0.05, 0.15))
    total_w = len(digits) * tile + (len(digits) - 1) * gap
    x = int(rng.integers(max(1, (w - total_w) // 10), max(2, w - total_w - (w - total_w) // 10)))
    y0 = int(rng.integers(max(1, (h - tile) // 8), max(2, h - tile - (h - tile) // 8)))
    boxes = []
    for digit in digits:
        y = int(np.clip(y0 + rng.integers(-tile // 10, tile // 10 + 1), 1, h - tile - 1))
        big = cv2.resize(digit.astype(np.float32) / 255.0, (tile, tile), interpolation=cv2.INTER_CUBIC)
        ink[y:y + tile, x:x + tile] = np.maximum(ink[y:y + tile, x:x + tile], np.clip(big, 0, 1))
        boxes.append((x, y, tile, tile))
        x += tile + gap
    if shadow is not None:
        light = light * _hard_shadow(size, rng, rng.uniform(*shadow))
    page = np.ones(size, np.float32)
    if rules is not None:
        pitch, phase = rng.uniform(*rules), rng.uniform(0, 1)
        for y in np.arange(phase * pitch, h, pitch):
            cv2.line(page, (0, int(y)), (w - 1, int(y)), 0.8, 2, cv2.LINE_AA)
    gray = paper * light * page * (1.0 - rng.uniform(*darkness) * ink)
    image = np.stack([gray * t for t in tint], axis=-1)
    sigma = rng.uniform(*blur)
    image = cv2.GaussianBlur(image, (0, 0), sigma)
    image += rng.normal(0, rng.uniform(*noise), image.shape)
    image = np.clip(image, 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(*jpeg_quality))])
    image = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    return SyntheticFrame(image, tuple(int(v) for v in labels), tuple(boxes))


def blank_paper(rng: np.random.Generator, size: tuple[int, int] = (480, 640)) -> np.ndarray:
    """Paper with uneven light and noise, no writing."""
    light = lighting(size, rng)
    gray = rng.uniform(170, 240) * light + rng.normal(0, 4, size)
    return cv2.cvtColor(np.clip(gray, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def textured(rng: np.random.Generator, size: tuple[int, int] = (480, 640)) -> np.ndarray:
    """A fine, low-contrast texture (fabric, wood grain, paper fibre) with no digit."""
    noise = rng.normal(0, 1, (size[0] // 4, size[1] // 4)).astype(np.float32)
    grain = cv2.resize(noise, (size[1], size[0]), interpolation=cv2.INTER_CUBIC)
    grain = cv2.GaussianBlur(grain, (0, 0), 1.5)
    gray = 180 * lighting(size, rng) + 10 * grain / (grain.std() + 1e-6) + rng.normal(0, 3, size)
    return cv2.cvtColor(np.clip(gray, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
