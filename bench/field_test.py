"""Field test: run the reader on generated scenes, score each frame against its truth, tabulate per condition.

A reading becomes text lines: a confident digit is itself, a low-confidence one "?", anything the reader
calls not a digit is left out. Lines come from `Reading.lines` when the reader has them, else the whole
reading is one line. Digit accuracy is 1 - (substitutions + deletions + insertions) / truth digits,
from an edit-distance alignment of all lines joined top to bottom (so reading order counts).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

from runtime.predictor import LOW_CONFIDENCE, OK
from runtime.progress import progress as report_progress

UNSURE = "?"


@dataclass(frozen=True)
class Alignment:
    """Edit operations that turn the truth into what was read (a minimal Levenshtein alignment)."""

    hits: int = 0
    substitutions: int = 0
    deletions: int = 0  # truth digits not read
    insertions: int = 0  # digits read that are not there

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    def __add__(self, other: Alignment) -> Alignment:
        return Alignment(*(a + b for a, b in zip(asdict(self).values(), asdict(other).values())))


def align(truth: str, read: str) -> Alignment:
    """Count hits, substitutions, deletions and insertions of a minimal edit-distance alignment."""
    n, m = len(truth), len(read)
    cost = np.zeros((n + 1, m + 1), np.int32)
    cost[:, 0] = np.arange(n + 1)
    cost[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(cost[i - 1, j - 1] + (truth[i - 1] != read[j - 1]), cost[i - 1, j] + 1, cost[i, j - 1] + 1)
    hits = subs = dels = ins = 0
    i, j = n, m
    while i or j:  # walk back, preferring a diagonal step
        if i and j and cost[i, j] == cost[i - 1, j - 1] + (truth[i - 1] != read[j - 1]):
            if truth[i - 1] == read[j - 1]:
                hits += 1
            else:
                subs += 1
            i, j = i - 1, j - 1
        elif i and cost[i, j] == cost[i - 1, j] + 1:
            dels, i = dels + 1, i - 1
        else:
            ins, j = ins + 1, j - 1
    return Alignment(hits, subs, dels, ins)


def reading_lines(reading) -> list[str]:
    """The reading as text lines, top to bottom ("?" for a digit read without confidence)."""
    groups = getattr(reading, "lines", None)
    if groups is None:
        groups = [reading.digits]
    lines = []
    for group in groups:
        text = "".join(str(d.digit) if d.status == OK and d.digit is not None else UNSURE if d.status == LOW_CONFIDENCE
                       else "" for d in group)
        if text:
            lines.append(text)
    return lines


@dataclass(frozen=True)
class FrameScore:
    condition: str
    truth: tuple[str, ...]
    read: tuple[str, ...]
    alignment: Alignment
    exact_lines: int  # truth lines that some read line equals (each read line used once)
    confident_digits: int
    ms: float
    error: str | None = None  # a FrameError from the reader
    index: int = -1  # the frame's index in its condition: (seed, condition, index) regenerates it

    @property
    def is_digit_frame(self) -> bool:
        return bool(self.truth)

    @property
    def exact(self) -> bool:
        """Every line read exactly, in order; for a frame without digits: no confident digit."""
        return tuple(self.read) == tuple(self.truth) if self.truth else self.confident_digits == 0


def score_frame(condition: str, truth: tuple[str, ...], read: list[str], ms: float, error: str | None = None,
                index: int = -1) -> FrameScore:
    unused = Counter(read)
    exact_lines = 0
    for line in truth:
        if unused[line] > 0:
            unused[line] -= 1
            exact_lines += 1
    confident = sum(ch.isdigit() for line in read for ch in line)
    return FrameScore(condition, tuple(truth), tuple(read), align("".join(truth), "".join(read)), exact_lines,
                      confident, ms, error, index)


def summarize(scores: list[FrameScore]) -> dict:
    """One table row: the metrics over a condition's frames (None where a metric has no frames)."""
    digit_frames = [s for s in scores if s.is_digit_frame]
    other = [s for s in scores if not s.is_digit_frame]
    total = sum((s.alignment for s in digit_frames), Alignment())
    truth_digits = sum(len("".join(s.truth)) for s in digit_frames)
    truth_lines = sum(len(s.truth) for s in digit_frames)

    def rate(count, of):
        return count / of if of else None

    return {
        "frames": len(scores),
        "digit_frames": len(digit_frames),
        "non_digit_frames": len(other),
        "truth_digits": truth_digits,
        "digit_accuracy": max(0.0, 1 - total.errors / truth_digits) if truth_digits else None,
        "digits_hit": rate(total.hits, truth_digits),
        **{k: v for k, v in asdict(total).items() if k != "hits"},
        "exact_lines": rate(sum(s.exact_lines for s in digit_frames), truth_lines),
        "exact_frames": rate(sum(s.exact for s in scores), len(scores)),
        "no_digit_rate": rate(sum(s.confident_digits == 0 for s in digit_frames), len(digit_frames)),
        "false_digit_rate": rate(sum(s.confident_digits > 0 for s in other), len(other)),
        "reader_errors": sum(s.error is not None for s in scores),
        "ms_median": float(np.median([s.ms for s in scores])) if scores else None,
    }


def read_frame(predictor, image, min_confidence: float) -> tuple[list[str], float, str | None]:
    """The reader's lines for one frame, its time in ms, and the FrameError it raised if any."""
    from runtime.preprocess import FrameError

    start = time.perf_counter()
    try:
        reading = predictor.read_digits(image, min_confidence)
    except FrameError as exc:
        return [], 1000 * (time.perf_counter() - start), str(exc)
    ms = 1000 * (time.perf_counter() - start)
    return reading_lines(reading), ms, None


def run_field_test(predictor, pool, conditions: list[str], frames: int, seed: int = 0,
                   min_confidence: float | None = None, failures_per_condition: int = 2,
                   progress: bool | None = None, label: str = "field test") -> tuple[dict, list[tuple[FrameScore, np.ndarray]]]:
    """Generate `frames` scenes per condition, read them; returns (result, failures with their frames)."""

    from bench.field_scenes import generate

    # The model's own operating point (the manifest's, for an 11-output model) unless one is given.
    threshold = getattr(predictor, "min_confidence", 0.6) if min_confidence is None else min_confidence
    rows, failures, every = {}, [], []
    frames_in = ((condition, index) for condition in conditions for index in range(frames))
    scores: dict[str, list[FrameScore]] = {condition: [] for condition in conditions}
    kept = Counter()  # failures kept per condition
    for condition, index in report_progress(frames_in, frames * len(conditions), label, "frames",
                                            enabled=progress is not False):
        sample = generate(condition, index, pool, seed)
        read, ms, error = read_frame(predictor, sample.image, threshold)
        score = score_frame(condition, sample.lines, read, ms, error, index)
        if not score.exact and kept[condition] < failures_per_condition:
            failures.append((score, sample.image))
            kept[condition] += 1
        scores[condition].append(score)
    for condition in conditions:
        rows[condition] = summarize(scores[condition])
        rows[condition]["failed_frames"] = [{"index": s.index, "truth": list(s.truth), "read": list(s.read)}
                                            for s in scores[condition] if not s.exact]
        every += scores[condition]
    return {"conditions": rows, "all": summarize(every), "line_source": line_source(), "min_confidence": threshold,
            "seed": seed, "frames_per_condition": frames}, failures


def line_source() -> str:
    """Where the runner takes text lines from with this reader."""
    from runtime.predictor import Reading

    has_lines = hasattr(Reading, "lines") or "lines" in getattr(Reading, "__dataclass_fields__", {})
    return "Reading.lines" if has_lines else "Reading.digits (one line per frame)"


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def to_markdown(result: dict) -> str:
    """The per-condition table (stdout and field.md)."""
    head = (f"Field test: {result['frames_per_condition']} generated frames per condition (seed {result['seed']}), "
            f"model {result['model']}, reader lines from {result['line_source']}, confidence >= {result['min_confidence']}.")
    lines = [head, "",
             "| condition | frames | digits read | exact lines | exact frames | \"no digit\" | false digits | ms/frame |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, row in [*result["conditions"].items(), ("**all**", result["all"])]:
        lines.append(f"| {name} | {row['frames']} | {_pct(row['digit_accuracy'])} | {_pct(row['exact_lines'])} | "
                     f"{_pct(row['exact_frames'])} | {_pct(row['no_digit_rate'])} | {_pct(row['false_digit_rate'])} | "
                     f"{row['ms_median']:.1f} |")
    lines += ["",
              "digits read: 1 - (substitutions + deletions + insertions) / truth digits, all lines joined top to bottom; "
              "\"no digit\": digit frames with no confident digit; false digits: frames without a digit that report one; "
              "ms/frame: median time of `read_digits` (preprocessing + model) on this machine, not pinned to a core."]
    return "\n".join(lines) + "\n"


def plot_failures(failures: list[tuple[FrameScore, np.ndarray]], path, columns: int = 8) -> None:
    """A grid of failed frames: thumbnail, condition, truth and what was read."""
    import cv2

    from bench.results import pyplot, save_figure

    plt = pyplot()
    count = max(1, len(failures))
    rows = (count + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.1 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (score, image) in zip(axes.flat, failures):
        h, w = image.shape[:2]
        thumb = cv2.resize(image, (200, int(200 * h / w)), interpolation=cv2.INTER_AREA)
        ax.imshow(cv2.cvtColor(thumb, cv2.COLOR_BGR2RGB))
        truth = "/".join(score.truth) or "(no digit)"
        read = "/".join(score.read) or "(nothing)"
        ax.set_title(f"{score.condition} #{score.index}\ntruth {truth[:28]}\nread {read[:28]}", fontsize=7)
    if not failures:
        axes.flat[0].text(0.5, 0.5, "no failures", ha="center", va="center")
    fig.suptitle("field test: frames read wrong", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    save_figure(fig, path)
