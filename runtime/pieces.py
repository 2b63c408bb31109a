"""A text line's pieces of ink joined into digit boxes: pieces whose x-ranges overlap (a stroke broken by faint
ink), and a digit and its bar (a 5 written in two strokes), kept joined only if the digit reads as a 5 with it."""

from __future__ import annotations

from typing import Callable

import numpy as np

from runtime.cuts import LineInk

BAR_HEIGHT = 0.4  # x a digit's height: a flat piece no taller than this...
BAR_GAP = 0.15  # ...starting inside the digit's x-range or this close after it...
BAR_TOP = 0.35  # ...and ending above this fraction of the digit's height is its bar (a 5's, written apart)
BAR_SURE = 0.99  # ...kept if the digit reads as a 5 with it this surely, and more surely than as any digit without
# it (a dash high after a 1 or a 3 is not a bar: a 5 read at 0.93-0.99 in 3 of 150 such frames; the 5s of field
# seeds 0 and 7 whose bar was written apart read at 0.996 with it)...
BAR_LIKELY = 0.9  # ...or as a 5 this surely when its body alone reads as no digit this surely...
BAR_AT_LEAST = 0.7  # ...or as a 5 this surely when its body alone reads as no digit at BODY_UNREAD (parted, the
BODY_UNREAD = 0.55  # 5 is lost; a letter or a $ with a dash high after it reads as a 5 at 0.50-0.70, one at 0.85)

Classify = Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) uint8 -> (N, classes) probabilities


def _is_its_bar(box, piece) -> bool:
    """Is `piece` a flat stroke off the top right of `box` (a 5's bar written apart from its body)?"""
    x0, y0, x1, y1 = piece
    height = box[3] - box[1]
    return (y1 - y0 <= BAR_HEIGHT * height and x1 - x0 >= 1.4 * (y1 - y0) and box[0] < x0 <= box[2] + BAR_GAP * height
            and y1 <= box[1] + BAR_TOP * height)


def join_pieces(boxes: list[tuple], members: list[list[int]]):
    """Join boxes (x0, y0, x1, y1) whose x-ranges overlap by half the narrower one, or that are a digit and its
    bar (_is_its_bar); sorted by x. Also returns, per joined box, the members that joined it as a bar."""
    order = sorted(range(len(boxes)), key=lambda i: boxes[i][0])
    out_boxes: list[list[int]] = []
    out_members: list[list[int]] = []
    out_bars: list[list[int]] = []
    for i in order:
        x0, y0, x1, y1 = boxes[i]
        if out_boxes:
            last = out_boxes[-1]
            overlap = min(last[2], x1) - max(last[0], x0)
            bar = overlap <= 0.5 * min(last[2] - last[0], x1 - x0) and _is_its_bar(last, (x0, y0, x1, y1))
            if overlap > 0.5 * min(last[2] - last[0], x1 - x0) or bar:
                out_boxes[-1] = [min(last[0], x0), min(last[1], y0), max(last[2], x1), max(last[3], y1)]
                out_members[-1] = out_members[-1] + members[i]
                out_bars[-1] = out_bars[-1] + (members[i] if bar else [])
                continue
        out_boxes.append([x0, y0, x1, y1])
        out_members.append(list(members[i]))
        out_bars.append([])
    return out_boxes, out_members, out_bars


def parted_unless_a_5(boxes: list, members: list, bars: list, stats: np.ndarray, labels, signal, height: float,
                      classify: Classify) -> tuple[list, list]:
    """Boxes joined with a bar (_is_its_bar) stay joined only if read with it as a 5 (keeps_bar); else body and
    bar are parted again (a dash high after a 1 or a 0 is no 5's bar)."""
    joined = [k for k, bar in enumerate(bars) if bar]
    if not joined:
        return boxes, members
    bodies = []
    for k in joined:
        body = [m for m in members[k] if m not in bars[k]]
        bodies.append((_union(stats, body), body))
    line = LineInk(labels, signal, [boxes[k] for k in joined] + [box for box, _ in bodies],
                   [members[k] for k in joined] + [body for _, body in bodies], height)
    images = [line.render(n, n, line.boxes[n][0], line.boxes[n][2])[0] for n in range(len(line.boxes))]
    if any(image is None for image in images):
        return boxes, members
    probs = classify(np.stack(images))
    with_bar, without = probs[:len(joined)], probs[len(joined):]
    parted = {}
    for n, k in enumerate(joined):
        if not keeps_bar(with_bar[n], without[n]):
            parted[k] = [(bodies[n][0], bodies[n][1]), (_union(stats, bars[k]), bars[k])]
    out = [item for k in range(len(boxes)) for item in parted.get(k, [(boxes[k], members[k])])]
    out.sort(key=lambda item: item[0][0])
    return [box for box, _ in out], [m for _, m in out]


def keeps_bar(with_bar: np.ndarray, without: np.ndarray) -> bool:
    """Does a digit read with its bar (probabilities `with_bar`) and without it (`without`) keep the bar?"""
    if int(with_bar.argmax()) != 5:
        return False
    body = float(without[:10].max())
    return (with_bar[5] >= BAR_SURE and with_bar[5] > body) or (with_bar[5] >= BAR_LIKELY and body < BAR_LIKELY) \
        or (with_bar[5] >= BAR_AT_LEAST and body < BODY_UNREAD)


def _union(stats: np.ndarray, ids: list[int]) -> list[int]:
    """The box (x0, y0, x1, y1) of components `ids`."""
    return [int(min(stats[i, 0] for i in ids)), int(min(stats[i, 1] for i in ids)),
            int(max(stats[i, 0] + stats[i, 2] for i in ids)), int(max(stats[i, 1] + stats[i, 3] for i in ids))]
