"""`mnist-edge reject-report`: "not a digit" and writer-style figures of a model, before and after.

Digits: MNIST test, its style-shifted copies (train/style_shift.py) and its 7s,
1s and 0s written as other writers form them (train/digit_forms.py: crossed, flagged, slashed).
Non-digits: a held-out set rendered with fonts, seed and source digits that
training never used (train/negatives.py: HELD_OUT_FONTS, HELD_OUT_SEED,
fragments cut from MNIST *test* digits). A crop is rejected when the model's
argmax is "not a digit" (class 10) or its best digit's probability is below
the threshold; sweeping the threshold gives the curve, and the operating point
is the highest threshold that costs clean MNIST test digits at most
MAX_CLEAN_LOSS_PP of recall. Writes report.md, report.json, curve.png,
operating_point.json, accepted_negatives.png and non_digits.npz (held-out
crops that export replays in every format) into --out.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

HELD_OUT_SEED = 777  # the training negatives use train.fit.NEGATIVES_SEED (1011) and 1012
HELD_OUT_COUNT = 5000
SAVED_FOR_EXPORT = 2000  # the first held-out crops, saved as non_digits.npz for export's parity check
MAX_CLEAN_LOSS_PP = 0.10  # recall of clean test digits the operating point may cost
TARGET_REJECTION = 0.95
THRESHOLDS = np.round(np.arange(0.0, 1.0, 0.01), 2)
LEGACY_MIN_CONFIDENCE = 0.60  # what runtime/predictor.py did before: "low confidence" below it
# The kinds of non-digit, grouped as a reader meets them: writing that is not digits, marks on
# the page, and wrong cuts of real digits (the segmenter's failures, the hardest to tell apart).
GROUPS = {
    "letters, symbols, words": ("glyph", "word", "camera"),
    "scribbles, blobs, lines, specks": ("scribble", "blob", "lines", "specks"),
    "pieces of digits (half, pair, overlap)": ("digit_half", "digit_pair", "digit_overlap"),
}


def digit_confidence(probs: np.ndarray) -> np.ndarray:
    """The best digit's probability (outputs 0-9)."""
    return probs[:, :10].max(axis=1)


def accepted(probs: np.ndarray, threshold: float) -> np.ndarray:
    """True where the crop is reported as a digit: argmax is a digit and its probability >= threshold."""
    return (probs.argmax(axis=1) < 10) & (digit_confidence(probs) >= threshold)


def digit_recall(probs: np.ndarray, labels: np.ndarray, threshold: float) -> float:
    """Fraction of digits reported as the right digit."""
    return float((accepted(probs, threshold) & (probs.argmax(axis=1) == labels)).mean())


def rejection(probs: np.ndarray, threshold: float) -> float:
    """Fraction of non-digits not reported as a digit."""
    return float(1.0 - accepted(probs, threshold).mean())


def curve(probs_by_style: dict, labels: np.ndarray, neg_probs: np.ndarray) -> dict:
    """Recall per style and rejection of non-digits at every threshold."""
    return {
        "thresholds": THRESHOLDS.tolist(),
        "rejection": [rejection(neg_probs, t) for t in THRESHOLDS],
        "recall": {s: [digit_recall(p, labels, t) for t in THRESHOLDS] for s, p in probs_by_style.items()},
    }


def operating_point(c: dict) -> float:
    """Highest threshold whose clean-test recall is within MAX_CLEAN_LOSS_PP of the threshold-0 recall."""
    clean = np.array(c["recall"]["clean"])
    ok = np.flatnonzero(clean >= clean[0] - MAX_CLEAN_LOSS_PP / 100 - 1e-12)
    return float(THRESHOLDS[ok.max()])


def model_figures(name: str, probs_by_style: dict, labels, neg_probs, neg_kinds, threshold: float) -> dict:
    styles = {s: {"accuracy": float((p.argmax(1) == labels).mean()),
                  "recall_at_threshold": digit_recall(p, labels, threshold),
                  "rejected": float(1 - accepted(p, threshold).mean())}
              for s, p in probs_by_style.items()}
    kinds = {k: rejection(neg_probs[neg_kinds == k], threshold) for k in sorted(set(neg_kinds))}
    groups = {g: rejection(neg_probs[np.isin(neg_kinds, members)], threshold) for g, members in GROUPS.items()}
    return {"model": name, "outputs": int(neg_probs.shape[1]), "threshold": threshold, "styles": styles,
            "non_digit_rejection": rejection(neg_probs, threshold), "rejection_by_kind": kinds,
            "rejection_by_group": groups}


def plot_curve(path: Path, curves: dict, points: dict) -> Path:
    from train.charts import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 6))
    styles = {"clean": "-", "thick": "--", "thin": ":", "slanted": "-.", "elastic": (0, (5, 1))}
    colours = {}
    for name, c in curves.items():
        for style, dash in styles.items():
            line, = ax.plot(100 * np.array(c["rejection"]), 100 * np.array(c["recall"][style]), linestyle=dash,
                            color=colours.get(name), label=f"{name}: {style}")
            colours.setdefault(name, line.get_color())
        if name in points:
            t = points[name]
            i = int(np.argmin(np.abs(THRESHOLDS - t)))
            ax.plot(100 * c["rejection"][i], 100 * c["recall"]["clean"][i], "o", color=colours[name], ms=9)
            ax.annotate(f"threshold {t:.2f}", (100 * c["rejection"][i], 100 * c["recall"]["clean"][i]),
                        textcoords="offset points", xytext=(-90, -22), color=colours[name])
    ax.axvline(100 * TARGET_REJECTION, color="grey", lw=0.8)
    ax.set(xlabel="held-out non-digits rejected %", ylabel="digits read right %", ylim=(70, 100.5), xlim=(0, 100.5),
           title="Digit recall vs. non-digit rejection (threshold on the best digit's probability)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    return save_figure(fig, path)


def plot_accepted(path: Path, images: np.ndarray, probs: np.ndarray, kinds: np.ndarray, threshold: float) -> Path:
    """The held-out non-digits the model still reports as a digit (up to 96)."""
    from train.charts import pyplot, save_figure

    plt = pyplot()
    idx = np.flatnonzero(accepted(probs, threshold))[:96]
    cols = 12
    rows = max(1, -(-len(idx) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 1.1 + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, idx):
        ax.imshow(images[i], cmap="gray_r")
        ax.set_title(f"{kinds[i][:9]}->{probs[i, :10].argmax()}", fontsize=6)
    fig.suptitle(f"held-out non-digits read as a digit at threshold {threshold:.2f}: {int(accepted(probs, threshold).sum())}")
    return save_figure(fig, path)


def style_table(before: dict, after: dict) -> str:
    from train.style_shift import STYLE_DESCRIPTIONS

    lines = ["| test set | what | before: accuracy % | after: accuracy % | after: read right at threshold % | after: rejected % |",
             "|---|---|---:|---:|---:|---:|"]
    for style, desc in STYLE_DESCRIPTIONS.items():
        b, a = before["styles"][style], after["styles"][style]
        lines.append(f"| {style} | {desc} | {100 * b['accuracy']:.2f} | {100 * a['accuracy']:.2f} "
                     f"| {100 * a['recall_at_threshold']:.2f} | {100 * a['rejected']:.2f} |")
    return "\n".join(lines) + "\n"


def form_figures(probs: np.ndarray, labels: np.ndarray, threshold: float) -> dict:
    """Accuracy (argmax over the digits), read right at the threshold, and rejected, for one form's digits
    (None for a set without digits: MNIST files without that class)."""
    if not len(labels):
        return {"count": 0, "accuracy": None, "recall_at_threshold": None, "rejected": None, "read_as": {}}
    return {"count": int(len(labels)), "accuracy": float((probs[:, :10].argmax(axis=1) == labels).mean()),
            "recall_at_threshold": digit_recall(probs, labels, threshold),
            "rejected": float(1.0 - accepted(probs, threshold).mean()),
            "read_as": {int(d): int(n) for d, n in enumerate(np.bincount(probs[:, :10].argmax(axis=1), minlength=10)) if n}}


def form_table(before: dict, after: dict) -> str:
    from train.digit_forms import FORM_DESCRIPTIONS, FORM_DIGITS

    lines = ["| form | digits | what | before: accuracy % | after: accuracy % | after: read right at threshold % "
             "| after: rejected % | after: most often misread as |", "|---|---:|---|---:|---:|---:|---:|---|"]
    for form, desc in FORM_DESCRIPTIONS.items():
        b, a = before["forms"][form], after["forms"][form]
        if not a["count"]:
            lines.append(f"| {form} | 0 | {desc} | - | - | - | - | - |")
            continue
        wrong = {d: n for d, n in a["read_as"].items() if d != FORM_DIGITS[form]}
        worst = max(wrong, key=wrong.get) if wrong else None
        lines.append(f"| {form} | {a['count']:,} | {desc} | {100 * b['accuracy']:.2f} | {100 * a['accuracy']:.2f} "
                     f"| {100 * a['recall_at_threshold']:.2f} | {100 * a['rejected']:.2f} "
                     f"| {'-' if worst is None else f'{worst} ({wrong[worst]})'} |")
    return "\n".join(lines) + "\n"


def kinds_table(before: dict, after: dict) -> str:
    lines = [f"| non-digit kind | before: rejected % (max prob < {before['threshold']:.2f}) | after: rejected % |", "|---|---:|---:|"]
    for kind, value in after["rejection_by_kind"].items():
        lines.append(f"| {kind} | {100 * before['rejection_by_kind'][kind]:.1f} | {100 * value:.1f} |")
    for group, value in after["rejection_by_group"].items():
        lines.append(f"| *{group}* | {100 * before['rejection_by_group'][group]:.1f} | *{100 * value:.1f}* |")
    lines.append(f"| **all** | {100 * before['non_digit_rejection']:.1f} | **{100 * after['non_digit_rejection']:.1f}** |")
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mnist-edge reject-report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="models/cnn_aug.keras", help="the model to report on (11 outputs)")
    parser.add_argument("--baseline", required=True, help="the model before, for the before/after columns (10 outputs: "
                        "judged at the old 0.60 confidence cut; 11 outputs: at its own operating point)")
    parser.add_argument("--out", default="models/reject", help="folder for the report files")
    parser.add_argument("--data", default=None, help="path to mnist.npz (default: $MNIST_NPZ, Keras cache, download)")
    parser.add_argument("--negatives", type=int, default=HELD_OUT_COUNT, help="held-out non-digit crops to render")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.negatives <= 0:
        print(f"mnist-edge reject-report: error: --negatives must be positive, got {args.negatives}", file=sys.stderr)
        return 2
    for path in (args.model, args.baseline):
        if not Path(path).is_file():
            print(f"mnist-edge reject-report: error: {path}: no such model file", file=sys.stderr)
            return 2
    from export.tf_quiet import quiet_tensorflow

    quiet_tensorflow(False)
    import keras

    from runtime.files import atomic_write_bytes, atomic_write_json, atomic_write_text
    from runtime.manifest import sha256_of
    from runtime.mnist_data import MnistDataError, load_mnist
    from train.negatives import HELD_OUT_FONTS, KINDS, TRAIN_FONTS, font_names, render_negatives
    from train.digit_forms import FORMS_SEED, form_sets
    from train.style_shift import STYLE_SEED, style_shifted_sets

    try:
        mnist = load_mnist(args.data)
    except MnistDataError as exc:
        print(f"mnist-edge reject-report: error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print("rendering the style-shifted test sets and the held-out non-digits...", file=sys.stderr)
    sets = style_shifted_sets(mnist.x_test)
    forms = form_sets(mnist.x_test, mnist.y_test)
    negatives, kinds = render_negatives(args.negatives, HELD_OUT_SEED, HELD_OUT_FONTS, mnist.x_test, mnist.y_test)

    def predict(model, images):
        return model.predict((images.astype(np.float32) / 255.0)[..., None], batch_size=500, verbose=0)

    figures, curves, points = {}, {}, {}
    for role, path in (("before", args.baseline), ("after", args.model)):
        model = keras.models.load_model(path)
        by_style = {s: predict(model, x) for s, x in sets.items()}
        neg = predict(model, negatives)
        c = curve(by_style, mnist.y_test, neg)
        threshold = operating_point(c) if neg.shape[1] == 11 else LEGACY_MIN_CONFIDENCE
        if role == "before":
            before_outputs = neg.shape[1]
        name = f"{role} ({Path(path).name}, {neg.shape[1]} outputs)"
        curves[name], points[name] = c, threshold
        figures[role] = model_figures(name, by_style, mnist.y_test, neg, kinds, threshold)
        figures[role]["curve"] = c
        figures[role]["forms"] = {f: form_figures(predict(model, x), y, threshold) for f, (x, y) in forms.items()}
        if role == "after":
            plot_accepted(out / "accepted_negatives.png", negatives, neg, kinds, threshold)
    plot_curve(out / "curve.png", curves, points)
    after, before = figures["after"], figures["before"]
    point = {"min_confidence": after["threshold"], "not_a_digit_class": 10,
             "rule": f"highest threshold costing clean MNIST test recall at most {MAX_CLEAN_LOSS_PP} pp",
             "non_digit_rejection": after["non_digit_rejection"],
             "clean_recall": after["styles"]["clean"]["recall_at_threshold"], "model": Path(args.model).name,
             "model_sha256": sha256_of(args.model)}
    # Export cannot render (it does not import train/): it replays these crops through every format.
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=negatives[:SAVED_FOR_EXPORT], kinds=kinds[:SAVED_FOR_EXPORT])
    atomic_write_bytes(out / "non_digits.npz", buffer.getvalue(), overwrite=True)
    point["non_digits_file"] = "non_digits.npz"
    atomic_write_json(out / "operating_point.json", point, overwrite=True)
    report = {"held_out_negatives": {"count": args.negatives, "seed": HELD_OUT_SEED, "kinds": KINDS,
                                     "fonts": font_names(HELD_OUT_FONTS), "fragments_from": "MNIST test digits (no 1s)"},
              "style_seed": STYLE_SEED, "forms_seed": FORMS_SEED, "operating_point": point, "before": before, "after": after}
    atomic_write_json(out / "report.json", report, overwrite=True)
    md = (f"# \"Not a digit\" and other writers: {Path(args.model).name} against {Path(args.baseline).name}\n\n"
          f"Operating point: **min digit confidence {after['threshold']:.2f}** (argmax = class 10, or best digit below it, "
          f"is \"not a digit\"): {100 * after['non_digit_rejection']:.1f} % of {args.negatives:,} held-out non-digits "
          f"rejected (target {100 * TARGET_REJECTION:.0f} %), clean MNIST test digits read right "
          f"{100 * after['styles']['clean']['recall_at_threshold']:.2f} % (argmax accuracy "
          f"{100 * after['styles']['clean']['accuracy']:.2f} %).\n"
          f"Before: {Path(args.baseline).name} ({before_outputs} outputs) at "
          + (f"its own operating point, {before['threshold']:.2f}.\n\n" if before_outputs == 11 else
             f"the runtime's old \"low confidence\" cut, {LEGACY_MIN_CONFIDENCE:.2f}.\n\n") +
          f"## Style-shifted MNIST test (10,000 digits each, seed {STYLE_SEED})\n\n{style_table(before, after)}\n"
          f"## Other ways of writing a digit (MNIST test 7s, 1s and 0s, seed {FORMS_SEED})\n\n"
          "Much of Europe, Latin America and Asia crosses the 7 and starts the 1 with a long flag, and programmers, "
          "engineers and Scandinavians slash the 0; MNIST's writers rarely did. Each form is drawn on the real test digit in its own stroke (train/digit_forms.py). Accuracy: "
          "the best of the ten digits (the table above also counts an argmax of \"not a digit\" as wrong); read right "
          "and rejected: at the operating point.\n\n"
          f"{form_table(before, after)}\n"
          f"## Held-out non-digits\n\nRendered with fonts training never saw ({', '.join(font_names(HELD_OUT_FONTS))}; "
          f"training used {', '.join(font_names(TRAIN_FONTS))}), seed "
          f"{HELD_OUT_SEED} (training: 1011/1012), digit fragments cut from MNIST test digits (training: train digits). "
          f"Characters shaped like a handwritten digit are never negatives (O o D I l i j Z z S s B b G g q | / ( ) ' , ; !), "
          f"so an O in a word is still read as a 0.\n\n"
          f"{kinds_table(before, after)}\n![curve](curve.png)\n\n![accepted](accepted_negatives.png)\n")
    atomic_write_text(out / "report.md", md, overwrite=True)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
