"""Hard camera frames for the digit reader, one named condition each, from MNIST *test* digits.

Each frame is MNIST test digits laid out as handwriting on paper (lines of
digits placed by their ink boxes, so gaps and touching pairs are controlled),
then photographed: paper colour and lighting, ink colour and contrast, ruled or
squared paper, shadows, specks, noise, blur and JPEG. Every frame is seeded and
returns its truth, one string of digits per text line, top to bottom.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

WHITE_PAPER = (235, 238, 240)  # BGR
YELLOW_NOTE = (120, 225, 245)
BLACK_INK = (40, 35, 35)
BLUE_INK = (150, 60, 25)
PENCIL = (95, 95, 100)


@dataclass(frozen=True)
class Condition:
    """How one kind of frame is made; the defaults are a clean, well-lit frame of one digit."""

    size: tuple[int, int] = (480, 640)
    lines: tuple[int, int] = (1, 1)
    digits: tuple[int, int] = (1, 1)  # per line
    height: tuple[float, float] = (0.25, 0.45)  # digit ink height, fraction of the frame height (one line)
    gap: tuple[float, float] = (0.15, 0.45)  # between ink boxes, fraction of the digit height; < 0 touches
    height_jitter: float = 0.0  # each digit's height varies by up to this fraction (mixed heights)
    ink: tuple = (BLACK_INK, BLUE_INK)
    contrast: tuple[float, float] = (0.75, 0.95)  # how much of the way from paper to ink colour
    thin: bool = False  # strokes thinned to a pen line
    paper: tuple = (WHITE_PAPER,)
    light: tuple[float, float] = (0.75, 1.0)  # paper brightness (overall exposure)
    gradient: float = 0.15  # light falls off across the page by up to this much
    shadow: tuple[float, float] = (0.0, 0.0)  # hard cast shadow darkening, 0 = none
    rules: str = ""  # "", "ruled" or "squared"
    specks: int = 0
    noise: tuple[float, float] = (1.5, 4.0)
    blur: tuple[float, float] = (0.3, 0.9)
    jpeg: tuple[int, int] = (70, 95)
    crop_to_ink: bool = False  # a tight crop: the frame is the ink box plus a margin of 0-2 px


CONDITIONS: dict[str, Condition] = {
    "clean": Condition(),
    "gradient + blue/black pen": Condition(digits=(1, 3), gradient=0.45, light=(0.55, 1.0)),
    "faint pencil (10-40 %)": Condition(digits=(1, 3), ink=(PENCIL,), contrast=(0.10, 0.40), height=(0.2, 0.4)),
    "thin pen": Condition(digits=(1, 3), thin=True, height=(0.12, 0.3)),
    "dim light + noise": Condition(digits=(1, 3), light=(0.25, 0.4), noise=(4.0, 8.0)),
    "hard shadow": Condition(digits=(1, 3), shadow=(0.35, 0.6)),
    "yellow paper, blue ink": Condition(digits=(1, 3), paper=(YELLOW_NOTE,), ink=(BLUE_INK,), contrast=(0.5, 0.9)),
    "ruled paper": Condition(digits=(2, 4), rules="ruled", height=(0.15, 0.3)),
    "squared paper": Condition(digits=(2, 4), rules="squared", height=(0.15, 0.3)),
    "specks": Condition(digits=(1, 3), specks=40),
    "blur + JPEG": Condition(digits=(1, 3), blur=(1.5, 2.5), jpeg=(15, 35)),
    "mixed heights": Condition(digits=(3, 5), height=(0.18, 0.3), height_jitter=0.45),
    "touching pairs": Condition(digits=(2, 3), gap=(-0.08, 0.0), height=(0.2, 0.35)),
    "page, 2-6 lines": Condition(lines=(2, 6), digits=(3, 7), height=(0.05, 0.1)),
    "40 digits": Condition(lines=(5, 5), digits=(8, 8), height=(0.06, 0.08), gap=(0.2, 0.4)),
    "tight crop at the edge": Condition(crop_to_ink=True, height=(0.5, 0.9), noise=(1.0, 3.0)),
}


@dataclass(frozen=True)
class TestFrame:
    image: np.ndarray  # uint8 BGR
    lines: tuple[str, ...]  # the truth, one string of digits per line, top to bottom
    condition: str = ""
    boxes: tuple = field(default=())  # ink boxes (x, y, w, h), reading order


def _ink_tile(digit: np.ndarray, height: int, thin: bool) -> np.ndarray:
    """One MNIST digit cropped to its ink and scaled to `height` px, 0-1 ink."""
    ys, xs = np.nonzero(digit > 30)
    crop = digit[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32) / 255.0
    width = max(1, round(crop.shape[1] * height / crop.shape[0]))
    tile = np.clip(cv2.resize(crop, (width, height), interpolation=cv2.INTER_CUBIC), 0, 1)
    if thin:  # a pen line about 2 % of the digit height wide, whatever the MNIST stroke
        pen = max(1.0, 0.02 * height)
        line = cv2.dilate(_skeleton(tile > 0.5), np.ones((2, 2), np.uint8)).astype(np.float32)
        tile = cv2.GaussianBlur(line, (0, 0), pen / 2)
        tile = np.clip(1.5 * tile / max(tile.max(), 1e-6), 0, 1)
    return tile


def _skeleton(ink: np.ndarray) -> np.ndarray:
    """Morphological skeleton (Lantuejoul) of a boolean mask, as 0/1 uint8."""
    img = ink.astype(np.uint8)
    skeleton = np.zeros_like(img)
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    while img.any():
        eroded = cv2.erode(img, cross)
        skeleton |= img & ~cv2.dilate(eroded, cross)
        img = eroded
    return skeleton


def _layout(mnist, cond: Condition, rng: np.random.Generator, h: int, w: int):
    """Lines of digits placed by their ink boxes: (ink canvas 0-1, truth lines, boxes)."""
    n_lines = int(rng.integers(cond.lines[0], cond.lines[1] + 1))
    base = rng.uniform(*cond.height) * h
    if n_lines > 1:
        base = min(base, 0.9 * h / (n_lines * 1.7))
    ink = np.zeros((h, w), np.float32)
    truth, boxes = [], []
    pitch = h / n_lines
    for line in range(n_lines):
        count = int(rng.integers(cond.digits[0], cond.digits[1] + 1))
        idx = rng.integers(0, len(mnist.x_test), count)
        heights = [max(8, int(base * (1 - rng.uniform(0, cond.height_jitter)))) for _ in idx]
        tiles = [_ink_tile(mnist.x_test[i], hh, cond.thin) for i, hh in zip(idx, heights)]
        gaps = [int(rng.uniform(*cond.gap) * base) for _ in tiles[1:]]
        total = sum(t.shape[1] for t in tiles) + sum(gaps)
        if total > 0.96 * w:  # too wide for the frame: scale down the whole line
            scale = 0.96 * w / total
            tiles = [cv2.resize(t, (max(1, int(t.shape[1] * scale)), max(4, int(t.shape[0] * scale)))) for t in tiles]
            gaps = [int(g * scale) for g in gaps]
            total = sum(t.shape[1] for t in tiles) + sum(gaps)
        x = int(rng.uniform(0.02 * w, max(0.02 * w + 1, w - total - 0.02 * w)))
        centre = pitch * (line + 0.5) + rng.uniform(-0.1, 0.1) * pitch if n_lines > 1 else rng.uniform(0.35, 0.65) * h
        bottom = centre + base / 2  # digits stand on a common baseline
        for k, tile in enumerate(tiles):
            th, tw = tile.shape
            y = int(np.clip(bottom - th + rng.uniform(-0.05, 0.05) * base, 0, h - th))
            x = int(np.clip(x, 0, w - tw))
            ink[y:y + th, x:x + tw] = np.maximum(ink[y:y + th, x:x + tw], tile)
            boxes.append((x, y, tw, th))
            x += tw + (gaps[k] if k < len(gaps) else 0)
        truth.append("".join(str(int(mnist.y_test[i])) for i in idx))
    return ink, truth, boxes


def _rules(cond: Condition, rng: np.random.Generator, h: int, w: int, line_height: float) -> np.ndarray:
    """Ruled or squared paper as 0-1 ink (faint blue-grey lines)."""
    rules = np.zeros((h, w), np.float32)
    step = max(6, int(line_height * rng.uniform(0.6, 1.3)))
    offset = int(rng.integers(0, step))
    thick = int(rng.integers(1, 3))
    tilt = rng.uniform(-0.015, 0.015) * w
    for y in range(offset, h + int(abs(tilt)), step):
        cv2.line(rules, (0, int(y)), (w - 1, int(y + tilt)), 1.0, thick, cv2.LINE_AA)
    if cond.rules == "squared":
        for x in range(offset, w, step):
            cv2.line(rules, (int(x), 0), (int(x - tilt * h / w), h - 1), 1.0, thick, cv2.LINE_AA)
    return rules * rng.uniform(0.35, 0.7)


def _shadow(rng: np.random.Generator, h: int, w: int, depth: float) -> np.ndarray:
    """A hard-edged cast shadow (a hand or a phone): a polygon over part of the page; 1 = lit."""
    mask = np.zeros((h, w), np.float32)
    corner = rng.integers(0, 4)
    cx, cy = [(0, 0), (w, 0), (w, h), (0, h)][corner]
    pts = np.array([[cx, cy], [rng.uniform(0.3, 0.9) * w, cy], [rng.uniform(0.2, 0.7) * w, rng.uniform(0.3, 0.8) * h],
                    [cx, rng.uniform(0.3, 0.9) * h]], np.int32)
    cv2.fillPoly(mask, [pts], 1.0, cv2.LINE_AA)
    mask = cv2.GaussianBlur(mask, (0, 0), 1.0)
    return 1.0 - depth * mask


def make_frame(mnist, name: str, rng: np.random.Generator) -> TestFrame:
    """One frame of the named condition (see CONDITIONS)."""
    cond = CONDITIONS[name]
    h, w = cond.size
    if cond.crop_to_ink:
        h, w = 160, 160
    ink, truth, boxes = _layout(mnist, cond, rng, h, w)
    line_height = np.median([b[3] for b in boxes])
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = ((xs - w / 2) * np.cos(angle) + (ys - h / 2) * np.sin(angle)) / max(h, w)
    light = rng.uniform(*cond.light) * (1 - cond.gradient * (ramp + 0.5))
    if cond.shadow[1] > 0:
        light = light * _shadow(rng, h, w, rng.uniform(*cond.shadow))
    paper = np.array(cond.paper[int(rng.integers(len(cond.paper)))], np.float32) * rng.uniform(0.92, 1.0, 3)
    ink_colour = np.array(cond.ink[int(rng.integers(len(cond.ink)))], np.float32)
    alpha = ink * rng.uniform(*cond.contrast)
    if cond.rules:
        rules = _rules(cond, rng, h, w, line_height)
        rule_colour = np.array([190, 160, 140], np.float32)
        surface = paper[None, None] * (1 - rules[..., None]) + rule_colour * rules[..., None]
    else:
        surface = np.broadcast_to(paper[None, None], (h, w, 3))
    image = surface * (1 - alpha[..., None]) + ink_colour * alpha[..., None]
    for _ in range(cond.specks):
        r = rng.uniform(0.5, 2.0)
        cv2.circle(image, (int(rng.integers(w)), int(rng.integers(h))), int(round(r)), tuple(float(v) for v in ink_colour), -1, cv2.LINE_AA)
    image = image * light[..., None]
    image = cv2.GaussianBlur(image, (0, 0), rng.uniform(*cond.blur))
    image = image + rng.normal(0, rng.uniform(*cond.noise), image.shape)
    image = np.clip(image, 0, 255).astype(np.uint8)
    if cond.crop_to_ink:
        x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x1, y1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
        m = [int(rng.integers(0, 3)) for _ in range(4)]
        image = image[max(0, y0 - m[0]):y1 + m[1], max(0, x0 - m[2]):x1 + m[3]]
        boxes = [(x - max(0, x0 - m[2]), y - max(0, y0 - m[0]), bw, bh) for x, y, bw, bh in boxes]
        if min(image.shape[:2]) < 20:  # a thin 1: pad to a frame the reader accepts
            pad = 20 - min(image.shape[:2])
            image = cv2.copyMakeBorder(image, 0, pad, 0, pad, cv2.BORDER_REPLICATE)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(*cond.jpeg))])
    return TestFrame(cv2.imdecode(encoded, cv2.IMREAD_COLOR), tuple(truth), name, tuple(boxes))


def make_frames(mnist, name: str, count: int, seed: int = 0) -> list[TestFrame]:
    """`count` frames of one condition, reproducible from `seed` and the condition's name."""
    rng = np.random.default_rng([seed, sum(map(ord, name))])
    return [make_frame(mnist, name, rng) for _ in range(count)]
