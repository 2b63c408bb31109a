"""Field-test scenes: MNIST *test* digits written on paper and photographed, under named hard conditions.

Each condition is a seeded function `(rng, pool) -> FieldSample`: the frame (uint8 BGR) and its truth,
the digit strings of its text lines top to bottom (none for a frame without digits). Digits are MNIST
test images turned into ink (alpha = pixel / 255, optionally re-stroked as a thinner pen) composited onto
textured paper, lit, and put through a camera (optics, perspective, sensor noise, JPEG).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

FRAME_SIZE = (480, 640)  # (h, w) of a camera frame
PAGE_SIZES = ((768, 1024), (960, 1280), (1200, 1600))
MAX_PAGE_DIGITS = 40
# Phone photos of a page (rows x columns): 2, 3, 5 and 12 megapixels, landscape and portrait.
PHOTO_SIZES = ((1200, 1600), (1600, 1200), (2016, 1512), (2268, 3024), (4032, 3024))
GRAPHITE_MEAN = 0.44  # mean of render()'s graphite grain multiplier (pencil ink is this much lighter on average)

# Letters that a careful reader could not tell from a digit (O/0, l/1, S/5, Z/2, B/8, g/9, b/6...)
# are left out of the non-digit material; everything else is fair game.
LETTERS = "ACEFHKLMNPRUVWXYacdefhkmnprtuvwxy"
SYMBOLS = "+=#%&@*?<>~^"
WORDS = ("HELLO", "hello", "ABC", "Hi", "OK", "yes", "WATER", "cat", "name", "Mar", "A", "+=#", "x", "Fax", "km")


@dataclass(frozen=True)
class FieldSample:
    """One generated frame and what is written on it."""

    condition: str
    image: np.ndarray  # uint8 BGR (H, W, 3)
    lines: tuple[str, ...]  # digit strings, top to bottom; () = no digit in the frame
    boxes: tuple[tuple[int, int, int, int], ...]  # each digit's box (x, y, w, h) in the frame, in truth order
    test_indices: tuple[int, ...]  # MNIST test index of each digit, in truth order


@dataclass(frozen=True)
class Glyph:
    """A mark to write: ink alpha (float 0-1), its label ("" for a non-digit), where it sits."""

    alpha: np.ndarray
    label: str = ""
    index: int = -1  # MNIST test index, -1 for a non-digit
    gap: float = 0.0  # px of space before it (negative: overlaps the previous one)
    drop: float = 0.0  # px its bottom sits below the line's baseline


@dataclass(frozen=True)
class Look:
    """Paper, pen, light and camera of one frame (reflectances are BGR, 0-1)."""

    size: tuple[int, int] = FRAME_SIZE
    paper: tuple[float, float, float] = (0.92, 0.93, 0.94)
    paper_grain: float = 0.025
    ink: tuple[float, float, float] = (0.15, 0.15, 0.17)  # reflectance of a full-strength stroke
    ink_strength: float = 1.0  # fraction of the ink's normal contrast
    pen_width: float | None = None  # px; None keeps MNIST's own stroke
    graphite: bool = False  # grainy pencil strokes
    rules: str | None = None  # "ruled" or "grid"
    rule_pitch: float = 0.0
    rule_colour: tuple[float, float, float] = (0.85, 0.72, 0.62)
    note: bool = False  # a sticky note on a desk, its edges in view
    specks: int = 0
    exposure: float = 225.0  # gray level of white paper in full light
    light: float = 0.2  # strength of the gradient and spot
    soft_shadow: float = 0.0
    hard_shadow: float = 0.0  # darkness of a hard-edged polygon shadow
    rotate: float = 0.0  # degrees
    tilt: float = 0.0  # perspective: corner offsets as a fraction of the side
    lens_blur: float = 0.6
    defocus: float = 0.0  # disc radius, px
    motion: float = 0.0  # streak length, px
    noise: float = 2.5  # read noise, gray levels
    shot_noise: float = 0.4  # x sqrt(signal)
    jpeg: int = 88
    rescale: float = 1.0  # downscaled by this before JPEG and back (messaging apps)


class DigitPool:
    """MNIST test digits by label, each as a tight ink crop (float32 0-1)."""

    def __init__(self, x_test: np.ndarray, y_test: np.ndarray):
        self.x, self.y = x_test, np.asarray(y_test).astype(int)
        self.by_label = {d: np.flatnonzero(self.y == d) for d in range(10)}

    def glyph(self, rng: np.random.Generator, height: float, label: int | None = None, **where) -> Glyph:
        pool = self.by_label[label] if label is not None else None
        index = int(rng.choice(pool)) if pool is not None else int(rng.integers(len(self.x)))
        image = self.x[index]
        ys, xs = np.nonzero(image)
        crop = image[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32) / 255.0
        return Glyph(_scaled(crop, height), str(self.y[index]), index, **where)


def _scaled(alpha: np.ndarray, height: float) -> np.ndarray:
    h, w = alpha.shape
    new_h = max(2, int(round(height)))
    new_w = max(1, int(round(w * new_h / h)))
    return np.clip(cv2.resize(alpha, (new_w, new_h), interpolation=cv2.INTER_CUBIC), 0, 1)


def slanted(alpha: np.ndarray, rng: np.random.Generator, degrees: float = 6, shear: float = 0.15) -> np.ndarray:
    """A handwriting wobble: small rotation and slant, canvas grown to keep every stroke."""
    h, w = alpha.shape
    angle, k = rng.uniform(-degrees, degrees), rng.uniform(-shear, shear)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    m[:, :2] = m[:, :2] @ np.array([[1, k], [0, 1]])
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], np.float64) @ m.T
    x0, y0 = corners.min(0)
    x1, y1 = corners.max(0)
    m[:, 2] -= (x0, y0)
    out = cv2.warpAffine(alpha, m, (int(np.ceil(x1 - x0)) + 1, int(np.ceil(y1 - y0)) + 1), flags=cv2.INTER_LINEAR)
    ys, xs = np.nonzero(out > 0.02)
    return out[ys.min():ys.max() + 1, xs.min():xs.max() + 1] if len(ys) else out


def thin(binary: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: a one-pixel, 8-connected centre line of a binary (0/1) shape."""
    img = np.pad(binary.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            p2, p3, p4, p5 = img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:], img[2:, 2:]
            p6, p7, p8, p9 = img[2:, 1:-1], img[2:, :-2], img[1:-1, :-2], img[:-2, :-2]
            ring = (p2, p3, p4, p5, p6, p7, p8, p9, p2)
            neighbours = sum(r.astype(np.int8) for r in ring[:8])
            transitions = sum(((a == 0) & (b == 1)).astype(np.int8) for a, b in zip(ring[:8], ring[1:]))
            if step == 0:
                side = ((p2 & p4 & p6) == 0) & ((p4 & p6 & p8) == 0)
            else:
                side = ((p2 & p4 & p8) == 0) & ((p2 & p6 & p8) == 0)
            drop = (img[1:-1, 1:-1] == 1) & (neighbours >= 2) & (neighbours <= 6) & (transitions == 1) & side
            if drop.any():
                img[1:-1, 1:-1][drop] = 0
                changed = True
        if not changed:
            return img[1:-1, 1:-1]


def restroke(alpha: np.ndarray, width: float) -> np.ndarray:
    """The same digit drawn with a pen `width` px wide: an anti-aliased band around its centre line."""
    binary = (alpha > 0.4).astype(np.uint8)
    if not binary.any():
        return alpha
    line = thin(binary)
    dist = cv2.distanceTransform(np.pad(1 - line, 2, constant_values=1), cv2.DIST_L2, 5)[2:-2, 2:-2]
    band = np.clip(width / 2 + 0.5 - dist, 0, 1).astype(np.float32)
    return cv2.GaussianBlur(band, (0, 0), 0.4)


# ---- non-digit material -------------------------------------------------------------------------

def require_drawing() -> None:
    """Fail now, not after minutes of frames, when Pillow (the bench extra; it draws the TrueType letters) is missing."""
    import PIL  # noqa: F401


def _ttf_fonts() -> list[Path]:
    """TrueType fonts shipped with matplotlib (DejaVu, STIX, Computer Modern)."""
    import importlib.util

    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(list(spec.submodule_search_locations)[0]) / "mpl-data" / "fonts" / "ttf"
    return sorted(p for p in folder.glob("*.ttf") if not p.name.startswith(("STIXSiz", "STIXNonUni", "cmex", "cmsy", "LastResort")))


def _tight(alpha: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(alpha > 0.02)
    return alpha[ys.min():ys.max() + 1, xs.min():xs.max() + 1] if len(ys) else alpha


def text_ttf(text: str, height: float, rng: np.random.Generator) -> np.ndarray:
    """Printed text in a TrueType font (Pillow), ink alpha with the given cap height."""
    from PIL import Image, ImageDraw, ImageFont

    fonts = _ttf_fonts()
    size = 96
    font = ImageFont.truetype(str(fonts[int(rng.integers(len(fonts)))]), size) if fonts else ImageFont.load_default(size)
    canvas = Image.new("L", (size * (len(text) + 2), size * 2), 0)
    ImageDraw.Draw(canvas).text((size // 2, size // 3), text, fill=255, font=font)
    alpha = _tight(np.asarray(canvas, np.float32) / 255.0)
    return _scaled(alpha, height)


HERSHEY = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX,
           cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SCRIPT_COMPLEX)


def text_hershey(text: str, height: float, rng: np.random.Generator) -> np.ndarray:
    """Text in an OpenCV Hershey font, as a pen would draw it: wobbly baseline, uneven letter sizes."""
    font = HERSHEY[int(rng.integers(len(HERSHEY)))] | (cv2.FONT_ITALIC if rng.random() < 0.4 else 0)
    scale = 3.0
    thick = int(rng.integers(2, 9))
    letters = []
    for ch in text:
        (w, h), base = cv2.getTextSize(ch, font, scale, thick)
        img = np.zeros((h + base + 2 * thick + 20, w + 2 * thick + 20), np.uint8)
        cv2.putText(img, ch, (thick + 10, h + thick + 10), font, scale * rng.uniform(0.85, 1.15), 255, thick, cv2.LINE_AA)
        letters.append(img)
    tall = max(img.shape[0] for img in letters)
    row = np.concatenate([np.pad(img, ((0, tall - img.shape[0]), (0, 0))) for img in letters], axis=1)
    return _scaled(slanted(_tight(row.astype(np.float32) / 255.0), rng, 8, 0.2), height)


def scribble(height: float, rng: np.random.Generator) -> np.ndarray:
    """A hand-drawn non-digit: bezier scribble, zigzag, spiral, hatching, star, cross or filled blob."""
    size = 200
    img = np.zeros((size, size), np.uint8)
    thick = int(rng.integers(3, 16))
    kind = rng.choice(["bezier", "zigzag", "spiral", "hatch", "star", "cross", "blob"])
    if kind == "bezier":
        pts = rng.uniform(20, size - 20, (3 * int(rng.integers(2, 5)) + 1, 2))
        t = np.linspace(0, 1, 30)[:, None]
        curve = []
        for i in range(0, len(pts) - 3, 3):
            p0, p1, p2, p3 = pts[i:i + 4]
            curve.append((1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t ** 2 * p2 + t ** 3 * p3)
        cv2.polylines(img, [np.concatenate(curve).astype(np.int32)], False, 255, thick, cv2.LINE_AA)
    elif kind == "zigzag":
        n = int(rng.integers(4, 9))
        xs = np.linspace(20, size - 20, n)
        ys = np.where(np.arange(n) % 2, 40, size - 40) + rng.normal(0, 10, n)
        cv2.polylines(img, [np.stack([xs, ys], 1).astype(np.int32)], False, 255, thick, cv2.LINE_AA)
    elif kind == "spiral":
        t = np.linspace(0, rng.uniform(3, 6) * np.pi, 200)
        r = 8 + 80 * t / t.max()
        pts = np.stack([size / 2 + r * np.cos(t), size / 2 + r * np.sin(t) * rng.uniform(0.6, 1)], 1)
        cv2.polylines(img, [pts.astype(np.int32)], False, 255, thick, cv2.LINE_AA)
    elif kind == "hatch":
        for k in range(int(rng.integers(3, 7))):
            x = 30 + k * 25 + rng.normal(0, 4)
            cv2.line(img, (int(x), 30), (int(x + 50), size - 30), 255, thick, cv2.LINE_AA)
    elif kind == "star":
        n = int(rng.choice([5, 6, 8]))
        for k in range(n):
            a = np.pi * k / n
            d = np.array([np.cos(a), np.sin(a)]) * 80
            cv2.line(img, tuple((size / 2 - d).astype(int)), tuple((size / 2 + d).astype(int)), 255, thick, cv2.LINE_AA)
    elif kind == "cross":
        cv2.line(img, (30, 30), (size - 30, size - 30), 255, thick, cv2.LINE_AA)
        cv2.line(img, (size - 30, 30), (30, size - 30), 255, thick, cv2.LINE_AA)
    else:
        centre = rng.uniform(60, size - 60, 2)
        angles = np.sort(rng.uniform(0, 2 * np.pi, 9))
        radii = rng.uniform(25, 70, 9)
        pts = np.stack([centre[0] + radii * np.cos(angles), centre[1] + radii * np.sin(angles)], 1)
        cv2.fillPoly(img, [pts.astype(np.int32)], 255, cv2.LINE_AA)
    return _scaled(_tight(img.astype(np.float32) / 255.0), height)


def non_digit_glyph(rng: np.random.Generator, height: float, text: str | None = None, **where) -> Glyph:
    """Letters or symbols (TrueType or Hershey) or a scribble; never a digit."""
    kind = rng.choice(["ttf", "hershey", "scribble"], p=[0.4, 0.3, 0.3]) if text is None else rng.choice(["ttf", "hershey"])
    if kind == "scribble":
        return Glyph(scribble(height, rng), **where)
    if text is None:
        pick = rng.random()
        text = (str(rng.choice(WORDS)) if pick < 0.5 else
                str(rng.choice(list(LETTERS))) if pick < 0.75 else str(rng.choice(list(SYMBOLS))))
    render = text_ttf if kind == "ttf" else text_hershey
    return Glyph(render(text, height, rng), **where)


# ---- rendering --------------------------------------------------------------------------------------

def _layout(lines: list[list[Glyph]], pitch: float) -> tuple[list[tuple[Glyph, int, int]], int, int, list[int]]:
    """Glyph positions (glyph, x, y) in a block, the block's width and height, and each line's baseline."""
    placed, baselines = [], []
    for row, glyphs in enumerate(lines):
        x, baseline = 0.0, row * pitch
        for g in glyphs:
            x += g.gap  # the first glyph's gap indents the line
            h, w = g.alpha.shape
            placed.append((g, int(round(x)), int(round(baseline + g.drop - h))))
            x += w
        baselines.append(baseline)
    x0 = min(x for _, x, _ in placed)
    y0 = min(y for _, _, y in placed)
    x1 = max(x + g.alpha.shape[1] for g, x, _ in placed)
    y1 = max(y + g.alpha.shape[0] for g, _, y in placed)
    placed = [(g, x - x0, y - y0) for g, x, y in placed]
    return placed, x1 - x0, y1 - y0, [int(round(b - y0)) for b in baselines]


def _fit(lines: list[list[Glyph]], scale: float) -> list[list[Glyph]]:
    return [[replace(g, alpha=_scaled(g.alpha, g.alpha.shape[0] * scale), gap=g.gap * scale, drop=g.drop * scale)
             for g in row] for row in lines]


def _noise_field(shape: tuple[int, int], rng: np.random.Generator, cell: int) -> np.ndarray:
    """Smooth random field (zero mean, unit std) with features about `cell` px."""
    h, w = shape
    small = rng.normal(0, 1, (max(2, h // cell + 2), max(2, w // cell + 2))).astype(np.float32)
    out = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    return out / (out.std() + 1e-6)


def _illumination(look: Look, shape: tuple[int, int], rng: np.random.Generator, block: tuple[int, int, int, int]) -> np.ndarray:
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = ((xs - w / 2) * np.cos(angle) + (ys - h / 2) * np.sin(angle)) / max(h, w)
    cx, cy = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h
    spot = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * (0.4 * max(h, w)) ** 2))
    vignette = 1 - 0.15 * (((xs - w / 2) / w) ** 2 + ((ys - h / 2) / h) ** 2) * 2
    light = (1 - 0.5 * look.light) + look.light * ramp + 0.5 * look.light * spot
    light *= vignette
    if look.soft_shadow:
        mask = np.zeros(shape, np.float32)
        centre = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        axes = (int(rng.uniform(0.2, 0.6) * w), int(rng.uniform(0.2, 0.5) * h))
        cv2.ellipse(mask, centre, axes, rng.uniform(0, 180), 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), 0.08 * max(h, w))
        light *= 1 - look.soft_shadow * mask
    if look.hard_shadow:
        light *= 1 - look.hard_shadow * _cast_shadow(shape, rng, block)
    return light


def graphite_grain(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """How much of a pencil stroke's ink each pixel holds: grain at the pixel scale, patches at 24 px
    (mean GRAPHITE_MEAN)."""
    grain = np.clip(0.55 + 0.45 * rng.normal(0, 1, shape).astype(np.float32), 0, 1)
    return cv2.GaussianBlur(grain, (0, 0), 0.6) * (0.8 + 0.2 * _noise_field(shape, rng, 24))


def _cast_shadow(shape: tuple[int, int], rng: np.random.Generator, block: tuple[int, int, int, int]) -> np.ndarray:
    """A hard-edged polygon (an object's or hand's shadow) whose edge runs through the writing."""
    h, w = shape
    bx, by, bw, bh = block
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    mask = np.ones(shape, bool)
    for _ in range(int(rng.integers(1, 3))):  # a half-plane, or a wedge of two
        px, py = bx + rng.uniform(0.2, 0.8) * bw, by + rng.uniform(0.2, 0.8) * bh
        a = rng.uniform(0, 2 * np.pi)
        mask &= (xs - px) * np.cos(a) + (ys - py) * np.sin(a) > 0
    penumbra = rng.uniform(0.5, 2.0)
    return cv2.GaussianBlur(mask.astype(np.float32), (0, 0), penumbra)


def _draw_rules(paper: np.ndarray, look: Look, baselines: list[int], rng: np.random.Generator) -> np.ndarray:
    h, w = paper.shape[:2]
    alpha = np.zeros((h, w), np.float32)
    pitch = look.rule_pitch
    thick = 1 if pitch < 30 or rng.random() < 0.5 else 2
    start = (baselines[0] if baselines else rng.uniform(0, pitch)) % pitch
    for y in np.arange(start, h, pitch):
        cv2.line(alpha, (0, int(y)), (w, int(y)), 1.0, thick, cv2.LINE_AA)
    if look.rules == "grid":
        for x in np.arange(rng.uniform(0, pitch), w, pitch):
            cv2.line(alpha, (int(x), 0), (int(x), h), 1.0, thick, cv2.LINE_AA)
    else:  # the red margin line of an exercise book, sometimes in view
        if rng.random() < 0.5:
            x = int(rng.uniform(0.05, 0.2) * w)
            cv2.line(alpha, (x, 0), (x, h), 0.0, 1)
            red = np.zeros((h, w), np.float32)
            cv2.line(red, (x, 0), (x, h), 1.0, 2, cv2.LINE_AA)
            paper = paper * (1 - red[..., None] * (1 - np.array([0.55, 0.5, 0.9], np.float32)))
    strength = rng.uniform(0.5, 0.9)
    colour = np.array(look.rule_colour, np.float32)
    return paper * (1 - strength * alpha[..., None] * (1 - colour))


def _specks(shape: tuple[int, int], count: int, rng: np.random.Generator) -> np.ndarray:
    """Dust, crumbs and hairs as ink alpha."""
    h, w = shape
    alpha = np.zeros(shape, np.float32)
    for _ in range(count):
        x, y = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        kind = rng.random()
        if kind < 0.65:
            cv2.circle(alpha, (x, y), int(rng.integers(1, 4)), float(rng.uniform(0.3, 1)), -1, cv2.LINE_AA)
        elif kind < 0.9:  # a hair or fibre
            t = np.linspace(0, 1, 12)[:, None]
            d = rng.normal(0, 1, 2) * rng.uniform(10, 45)
            bend = rng.normal(0, 1, 2) * 8
            pts = np.array([x, y]) + t * d + 4 * t * (1 - t) * bend
            cv2.polylines(alpha, [pts.astype(np.int32)], False, float(rng.uniform(0.3, 0.9)), 1, cv2.LINE_AA)
        else:  # a blot
            cv2.ellipse(alpha, (x, y), (int(rng.integers(2, 7)), int(rng.integers(2, 6))), rng.uniform(0, 180),
                        0, 360, float(rng.uniform(0.5, 1)), -1, cv2.LINE_AA)
    return alpha


def _desk(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """What lies under the paper: wood or a grey table top, as reflectance."""
    h, w = shape
    if rng.random() < 0.5:
        base = np.array([0.22, 0.36, 0.52], np.float32) * rng.uniform(0.7, 1.2)
        streaks = cv2.resize(rng.normal(0, 1, (h // 3 + 1, 2)).astype(np.float32), (w, h))
        tex = 1 + 0.12 * streaks
    else:
        base = np.full(3, rng.uniform(0.25, 0.5), np.float32)
        tex = 1 + 0.05 * _noise_field(shape, rng, 16)
    return np.clip(base[None, None] * tex[..., None], 0, 1)


def _homography(look: Look, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    h, w = shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + rng.uniform(-look.tilt, look.tilt, (4, 2)).astype(np.float32) * np.float32([w, h])
    m = cv2.getPerspectiveTransform(src, dst)
    r = np.vstack([cv2.getRotationMatrix2D((w / 2, h / 2), look.rotate, 1.0), [0, 0, 1]])
    return r @ m


def _disc(radius: float) -> np.ndarray:
    k = int(np.ceil(radius)) * 2 + 1
    kernel = np.zeros((k, k), np.float32)
    cv2.circle(kernel, (k // 2, k // 2), max(1, int(round(radius))), 1.0, -1, cv2.LINE_AA)
    return kernel / kernel.sum()


def _streak(length: float, angle: float) -> np.ndarray:
    k = int(np.ceil(length)) | 1
    kernel = np.zeros((k, k), np.float32)
    d = np.array([np.cos(angle), np.sin(angle)]) * (length - 1) / 2
    c = np.array([k // 2, k // 2])
    cv2.line(kernel, tuple((c - d).round().astype(int)), tuple((c + d).round().astype(int)), 1.0, 1, cv2.LINE_AA)
    return kernel / kernel.sum()


def render(look: Look, lines: list[list[Glyph]], rng: np.random.Generator, condition: str = "",
           pitch: float = 1.5) -> FieldSample:
    """Write the glyphs on paper as `look` says and photograph it; `pitch` is line spacing in glyph heights."""
    h, w = look.size
    margin = int(0.05 * min(h, w)) + 4
    tallest = max(g.alpha.shape[0] for row in lines for g in row)
    placed, bw, bh, baselines = _layout(lines, pitch * tallest)
    scale = min(1.0, (w - 2 * margin) / bw, (h - 2 * margin) / bh)
    if scale < 1.0:
        lines = _fit(lines, scale * 0.98)
        tallest = max(g.alpha.shape[0] for row in lines for g in row)
        placed, bw, bh, baselines = _layout(lines, pitch * tallest)
    bx = int(rng.integers(margin, max(margin + 1, w - bw - margin)))
    by = int(rng.integers(margin, max(margin + 1, h - bh - margin)))
    ink = np.zeros((h, w), np.float32)
    boxes, truth_indices = [], []
    for g, x, y in placed:
        gh, gw = g.alpha.shape
        alpha = g.alpha if look.pen_width is None else restroke(g.alpha, look.pen_width)
        region = ink[by + y:by + y + gh, bx + x:bx + x + gw]
        np.maximum(region, alpha[:region.shape[0], :region.shape[1]], out=region)
        if g.label:
            boxes.append((bx + x, by + y, gw, gh))
            truth_indices.append(g.index)
    if look.graphite:
        ink *= graphite_grain((h, w), rng)
    ink = np.clip(ink, 0, 1)
    if look.specks:
        ink = np.maximum(ink, _specks((h, w), look.specks, rng))

    paper_tex = 1 + look.paper_grain * (0.6 * _noise_field((h, w), rng, 12) + 0.4 * rng.normal(0, 1, (h, w)).astype(np.float32))
    page = np.array(look.paper, np.float32)[None, None] * paper_tex[..., None]
    if look.rules:
        page = _draw_rules(page, look, [by + b for b in baselines], rng)
    ink_colour = np.array(look.ink, np.float32)
    page = page * (1 - (look.ink_strength * ink)[..., None] * (1 - ink_colour))
    if look.note:  # the writing is on a sticky note lying on a desk
        pad = int(0.6 * margin)
        cx, cy = bx + bw / 2, by + bh / 2
        half_w, half_h = bw / 2 + pad + rng.uniform(0, 0.3) * w, bh / 2 + pad + rng.uniform(0, 0.3) * h
        rect = cv2.boxPoints(((cx, cy), (2 * half_w, 2 * half_h), rng.uniform(-4, 4))).astype(np.int32)
        inside = np.zeros((h, w), np.float32)
        cv2.fillPoly(inside, [rect], 1.0, cv2.LINE_AA)
        desk = _desk((h, w), rng)
        drop = cv2.GaussianBlur(np.roll(inside, (6, 6), (0, 1)), (0, 0), 6)
        desk *= (1 - 0.45 * drop)[..., None]
        page = page * inside[..., None] + desk * (1 - inside[..., None])

    block = (bx, by, bw, bh)
    lit = page * _illumination(look, (h, w), rng, block)[..., None] * look.exposure
    if look.rotate or look.tilt:
        m = _homography(look, (h, w), rng)
        lit = cv2.warpPerspective(lit, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        valid = cv2.warpPerspective(np.ones((h, w), np.float32), m, (w, h), flags=cv2.INTER_LINEAR)
        desk = _desk((h, w), rng) * look.exposure * 0.9
        lit = lit + desk * (1 - valid[..., None])
        boxes = [_warp_box(m, b) for b in boxes]

    image = cv2.GaussianBlur(lit, (0, 0), look.lens_blur) if look.lens_blur else lit
    if look.defocus:
        image = cv2.filter2D(image, -1, _disc(look.defocus))
    if look.motion:
        image = cv2.filter2D(image, -1, _streak(look.motion, rng.uniform(0, np.pi)))
    sigma = np.sqrt(look.noise ** 2 + look.shot_noise ** 2 * np.maximum(image, 0))
    image = image + sigma * rng.normal(0, 1, image.shape).astype(np.float32)
    image = np.clip(image + 0.5, 0, 255).astype(np.uint8)
    if look.rescale != 1.0:
        small = cv2.resize(image, (int(w * look.rescale), int(h * look.rescale)), interpolation=cv2.INTER_AREA)
        image = small
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(look.jpeg)])
    image = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    if look.rescale != 1.0:
        image = cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)

    truth = tuple(t for t in ("".join(g.label for g in row) for row in lines) if t)
    return FieldSample(condition, image, truth, tuple(boxes), tuple(truth_indices))


def _warp_box(m: np.ndarray, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    x, y, bw, bh = box
    pts = cv2.perspectiveTransform(np.float32([[[x, y], [x + bw, y], [x, y + bh], [x + bw, y + bh]]]), m)[0]
    x0, y0 = np.floor(pts.min(0)).astype(int)
    x1, y1 = np.ceil(pts.max(0)).astype(int)
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


# ---- the conditions ---------------------------------------------------------------------------------

def base_look(rng: np.random.Generator, **changes) -> Look:
    """An ordinary photo of writing: white-ish paper, dark pen, room light, phone camera."""
    grey = rng.uniform(0.84, 0.96)
    tint = rng.uniform(-0.03, 0.03)
    look = Look(paper=(grey - tint, grey, grey + tint), ink=tuple(np.full(3, rng.uniform(0.08, 0.25))),
                pen_width=None if rng.random() < 0.5 else rng.uniform(3, 8), exposure=rng.uniform(190, 240),
                light=rng.uniform(0.1, 0.3), lens_blur=rng.uniform(0.3, 0.9), noise=rng.uniform(1.5, 4),
                jpeg=int(rng.integers(75, 95)))
    return replace(look, **changes)


def digit_line(pool: DigitPool, rng: np.random.Generator, count: int, height: float,
               gap: tuple[float, float] = (0.1, 0.4), labels: list[int | None] | None = None,
               wobble: bool = True) -> list[Glyph]:
    """`count` MNIST test digits side by side, with handwriting's uneven size, baseline and spacing."""
    labels = labels or [None] * count
    row = []
    for k, label in enumerate(labels):
        g = pool.glyph(rng, height * rng.uniform(0.9, 1.1), label)
        alpha = slanted(g.alpha, rng) if wobble else g.alpha
        row.append(replace(g, alpha=alpha, gap=height * rng.uniform(*gap) if k else 0.0,
                           drop=height * rng.uniform(-0.05, 0.05)))
    return row


def clean(rng, pool):
    return render(base_look(rng, pen_width=None, light=rng.uniform(0.05, 0.15), noise=rng.uniform(1, 2.5), jpeg=92),
                  [digit_line(pool, rng, 1, rng.uniform(100, 220))], rng, "clean")


def shadows_gradients(rng, pool):
    look = base_look(rng, light=rng.uniform(0.5, 0.9), soft_shadow=rng.uniform(0.3, 0.6))
    return render(look, [digit_line(pool, rng, int(rng.integers(1, 4)), rng.uniform(80, 170))], rng, "shadows_gradients")


def faint_pencil(rng, pool):
    """Pencil whose stroke, averaged over its graphite grain, has 10-40 % of the pen's contrast."""
    look = base_look(rng, ink_strength=rng.uniform(0.1, 0.4) / GRAPHITE_MEAN, pen_width=rng.uniform(2, 5),
                     graphite=True)
    return render(look, [digit_line(pool, rng, int(rng.integers(1, 4)), rng.uniform(70, 170))], rng, "faint_pencil")


def faint_pencil_extreme(rng, pool):
    """Below the faint range: a light grey lead (reflectance 0.25-0.45) at 10-40 % strength and then its grain,
    3-13 % of a pen's contrast on average (the field test's faint_pencil until 2026-11-27)."""
    look = base_look(rng, ink=tuple(np.full(3, rng.uniform(0.25, 0.45))), ink_strength=rng.uniform(0.1, 0.4),
                     pen_width=rng.uniform(2, 5), graphite=True)
    return render(look, [digit_line(pool, rng, int(rng.integers(1, 4)), rng.uniform(70, 170))], rng,
                  "faint_pencil_extreme")


def thin_pen(rng, pool):
    look = base_look(rng, pen_width=rng.uniform(1.0, 2.2), ink_strength=rng.uniform(0.6, 1.0))
    return render(look, [digit_line(pool, rng, int(rng.integers(1, 4)), rng.uniform(70, 170))], rng, "thin_pen")


def dim_noisy(rng, pool):
    look = base_look(rng, exposure=rng.uniform(35, 80), noise=rng.uniform(5, 12), shot_noise=rng.uniform(0.8, 1.5),
                     jpeg=int(rng.integers(60, 85)))
    return render(look, [digit_line(pool, rng, int(rng.integers(1, 4)), rng.uniform(80, 170))], rng, "dim_noisy")


def cast_shadow(rng, pool):
    look = base_look(rng, hard_shadow=rng.uniform(0.4, 0.7))
    return render(look, [digit_line(pool, rng, int(rng.integers(1, 4)), rng.uniform(80, 170))], rng, "cast_shadow")


def tinted_note(rng, pool):
    notes = [(0.45, 0.92, 0.97), (0.55, 0.85, 0.95), (0.75, 0.7, 0.98), (0.7, 0.95, 0.7), (0.95, 0.85, 0.6)]
    paper = notes[0] if rng.random() < 0.6 else notes[int(rng.integers(len(notes)))]
    look = base_look(rng, paper=paper, note=True)
    return render(look, [digit_line(pool, rng, int(rng.integers(1, 4)), rng.uniform(70, 150))], rng, "tinted_note")


def blue_black_ink(rng, pool):
    ink = (0.6, 0.3, 0.15) if rng.random() < 0.6 else tuple(np.full(3, rng.uniform(0.05, 0.2)))
    look = base_look(rng, ink=ink, pen_width=rng.uniform(2.5, 6), ink_strength=rng.uniform(0.7, 1.0))
    return render(look, [digit_line(pool, rng, int(rng.integers(1, 4)), rng.uniform(70, 170))], rng, "blue_black_ink")


def ruled_paper(rng, pool):
    height = rng.uniform(70, 140)
    look = base_look(rng, rules="ruled", rule_pitch=height * rng.uniform(1.05, 1.5))
    row = [replace(g, drop=rng.uniform(-0.03, 0.12) * height) for g in digit_line(pool, rng, int(rng.integers(1, 5)), height)]
    return render(look, [row], rng, "ruled_paper")


def squared_paper(rng, pool):
    height = rng.uniform(70, 140)
    look = base_look(rng, rules="grid", rule_pitch=height * rng.uniform(0.4, 0.7),
                     rule_colour=(0.8, 0.75, 0.7) if rng.random() < 0.5 else (0.6, 0.6, 0.6))
    return render(look, [digit_line(pool, rng, int(rng.integers(1, 5)), height)], rng, "squared_paper")


def specks_dust(rng, pool):
    look = base_look(rng, specks=int(rng.integers(20, 120)))
    return render(look, [digit_line(pool, rng, int(rng.integers(1, 4)), rng.uniform(80, 170))], rng, "specks_dust")


def perspective_rotation(rng, pool):
    look = base_look(rng, rotate=rng.uniform(-20, 20), tilt=rng.uniform(0.04, 0.12))
    for _ in range(8):  # keep the writing inside the frame
        sample = render(look, [digit_line(pool, np.random.default_rng(rng.integers(2**32)), int(rng.integers(1, 4)),
                                          rng.uniform(70, 140))], rng, "perspective_rotation")
        if all(x >= 0 and y >= 0 and x + bw <= look.size[1] and y + bh <= look.size[0] for x, y, bw, bh in sample.boxes):
            return sample
        look = replace(look, rotate=look.rotate * 0.7, tilt=look.tilt * 0.7)
    return sample


def blur(rng, pool):
    look = base_look(rng, defocus=rng.uniform(2.5, 6) if rng.random() < 0.8 else 0.0,
                     motion=rng.uniform(6, 20) if rng.random() < 0.7 else 0.0)
    return render(look, [digit_line(pool, rng, int(rng.integers(1, 4)), rng.uniform(80, 170))], rng, "blur")


def jpeg(rng, pool):
    look = base_look(rng, jpeg=int(rng.integers(4, 16)), rescale=rng.choice([1.0, 0.5, 0.35]))
    return render(look, [digit_line(pool, rng, int(rng.integers(1, 4)), rng.uniform(80, 170))], rng, "jpeg")


def mixed_heights(rng, pool):
    """Small 0, 2 or 5 beside a tall 7 or 9 whose tail hangs below the line."""
    height = rng.uniform(110, 170)
    count = int(rng.integers(2, 5))
    kinds = rng.permutation([True] + [False] + list(rng.random(count - 2) < 0.5))
    row = []
    for k, tall in enumerate(kinds):
        label = int(rng.choice([7, 9])) if tall else int(rng.choice([0, 2, 5]))
        g = pool.glyph(rng, height * (rng.uniform(0.95, 1.1) if tall else rng.uniform(0.35, 0.55)), label)
        drop = height * rng.uniform(0.2, 0.35) if tall else 0.0
        row.append(replace(g, alpha=slanted(g.alpha, rng), gap=height * rng.uniform(0.1, 0.3) if k else 0.0, drop=drop))
    return render(base_look(rng), [row], rng, "mixed_heights")


def touching_gap(left: Glyph, right: Glyph, overlap: float) -> float:
    """The gap that makes `right`'s ink overlap `left`'s by `overlap` px where they come closest."""
    def rows(g: Glyph) -> tuple[int, np.ndarray]:  # top row relative to the baseline, ink mask
        return int(round(g.drop)) - g.alpha.shape[0], g.alpha > 0.3

    top_a, ink_a = rows(left)
    top_b, ink_b = rows(right)
    closest = None
    for y in range(max(top_a, top_b), min(top_a + len(ink_a), top_b + len(ink_b))):
        ra, lb = np.flatnonzero(ink_a[y - top_a]), np.flatnonzero(ink_b[y - top_b])
        if len(ra) and len(lb):
            d = left.alpha.shape[1] - 1 - ra[-1] + lb[0]
            closest = d if closest is None else min(closest, d)
    return -overlap - (closest if closest is not None else 4)


def touching_pairs(rng, pool):
    """2-3 digits whose ink overlaps by 1-5 px where they come closest ("400", "44")."""
    height = rng.uniform(80, 160)
    row = digit_line(pool, rng, int(rng.integers(2, 4)), height)
    for k in range(1, len(row)):
        row[k] = replace(row[k], gap=touching_gap(row[k - 1], row[k], rng.uniform(1, 5)))
    return render(base_look(rng), [row], rng, "touching_pairs")


def small_digits(rng, pool):
    """1-3 digits 30-60 px tall in the 640x480 frame: a number written small, or photographed from afar (its
    ink under 1 % of the frame)."""
    return render(base_look(rng), [digit_line(pool, rng, int(rng.integers(1, 4)), rng.uniform(30, 60))], rng,
                  "small_digits")


FORM_OF = {7: "crossed_7", 1: "flagged_1", 0: "slashed_0"}  # train/digit_forms.py


def other_writers(rng, pool):
    """1-3 digits, at least one a 7 crossed through its stem, a 1 with a long flag or a slashed 0, as much of
    the world writes them (drawn on the MNIST test digit in its own stroke: train/digit_forms.py)."""
    from train.digit_forms import written_as

    count = int(rng.integers(1, 4))
    labels = [None] * count
    labels[int(rng.integers(count))] = int(rng.choice(list(FORM_OF)))
    row = digit_line(pool, rng, count, rng.uniform(70, 170), labels=labels)
    for k, g in enumerate(row):
        if int(g.label) in FORM_OF:
            formed = written_as(pool.x[g.index][None], FORM_OF[int(g.label)], seed=int(rng.integers(2 ** 31)))[0]
            ys, xs = np.nonzero(formed)
            crop = formed[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32) / 255.0
            row[k] = replace(g, alpha=slanted(_scaled(crop, g.alpha.shape[0]), rng))
    return render(base_look(rng), [row], rng, "other_writers")


def multi_digit(rng, pool):
    count = int(rng.integers(2, 5))
    return render(base_look(rng), [digit_line(pool, rng, count, rng.uniform(50, 120), gap=(0.0, 0.25))], rng, "multi_digit")


def pages(rng, pool):
    """A page of 2-6 lines, up to 40 digits, on a larger frame."""
    size = PAGE_SIZES[int(rng.integers(len(PAGE_SIZES)))]
    rows = int(rng.integers(2, 7))
    counts = rng.integers(2, 9, rows)
    while counts.sum() > MAX_PAGE_DIGITS:
        counts[int(counts.argmax())] -= 1
    height = min(size[0] / (rows * 1.8), size[1] / (counts.max() * 1.4)) * rng.uniform(0.6, 0.95)
    lines = []
    for n in counts:
        row = digit_line(pool, rng, int(n), height, gap=(0.15, 0.5))
        lines.append([replace(row[0], gap=height * rng.uniform(0, 1.5))] + row[1:])
    look = base_look(rng, size=size, pen_width=None if rng.random() < 0.3 else rng.uniform(2.5, 6) * size[0] / 480,
                     light=rng.uniform(0.2, 0.5))
    return render(look, lines, rng, "pages", pitch=rng.uniform(1.5, 1.9))


def page_photos(rng, pool):
    """A phone photo of a page of small writing: 4-8 lines of 3-8 digits, each 2-4.5 % of the photo's shorter
    side tall (5-8 mm writing on a page that fills the photo)."""
    size = PHOTO_SIZES[int(rng.integers(len(PHOTO_SIZES)))]
    height = min(size) * rng.uniform(0.02, 0.045)
    lines = []
    for _ in range(int(rng.integers(4, 9))):
        row = digit_line(pool, rng, int(rng.integers(3, 9)), height, gap=(0.15, 0.5))
        lines.append([replace(row[0], gap=height * rng.uniform(0, 3))] + row[1:])
    look = base_look(rng, size=size, pen_width=None if rng.random() < 0.4 else height * rng.uniform(0.08, 0.14),
                     light=rng.uniform(0.2, 0.5))
    return render(look, lines, rng, "page_photos", pitch=rng.uniform(1.5, 2.2))


def letters_mixed(rng, pool):
    """Digits with letters and symbols on the same line ("A12", "3+4=7"): only the digits count."""
    height = rng.uniform(70, 130)
    count = int(rng.integers(1, 4))
    row = digit_line(pool, rng, count, height)
    for _ in range(int(rng.integers(1, 3))):
        text = str(rng.choice(list(LETTERS + SYMBOLS)))
        mark = non_digit_glyph(rng, height * rng.uniform(0.6, 1.0), text, gap=height * rng.uniform(0.15, 0.4))
        row.insert(int(rng.integers(0, len(row) + 1)), mark)
    row = [replace(g, gap=g.gap if k else 0.0) for k, g in enumerate(row)]
    for k in range(1, len(row)):
        if row[k].gap == 0.0:
            row[k] = replace(row[k], gap=height * rng.uniform(0.15, 0.4))
    return render(base_look(rng), [row], rng, "letters_mixed")


def non_digit(rng, pool):
    """No digit at all: printed words, letters, symbols, or scribbles."""
    height = rng.uniform(60, 170)
    marks = [non_digit_glyph(rng, height)]
    if rng.random() < 0.25:
        marks.append(non_digit_glyph(rng, height * rng.uniform(0.6, 1.2), gap=height * rng.uniform(0.2, 0.6)))
    return render(base_look(rng), [marks], rng, "non_digit")


Condition = Callable[[np.random.Generator, DigitPool], FieldSample]
CONDITIONS: dict[str, Condition] = {f.__name__: f for f in (
    clean, shadows_gradients, faint_pencil, faint_pencil_extreme, thin_pen, dim_noisy, cast_shadow, tinted_note, blue_black_ink,
    ruled_paper, squared_paper, specks_dust, perspective_rotation, blur, jpeg, mixed_heights, touching_pairs,
    multi_digit, small_digits, other_writers, pages, page_photos, letters_mixed, non_digit)}
DESCRIPTIONS = {
    "clean": "one digit, even light, MNIST's own stroke",
    "shadows_gradients": "1-3 digits under a strong light gradient and a soft shadow",
    "faint_pencil": "1-3 digits in pencil at 10-40 % of normal ink contrast (mean over its grainy graphite)",
    "faint_pencil_extreme": "1-3 digits in a light lead at 3-13 % of normal ink contrast, grainy graphite",
    "thin_pen": "1-3 digits in a 1-2 px pen",
    "dim_noisy": "1-3 digits in dim light (paper at 35-80 grey levels), strong sensor noise",
    "cast_shadow": "1-3 digits crossed by a hard-edged shadow 40-70 % dark",
    "tinted_note": "1-3 digits on a sticky note (mostly yellow) lying on a desk",
    "blue_black_ink": "1-3 digits in blue or black ballpoint",
    "ruled_paper": "1-4 digits written on ruled paper (blue lines, red margin)",
    "squared_paper": "1-4 digits on squared paper, grid lines through the digits",
    "specks_dust": "1-3 digits among specks, hairs and blots",
    "perspective_rotation": "1-3 digits, page rotated up to 20 degrees and seen at a slant",
    "blur": "1-3 digits, out of focus (disc radius 2.5-6 px) and/or camera shake (6-20 px)",
    "jpeg": "1-3 digits, JPEG quality 4-15, often sent at half or a third of the size",
    "mixed_heights": "small 0/2/5 beside tall 7/9 with tails below the line",
    "touching_pairs": "2-3 digits whose ink overlaps by 1-5 px",
    "multi_digit": "numbers of 2-4 digits, closely spaced (not touching)",
    "small_digits": "1-3 digits 30-60 px tall in the 640x480 frame (ink under 1 % of it)",
    "other_writers": "1-3 digits, at least one a crossed 7, a 1 with a long flag (as written outside North America) or a "
                     "slashed 0",
    "pages": "pages of 2-6 lines, up to 40 digits, 1024x768 to 1600x1200",
    "page_photos": "phone photos (2-12 MP) of a page of small writing: 4-8 lines of 3-8 digits, 2-4.5 % of the "
                   "photo's shorter side tall",
    "letters_mixed": "digits with letters or symbols on the same line; only the digits count",
    "non_digit": "no digit: words (HELLO), letters, symbols (+=#), scribbles, blobs",
}


def sample_seed(seed: int, condition: str, index: int) -> np.random.Generator:
    """The generator for frame `index` of `condition`: the same whichever other conditions run."""
    return np.random.default_rng([seed, zlib.crc32(condition.encode()), index])


def generate(condition: str, index: int, pool: DigitPool, seed: int = 0) -> FieldSample:
    """Frame `index` of a condition, reproducible from (seed, condition, index)."""
    if condition not in CONDITIONS:
        raise KeyError(f"unknown condition {condition!r}; choose from {', '.join(CONDITIONS)}")
    return CONDITIONS[condition](sample_seed(seed, condition, index), pool)
