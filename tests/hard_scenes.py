"""Scenes harder than the field generator's, built from its parts (attack reviews): small letters among tall
digits (make(kind, index, pool)), a small touching pair between tall digits (small_touching_pair(pool, index)),
digits written leaning and touching (leaning_touching(pool, index)), a dash high after a digit (high_dash), a 5
written in two strokes in pencil or faint ink (five_bar_apart), leaning letters above a leaning pair
(letters_above_a_pair); each gives (BGR frame, truth lines), reproducible."""

from __future__ import annotations

import zlib
from dataclasses import replace

import cv2
import numpy as np

from bench.field_scenes import Glyph, _noise_field, base_look, render, slanted, text_hershey, text_ttf, touching_gap


def _text(rng, text: str, height: float) -> np.ndarray:
    return (text_ttf if rng.random() < 0.5 else text_hershey)(text, height, rng)


def _digit(pool, rng, label: int, height: float, wobble: bool = True, stretch: float = 1.0) -> Glyph:
    g = pool.glyph(rng, height, label)
    alpha = g.alpha
    if stretch != 1.0:
        size = (max(1, int(round(alpha.shape[1] * stretch))), alpha.shape[0])
        alpha = np.clip(cv2.resize(alpha, size, interpolation=cv2.INTER_CUBIC), 0, 1)
    return replace(g, alpha=slanted(alpha, rng) if wobble else alpha)


def small_letters(pool, rng, height: float) -> list[Glyph]:
    """2-3 tall digits with two x-height letters (v u n m w x r c e) among them, all spaced apart."""
    row = [_digit(pool, rng, int(rng.integers(10)), height * rng.uniform(0.9, 1.1)) for _ in range(int(rng.integers(2, 4)))]
    for _ in range(2):
        letter = Glyph(_text(rng, str(rng.choice(list("vunmwxrce"))), height * rng.uniform(0.3, 0.5)))
        row.insert(int(rng.integers(0, len(row) + 1)), letter)
    return [replace(g, gap=height * rng.uniform(0.15, 0.4) if k else 0.0) for k, g in enumerate(row)]


KINDS = {"small_letters": small_letters}


def make(kind: str, index: int, pool) -> tuple[np.ndarray, tuple[str, ...]]:
    rng = np.random.default_rng([9, zlib.crc32(kind.encode()), index])
    height = rng.uniform(70, 150)
    scene = render(base_look(rng), [KINDS[kind](pool, rng, height)], rng, kind)
    return scene.image, scene.lines


def small_touching_pair(pool, index: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """A tall digit, two digits at 0.5-0.7 of its height touching each other, a tall digit."""
    rng = np.random.default_rng(1000 + index)
    height, labels, scale = rng.uniform(90, 170), [int(rng.integers(0, 10)) for _ in range(4)], rng.uniform(0.5, 0.68)
    row = []
    for k, label in enumerate(labels):
        tall = k in (0, 3)
        g = pool.glyph(rng, height * (rng.uniform(0.95, 1.1) if tall else scale * rng.uniform(0.95, 1.05)), label)
        row.append(replace(g, alpha=slanted(g.alpha, rng), gap=height * rng.uniform(0.1, 0.3) if k else 0.0,
                           drop=height * rng.uniform(-0.05, 0.05)))
    row[2] = replace(row[2], gap=touching_gap(row[1], row[2], rng.uniform(1, 4)))
    scene = render(base_look(rng), [row], rng, "mixed_heights")
    return scene.image, scene.lines


def _leaning(alpha: np.ndarray, shear: float) -> np.ndarray:
    """`alpha` leaning right by `shear` (x per y, top to the right), canvas grown to keep every stroke."""
    h, w = alpha.shape
    grow = int(np.ceil(abs(shear) * h))
    m = np.float32([[1, -shear, shear * h if shear > 0 else 0], [0, 1, 0]])
    return cv2.warpAffine(alpha, m, (w + grow, h), flags=cv2.INTER_LINEAR)


def leaning_touching(pool, index: int, apart: bool = False) -> tuple[np.ndarray, tuple[str, ...]]:
    """2-3 digits written leaning right (one writer's slant, 0.3-0.5 x per y) whose ink touches by 1-4 px
    where they come closest: every upright line between two of them crosses both (`apart`: 2-8 px apart
    where they come closest instead, their boxes still overlapping)."""
    rng = np.random.default_rng(2000 + index)
    height, shear = rng.uniform(80, 160), rng.uniform(0.3, 0.5)
    row = []
    for k in range(int(rng.integers(2, 4))):
        g = pool.glyph(rng, height * rng.uniform(0.9, 1.1), int(rng.integers(0, 10)))
        row.append(replace(g, alpha=_leaning(g.alpha, shear + rng.uniform(-0.05, 0.05)),
                           drop=height * rng.uniform(-0.05, 0.05)))
    for k in range(1, len(row)):
        row[k] = replace(row[k], gap=touching_gap(row[k - 1], row[k], rng.uniform(-8, -2) if apart else rng.uniform(1, 4)))
    scene = render(base_look(rng), [row], rng, "touching_pairs")
    return scene.image, scene.lines


def _dash(rng, height: float, thick: tuple[float, float], wide: tuple[float, float]) -> np.ndarray:
    """A flat pen stroke, its thickness and width drawn from those ranges (x `height`), tilted up to 2 px."""
    px = max(2, int(round(height * rng.uniform(*thick))))
    w = int(round(height * rng.uniform(*wide)))
    dash = np.zeros((px + 6, w + 4), np.float32)
    lift = int(rng.integers(-2, 3))
    cv2.line(dash, (2, 3 + px // 2 + lift), (w + 1, 3 + px // 2 - lift), 1.0, px, cv2.LINE_AA)
    return dash


def high_dash(pool, index: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """1-2 digits (no 5), the last followed by a flat dash off its top right (0.3-0.6 x its height wide, up to
    0.12 x its height after its box, its bottom 0.65-0.85 x the height above the baseline), as a 5's bar
    written apart sits: only the digits count."""
    rng = np.random.default_rng(3000 + index)
    height = rng.uniform(80, 160)
    row = []
    for k in range(int(rng.integers(1, 3))):
        label = int(rng.choice([0, 1, 2, 3, 4, 6, 7, 8, 9]))
        row.append(replace(_digit(pool, rng, label, height * rng.uniform(0.95, 1.05)),
                           gap=height * rng.uniform(0.2, 0.4) if k else 0.0))
    row.append(Glyph(_dash(rng, height, (0.06, 0.1), (0.3, 0.6)), gap=height * rng.uniform(-0.05, 0.12),
                     drop=-height * rng.uniform(0.65, 0.85)))
    scene = render(base_look(rng), [row], rng, "letters_mixed")
    return scene.image, scene.lines


def _bar_apart(alpha: np.ndarray, gap: int, angle: float) -> np.ndarray | None:
    """An MNIST 5's alpha with its top bar cut off right of the stem, moved `gap` px right and turned `angle`
    degrees (a 5 written in two strokes); None if its bar cannot be told apart or still touches."""
    h, w = alpha.shape
    rows = [np.flatnonzero(alpha[y] > 0.3) for y in range(h)]
    top = next((y for y in range(h) if len(rows[y])), h)
    below = next((y for y in range(top, int(0.45 * h)) if len(rows[y]) and rows[y][-1] < 0.55 * w), None)
    if below is None or below - top < 2:
        return None
    stem = max((r[0] + int(np.argmax(np.diff(np.append(r, r[-1] + 9)) > 1)) for r in rows[below:below + max(3, h // 12)]
                if len(r)), default=w)
    if stem >= 0.5 * w:
        return None
    bar = alpha[:below, stem + 2:].copy()
    body = alpha.copy()
    body[:below, stem + 2:] = 0
    if np.count_nonzero(bar.max(axis=0) > 0.3) < 0.25 * w:
        return None
    bh, bw = bar.shape
    turn = cv2.getRotationMatrix2D((bw / 2, bh / 2), angle, 1.0)
    bar = cv2.warpAffine(bar, turn, (bw, bh))
    canvas = np.zeros((h, w + gap), np.float32)
    canvas[:, :w] = body
    region = canvas[:below, stem + 2 + gap:stem + 2 + gap + bw]
    np.maximum(region, bar, out=region)
    if cv2.connectedComponents((canvas > 0.3).astype(np.uint8))[0] < 3:
        return None
    return canvas


def five_bar_apart(pool, index: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """1-3 digits, one a 5 whose bar is written apart (moved 0.02-0.12 x its height right, turned up to 12
    degrees), in pencil, faint or thin ink: the bar belongs to the 5."""
    rng = np.random.default_rng(4000 + index)
    height, n = rng.uniform(70, 150), int(rng.integers(1, 4))
    where, row = int(rng.integers(n)), []
    for k in range(n):
        g = None
        while k == where and g is None:
            five = pool.glyph(rng, height, 5)
            alpha = _bar_apart(five.alpha, int(round(height * rng.uniform(0.02, 0.12))), rng.uniform(-12, 12))
            g = None if alpha is None else replace(five, alpha=alpha)
        g = g or _digit(pool, rng, int(rng.integers(10)), height * rng.uniform(0.9, 1.1))
        row.append(replace(g, gap=height * rng.uniform(0.15, 0.4) if k else 0.0))
    look = base_look(rng)
    kind = index % 3
    if kind == 0:
        look = replace(look, graphite=True, ink=tuple(np.full(3, rng.uniform(0.35, 0.55))), pen_width=rng.uniform(1.5, 3))
    else:
        look = replace(look, ink_strength=rng.uniform(0.25, 0.45)) if kind == 1 else \
            replace(look, pen_width=rng.uniform(1.5, 2.5))
    scene = render(look, [row], rng, "five_bar_apart")
    return scene.image, scene.lines


def letters_above_a_pair(pool, index: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """2-3 lines of groups of 2-3 touching leaning letters or scribbles above a line holding a leaning pair of
    digits, touching or 2-8 px apart (odd `index`), 640x480: every group is read again, and spends new spans
    of the frame's budget (runtime/segment.py, RETRY_SPANS); only the pair counts."""
    from bench.field_scenes import scribble

    rng = np.random.default_rng(5000 + index)
    rows = int(rng.integers(2, 4))
    height, shear = 480 / ((rows + 1) * 1.6), rng.uniform(0.3, 0.5)
    lines = []
    for _ in range(rows):
        row: list[Glyph] = []
        for _ in range(int(rng.integers(2, 4))):
            group = []
            for _ in range(int(rng.integers(2, 4))):
                if rng.random() < 0.3:
                    ink = scribble(height, rng)
                else:
                    ink = text_hershey(str(rng.choice(list("ACEFHKLMNPRUVWXYadefhkmnprtuvwxy"))), height, rng)
                group.append(Glyph(_leaning(ink, shear), drop=height * rng.uniform(-0.05, 0.05)))
            for k in range(1, len(group)):
                group[k] = replace(group[k], gap=touching_gap(group[k - 1], group[k], rng.uniform(1, 4)))
            group[0] = replace(group[0], gap=height * rng.uniform(0.5, 0.9) if row else 0.0)
            row += group
        lines.append(row)
    pair = []
    for k in range(2):
        g = pool.glyph(rng, height * rng.uniform(0.9, 1.1), int(rng.integers(0, 10)))
        pair.append(replace(g, alpha=_leaning(g.alpha, shear + rng.uniform(-0.05, 0.05)),
                            drop=height * rng.uniform(-0.05, 0.05)))
    pair[1] = replace(pair[1], gap=touching_gap(pair[0], pair[1], rng.uniform(-8, -2) if index % 2 else rng.uniform(1, 4)))
    scene = render(base_look(rng), lines + [pair], rng, "letters_mixed", pitch=1.5)
    return scene.image, scene.lines


def letter_with_a_high_dash(pool, index: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """A printed letter or symbol (S s b h J G y z E F T L r c d t f u $ & % # ?) with a flat dash off its top
    right, beside 1-2 digits, in ink, pencil, faint or thin ink: only the digits count (letter and dash are no 5)."""
    rng = np.random.default_rng(6000 + index)
    height = rng.uniform(70, 140)
    symbol = (list("SsbhJGyzEFTLrcdtfu") + ["$", "&", "%", "#", "?"])[index % 23]
    ink = _text(rng, symbol, height * rng.uniform(0.8, 1.0))
    dash = Glyph(_dash(rng, height, (0.04, 0.09), (0.25, 0.5)), gap=height * rng.uniform(-0.08, 0.1),
                 drop=-ink.shape[0] * rng.uniform(0.7, 0.92))
    digits = [replace(_digit(pool, rng, int(rng.integers(10)), height * rng.uniform(0.95, 1.05)),
                      gap=height * rng.uniform(0.2, 0.4)) for _ in range(int(rng.integers(1, 3)))]
    row = [Glyph(ink), dash] + digits if index % 2 else \
        [replace(digits[0], gap=0.0)] + digits[1:] + [Glyph(ink, gap=height * rng.uniform(0.3, 0.5)), dash]
    look = base_look(rng)
    kind = index % 4
    if kind == 1:
        look = replace(look, graphite=True, ink=tuple(np.full(3, rng.uniform(0.35, 0.55))), pen_width=rng.uniform(1.5, 3))
    elif kind == 2:
        look = replace(look, ink_strength=rng.uniform(0.25, 0.45))
    elif kind == 3:
        look = replace(look, pen_width=rng.uniform(1.5, 2.5))
    scene = render(look, [row], rng, "letters_mixed")
    return scene.image, scene.lines


BLANK_LOOKS = ("cast_shadow", "note")
BARE_SURFACES = ("wood", "fabric")


def blank_page(index: int, look: str) -> np.ndarray:
    """A frame with nothing written on it: paper under a hard-edged cast shadow, or a sticky note on a dark desk
    (the field generator's looks; the thin line a closing leaves along such an edge reads as a 1)."""
    if look not in BLANK_LOOKS:
        raise ValueError(f"unknown blank look {look!r}; choose from {', '.join(BLANK_LOOKS)}")
    rng = np.random.default_rng([zlib.crc32(b"blank_page"), zlib.crc32(look.encode()), index])
    if look == "cast_shadow":
        scene = base_look(rng, hard_shadow=rng.uniform(0.4, 0.7))
    else:
        notes = [(0.45, 0.92, 0.97), (0.55, 0.85, 0.95), (0.75, 0.7, 0.98), (0.7, 0.95, 0.7), (0.95, 0.85, 0.6)]
        scene = base_look(rng, paper=notes[index % len(notes)], note=True)
    nothing = Glyph(np.zeros((int(rng.integers(70, 170)), 60), np.float32))
    return render(scene, [[nothing]], rng, look).image


def bare_surface(index: int, surface: str) -> np.ndarray:
    """A 640x480 photo of a bare desk with nothing on it (attack review of 2026-11-29): wood grain (rings 8-30
    px apart at 5-20 % contrast) or a woven cloth (threads 3-9 px apart at 4-15 %), room light, camera noise,
    JPEG. Their rings and threads are faint parallel lines, which a faint-ink pass looking for strokes finds."""
    if surface not in BARE_SURFACES:
        raise ValueError(f"unknown surface {surface!r}; choose from {', '.join(BARE_SURFACES)}")
    rng = np.random.default_rng([zlib.crc32(b"bare_surface"), zlib.crc32(surface.encode()), index])
    h, w = 480, 640
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    if surface == "wood":
        a = rng.uniform(-0.3, 0.3)
        along = xs * np.sin(a) + ys * np.cos(a)
        warp = 25 * _noise_field((h, w), rng, 120) + 6 * _noise_field((h, w), rng, 30)
        rings = np.sin(2 * np.pi * (along + warp) / rng.uniform(8, 30))
        streaks = cv2.resize(rng.normal(0, 1, (h // 2 + 1, 3)).astype(np.float32), (w, h))
        texture = 1 + rng.uniform(0.05, 0.2) * rings + 0.08 * streaks
        colour = np.float32([0.22, 0.36, 0.52]) * rng.uniform(0.7, 1.5)
    else:
        pitch, a = rng.uniform(3, 9), rng.uniform(0, np.pi)
        u, v = xs * np.cos(a) + ys * np.sin(a), -xs * np.sin(a) + ys * np.cos(a)
        weave = (np.sin(2 * np.pi * u / pitch) * np.sin(2 * np.pi * v / pitch)
                 + 0.5 * np.sin(2 * np.pi * u / pitch + 3 * _noise_field((h, w), rng, 40)))
        texture = 1 + rng.uniform(0.04, 0.15) * weave + 0.03 * rng.normal(0, 1, (h, w))
        colour = rng.uniform(0.3, 0.9, 3).astype(np.float32)
    reflectance = np.clip(colour[None, None] * texture[..., None].astype(np.float32), 0, 1)
    angle = rng.uniform(0, 2 * np.pi)
    light = 0.9 + 0.2 * ((xs - w / 2) * np.cos(angle) + (ys - h / 2) * np.sin(angle)) / w
    image = cv2.GaussianBlur(reflectance * light[..., None] * rng.uniform(170, 240), (0, 0), rng.uniform(0.3, 0.9))
    image = image + np.sqrt(rng.uniform(1.5, 4) ** 2 + 0.16 * np.maximum(image, 0)) * rng.normal(0, 1, image.shape)
    image = np.clip(image + 0.5, 0, 255).astype(np.uint8)
    return cv2.imdecode(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(75, 95))])[1],
                        cv2.IMREAD_COLOR)
