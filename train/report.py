"""A run's pictures (curves, confusion matrices, misclassified digits) and the zoo summary table."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from runtime.files import atomic_write_json, atomic_write_text
from train.charts import pyplot, save_figure

plt = pyplot()

MAX_MISCLASSIFIED_SHOWN = 120


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, classes: int = 10) -> np.ndarray:
    """Counts (true class rows, predicted class columns)."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (y_true.astype(int), y_pred.astype(int)), 1)
    return matrix


def _matrix_figure(values: np.ndarray, labels: np.ndarray, title: str, cmap: str):
    fig, ax = plt.subplots(figsize=(7, 6))
    shown = np.ma.masked_invalid(values.astype(float))
    image = ax.imshow(shown, cmap=cmap)
    fig.colorbar(image, ax=ax, fraction=0.046)
    for (row, col), text in np.ndenumerate(labels):
        if text:
            ax.text(col, row, text, ha="center", va="center", fontsize=7)
    ax.set(xticks=range(values.shape[1]), yticks=range(values.shape[0]), xlabel="predicted", ylabel="true", title=title)
    if values.shape[1] == 11:  # the "not a digit" output
        ax.set_xticklabels([*map(str, range(10)), "not"])
    return fig


def plot_confusion_percent(matrix: np.ndarray, path: Path, title: str) -> Path:
    """Row-normalized confusion matrix in percent (each true class sums to 100)."""
    percent = 100.0 * matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    labels = np.vectorize(lambda v: f"{v:.1f}" if v >= 0.05 else "")(percent)
    return save_figure(_matrix_figure(percent, labels, f"{title}: row-normalized %", "Blues"), path)


def plot_confusion_errors(matrix: np.ndarray, path: Path, title: str) -> Path:
    """Error counts with the diagonal left out, so the mistakes stand out."""
    errors = matrix.astype(float)
    np.fill_diagonal(errors, np.nan)
    labels = np.vectorize(lambda v: "" if np.isnan(v) or v == 0 else f"{int(v)}")(errors)
    fig = _matrix_figure(errors, labels, f"{title}: errors ({int(np.nansum(errors))} in all)", "Reds")
    return save_figure(fig, path)


def plot_misclassified(images: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, path: Path, title: str) -> Path:
    """Grid of misclassified test digits sorted by true class, captioned true->predicted."""
    wrong = np.flatnonzero(y_true != y_pred)
    wrong = wrong[np.argsort(y_true[wrong], kind="stable")][:MAX_MISCLASSIFIED_SHOWN]
    cols = 12
    rows = max(1, -(-len(wrong) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 1.05 + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, idx in zip(axes.flat, wrong):
        ax.imshow(images[idx], cmap="gray_r")
        ax.set_title(f"{y_true[idx]}->{y_pred[idx]}", fontsize=8)
    fig.suptitle(f"{title}: {int((y_true != y_pred).sum())} misclassified test digits (true->predicted)")
    return save_figure(fig, path)


def plot_curves(log_csv: Path, path: Path, title: str) -> Path:
    """Accuracy and loss per epoch, training and validation."""
    with Path(log_csv).open() as handle:
        rows = list(csv.DictReader(handle))
    epochs = [int(r["epoch"]) + 1 for r in rows]
    fig, (acc_ax, loss_ax) = plt.subplots(1, 2, figsize=(11, 4))
    for key, ax in (("accuracy", acc_ax), ("loss", loss_ax)):
        ax.plot(epochs, [float(r[key]) for r in rows], label="train")
        if rows and rows[0].get(f"val_{key}", "NA") != "NA":
            ax.plot(epochs, [float(r[f"val_{key}"]) for r in rows], label="validation")
        ax.set(xlabel="epoch", ylabel=key, title=f"{title}: {key}")
        ax.grid(alpha=0.3)
        ax.legend()
    return save_figure(fig, path)


def write_run_report(run_dir: Path, images: np.ndarray, y_true: np.ndarray, probs: np.ndarray) -> dict:
    """All pictures of one run from its log and test-set predictions; returns their paths."""
    run_dir = Path(run_dir)
    title = run_dir.name
    y_pred = probs.argmax(axis=1)
    # Rows: the true digits; columns: every output (an 11th is "not a digit").
    matrix = confusion_matrix(y_true, y_pred, probs.shape[1])[:10]
    out = {
        "curves": plot_curves(run_dir / "log.csv", run_dir / "curves.png", title),
        "confusion_percent": plot_confusion_percent(matrix, run_dir / "confusion_percent.png", title),
        "confusion_errors": plot_confusion_errors(matrix, run_dir / "confusion_errors.png", title),
        "misclassified": plot_misclassified(images, y_true, y_pred, run_dir / "misclassified.png", title),
    }
    atomic_write_json(run_dir / "confusion_matrix.json", matrix.tolist(), overwrite=True)
    return {k: str(v) for k, v in out.items()}


def summary_rows(run_dirs: list[Path], notebook: dict[str, float]) -> list[dict]:
    """One row per run folder that has metrics.json, in the order given."""
    rows = []
    for run_dir in run_dirs:
        metrics_path = Path(run_dir) / "metrics.json"
        if not metrics_path.exists():
            continue
        m = json.loads(metrics_path.read_text())
        rows.append({
            "model": m["model"],
            "run": Path(run_dir).name,
            "params": m["params"],
            "epochs": m["epochs"],
            "train_accuracy": m["train_accuracy"],
            "test_accuracy": m["test_accuracy"],
            "notebook_test_accuracy": notebook.get(m["model"]),
            "train_seconds": m["train_seconds"],
        })
    return rows


def write_summary(rows: list[dict], out_dir: Path, overwrite: bool = True) -> tuple[Path, Path]:
    """The notebook's summary table (model, train and test accuracy) as Markdown and JSON."""
    lines = [
        "| model | run | params | epochs | train acc % | test acc % | notebook test acc % | train time s |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        nb = f"{100 * r['notebook_test_accuracy']:.2f}" if r["notebook_test_accuracy"] else "-"
        lines.append(
            f"| {r['model']} | {r['run']} | {r['params']:,} | {r['epochs']} | {100 * r['train_accuracy']:.2f} "
            f"| {100 * r['test_accuracy']:.2f} | {nb} | {r['train_seconds']:.0f} |"
        )
    md = atomic_write_text(Path(out_dir) / "summary.md", "\n".join(lines) + "\n", overwrite=overwrite)
    js = atomic_write_json(Path(out_dir) / "summary.json", rows, overwrite=overwrite)
    return md, js
