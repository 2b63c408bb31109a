"""The paper under dark ink: what each pixel would be without ink, cast shadows kept whole.

A closing (max then min filter) wider than the strokes removes them and keeps
lighting, but it also fills any part of a cast shadow narrower than its window
(a shadow's corner, a wedge): that part became "ink" joined to the digits it
touches. A shadow's corner is connected to the shadow's body, a stroke is not,
so the corner is given back to the shadow by reconstruction (geodesic erosion
from the closing down to the frame with its strokes removed). It runs where the
paper has a hard step; a corner narrower than the strokes cannot be told from
one and stays filled.
"""

from __future__ import annotations

import cv2
import numpy as np

HARD_STEP_SIGMAS = 10.0  # a paper step this many noise sigmas between neighbours is a shadow's hard edge...
HARD_STEP = 12  # ...and at least this many grey levels (a light gradient steps 1-2 levels per pixel)
STROKE_GAP = 1.5  # x the stroke width (+1): the closing that removes strokes but keeps a shadow's corners
CHECK_EVERY = 8  # reconstruction steps between two looks at whether it still moves
MOVING = 6  # grey levels: a step that lowers no pixel by this much over CHECK_EVERY steps has settled
MAX_STEPS = 600  # one pixel per step: the diagonal of the largest frame it runs on (MAX_AREA)
MAX_AREA = 2 * 320 * 240  # px at working size: larger frames (long strips, panoramas) keep the closing (its cost)
_SQUARE3 = np.ones((3, 3), np.uint8)


def closing(g: np.ndarray, k: int) -> np.ndarray:
    """A closing with a k x k square, on the frame extended by replicating its edge so a light gradient stays
    monotone up to the edge and passes through unchanged (any border rule inside the closing would not). Not
    smoothed after: that would smear a shadow's hard edge into a line of false ink."""
    r = k // 2
    padded = cv2.copyMakeBorder(g, r, r, r, r, cv2.BORDER_REPLICATE)
    return cv2.morphologyEx(padded, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))[r:-r, r:-r]


def has_hard_step(paper: np.ndarray, sigma: float) -> bool:
    """Does the paper estimate hold a hard edge (a cast shadow, a note on a desk), not only smooth light?
    Never for a frame larger than MAX_AREA: the reconstruction would cost seconds on a long strip."""
    if paper.size > MAX_AREA:
        return False
    steps = cv2.morphologyEx(paper, cv2.MORPH_GRADIENT, _SQUARE3)
    return int(steps.max()) >= max(HARD_STEP_SIGMAS * sigma, HARD_STEP)


def ridge_width(ink: np.ndarray) -> float:
    """Typical stroke width of a 0/1 mask, from the distance to the paper along its ridges: a filled shadow
    corner (solid, wide) does not pull it up as it does the area over boundary ratio."""
    distance = cv2.distanceTransform(ink, cv2.DIST_L2, 3)
    ridge = (distance > 0) & (distance >= cv2.dilate(distance, _SQUARE3))
    return 2.0 * float(np.median(distance[ridge])) - 1.0 if ridge.any() else 1.0


def shadows_kept(paper: np.ndarray, g: np.ndarray, ink: np.ndarray, window: int) -> np.ndarray:
    """`paper` (a closing of `g` with a `window` square) with the shadow corners it filled given back to the
    shadow; `ink`: the 0/1 mask of what stands out against `paper` (for the strokes' width).

    The reconstruction runs over `g` with its strokes closed (a window of
    STROKE_GAP x their width), so a stroke touching a shadow is not taken into
    it: a pen lighter than the shadow would vanish otherwise. It stops when no
    pixel moved by MOVING grey levels in CHECK_EVERY steps (a corner's fill
    drops by the shadow's depth in one step; light gradients creep by a level).
    A shadow whose body lies outside the frame is not seeded from the frame's
    edge: digits cut by the edge (a tight crop) lost their tops that way.
    """
    floor = closing(g, int(np.clip(STROKE_GAP * ridge_width(ink) + 1, 3, window)) | 1)
    settled = paper
    for step in range(1, MAX_STEPS + 1):
        paper = cv2.max(cv2.erode(paper, _SQUARE3), floor)
        if step % CHECK_EVERY == 0:
            if cv2.norm(settled, paper, cv2.NORM_INF) < MOVING:
                break
            settled = paper
    return paper
