"""The explanation pictures: attributions per candidate class, filters, activations, errors, int8-vs-float.

Figures are saved at a fixed size (inches x DPI, no tight cropping), so a
PNG's pixel size follows from what it shows; `*_size_px` functions say it.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from runtime.files import atomic_write_bytes
from train.charts import pyplot

DPI = 100
CELL = 1.2  # inches per image cell
MAX_PAIR_IMAGES = 12  # digits shown per (true, predicted) pair


def class_name(k: int) -> str:
    return str(k) if k < 10 else "not a digit"


def save_png(fig, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    pyplot().close(fig)
    return atomic_write_bytes(path, buffer.getvalue(), overwrite=True)


def attribution_size_px(rows: int, classes: int) -> tuple[int, int]:
    return round((classes + 1) * CELL * DPI), round((rows * CELL + 0.6) * DPI)


def plot_attributions(images, attributions, probs, labels, title: str, path: Path) -> Path:
    """One row per image: the digit, then one map per candidate class (red favours it, blue opposes it).

    Colours are symmetric per row, as shap.image_plot draws them; the faint digit is drawn under each map.
    """
    plt = pyplot()
    rows, classes = len(images), attributions.shape[-1]
    width, height = attribution_size_px(rows, classes)
    fig, axes = plt.subplots(rows, classes + 1, figsize=(width / DPI, height / DPI), squeeze=False)
    for r in range(rows):
        image, values = images[r].reshape(28, 28), attributions[r].reshape(28, 28, classes)
        limit = float(np.abs(values).max()) or 1.0
        ax = axes[r, 0]
        ax.imshow(image, cmap="gray_r")
        ax.set_title(f"true {labels[r]}, pred {int(probs[r].argmax())}", fontsize=7)
        for k in range(classes):
            ax = axes[r, k + 1]
            ax.imshow(image, cmap="gray_r", alpha=0.15)
            ax.imshow(values[..., k], cmap="bwr", vmin=-limit, vmax=limit)
            ax.set_title(f"{class_name(k)}: {probs[r, k]:.2f}", fontsize=7,
                         fontweight="bold" if k == probs[r].argmax() else "normal")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.6 / (rows * CELL + 0.6), wspace=0.05, hspace=0.35)
    return save_png(fig, path)


def grid_shape(count: int) -> tuple[int, int]:
    cols = int(np.ceil(np.sqrt(count)))
    return -(-count // cols), cols


def plot_maps(maps: np.ndarray, captions: list[str], title: str, path: Path, cmap: str = "viridis",
              symmetric: bool = False) -> Path:
    """A grid of 2-D maps (filters or activation channels), each with its own colour scale."""
    plt = pyplot()
    rows, cols = grid_shape(len(maps))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.0, rows * 1.1 + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, m, caption in zip(axes.flat, maps, captions):
        limit = float(np.abs(m).max()) or 1.0
        ax.imshow(m, cmap=cmap, vmin=-limit if symmetric else None, vmax=limit if symmetric else None)
        ax.set_title(caption, fontsize=6)
    fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.5 / (rows * 1.1 + 0.5), wspace=0.1, hspace=0.4)
    return save_png(fig, path)


def plot_errors_by_pair(images, labels, preds, title: str, path: Path) -> Path:
    """One row per (true, predicted) pair, most frequent first, showing up to MAX_PAIR_IMAGES of its digits."""
    plt = pyplot()
    wrong = np.flatnonzero(labels != preds)
    pairs: dict[tuple[int, int], list[int]] = {}
    for i in wrong:
        pairs.setdefault((int(labels[i]), int(preds[i])), []).append(int(i))
    ordered = sorted(pairs.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    rows = max(1, len(ordered))
    fig, axes = plt.subplots(rows, MAX_PAIR_IMAGES + 1, figsize=((MAX_PAIR_IMAGES + 1) * 0.8, rows * 0.85 + 0.5),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for r, ((true, pred), indices) in enumerate(ordered):
        axes[r, 0].text(0.5, 0.5, f"{true}->{class_name(pred)}\n{len(indices)}x", ha="center", va="center", fontsize=8)
        for c, i in enumerate(indices[:MAX_PAIR_IMAGES]):
            axes[r, c + 1].imshow(images[i], cmap="gray_r")
    fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.5 / (rows * 0.85 + 0.5), wspace=0.05, hspace=0.1)
    return save_png(fig, path)


def plot_disagreements(images, float_probs, int8_probs, labels, attributions, title: str, path: Path,
                       int8_name: str = "int8") -> Path:
    """Per image: the digit, float-model attributions for the float and the int8 choice, both probability vectors."""
    plt = pyplot()
    rows = max(1, len(images))
    classes = float_probs.shape[1]
    fig, axes = plt.subplots(rows, 4, figsize=(12, rows * 1.7 + 0.8), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1, 1, 3]})
    for ax in axes.flat:
        ax.axis("off")
    for r in range(len(images)):
        image = images[r].reshape(28, 28)
        f_pred, q_pred = int(float_probs[r].argmax()), int(int8_probs[r].argmax())
        axes[r, 0].imshow(image, cmap="gray_r")
        axes[r, 0].set_title(f"true {labels[r]}", fontsize=8)
        values = attributions[r].reshape(28, 28, classes)
        limit = float(np.abs(values[..., [f_pred, q_pred]]).max()) or 1.0
        for c, (k, who) in enumerate(((f_pred, "float"), (q_pred, int8_name)), start=1):
            axes[r, c].imshow(image, cmap="gray_r", alpha=0.15)
            axes[r, c].imshow(values[..., k], cmap="bwr", vmin=-limit, vmax=limit)
            axes[r, c].set_title(f"for {class_name(k)} ({who}'s pick)", fontsize=8)
        ax = axes[r, 3]
        ax.axis("on")
        x = np.arange(classes)
        ax.bar(x - 0.2, float_probs[r], width=0.4, label="float", color="#4c72b0")
        ax.bar(x + 0.2, int8_probs[r], width=0.4, label=int8_name, color="#dd8452")
        ax.set_xticks(x, [class_name(k)[:3] for k in x], fontsize=7)
        ax.set_ylim(0, 1)
        ax.tick_params(labelsize=7)
        if r == 0:
            ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    height = rows * 1.7 + 0.8
    fig.subplots_adjust(left=0.02, right=0.99, bottom=0.3 / height, top=1 - 0.5 / height, wspace=0.15, hspace=0.5)
    return save_png(fig, path)
