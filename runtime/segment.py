"""Ink components -> digits: pieces joined, specks dropped, touching digits split by recognition.

Per text line (runtime/lines.py), pieces whose x-ranges overlap are one digit
(a stroke broken by faint ink; a 5's bar written apart, if the digit reads as a 5
with it). A box wider than a digit,
or boxes almost touching, are read as a run: candidate cuts are the valleys of
the ink's column profile, every digit-wide span between cuts is classified in
one batch, and the cuts with the best joint score win (segmentation by
recognition). A lone box read whole as a sure digit is not tried in pieces (most
are one slanted or round digit). A run with a pair-tall span read as no digit is
read again with cuts along a few slants and along the cheapest paths through
little ink, and its boxes' pieces parted (only the boxes under that span, within a
budget of new spans per frame): digits written leaning or touching overlap in x,
and no upright cut parts them. Without a
classifier a wide box is cut at its deepest valleys.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import cv2
import numpy as np

from runtime.dots import dots_of
from runtime.ink import stroke_width
from runtime.lines import group_lines
from runtime.pieces import Classify, join_pieces, parted_unless_a_5
from runtime.cuts import CUT_COST, ONE_DIGIT_WIDTH, Bound, LineInk, crossing

MIN_DIGIT_PX = 7  # at working size; smaller is a speck (or unreadable anyway)
MIN_HEIGHT_VS_LINE = 0.3  # of the line's digit height; smaller is a speck, a dot, a comma
MAX_FILL = 0.80  # ink pixels / box area; above this it is a solid blob (shadow, object), unless thin like a 1
MIN_FILL = 0.04
RELATIVE_INK = 0.35  # a box whose darkest ink is fainter than this x the frame's darkest is a stain, grain or JPEG block
MAX_DIGITS_IN_A_RUN = 6  # a box wider than this many digits is not writing (an edge, a smear)
RUN_WIDTH = 0.8  # a box wider than this x its height, and than this x its line's height, may hold several digits
JOIN_GAP = 0.06  # boxes closer than this x the line height are read together (a broken stroke, a touch)
MAX_DIGIT_WIDTH = 1.5  # no single digit is wider than this x the line height
NOT_A_DIGIT_WIDTH = 1.1  # x the line height: a span this narrow may be read whole as a letter (an M, a W);
# a wider one is more often two touching digits (field test, 40 frames: 1.1 keeps letters_mixed at 89 %)
SKIP_HEIGHT = 0.55  # a piece shorter than this x the line height may be left out of a run...
SKIP_COST = 2.0  # ...at this cost (log-probability)
DIGIT_COST = 0.6  # log-probability each extra digit in a split must earn
WIDE_COST = 6.0  # per unit of width / line height above 1
RING_HOLE = 0.6  # x its ink's width: a span whose one enclosed hole is this wide is a ring (a flat 0)...
RING_WIDTH = 2.0  # ...and, read as a 0, costs nothing for its width up to this x its height
MAX_STROKE_VS_HEIGHT = 0.4  # a blob whose "strokes" are this thick for its height is a smudge or a shadow's corner
WHOLE_CONFIDENCE = 0.98  # a lone box read whole this surely as one digit is not tried in pieces
PAIR_HEIGHT = 0.85  # x the line height: a span read as "not a digit" this tall may be a touching pair...
PAIR_CONFIDENCE = 0.99  # ...split when both its halves read as digits this surely
LEG_HEIGHT = 0.8  # x its box's height: a 1 cut from a letter's ink this tall is one of its legs (M, N; 0.6 took a real
# 1 touching a digit read "not a digit" for a leg: "101" read as one glyph, attack review 2026-11-30)
MAX_CANDIDATES = 400  # more boxes than this in a 320x240 working frame (pro rata) is texture, not writing
RETRY_BELOW = 0.55  # a run with a span PAIR_HEIGHT tall read as "not a digit" or as no digit this sure (the
# shipped operating point) is read again with cuts leaning (runtime/cuts.py, SLANTS)...
SLANTED_SURE = 0.9  # ...and keeps that reading if every digit in it is this sure
RETRY_SPANS = 256  # ...rendering at most this many new spans per frame (the rest keep the upright reading)
SPANS = 512  # spans read per 320x240 of working frame, the runs with fewest first; the rest are cut at their
# valleys unread (a frame of dense scrawl costs a bounded time; the field's frames need at most 63)

@dataclass
class Found:
    """One digit at working size: box (x, y, w, h), text line, image, and its probabilities if already classified."""

    box: tuple[int, int, int, int]
    line: int
    image: np.ndarray
    probabilities: np.ndarray | None = None
    dot: str = ""  # where it has a dot of its own: "above", "below" or "" (runtime/dots.py: an i, j, ! or ?)


def _components(stats: np.ndarray) -> list[int]:
    return [i for i in range(1, len(stats)) if stats[i, 4] >= 3 and stats[i, 3] >= 3]


def _is_ring(image: np.ndarray) -> bool:
    """Does a 28x28 crop's ink enclose one hole nearly as wide as the ink (a 0, however flat)?"""
    ink = (image > 64).view(np.uint8)
    outside = np.pad(ink, 1)
    cv2.floodFill(outside, None, (0, 0), 1)
    holes = (outside[1:-1, 1:-1] == 0).view(np.uint8)
    if not holes.any():
        return False
    _, _, stats, _ = cv2.connectedComponentsWithStats(holes, connectivity=4)
    cols = np.nonzero(ink.any(axis=0))[0]
    return int(stats[1:, 2].max()) >= RING_HOLE * (cols[-1] - cols[0] + 1)


def _digit_score(probabilities: np.ndarray, box, line_height: float, ring: bool = False,
                 letter: bool = True) -> float:
    """How much a span looks like one glyph: log confidence over the ten digits (or, for a model with a
    "not a digit" output and a span no wider than NOT_A_DIGIT_WIDTH, that it is a letter or symbol: so an M
    is not cut into 1 4 1), minus a cost per glyph
    (so a wide digit is not read as two confident halves), for being wider than a digit (than tall; a ring,
    a flat 0, up to RING_WIDTH), for being a fragment much shorter than the line."""
    p = float(probabilities[:10].max())
    _, _, w, h = box
    if letter and len(probabilities) > 10 and w <= NOT_A_DIGIT_WIDTH * line_height:  # a letter is a glyph too, not 2-3 digits
        p = max(p, float(probabilities[10]))
    short = max(0.0, 0.55 - h / line_height)
    wide = max(0.0, w / h - (RING_WIDTH if ring else 1.0))
    return float(np.log(max(p, 1e-6))) - DIGIT_COST - WIDE_COST * wide - 20.0 * short


class _Run:
    """Boxes first..last of a line read together: the candidate cuts and every digit-wide span between them."""

    def __init__(self, line: LineInk, first: int, last: int, leaning: frozenset = frozenset()):
        # leaning: the boxes also cut along slants and parted into their pieces (a run read again)
        self.line, self.first, self.last, self.slanted = line, first, last, bool(leaning)
        # (column, box on the left of the cut, box on the right, cost of cutting there)
        bounds = [Bound(line.boxes[first][0], first, first, 0.0)]
        for k in range(first, last + 1):
            box_h = line.boxes[k][3] - line.boxes[k][1]
            if line.boxes[k][2] - line.boxes[k][0] > RUN_WIDTH * box_h:
                bounds += [Bound(c, k, k, CUT_COST * max(0, strokes - 1), inside=True) for c, strokes in line.cuts(k)]
                bounds += line.slanted_cuts(k) if k in leaning else []
                bounds += line.path_cuts(k) if k in leaning else []
            bounds += line.piece_partings(k) if k in leaning else []
            if k < last:
                bounds.append(Bound(line.boxes[k][2], k, k + 1, 0.0))
        bounds.append(Bound(line.boxes[last][2], last, last, 0.0))
        self.bounds = sorted(bounds, key=lambda b: b.x)
        self._pair_list = None
        self.spans, self.images, self.boxes = [], [], []
        self.whole = None  # (image, box, probabilities) when the run was read whole as one digit
        self.reading = None  # its glyphs, [(image, box, probabilities)], once its spans are classified
        self.small = False  # a lone box narrower than a digit of its line: kept whole if read as any digit...
        self.read_whole = None  # ...and its reading whole, kept if its pieces read only as 1s (a v's two strokes)

    def _pairs(self) -> list[tuple[int, int]]:
        """Every (bound, bound) index pair no wider than a digit that may bound one span."""
        if self._pair_list is not None:
            return self._pair_list
        bounds, height = self.bounds, self.line.height
        pairs = []
        for i in range(len(bounds) - 1):
            j = i + 1
            while j < len(bounds) and bounds[j].x - bounds[i].x <= MAX_DIGIT_WIDTH * height:
                if not crossing(bounds[i], bounds[j]):
                    pairs.append((i, j))
                j += 1
        self._pair_list = pairs
        return pairs

    def need(self, known: dict) -> int:
        """How many spans render_spans(known) would render anew."""
        return sum((self.bounds[i], self.bounds[j]) not in known for i, j in self._pairs())

    def render_spans(self, known: dict | None = None) -> list[np.ndarray]:
        """Render every span no wider than a digit; one in `known` ((bound, bound) -> (image, box,
        probabilities), None if it holds no ink) is taken from it. The images still to classify, in span order
        (self.probs holds None for them)."""
        bounds, pairs, known = self.bounds, self._pairs(), known or {}
        new = []
        self.probs, self.tried = [], {}
        for i, j in pairs:
            key = (bounds[i], bounds[j])
            if key in known:
                if known[key] is None:
                    continue
                image, box, p = known[key]
            else:
                (image, box), p = self.line.render_between(bounds[i].right, bounds[j].left, bounds[i], bounds[j]), None
            self.tried[key] = None if image is None else len(self.spans)
            if image is not None:
                self.spans.append((i, j))
                self.images.append(image)
                self.boxes.append(box)
                self.probs.append(p)
                if p is None:
                    new.append(image)
        return new

    def known(self) -> dict:
        """Every span tried, for a reading again: (bound, bound) -> (image, box, probabilities) or None."""
        return {key: None if s is None else (self.images[s], self.boxes[s], self.probs[s]) for key, s in self.tried.items()}

    def best_reading(self, probs: np.ndarray) -> list[tuple]:
        """The spans, chosen left to right, whose digits score best together: [(image, box, probabilities)]."""
        bounds, height = self.bounds, self.line.height
        # bound index -> (score of the best reading up to it, (previous bound, span index or None if skipped))
        best = {0: (0.0, None)}
        for s, (i, j) in enumerate(self.spans):  # spans are ordered by i, so best[i] is final when used
            if i not in best:
                continue
            # a wide span read first as a 0 whose hole spans it is a ring (two digits touching at two points
            # also enclose one hole, between them: but read as a 0 they rarely are)
            ring = self.boxes[s][2] > self.boxes[s][3] and int(probs[s].argmax()) == 0 and _is_ring(self.images[s])
            options = [(best[i][0] + _digit_score(probs[s], self.boxes[s], height, ring,
                                                         not (self.slanted and bounds[i].right < bounds[j].left)) - bounds[j].cost, (i, s))]
            if self.boxes[s][3] < SKIP_HEIGHT * height:  # a short piece may be no digit at all (a bar, a tick)
                options.append((best[i][0] - SKIP_COST - bounds[j].cost, (i, None)))
            for score, step in options:
                if j not in best or score > best[j][0]:
                    best[j] = (score, step)
        end = len(bounds) - 1
        while end not in best and end > 0:
            end -= 1
        chosen = []
        while end > 0 and best[end][1] is not None:
            i, s = best[end][1]
            if s is not None:
                chosen.append(s)
            end = i
        return self._letters_whole(self._pairs_split(chosen[::-1], probs), probs)

    def _box_holding(self, s: int) -> int | None:
        """The line box span s lies within (between its edges or cuts inside it), or None if it spans two."""
        i, j = self.spans[s]
        return self.bounds[i].right if self.bounds[i].right == self.bounds[j].left else None

    def _pairs_split(self, chosen: list[int], probs: np.ndarray) -> list[int]:
        """The chosen spans, each one read as "not a digit" that is one connected piece of ink as tall as the
        line and splits into two digits read surely, neither a 1, replaced by those two: a touching pair ("47")
        read whole as a non-digit (pairs are among the model's negatives). No 1s: an M or an m splits into a
        surely read 1 and 4 or 7; one piece: a % (two rings and a slash apart) splits into a sure 9 and 6."""
        if not len(probs) or probs.shape[1] <= 10:
            return chosen
        index = {span: s for s, span in enumerate(self.spans)}
        out = []
        for s in chosen:
            i, j = self.spans[s]
            best = None
            k = self._box_holding(s)
            one_piece = k is not None and len(self.line.members[k]) == 1  # ink that touches (not a %)
            if one_piece and int(probs[s].argmax()) == 10 and self.boxes[s][3] >= PAIR_HEIGHT * self.line.height:
                for m in range(i + 1, j):
                    left, right = index.get((i, m)), index.get((m, j))
                    if left is None or right is None:
                        continue
                    digits = [int(probs[left][:10].argmax()), int(probs[right][:10].argmax())]
                    sure = float(probs[left][digits[0]] * probs[right][digits[1]])
                    if 1 not in digits and min(probs[left][digits[0]], probs[right][digits[1]]) >= PAIR_CONFIDENCE \
                            and (best is None or sure > best[0]):
                        best = (sure, left, right)
            out += [best[1], best[2]] if best else [s]
        return out

    def _letters_whole(self, chosen: list[int], probs: np.ndarray) -> list[tuple]:
        """The chosen spans as (image, box, probabilities), except that a box cut into pieces read only as
        "not a digit" and as 1s as tall as the box is one letter (an M, N or W cut into a letter and its
        leg; or a letter cut in two): the whole box is kept, with its surest "not a digit" piece's probabilities."""
        out = [(self.images[s], self.boxes[s], probs[s]) for s in chosen]
        if not len(probs) or probs.shape[1] <= 10:
            return out
        pieces: dict[int, list[int]] = {}  # box -> the chosen spans cut from it
        for n, s in enumerate(chosen):
            k, (i, j) = self._box_holding(s), self.spans[s]
            if k is not None and (self.bounds[i].inside or self.bounds[j].inside):
                pieces.setdefault(k, []).append(n)  # a piece cut from box k, not all of it
        whole = {}
        for k, members in pieces.items():
            x0, y0, x1, y1 = self.line.boxes[k]
            letters = [n for n in members if int(out[n][2].argmax()) == 10]
            legs = [n for n in members if n not in letters]
            if letters and all(int(out[n][2].argmax()) == 1 and out[n][1][3] >= LEG_HEIGHT * (y1 - y0) for n in legs):
                image, box = self.line.render(k, k, x0, x1)
                if image is not None:
                    whole[members[0]] = (image, box, out[max(letters, key=lambda n: out[n][2][10])][2])
                    whole.update({n: None for n in members[1:]})
        return [whole.get(n, item) for n, item in enumerate(out) if whole.get(n, item) is not None]


def _split_without_classifier(run: _Run) -> list[tuple]:
    """Cut each box at its cheapest valleys, as many as its width in digits; no joins. A small lone box is one."""
    line, bounds, out = run.line, run.bounds, []
    if run.small:
        x0, _, x1, _ = line.boxes[run.first]
        image, box = line.render(run.first, run.first, x0, x1)
        return [(image, box, None)] if image is not None else []
    for k in range(run.first, run.last + 1):
        x0, _, x1, _ = line.boxes[k]
        n = int(np.clip(round((x1 - x0) / (0.8 * line.height)), 1, MAX_DIGITS_IN_A_RUN))
        inside = sorted((b.cost, b.x) for b in bounds if b.inside and b.slope == 0.0 and b.left == k)
        cuts = [c for _, c in inside[: n - 1]]
        edges = [x0] + sorted(cuts) + [x1]
        for a, b in zip(edges[:-1], edges[1:]):
            image, box = line.render(k, k, a, b)
            if image is not None:
                out.append((image, box, None))
    return out


def _line_height(heights: list[int]) -> float:
    """The line's digit height: the median of its boxes at least half as tall as the tallest."""
    tallest = max(heights)
    return float(statistics.median([h for h in heights if h >= 0.5 * tallest]))  # np.median's value, 10x faster


def _looks_like_ink_of_a_digit(mask: np.ndarray, box, height: float) -> bool:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if h < max(MIN_DIGIT_PX, MIN_HEIGHT_VS_LINE * height) or w > MAX_DIGITS_IN_A_RUN * height:
        return False
    ink = mask[y0:y1, x0:x1]
    fill = np.count_nonzero(ink) / float(w * h)
    if fill < MIN_FILL or (fill > MAX_FILL and w >= 0.35 * h):
        return False
    if h < 2 * MIN_DIGIT_PX and w > 1.5 * h and h < 0.6 * height:
        return False  # a dash, or a 5's bar far from its body
    # Too few pixels for the stroke width to say much below 2 x MIN_DIGIT_PX.
    if h < 3 * MIN_DIGIT_PX or w < 0.5 * h:  # few pixels, or a single upright stroke (a bold 1)
        return True
    return stroke_width((ink > 0).view(np.uint8)) <= MAX_STROKE_VS_HEIGHT * h


def find_in_mask(mask: np.ndarray, labels: np.ndarray, stats: np.ndarray, signal: np.ndarray,
                 classify: Classify | None = None, area: float | None = None) -> list[Found]:
    """Every digit in a working-size ink mask, in reading order (lines top to bottom, left to right). `area`: the
    frame's size in units of 320x240 for the budgets of candidates and spans (default: the mask's; a frame read
    at a finer scale keeps the budgets of its working size)."""
    area = max(1.0, mask.size / (320 * 240) if area is None else area)
    ids = _components(stats)
    if not ids or len(ids) > MAX_CANDIDATES * area:
        return []
    boxes = [tuple(int(v) for v in stats[i, :4]) for i in ids]
    found: list = []
    lines = []
    for members in group_lines(boxes):
        line_boxes = [(boxes[m][0], boxes[m][1], boxes[m][0] + boxes[m][2], boxes[m][1] + boxes[m][3]) for m in members]
        merged, merged_members, bars = join_pieces(line_boxes, [[ids[m]] for m in members])
        height = _line_height([b[3] - b[1] for b in merged])
        if classify is not None:
            merged, merged_members = parted_unless_a_5(merged, merged_members, bars, stats, labels, signal, height, classify)
        lines.append((merged, merged_members, height))
    writing = [height for merged, _, height in lines if len(merged) >= 3] or [0.0]
    peaks = [[int(signal[y0:y1, x0:x1][mask[y0:y1, x0:x1] > 0].max(initial=0)) for x0, y0, x1, y1 in merged]
             for merged, _, _ in lines]
    digit_like = [[_looks_like_ink_of_a_digit(mask, b, height) for b in merged] for merged, _, height in lines]
    # The strongest ink of anything shaped like a digit's: a dot, a stain or a marker line is not writing to compare with.
    strongest = max((p for line_peaks, line_like in zip(peaks, digit_like) for p, like in zip(line_peaks, line_like)
                     if like), default=0)
    for (merged, merged_members, height), line_peaks, line_like in zip(lines, peaks, digit_like):
        if height < MIN_DIGIT_PX or (sum(line_like) <= 2 and height < MIN_HEIGHT_VS_LINE * max(writing)):
            continue  # a glyph or two away from the writing, much smaller than its lines (with specks beside them)
        keep = [k for k in range(len(merged)) if line_peaks[k] >= RELATIVE_INK * strongest and line_like[k]]
        if not keep:
            continue
        line = LineInk(labels, signal, [merged[k] for k in keep], [merged_members[k] for k in keep], height)
        line_index = len({f.line for f in found if isinstance(f, Found)} | {f[1] for f in found if isinstance(f, tuple)})
        k = 0
        while k < len(line.boxes):  # runs: boxes that are wide or that almost touch the next one
            end = k
            while end + 1 < len(line.boxes) and line.boxes[end + 1][0] - line.boxes[end][2] < JOIN_GAP * height:
                end += 1
            x0, y0, x1, y1 = line.boxes[k]
            if end == k and x1 - x0 <= RUN_WIDTH * (y1 - y0):
                image, box = line.render(k, k, x0, x1)
                if image is not None:
                    found.append(Found(box, line_index, image))
            else:
                run = _Run(line, k, end)
                # A lone box narrower than a digit of its line is read whole first, and kept if read as a digit:
                # a small 2 or 5 beside tall 7s and 9s is wide for its own height, and read as a run it was
                # dropped as a short piece; one read as no digit may be a small touching pair.
                run.small = end == k and (x1 - x0 <= RUN_WIDTH * height or line.one_digit(k))
                found.append((run, line_index))
            k = end + 1
    found = _resolve_runs(found, classify, area)
    for f, dot in zip(found, dots_of([f.box for f in found], stats, ids, labels)):
        f.dot = dot
    return found


def one_digit_in_mask(mask: np.ndarray, labels: np.ndarray, stats: np.ndarray, signal: np.ndarray) -> list[Found]:
    """A crop of one digit (an MNIST-style image): all pieces taller than a speck, as one digit, or none."""
    ids = [i for i in _components(stats) if stats[i, 3] >= MIN_DIGIT_PX]
    if not ids:
        return []
    x0, y0 = min(stats[i, 0] for i in ids), min(stats[i, 1] for i in ids)
    x1, y1 = max(stats[i, 0] + stats[i, 2] for i in ids), max(stats[i, 1] + stats[i, 3] for i in ids)
    line = LineInk(labels, signal, [(int(x0), int(y0), int(x1), int(y1))], [ids], float(y1 - y0))
    if not _looks_like_ink_of_a_digit(mask, line.boxes[0], line.height):
        return []
    image, box = line.render(0, 0, int(x0), int(x1))
    return [Found(box, 0, image)] if image is not None else []


def _read_whole_first(runs: list[_Run], classify: Classify) -> list[_Run]:
    """Read each lone box no wider than ONE_DIGIT_WIDTH whole first; one read as a digit with at least
    WHOLE_CONFIDENCE (a small one, narrower than a digit of its line: with any) is that digit and needs no
    cuts. The runs still to split are returned.

    Most such boxes are one slanted or round digit, and trying every cut costs a classifier call per span
    (3 per clean frame, 38 per page of 40 digits)."""
    lone = []
    for run in runs:
        x0, y0, x1, y1 = run.line.boxes[run.first]
        if run.first == run.last and (x1 - x0 <= ONE_DIGIT_WIDTH * (y1 - y0) or run.small):
            image, box = run.line.render(run.first, run.first, x0, x1)
            if image is not None:
                lone.append((run, image, box))
    if not lone:
        return runs
    for (run, image, box), p in zip(lone, classify(np.stack([image for _, image, _ in lone]))):
        if int(p.argmax()) < 10 and (run.small or float(p[:10].max()) >= WHOLE_CONFIDENCE):
            run.whole = (image, box, p)
        elif run.small:
            run.read_whole = (image, box, p)
    return [run for run in runs if run.whole is None]


def _unread(p: np.ndarray) -> bool:
    """Did a span read as no confident digit ("not a digit", or no digit at RETRY_BELOW)?"""
    return int(p.argmax()) == 10 or float(p[:10].max()) < RETRY_BELOW


def _sure(reading: list[tuple]) -> bool:
    """Is every glyph of a run's reading a digit read at least SLANTED_SURE?"""
    return bool(reading) and all(int(p.argmax()) < 10 and float(p[:10].max()) >= SLANTED_SURE for _, _, p in reading)


def _classify_spans(runs: list[_Run], classify: Classify, budget: int) -> list[_Run]:
    """Render and classify the spans of `runs` in one batch (run.probs), the runs with fewest spans first, at most
    `budget` spans in all; the runs read, in their order (the others are cut at their valleys, unread)."""
    needs = {id(run): run.need({}) for run in runs}
    chosen, spent = set(), 0
    for run in sorted(runs, key=lambda run: needs[id(run)]):
        if spent + needs[id(run)] > budget:
            break
        chosen.add(id(run))
        spent += needs[id(run)]
    runs = [run for run in runs if id(run) in chosen]
    images = [image for run in runs for image in run.render_spans()]
    probs = classify(np.stack(images)) if images else np.zeros((0, 10), np.float32)
    start = 0
    for run in runs:
        run.probs = probs[start:start + len(run.images)]
        start += len(run.images)
    return runs


def _failing_boxes(run: _Run) -> frozenset:
    """The boxes of a run under a span as tall as a pair that its reading left as no digit."""
    out = set()
    for _, (x, _, w, h), p in run.reading:
        if _unread(p) and h >= PAIR_HEIGHT * run.line.height:
            out.update(k for k in range(run.first, run.last + 1)
                       if run.line.boxes[k][0] < x + w and run.line.boxes[k][2] > x)
    return frozenset(out)


def _read_leaning(runs: list[_Run], classify: Classify, budget: int) -> None:
    """Runs with a span as tall as a pair read as no digit are read again: the boxes under it also cut along
    slants and along the cheapest paths through little ink (runtime/cuts.py; digits written leaning that touch
    overlap in x: no upright cut parts them) and parted into their pieces of ink (leaning digits written apart
    whose x-ranges overlap were joined), and a span over two boxes read only as a digit (a letter is one box). Spans already read are not rendered or
    read again; runs partly read as digits go first, then those needing fewest new spans, and one needing more
    than is left of `budget` keeps its upright reading (a frame of leaning scrawl costs a bounded time).
    The new reading is kept when it is all sure digits, and holds no 1 where the upright one held a letter
    (a letter's stem cut off its body reads as a sure 1)."""
    wanted = []
    for run in runs:
        failing = _failing_boxes(run)
        if not failing:
            continue
        leaning = _Run(run.line, run.first, run.last, failing)
        if len(leaning.bounds) == len(run.bounds) and run.last == run.first:
            continue  # no new cut
        known = run.known()
        unread = sum(_unread(p) for _, _, p in run.reading) / len(run.reading)
        wanted.append((unread, leaning.need(known), run, leaning, known))
    again = []
    # Runs partly read as digits first (a number with one unread span, not a group of letters), then the cheapest.
    for _, need, run, leaning, known in sorted(wanted, key=lambda item: item[:2]):
        if need > budget:
            continue
        leaning.render_spans(known)
        budget -= need
        again.append((run, leaning))
    todo = [(leaning, n) for _, leaning in again for n, p in enumerate(leaning.probs) if p is None]
    if todo:
        for (leaning, n), p in zip(todo, classify(np.stack([leaning.images[n] for leaning, n in todo]))):
            leaning.probs[n] = p
    for run, leaning in again:
        if not leaning.spans:
            continue
        reading = leaning.best_reading(np.stack(leaning.probs))
        letter = any(int(p.argmax()) == 10 for _, _, p in run.reading)
        if _sure(reading) and not (letter and any(int(p.argmax()) == 1 for _, _, p in reading)):
            run.reading = reading


def _resolve_runs(found: list, classify: Classify | None, area: float = 1.0) -> list[Found]:
    """Replace each run by its digits; every run's spans are classified in one batch (and those read again
    along their slant in a second), up to SPANS per 320x240 of `area` (in such units)."""
    runs = [item[0] for item in found if isinstance(item, tuple)]
    if not runs:
        return found
    if classify is not None:
        runs = _classify_spans(_read_whole_first(runs, classify), classify, int(SPANS * area))
        for run in runs:
            run.reading = run.best_reading(run.probs)
        _read_leaning(runs, classify, RETRY_SPANS)
    out = []
    for item in found:
        if isinstance(item, Found):
            out.append(item)
            continue
        run, line_index = item
        if run.whole is not None:
            digits = [run.whole]
        else:
            digits = run.reading if run.reading is not None else _split_without_classifier(run)
            if run.read_whole is not None and digits and all(p is not None and int(p.argmax()) == 1 for _, _, p in digits):
                digits = [run.read_whole]  # a small letter cut into its strokes, not a row of 1s
        out += [Found(box, line_index, image, p) for image, box, p in digits]
    return out
