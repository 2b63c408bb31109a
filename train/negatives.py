"""Rendered "not a digit" crops (class 10): letters, symbols, scribbles, blobs, digit fragments, ruled lines, specks.

Each crop is fitted exactly like an MNIST digit (tight box scaled into 20x20,
centred by mass in 28x28: runtime.preprocess.fit_to_mnist), so the model sees
what the runtime will hand it. "camera" crops go further: printed text is
photographed small on paper (blur, noise) and cut by the reader itself
(runtime.preprocess.find_digits), so the model also sees the reader's own
pieces of letters. The training set and the held-out evaluation set differ in
fonts, seed and the digits their fragments are cut from: TRAIN_FONTS vs
HELD_OUT_FONTS (no font shared; each holds OpenCV Hershey fonts and TrueType
fonts shipped with matplotlib), MNIST train vs MNIST test digits.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from runtime.preprocess import find_digits, fit_to_mnist

# Characters that are not shaped like a digit (O, o, D, I, l, i, j, Z, z, S, s, B, b, G, g, q,
# |, /, (, ), ', ',', ';', '!' are left out: handwritten, they are a 0, 1, 2, 5, 6, 8 or 9).
LETTERS = "ACEFHKLMNPRTUVWXYacdefhkmnprtuvwxy"
SYMBOLS = "+=#*%&@$?<>~^{}-_.:\""  # no ' , ; ! : fitted to 20x20 they are a 1
CHARACTERS = LETTERS + SYMBOLS

# A font is an OpenCV Hershey font (int) or a TrueType file of matplotlib's mpl-data/fonts/ttf (str).
TRAIN_FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_DUPLEX,
               cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
               "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSerif.ttf",
               "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "STIXGeneral.ttf", "STIXGeneralBol.ttf")
HELD_OUT_FONTS = (cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_COMPLEX_SMALL, cv2.FONT_HERSHEY_SCRIPT_COMPLEX,
                  cv2.FONT_HERSHEY_TRIPLEX | cv2.FONT_ITALIC, cv2.FONT_HERSHEY_COMPLEX_SMALL | cv2.FONT_ITALIC,
                  "cmr10.ttf", "cmss10.ttf", "cmb10.ttf", "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf")

# Kind of negative -> share of the set.
KINDS = {
    "glyph": 0.27, "word": 0.05, "camera": 0.11, "scribble": 0.10, "doodle": 0.09, "blob": 0.06, "lines": 0.05,
    "specks": 0.03, "digit_pair": 0.09, "digit_overlap": 0.08, "digit_half": 0.07,
}
CANVAS = 160
TEX_MISMAPPED = set('<>{}_"')  # Computer Modern (cm*.ttf) draws these as TeX's ¡ ¿ – ˝ ˙ ” (¡ is a 1)
MIN_CUT_ASPECT = 0.4  # a piece the reader cut narrower than this x its height is a 1, whatever it came from
MIN_SPREAD = 0.35  # ink whose minor axis is under this x its major one is one straight stroke: a 1 (slanted or not)


HERSHEY_NAMES = {v: k[len("FONT_HERSHEY_"):] for k, v in vars(cv2).items() if k.startswith("FONT_HERSHEY_")}


def font_names(fonts) -> list[str]:
    """Readable names: Hershey fonts by their OpenCV name (+ " italic"), TrueType fonts by file."""
    return [f if isinstance(f, str) else HERSHEY_NAMES[f & ~cv2.FONT_ITALIC] + (" italic" if f & cv2.FONT_ITALIC else "")
            for f in fonts]


def ttf_folder() -> Path:
    """matplotlib's bundled TrueType fonts (DejaVu, STIX, Computer Modern): there wherever training runs."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _tight(ink: np.ndarray) -> np.ndarray | None:
    """The box round a white-on-black canvas's ink, or None when it holds none."""
    ys, xs = np.nonzero(ink > 20)
    if len(ys) == 0:
        return None
    return ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def _fit(ink: np.ndarray) -> np.ndarray | None:
    """Tight crop of a white-on-black canvas -> MNIST 28x28, or None when it holds no ink."""
    tight = _tight(ink)
    return None if tight is None else fit_to_mnist(tight)


def _slant(canvas: np.ndarray, rng: np.random.Generator, max_shear: float = 0.35, max_deg: float = 12) -> np.ndarray:
    h, w = canvas.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-max_deg, max_deg), 1.0)
    m[0, 1] += rng.uniform(-max_shear, max_shear)
    m[0, 2] -= m[0, 1] * h / 2 * 0  # keep the centre roughly in place (rotation already centred)
    return cv2.warpAffine(canvas, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)


def _ttf_text(text: str, font: str, rng: np.random.Generator) -> np.ndarray:
    """White text on black in a TrueType font (Pillow), padded and slanted like `_text`."""
    from PIL import Image, ImageDraw, ImageFont

    size = int(rng.integers(40, 120))
    face = ImageFont.truetype(str(ttf_folder() / font), size)
    canvas = Image.new("L", (size * (len(text) + 2), size * 2), 0)
    ImageDraw.Draw(canvas).text((size // 2, size // 3), text, fill=255, font=face,
                                stroke_width=int(rng.integers(0, 1 + size // 25)), stroke_fill=255)
    image = np.asarray(canvas)
    pad = size // 2
    return _slant(cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0), rng)


def _text(text: str, font: int | str, rng: np.random.Generator) -> np.ndarray:
    if isinstance(font, str):
        return _ttf_text(text, font, rng)
    scale = rng.uniform(1.0, 4.0)
    (tw, th), base = cv2.getTextSize(text, font, scale, 1)
    # Stroke width relative to the glyph height, from a fine pen to a marker.
    thickness = max(1, int(round(rng.uniform(0.04, 0.22) * max(th, 8))))
    w, h = tw + 4 * thickness + 40, th + base + 4 * thickness + 40
    canvas = np.zeros((h, w), np.uint8)
    cv2.putText(canvas, text, (20 + thickness, 20 + th + thickness), font, scale, 255, thickness, cv2.LINE_AA)
    pad = max(h, w) // 3
    return _slant(cv2.copyMakeBorder(canvas, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0), rng)


def characters_for(font: int | str) -> str:
    """The characters a font draws as themselves."""
    if isinstance(font, str) and font.startswith("cm"):
        return "".join(c for c in CHARACTERS if c not in TEX_MISMAPPED)
    return CHARACTERS


def _font_and_characters(rng, fonts) -> tuple[int | str, str]:
    font = fonts[rng.integers(len(fonts))]
    return font, characters_for(font)


def _glyph(rng, fonts, digits) -> np.ndarray:
    font, chars = _font_and_characters(rng, fonts)
    return _text(chars[rng.integers(len(chars))], font, rng)


def _word(rng, fonts, digits) -> np.ndarray:
    letters = LETTERS + "OoSsBbGgZz"
    text = "".join(letters[i] for i in rng.integers(len(letters), size=rng.integers(2, 5)))
    return _text(text, fonts[rng.integers(len(fonts))], rng)


def _camera(rng, fonts, digits) -> np.ndarray | None:
    """Printed characters photographed small (dark on light paper, blur, noise), cut by the reader itself;
    one of its pieces (narrow ones and specks left out: a stroke alone is a 1), or None."""
    font, chars = _font_and_characters(rng, fonts)
    text = "".join(chars[i] for i in rng.integers(len(chars), size=rng.integers(1, 4)))
    ink = _tight(_text(text, font, rng))
    if ink is None:
        return None
    ink = ink.astype(np.float32)
    height = rng.uniform(14, 60)
    scale = height / ink.shape[0]
    small = cv2.resize(ink, (max(1, round(ink.shape[1] * scale)), max(1, round(height))), interpolation=cv2.INTER_AREA)
    frame = np.full((max(120, small.shape[0] * 3), max(160, small.shape[1] + 80)), rng.uniform(150, 235), np.float32)
    top, left = (frame.shape[0] - small.shape[0]) // 2, (frame.shape[1] - small.shape[1]) // 2
    contrast = rng.uniform(0.3, 0.85) * frame[0, 0]
    frame[top:top + small.shape[0], left:left + small.shape[1]] -= small / 255.0 * contrast
    frame = cv2.GaussianBlur(frame, (0, 0), rng.uniform(0.3, 1.3))
    frame += rng.normal(0, rng.uniform(1, 5), frame.shape)
    crops = find_digits(np.clip(frame, 0, 255).astype(np.uint8))
    tallest = max((c.box[3] for c in crops), default=0)
    crops = [c for c in crops if c.box[2] >= MIN_CUT_ASPECT * c.box[3] and c.box[3] >= 0.5 * tallest
             and spread(c.image) >= MIN_SPREAD]
    return crops[int(rng.integers(len(crops)))].image if crops else None


def spread(image: np.ndarray) -> float:
    """Minor over major axis of an image's ink (square root of its second moments' eigenvalue ratio)."""
    m = cv2.moments(image.astype(np.float32))
    if m["m00"] <= 0:
        return 0.0
    cov = np.array([[m["mu20"], m["mu11"]], [m["mu11"], m["mu02"]]]) / m["m00"]
    small, large = np.linalg.eigvalsh(cov)
    return float(np.sqrt(max(small, 0.0) / large)) if large > 0 else 0.0


def _smooth_path(rng, n_points: int) -> np.ndarray:
    """A wandering pen path: a random walk of direction, sampled finely."""
    angle = rng.uniform(0, 2 * np.pi)
    turn = rng.normal(0, rng.uniform(0.3, 1.2), n_points).cumsum()
    step = rng.uniform(6, 14)
    pts = np.cumsum(np.stack([np.cos(angle + turn), np.sin(angle + turn)], 1) * step, axis=0)
    return pts - pts.mean(0) + CANVAS / 2


def _scribble(rng, fonts, digits) -> np.ndarray:
    canvas = np.zeros((CANVAS, CANVAS), np.uint8)
    for _ in range(rng.integers(1, 4)):
        pts = _smooth_path(rng, int(rng.integers(15, 45)))
        cv2.polylines(canvas, [np.round(pts * 4).astype(np.int32)], False, 255,
                      int(rng.integers(2, 9)), cv2.LINE_AA, shift=2)
    return canvas


DOODLES = ("zigzag", "spiral", "star", "cross", "hatch", "arrow", "triangle", "check", "wave", "loops", "heart", "box")


def _wobbly(rng, pts: np.ndarray, wobble: float) -> np.ndarray:
    """A drawn path through `pts`: sampled finely, with a hand's slow wobble added."""
    pts = np.asarray(pts, np.float64)
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    t = np.concatenate([[0], np.cumsum(seg)])
    fine = np.linspace(0, t[-1], max(8, int(t[-1] / 3)))
    path = np.stack([np.interp(fine, t, pts[:, 0]), np.interp(fine, t, pts[:, 1])], 1)
    drift = rng.normal(0, 1, (len(fine) // 6 + 2, 2)).cumsum(0) * wobble
    drift = drift - drift.mean(0)
    return path + np.stack([np.interp(np.arange(len(fine)) / 6, np.arange(len(drift)), drift[:, i]) for i in (0, 1)], 1)


def _doodle_paths(rng, kind: str) -> list[np.ndarray]:
    """Pen paths of one doodle, in a unit box (-1..1)."""
    if kind == "zigzag":  # N, M, W, a saw: never a Z (a 2) or a single V
        n = int(rng.integers(4, 9))
        ys = np.where(np.arange(n) % 2, -1, 1) * rng.uniform(0.6, 1, n)
        return [np.stack([np.linspace(-1, 1, n), ys], 1)]
    if kind == "spiral":  # at least two turns (one turn is a 6 or a 9)
        t = np.linspace(0, rng.uniform(4, 7) * np.pi, 160)
        r = 0.1 + 0.9 * t / t[-1]
        return [np.stack([r * np.cos(t), r * np.sin(t) * rng.uniform(0.6, 1)], 1) * rng.choice([-1, 1], 2)]
    if kind == "star":  # an asterisk of 3-6 strokes
        n = int(rng.integers(3, 7))
        a = rng.uniform(0, np.pi) + np.pi * np.arange(n) / n
        return [np.array([[-np.cos(x), -np.sin(x)], [np.cos(x), np.sin(x)]]) for x in a]
    if kind == "cross":  # an x
        s = rng.uniform(0.5, 1)
        return [np.array([[-1, -s], [1, s]]), np.array([[1, -s], [-1, s]])]
    if kind == "hatch":  # 3-7 parallel strokes
        n = int(rng.integers(3, 8))
        lean = rng.uniform(-0.7, 0.7)
        xs = np.linspace(-1, 1, n) * rng.uniform(0.5, 1)
        return [np.array([[x - lean, -1], [x + lean, 1]]) for x in xs]
    if kind == "arrow":
        a = rng.uniform(0, 2 * np.pi)
        d = np.array([np.cos(a), np.sin(a)])
        head = [np.array([d, d - 0.5 * (d + w)]) for w in (np.array([-d[1], d[0]]), np.array([d[1], -d[0]]))]
        return [np.array([-d, d])] + head
    if kind == "triangle":
        a = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(4) / 3
        return [np.stack([np.cos(a), np.sin(a)], 1)]
    if kind == "check":
        return [np.array([[-1, 0], [-0.4, 0.8], [1, -1]]) * [rng.choice([-1, 1]), 1]]  # upside down it is a 7
    if kind == "wave":  # two or more periods
        x = np.linspace(-1, 1, 80)
        return [np.stack([x, 0.35 * np.sin(x * np.pi * rng.uniform(2, 4))], 1)]
    if kind == "loops":  # cursive "eeee" / "llll" loops
        t = np.linspace(0, 2 * np.pi * int(rng.integers(3, 6)), 240)
        return [np.stack([np.linspace(-1, 1, len(t)) + 0.25 * np.cos(t), 0.6 * np.sin(t)], 1)]
    if kind == "heart":
        t = np.linspace(0, 2 * np.pi, 120)
        return [np.stack([16 * np.sin(t) ** 3, -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))], 1) / 17]
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]]) * [1, rng.uniform(0.3, 0.6)]  # a flat box
    return [corners, np.array([[-1, 0], [1, 0]]) * [1, 0]] if rng.random() < 0.5 else [corners]


def _doodle(rng, fonts, digits) -> np.ndarray:
    """A hand-drawn mark that is not a digit: zigzag, spiral (2+ turns), asterisk, x, hatching, arrow,
    triangle, tick, wave, cursive loops, heart, flat box; wobbly, slanted, any stroke width."""
    canvas = np.zeros((CANVAS, CANVAS), np.uint8)
    kind = DOODLES[int(rng.integers(len(DOODLES)))]
    size = rng.uniform(38, 52) * np.array([rng.uniform(0.7, 1.3), 1.0])
    for path in _doodle_paths(rng, kind):
        drawn = _wobbly(rng, path * size + CANVAS / 2, rng.uniform(0.2, 1.2))
        cv2.polylines(canvas, [np.round(drawn * 4).astype(np.int32)], False, 255, int(rng.integers(2, 12)),
                      cv2.LINE_AA, shift=2)
    return _slant(canvas, rng)


def _blob(rng, fonts, digits) -> np.ndarray:
    canvas = np.zeros((CANVAS, CANVAS), np.uint8)
    for _ in range(rng.integers(1, 4)):
        c = rng.uniform(40, 120, 2)
        if rng.random() < 0.5:
            axes = tuple(int(v) for v in rng.uniform(8, 45, 2))
            cv2.ellipse(canvas, (int(c[0]), int(c[1])), axes, rng.uniform(0, 180), 0, 360, 255, -1, cv2.LINE_AA)
        else:
            k = int(rng.integers(4, 9))
            ang = np.sort(rng.uniform(0, 2 * np.pi, k))
            rad = rng.uniform(10, 50, k)
            poly = np.stack([c[0] + rad * np.cos(ang), c[1] + rad * np.sin(ang)], 1).astype(np.int32)
            cv2.fillPoly(canvas, [poly], 255, cv2.LINE_AA)
    if rng.random() < 0.5:  # a smudge: soft edges
        canvas = cv2.GaussianBlur(canvas, (0, 0), rng.uniform(2, 6))
        canvas = np.clip(canvas.astype(np.float32) * 1.6, 0, 255).astype(np.uint8)
    return canvas


def _lines(rng, fonts, digits) -> np.ndarray:
    """Pieces of ruled or squared paper: long near-horizontal lines, sometimes crossed."""
    canvas = np.zeros((CANVAS, CANVAS), np.uint8)
    gap = rng.uniform(15, 45)
    n = int(rng.integers(1, 4))
    thick = int(rng.integers(1, 5))
    tilt = rng.uniform(-0.08, 0.08)
    for i in range(n):
        y = 40 + i * gap
        cv2.line(canvas, (5, int(y)), (CANVAS - 5, int(y + tilt * CANVAS)), 255, thick, cv2.LINE_AA)
    if rng.random() < 0.35:  # squared paper: a few short vertical ones crossing
        for i in range(int(rng.integers(1, 4))):
            x = int(20 + i * gap)
            cv2.line(canvas, (x, 30), (x, int(40 + (n - 1) * gap + 10)), 255, thick, cv2.LINE_AA)
    return canvas


def _specks(rng, fonts, digits) -> np.ndarray:
    canvas = np.zeros((CANVAS, CANVAS), np.uint8)
    for _ in range(rng.integers(4, 30)):
        c = rng.uniform(30, 130, 2).astype(int)
        cv2.circle(canvas, (int(c[0]), int(c[1])), int(rng.integers(1, 5)), 255, -1, cv2.LINE_AA)
    return canvas


def _digit(rng, digits) -> np.ndarray:
    image = digits[rng.integers(len(digits))]
    return cv2.resize(image, (84, 84), interpolation=cv2.INTER_LINEAR)


def _digit_pair(rng, fonts, digits) -> np.ndarray:
    """Two digits side by side, touching or nearly: a wrong cut of a number."""
    a, b = _digit(rng, digits), _digit(rng, digits)
    overlap = int(rng.integers(10, 40))
    canvas = np.zeros((84, 168 - overlap), np.uint8)
    canvas[:, :84] = a
    canvas[:, 84 - overlap:] = np.maximum(canvas[:, 84 - overlap:], b)
    return canvas


def _digit_overlap(rng, fonts, digits) -> np.ndarray:
    """Two digits written over each other, shifted."""
    a, b = _digit(rng, digits), _digit(rng, digits)
    dx, dy = rng.integers(-30, 31, 2)
    b = cv2.warpAffine(b, np.float32([[1, 0, dx], [0, 1, dy]]), (84, 84))
    return np.maximum(a, b)


def _digit_half(rng, fonts, digits, labels=None) -> np.ndarray:
    """A left, right, top or bottom 35-55 % of a digit (never a 1: any part of a 1 is a 1)."""
    image = _digit(rng, digits)
    ys, xs = np.nonzero(image > 20)
    if len(ys) == 0:
        return image
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    f = rng.uniform(0.35, 0.55)
    side = rng.integers(4)
    if side == 0:
        image[:, x0 + int(f * (x1 - x0)):] = 0
    elif side == 1:
        image[:, :x1 - int(f * (x1 - x0))] = 0
    elif side == 2:
        image[y0 + int(f * (y1 - y0)):] = 0
    else:
        image[:y1 - int(f * (y1 - y0))] = 0
    return image


FITTED_KINDS = {"camera"}  # makers that hand back a fitted 28x28 crop already (the reader fitted it)
MAKERS = {"glyph": _glyph, "word": _word, "camera": _camera, "scribble": _scribble, "doodle": _doodle, "blob": _blob, "lines": _lines,
          "specks": _specks, "digit_pair": _digit_pair, "digit_overlap": _digit_overlap, "digit_half": _digit_half}


def render_negatives(n: int, seed: int, fonts=TRAIN_FONTS, digit_images=None, digit_labels=None):
    """n non-digit 28x28 uint8 crops and the kind of each (a str array).

    `digit_images`/`digit_labels` (uint8 (N, 28, 28), ints) supply the fragments;
    1s are left out of them (half a 1, or a 1 beside a digit's edge, is still a digit).
    """
    rng = np.random.default_rng(seed)
    digits = None
    if digit_images is not None:
        keep = np.asarray(digit_labels) != 1 if digit_labels is not None else slice(None)
        digits = np.asarray(digit_images)[keep]
    kinds = [k for k in KINDS if digits is not None or not k.startswith("digit")]
    shares = np.array([KINDS[k] for k in kinds])
    chosen = rng.choice(len(kinds), size=n, p=shares / shares.sum())
    images = np.zeros((n, 28, 28), np.uint8)
    for i, k in enumerate(chosen):
        fitted = None
        while fitted is None:
            made = MAKERS[kinds[k]](rng, fonts, digits)
            fitted = made if kinds[k] in FITTED_KINDS or made is None else _fit(made)
        images[i] = fitted
    return images, np.array(kinds)[chosen]
