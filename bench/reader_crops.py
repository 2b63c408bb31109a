"""Crops as the reader cuts them from generated camera frames, labelled from the generator's truth: training data.

`mnist-edge bench crops` (-> runs/reader_crops.npz) runs the reader
(runtime.preprocess.find_digits, the shipped model choosing its cuts) on frames
of every field condition written with MNIST *train* digits (the training run's
validation hold-out left out) and on frames of letters, symbols and scribbles,
with a seed of its own (the field test uses 0 and 7, MNIST test digits). A crop
whose box covers a written digit's (IoU >= MATCH_IOU) is that digit; a crop
that touches no digit is "not a digit" (class 10) unless it is shaped like a 1
(one narrow stroke: train/negatives' rules); anything between is left out. The
letters are never shaped like a digit (no O, l, I, S, B, ...): those are read by
their word (runtime/words.py), not by their shape. Needs the train and bench extras
(the training runs' own validation split; TrueType letters).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from bench.detector_reader import iou

MATCH_IOU = 0.6  # a crop covering this much of a written digit's box (and it of the crop) is that digit
TOUCHES = 0.1  # a crop overlapping a digit's box more than this is part digit: left out
HALF_HEIGHT = 0.6  # x its digit's height: a side of a cut pair shorter than this is a sliver, not the digit
MAX_PER_FRAME = 8  # crops kept from one frame (a page holds 40)
DEFAULT_SEED = 1001
MAX_FRAMES = 100_000  # per option: the job list is built whole (a few MB), the .npz held in memory
VALIDATION_SIZE = 5000  # the training runs' hold-out (train.fit.TrainConfig.val_size): its digits are never mined
NOT_A_DIGIT = 10
# Characters of the field generator's letters and symbols not shaped like a handwritten digit.
MARKS = "ACEFHKLMNPRUVWXYacdefhkmnprtuvwxy+=#%&@*?<>~^"


def marks_frame(rng: np.random.Generator, pool):
    """A frame of letters, symbols and scribbles (never a digit-shaped letter), 1-3 marks on a line."""
    from bench import field_scenes as fs

    height = rng.uniform(50, 170)
    marks = []
    for k in range(int(rng.integers(1, 4))):
        gap = height * rng.uniform(0.2, 0.6) if k else 0.0
        if rng.random() < 0.3:
            marks.append(fs.Glyph(fs.scribble(height * rng.uniform(0.6, 1.1), rng), gap=gap))
        else:
            text = "".join(MARKS[i] for i in rng.integers(len(MARKS), size=int(rng.integers(1, 6))))
            marks.append(fs.non_digit_glyph(rng, height * rng.uniform(0.6, 1.1), text, gap=gap))
    return fs.render(fs.base_look(rng), [marks], rng, "marks")


def _one_stroke(crop, tallest: int) -> bool:
    from train.negatives import MIN_CUT_ASPECT, MIN_SPREAD, spread

    _, _, w, h = crop.box
    return w < MIN_CUT_ASPECT * h or h < 0.5 * tallest or spread(crop.image) < MIN_SPREAD


def labelled(sample, crops) -> list[tuple[np.ndarray, int]]:
    """(28x28 image, label) for each crop the truth decides: a written digit's, or "not a digit"."""
    truth = "".join(sample.lines)
    tallest = max((c.box[3] for c in crops), default=0)
    out = []
    for crop in crops:
        overlaps = [iou(crop.box, box) for box in sample.boxes]
        best = int(np.argmax(overlaps)) if overlaps else -1
        if best >= 0 and overlaps[best] >= MATCH_IOU:
            out.append((crop.image, int(truth[best])))
        elif (not overlaps or overlaps[best] <= TOUCHES) and not _one_stroke(crop, tallest):
            out.append((crop.image, NOT_A_DIGIT))
    return out


def cut_apart(sample) -> list[tuple[np.ndarray, int]]:
    """Each pair of touching digits cut where their boxes meet (the middle of their overlap: one straight cut,
    as the reader cuts a touching pair) and each side read by the reader as a crop of one digit, labelled with
    its digit; a side the reader finds nothing in, or several things, or much shorter than its digit, is left out."""
    from runtime.preprocess import find_digits

    truth = "".join(sample.lines)
    height, width = sample.image.shape[:2]
    out = []
    for k in range(len(sample.boxes) - 1):
        (ax, ay, aw, ah), (bx, by, bw, bh) = sample.boxes[k], sample.boxes[k + 1]
        if bx > ax + aw:  # apart: nothing to cut
            continue
        cut = (bx + ax + aw) // 2
        pad = max(4, min(ah, bh) // 10)
        top, bottom = max(0, min(ay, by) - pad), min(height, max(ay + ah, by + bh) + pad)
        for x0, x1, label, tall in ((max(0, ax - pad), cut, truth[k], ah), (cut, min(width, bx + bw + pad), truth[k + 1], bh)):
            if x1 - x0 < 16 or bottom - top < 16:
                continue
            crops = find_digits(sample.image[top:bottom, x0:x1])
            if len(crops) == 1 and crops[0].box[3] >= HALF_HEIGHT * tall:
                out.append((crops[0].image, int(label)))
    return out


def jobs(frames_per_condition: int, marks_frames: int, pairs_frames: int = 0) -> list[tuple[str, int]]:
    """(condition, frame index) of every frame to mine: each field condition with digits, then marks, then
    touching pairs cut apart ("pairs", frame indices after those of the touching_pairs condition)."""
    from bench import field_scenes as fs

    return ([(c, i) for c in fs.CONDITIONS if c != "non_digit" for i in range(frames_per_condition)]
            + [("marks", i) for i in range(marks_frames)]
            + [("pairs", frames_per_condition + i) for i in range(pairs_frames)])


def mine(todo, seed: int, predictor, pool):
    """Images (N, 28, 28) uint8, labels (N,) and the condition of each, from the frames `todo` names (`jobs`)."""
    from bench import field_scenes as fs
    from runtime.preprocess import find_digits

    images, labels, where = [], [], []
    for condition, index in todo:
        if condition == "pairs":
            sample = fs.touching_pairs(fs.sample_seed(seed, "touching_pairs", index), pool)
            found = cut_apart(sample)
            rng = fs.sample_seed(seed, condition, index)
        else:
            rng = fs.sample_seed(seed, condition, index)
            sample = marks_frame(rng, pool) if condition == "marks" else fs.CONDITIONS[condition](rng, pool)
            found = labelled(sample, find_digits(sample.image, classify=predictor.predict))
        for k in rng.permutation(len(found))[:MAX_PER_FRAME]:
            images.append(found[k][0])
            labels.append(found[k][1])
            where.append(condition)
    if not images:
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8), np.array([], dtype="<U1")
    return np.stack(images), np.array(labels, np.uint8), np.array(where)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mnist-edge bench crops", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=150, help="frames per field condition (default: 150)")
    parser.add_argument("--marks", type=int, default=3000, help="frames of letters, symbols, scribbles (default: 3000)")
    parser.add_argument("--pairs", type=int, default=0,
                        help="frames of touching pairs cut apart where the digits meet, each side labelled (default: 0)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"the frames' seed (default: {DEFAULT_SEED})")
    parser.add_argument("--model", default="tflite-int8", help="exported format that chooses the cuts (default: tflite-int8)")
    parser.add_argument("--data", default=None, help="path to mnist.npz (default: $MNIST_NPZ)")
    parser.add_argument("--out", default="runs/reader_crops.npz", help="the .npz to write (x, y, condition)")
    parser.add_argument("--force", action="store_true", help="replace an existing --out")
    return parser


def _problem(args) -> str | None:
    """What is wrong with the arguments (checked before minutes of mining), or None."""
    import os

    from runtime.files import file_in_the_way

    counts = {"--frames": args.frames, "--marks": args.marks, "--pairs": args.pairs}
    if min(counts.values()) < 0 or not sum(counts.values()):
        return "--frames, --marks and --pairs must be >= 0, not all 0"
    if max(counts.values()) > MAX_FRAMES:
        return f"--frames, --marks and --pairs are at most {MAX_FRAMES:,} each"
    if args.seed < 0:
        return f"--seed must be 0 or more, got {args.seed}"
    out = Path(args.out)
    if out.exists() and not out.is_file():
        return f"--out {out}: not a regular file (a folder, a device or a pipe); give a file name"
    if out.exists() and not args.force:
        return f"--out {out} exists; pass --force to replace it"
    blocked = file_in_the_way(out.parent)
    if blocked is not None:
        return f"--out {out}: {blocked} is a file, not a folder"
    existing = next(p for p in (out.parent.absolute(), *out.parent.absolute().parents) if p.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"--out {out}: {existing} is not writable"
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    problem = _problem(args)
    if problem:
        print(f"mnist-edge bench crops: error: {problem}", file=sys.stderr)
        return 2
    import cv2

    from export.tf_quiet import quiet_tensorflow

    quiet_tensorflow(False)  # train.dataset below imports TensorFlow: no start-up lines on the terminal
    from bench import field_scenes as fs
    from runtime.files import atomic_write_bytes
    from runtime.mnist_data import load_mnist
    from runtime.predictor import load_predictor
    from runtime.progress import progress
    from train.dataset import split_validation

    cv2.setNumThreads(1)
    fs.require_drawing()
    data = load_mnist(args.data)
    if len(data.x_train) <= VALIDATION_SIZE:
        print(f"mnist-edge bench crops: error: {data.source}: {len(data.x_train)} training images, fewer than the "
              f"{VALIDATION_SIZE:,} of the training runs' validation hold-out", file=sys.stderr)
        return 2
    splits = split_validation(data, VALIDATION_SIZE)
    pool = fs.DigitPool(splits.x_train, splits.y_train)
    predictor = load_predictor(args.model, threads=1)
    todo = jobs(args.frames, args.marks, args.pairs)
    start = time.perf_counter()
    x, y, where = mine(progress(todo, len(todo), "crops", "frame"), args.seed, predictor, pool)
    if not len(y):
        print("mnist-edge bench crops: error: the reader cut no crop from these frames; nothing written", file=sys.stderr)
        return 2
    import io

    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=x, y=y, condition=where)
    atomic_write_bytes(Path(args.out), buffer.getvalue(), overwrite=args.force)
    counts = np.bincount(y, minlength=11)
    print(f"{len(y)} crops ({counts[:10].sum()} digits, {counts[10]} not a digit) from {len(todo)} frames "
          f"in {time.perf_counter() - start:.0f} s -> {args.out}")
    return 0
