"""A text line's ink: where a run of its boxes may be cut (upright, along a slant, along the cheapest path through
little ink, between a box's pieces) and the image of any span between two cuts (runtime/segment.py reads the spans)."""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from runtime.mnist_style import fit_to_mnist, stroke_image

ONE_DIGIT_WIDTH = 1.2  # up to this x its height, a box no cut could split in one stroke is one digit
CUT_COST = 1.5  # per stroke crossed beyond the first (two touching digits meet in one stroke, a digit cut in half in two)
MIN_CUT_PIECE = 0.12  # no piece narrower than this x the line height (a 1 is about 0.15)
SLANTS = (-0.5, -0.35, -0.2, 0.2, 0.35)  # x per y (< 0: the top leans right): cuts tried when a run is read again
PATH_REACH = 0.35  # x the line height: how far a cut path may wander either side of the valley it starts from
PATH_STEP = 0.3  # the cost of a path's step sideways (a pixel of ink crossed costs 1)
PATH_WIDEST = 2.5  # x the line height: a wider box (not two or three touching digits: hatching, a scribble) gets no path cuts


def pieces_in(labels: np.ndarray, ids) -> np.ndarray:
    """Where `labels` is one of the components `ids` (one id, the usual case, without np.isin's sort)."""
    return labels == ids[0] if len(ids) == 1 else np.isin(labels, ids)


class Bound(NamedTuple):
    """A place a run may be cut: column `x` at row `y_mid` (the cut leans `slope` px per row), the boxes on
    its left and right, and the cost of cutting there."""

    x: int
    left: int
    right: int
    cost: float
    slope: float = 0.0
    y_mid: float = 0.0
    inside: bool = False  # a cut inside a box (not the edge of one)
    pieces: frozenset | None = None  # or, parting a box's pieces of ink (not columns): those on its left
    path: tuple | None = None  # or, a path: its column in each row of the box from row `top` (above and below: its ends')
    top: int = 0

    @property
    def family(self):
        """Cuts of one box in one family may bound one span (an upright and a slanted cut cross)."""
        return "pieces" if self.pieces is not None else "path" if self.path is not None else self.slope

    @property
    def bends(self) -> bool:
        """Does the cut's column change from row to row (slanted, or a path)?"""
        return bool(self.slope) or self.path is not None

    def at(self, rows: np.ndarray) -> np.ndarray:
        """The cut's column in each of `rows`."""
        if self.path is not None:
            where = np.clip(rows.astype(np.int32) - self.top, 0, len(self.path) - 1)
            return np.asarray(self.path, np.float32)[where]
        return self.x + self.slope * (rows - self.y_mid)


class LineInk:
    """The ink of one text line's digit boxes, and how to render any column span of a run of them."""

    def __init__(self, labels, signal, boxes, members, height):
        self.labels, self.signal, self.boxes, self.members, self.height = labels, signal, boxes, members, height
        self._cuts: dict[int, list[tuple[int, int]]] = {}  # box -> its cuts (a run asks again after one_digit)

    def render(self, first: int, last: int, x0: int, x1: int):
        """Image and box of the ink of boxes first..last (inclusive) between columns x0 and x1."""
        if first > last or x1 <= x0:
            return None, None
        ids = [m for k in range(first, last + 1) for m in self.members[k]]
        y0 = min(self.boxes[k][1] for k in range(first, last + 1))
        y1 = max(self.boxes[k][3] for k in range(first, last + 1))
        lab = self.labels[y0:y1, x0:x1]
        mask = pieces_in(lab, ids)
        rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
        if not len(rows):
            return None, None
        r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        crop = mask[r0:r1, c0:c1].view(np.uint8)
        image = fit_to_mnist(stroke_image(self.signal[y0 + r0:y0 + r1, x0 + c0:x0 + c1], crop))
        return image, (int(x0 + c0), int(y0 + r0), int(c1 - c0), int(r1 - r0))

    def render_between(self, first: int, last: int, a: Bound, b: Bound):
        """Image and box of the ink of boxes first..last between bounds a and b (slanted, upright, or parting
        a box's pieces)."""
        if first > last:
            return None, None
        ids = [m for k in range(first, last + 1) for m in self.members[k]
               if not (a.pieces is not None and k == a.right and m in a.pieces)
               and not (b.pieces is not None and k == b.left and m not in b.pieces)]
        if not ids:
            return None, None
        x_lo = min(self.boxes[k][0] for k in range(first, last + 1))
        x_hi = max(self.boxes[k][2] for k in range(first, last + 1))
        y0 = min(self.boxes[k][1] for k in range(first, last + 1))
        y1 = max(self.boxes[k][3] for k in range(first, last + 1))
        # A box's edge, or a parting of its pieces, takes all of their ink (boxes of leaning digits overlap
        # in x); a cut inside a box parts it by columns.
        a_cuts, b_cuts = a.inside and a.pieces is None, b.inside and b.pieces is None
        rows = np.arange(y0, y1, dtype=np.float32)
        left = np.ceil(a.at(rows)).astype(np.int32) if a_cuts else np.full(len(rows), x_lo, np.int32)
        right = np.ceil(b.at(rows)).astype(np.int32) if b_cuts else np.full(len(rows), x_hi, np.int32)
        x0, x1 = max(int(left.min()), x_lo), min(int(right.max()), x_hi)
        if x1 <= x0:
            return None, None
        lab = self.labels[y0:y1, x0:x1]
        mask = pieces_in(lab, ids)
        if (a_cuts and a.bends) or (b_cuts and b.bends):
            cols = np.arange(x0, x1, dtype=np.int32)[None, :]
            mask &= (cols >= left[:, None]) & (cols < right[:, None])
        rows_in, cols_in = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
        if not len(rows_in):
            return None, None
        r0, r1, c0, c1 = rows_in[0], rows_in[-1] + 1, cols_in[0], cols_in[-1] + 1
        crop = np.ascontiguousarray(mask[r0:r1, c0:c1]).view(np.uint8)
        image = fit_to_mnist(stroke_image(self.signal[y0 + r0:y0 + r1, x0 + c0:x0 + c1], crop))
        return image, (int(x0 + c0), int(y0 + r0), int(c1 - c0), int(r1 - r0))

    def piece_partings(self, k: int) -> list[Bound]:
        """Bounds parting box k's pieces of ink (left to right by their middles) where both sides hold a piece
        at least half as tall as the box: leaning digits written apart whose x-ranges overlap were joined."""
        if len(self.members[k]) < 2:
            return []
        x0, y0, x1, y1 = self.boxes[k]
        lab = self.labels[y0:y1, x0:x1]
        pieces = []
        for m in self.members[k]:
            ys, xs = np.nonzero(lab == m)
            if len(xs):
                pieces.append((float(xs.mean()), int(ys.max() - ys.min() + 1), m))
        pieces.sort()
        tall = [h >= 0.5 * (y1 - y0) for _, h, _ in pieces]
        return [Bound(x0 + int(round((pieces[n - 1][0] + pieces[n][0]) / 2)), k, k, 0.0, inside=True,
                       pieces=frozenset(m for _, _, m in pieces[:n]))
                for n in range(1, len(pieces)) if any(tall[:n]) and any(tall[n:])]

    def one_digit(self, k: int) -> bool:
        """A box somewhat wide for a digit that every candidate cut would cut through two strokes: one digit
        (a wide 0, a flat 2); a touching pair meets in a single stroke somewhere."""
        x0, y0, x1, y1 = self.boxes[k]
        return x1 - x0 <= ONE_DIGIT_WIDTH * (y1 - y0) and all(strokes >= 2 for _, strokes in self.cuts(k))

    def cuts(self, k: int) -> list[tuple[int, int]]:
        """Candidate cuts inside box k: (column, strokes it crosses) at the valleys of its ink's column profile."""
        if k not in self._cuts:
            self._cuts[k] = self._find_cuts(k)
        return self._cuts[k]

    def _ink(self, k: int) -> np.ndarray:
        x0, y0, x1, y1 = self.boxes[k]
        lab, ids = self.labels[y0:y1, x0:x1], self.members[k]
        return pieces_in(lab, ids)

    def slanted_cuts(self, k: int) -> list[Bound]:
        """Cuts inside box k leaning at SLANTS, as bounds (digits written leaning overlap in x, and no upright
        cut parts them): every valley along the slant nearest the ink's own lean (the shear of its second
        moments, as MNIST's deskewing measures it), and along the others only cuts crossing one stroke (where
        two digits touch) or none."""
        ink = self._ink(k).view(np.uint8)
        h, w = ink.shape
        y_mid = (h - 1) / 2.0
        x0, y0, x1, _ = self.boxes[k]
        moments = cv2.moments(ink, binaryImage=True)
        lean = moments["mu11"] / moments["mu02"] if moments["mu02"] > 0 else 0.0
        nearest = min(SLANTS, key=lambda s: abs(s - lean))
        out = []
        for slope in SLANTS:
            shift = int(np.ceil(abs(slope) * y_mid)) + 1
            # column x of the box is column x - slope * (y - y_mid) + shift of the sheared ink
            shear = np.float32([[1, -slope, slope * y_mid + shift], [0, 1, 0]])
            upright = cv2.warpAffine(ink, shear, (w + 2 * shift, h), flags=cv2.INTER_NEAREST, borderValue=0)
            out += [Bound(x0 + c - shift, k, k, CUT_COST * max(0, strokes - 1), slope, y0 + y_mid, True)
                    for c, strokes in self._valleys(upright.view(bool), x1 - x0) if strokes <= 1 or slope == nearest]
        return out

    def path_cuts(self, k: int) -> list[Bound]:
        """Cuts inside box k along the cheapest path from its top to its bottom, one from each valley of its
        column profile, wandering at most PATH_REACH x the line height from it (and never nearer the box's edge
        than a valley is): where two digits overlap in x, neither an upright nor a straight slanted cut parts
        them (a 1 under a 4's arm, a 5's bar over a 9). A path that is an upright cut, or repeats another, is
        left out; a box wider than PATH_WIDEST x the line height gets none (its cost: hatching, scribbles)."""
        x0, y0, x1, _ = self.boxes[k]
        if x1 - x0 > PATH_WIDEST * self.height:
            return []
        ink = self._ink(k)
        h, w = ink.shape
        reach = max(2, int(PATH_REACH * self.height))
        margin = max(2, int(MIN_CUT_PIECE * self.height))  # as for a valley: no path along the box's own edge
        bands = [(max(margin, c - reach), min(w - margin, c + reach + 1)) for c, _ in self._valleys(ink, w)]
        bands = [(lo, hi) for lo, hi in bands if hi > lo]
        out, seen = [], set()
        for path in cheapest_paths(ink, bands):
            key = tuple(path.tolist())
            if path.min() == path.max() or key in seen:
                continue
            seen.add(key)
            on_ink = ink[np.arange(h), path]
            strokes = int(on_ink[0]) + int((on_ink[1:] & ~on_ink[:-1]).sum())
            out.append(Bound(x0 + int(round(float(path.mean()))), k, k, CUT_COST * max(0, strokes - 1), inside=True,
                             path=tuple(x0 + v for v in key), top=y0))
        return out

    def _find_cuts(self, k: int) -> list[tuple[int, int]]:
        x0 = self.boxes[k][0]
        return [(x0 + c, strokes) for c, strokes in self._valleys(self._ink(k), self.boxes[k][2] - x0)]

    def _valleys(self, ink: np.ndarray, width: int) -> list[tuple[int, int]]:
        """(column, strokes it crosses) at the valleys of an ink mask's column profile, deepest first kept."""
        crossings = ink[0].astype(np.int32) + (ink[1:] & ~ink[:-1]).sum(axis=0)
        profile = np.convolve(ink.sum(axis=0).astype(np.float32), np.ones(3, np.float32) / 3, mode="same")
        margin = max(2, int(MIN_CUT_PIECE * self.height))
        cols = np.nonzero(profile)[0]  # (the ink's own columns: sheared ink has empty ones at its sides)
        if not len(cols):
            return []
        inner = np.arange(cols[0] + margin, max(cols[0] + margin, cols[-1] + 1 - margin))
        valleys = inner[(profile[inner] <= profile[inner - 1]) & (profile[inner] <= profile[inner + 1])]
        chosen: list[int] = []
        for x in valleys[np.argsort(profile[valleys], kind="stable")].tolist():  # deepest first, then leftmost
            if all(abs(x - c) >= margin for c in chosen):
                chosen.append(x)
            if len(chosen) >= 2 * int(np.ceil(width / self.height)) + 1:
                break
        return sorted((c, int(crossings[c])) for c in chosen)


def cheapest_path(ink: np.ndarray) -> np.ndarray:
    """The column, row by row, of the top-to-bottom path through a mask (any nonzero pixel is ink) that crosses
    the fewest ink pixels (see `cheapest_paths`)."""
    ink = np.asarray(ink)
    return cheapest_paths(ink, [(0, ink.shape[1] if ink.ndim == 2 else 0)])[0]


def cheapest_paths(ink: np.ndarray, bands: list[tuple[int, int]]) -> list[np.ndarray]:
    """For each band of columns [lo, hi) of a mask (any nonzero pixel is ink), the top-to-bottom path within
    it that crosses the fewest ink pixels, as its column in each row: one step sideways a row at most, costing
    PATH_STEP and the ink of the pixel it passes (so it does not slip between the pixels of a thin diagonal
    stroke); ties go straight down. All bands in one pass over the rows. A mask without rows or columns, or a band
    that is not whole columns of it (0 <= lo < hi <= its width), is a ValueError."""
    ink = np.asarray(ink)
    if ink.ndim != 2 or not ink.size:
        raise ValueError(f"cheapest_path needs a 2-D mask with rows and columns, got shape {ink.shape}")
    for band in bands:
        if len(band) != 2 or not all(isinstance(v, (int, np.integer)) for v in band) \
                or not 0 <= band[0] < band[1] <= ink.shape[1]:
            raise ValueError(f"cheapest_paths: a band is two whole column numbers lo < hi within the mask's "
                             f"{ink.shape[1]} columns, got {band!r}")
    if not bands:
        return []
    ink = ink != 0
    h = ink.shape[0]
    width = max(hi - lo for lo, hi in bands)
    cost = np.full((len(bands), h, width + 2), np.inf, np.float32)  # a wall column on each side
    for n, (lo, hi) in enumerate(bands):
        cost[n, :, 1:1 + hi - lo] = ink[:, lo:hi]
    total = cost[:, 0].copy()
    came = np.zeros((h, len(bands), width + 2), np.int8)  # -1: from the column on the left, 0: above, 1: right
    from_left = np.full_like(total, np.inf)
    from_right = np.full_like(total, np.inf)
    for y in range(1, h):
        row = cost[:, y]
        np.add(total[:, :-1], row[:, :-1], out=from_left[:, 1:])
        np.add(total[:, 1:], row[:, 1:], out=from_right[:, :-1])
        from_left[:, 1:] += PATH_STEP
        from_right[:, :-1] += PATH_STEP
        left = from_left < total  # ties go straight down, then to the left
        best = np.where(left, from_left, total)
        right = from_right < best
        total = np.where(right, from_right, best) + row
        came[y] = right.view(np.int8) - (left & ~right).view(np.int8)
    paths = []
    for n, (lo, _) in enumerate(bands):
        path = np.empty(h, np.int32)
        path[-1] = int(total[n].argmin())
        for y in range(h - 1, 0, -1):
            path[y - 1] = path[y] + came[y, n, path[y]]
        paths.append(path - 1 + lo)
    return paths


def crossing(a: Bound, b: Bound) -> bool:
    """Are a and b an upright and a slanted cut of one box (they cross: the span between them is not one
    piece of writing)?"""
    return a.inside and b.inside and a.left == b.left and a.family != b.family
