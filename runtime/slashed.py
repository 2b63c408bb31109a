"""A 0 written with a slash through it (programmers, engineers, Scandinavia), with its slash taken out.

The model never learned slashed 0s (a model trained on them fell under the
99.5 % MNIST floor: models/train_report/README.md), and reads a third of them as
no digit. A slashed 0 has a shape no digit has: a ring whose hole a straight
stroke cuts in two, the stroke leaning 30-82 degrees from level and running on
out of the ring along its own line, nowhere else. `without_slash` finds that
shape in a 28x28 crop and returns the crop with the stroke erased (the ring alone,
fitted again as MNIST digits are), or None; the reader reads it again and keeps a
sure 0 (runtime/predictor.py). An 8 has no stroke crossing its holes (its waist
is the holes' meeting, not a line through one ring), an & or an @ leaves ink off
the line outside its ring, a blot of two holes has no thin straight separator.
"""

from __future__ import annotations

import cv2
import numpy as np

from runtime.mnist_style import fit_to_mnist

INK = 90  # of 255 in the crop: brighter is ink
MIN_HOLE = 3  # px: each half of the ring's hole is at least this big
OTHER_HOLES = 0.2  # x the two halves' area: more hole elsewhere than this is not one slashed ring
SLASH_ANGLE = (30.0, 82.0)  # degrees from level (either way): an upright stroke makes a Phi, a level one a theta
MAX_SLASH_WIDTH = 4.2  # px at 28x28: a wider "separator" is a blot, not a pen's stroke
RING_REACH = 1.5  # x the slash's width (+1 px): how far outside its hole the ring's own ink reaches
ON_THE_LINE = 2.5  # px: ink outside the ring this close to the slash's line is the slash running on
MAX_OFF_LINE = 4  # px of ink outside the ring and off the slash's line (an &'s tail, an @'s swirl): more is not a 0


def _holes(ink: np.ndarray) -> np.ndarray:
    """Background enclosed by ink (not reachable from the crop's border), 0/1 uint8."""
    outside = np.pad(1 - ink, 1, constant_values=1)
    cv2.floodFill(outside, None, (0, 0), 2)
    return (outside[1:-1, 1:-1] == 1).astype(np.uint8)


def without_slash(image: np.ndarray) -> np.ndarray | None:
    """A 28x28 uint8 crop (white on black) of a slashed 0 -> the crop with its slash erased, refitted; anything
    else -> None."""
    image = np.asarray(image)
    if image.shape != (28, 28) or image.dtype != np.uint8:
        raise ValueError(f"without_slash reads a 28x28 uint8 crop, got {image.dtype} {image.shape}")
    image = np.ascontiguousarray(image)  # OpenCV writes row-major arrays only (a transposed crop is column-major)
    ink = (image > INK).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(_holes(ink), connectivity=4)
    order = sorted(range(1, n), key=lambda k: -stats[k, cv2.CC_STAT_AREA])
    if len(order) < 2 or stats[order[1], cv2.CC_STAT_AREA] < MIN_HOLE:
        return None
    halves = stats[order[0], cv2.CC_STAT_AREA] + stats[order[1], cv2.CC_STAT_AREA]
    if sum(stats[k, cv2.CC_STAT_AREA] for k in order[2:]) > OTHER_HOLES * halves:
        return None
    hole = np.isin(labels, order[:2]).astype(np.uint8)
    hull = np.zeros_like(hole)
    cv2.fillConvexPoly(hull, cv2.convexHull(cv2.findNonZero(hole)), 1)
    slash = (ink & hull).astype(bool)  # the ink between the two halves
    ys, xs = np.nonzero(slash)
    if len(xs) < 2:
        return None
    _, vectors = np.linalg.eigh(np.cov(np.stack([xs, ys]).astype(np.float64)))
    dx, dy = vectors[:, 1]  # the slash's direction (rows grow downwards)
    angle = abs(np.degrees(np.arctan2(-dy, dx)))
    angle = 180.0 - angle if angle > 90.0 else angle
    along = xs * dx + ys * dy
    width = len(xs) / float(along.max() - along.min() + 1)
    if not SLASH_ANGLE[0] <= angle <= SLASH_ANGLE[1] or width > MAX_SLASH_WIDTH:
        return None
    reach = int(np.ceil(RING_REACH * width)) + 1
    ring = cv2.dilate(hull | hole, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1)))
    beyond = ink.astype(bool) & ~ring.astype(bool)  # ink outside the ring
    by, bx = np.nonzero(beyond)
    off_line = np.abs((bx - xs.mean()) * dy - (by - ys.mean()) * dx) > ON_THE_LINE
    if int(off_line.sum()) > MAX_OFF_LINE:
        return None
    out = image.copy()
    out[cv2.dilate(slash.view(np.uint8), np.ones((2, 2), np.uint8)).astype(bool) & hull.astype(bool)] = 0
    near_hull = cv2.dilate(hull, np.ones((3, 3), np.uint8)).astype(bool)
    out[cv2.dilate(beyond.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~near_hull] = 0
    ys, xs = np.nonzero(out > 30)
    if len(xs) < 5:
        return None
    return fit_to_mnist(out[ys.min():ys.max() + 1, xs.min():xs.max() + 1])
