"""The zoo's Markdown table, JSON and the two accuracy-versus-cost charts with their Pareto fronts."""

from __future__ import annotations

import io
from pathlib import Path

from export.micro import ARENA_MARGIN
from runtime.files import atomic_write_bytes, atomic_write_json, atomic_write_text
from train.charts import pyplot

CHART_INCHES, CHART_DPI = (10, 6.5), 100  # fixed size, no tight cropping: every chart is 1000 x 650 pixels

CHARTS = {"latency_ms": ("accuracy_vs_latency.png", "median batch-1 latency here, ms (log scale)"),
          "bytes": ("accuracy_vs_size.png", "file size, KiB (log scale)")}


def pareto_front(rows: list[dict], cost: str) -> list[int]:
    """Indices of rows no other row beats: none is at most as costly and at least as accurate, better in one."""
    front = []
    for i, r in enumerate(rows):
        dominated = any(
            o[cost] <= r[cost] and o["test_accuracy"] >= r["test_accuracy"]
            and (o[cost] < r[cost] or o["test_accuracy"] > r["test_accuracy"])
            for j, o in enumerate(rows) if j != i)
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: rows[i][cost])


def _arena(row: dict) -> str:
    arena = row.get("tflm_arena")
    if not arena:
        return "-"
    if "error" in arena:
        return "does not run"
    return f"{arena['measured_bytes'] / 1024:.1f}"


def to_markdown(result: dict) -> str:
    rows = result["rows"]
    on_front = {key: set(pareto_front(rows, key)) for key in CHARTS}
    lines = [
        f"Zoo: every notebook model in every export format, on {result['test_images']:,} MNIST test images. "
        f"Latency: median of {result['latency']['timed_calls']} single-image `Predictor.predict` calls, one thread, "
        f"all artifacts timed in interleaved rounds in one run on this machine ({result['machine']['cpu_count']} cores). "
        "Agreement and drop are against the model's own float Keras model. TFLM arena: RecordingMicroAllocator's total "
        f"for the int8 TFLite model (the micro bundle ships {100 * ARENA_MARGIN:.0f} % more, rounded up to 1 KiB). "
        "Pareto: on the front of accuracy against "
        "latency (L) or size (S).",
        "",
        "| model | format | params | MACs | size KiB | float train acc % | test acc % | agreement % | drop vs float pp "
        "| latency ms | TFLM arena KiB | Pareto |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for i, r in enumerate(rows):
        pareto = "".join(mark for key, mark in (("latency_ms", "L"), ("bytes", "S")) if i in on_front[key])
        lines.append(
            f"| {r['model']} | {r['format']} | {r['params']:,} | {r['macs']:,} | {r['bytes'] / 1024:.1f} "
            f"| {100 * r['float_train_accuracy']:.2f} | {100 * r['test_accuracy']:.2f} | {100 * r['agreement_with_float']:.2f} "
            f"| {r['accuracy_drop_pp']:+.2f} | {r['latency_ms']:.3f} | {_arena(r)} | {pareto} |")
    for name, why in result.get("skipped", {}).items():
        lines.append(f"| {name} | - | - | - | - | - | - | - | - | - | - | skipped: {why} |")
    origins: dict[str, list[str]] = {}
    for r in rows:
        if r["model"] not in origins.get(r["origin"], []):
            origins.setdefault(r["origin"], []).append(r["model"])
    lines += ["", "Where each float model came from: " + "; ".join(
        f"{origin}: {', '.join(names)}" for origin, names in origins.items())
        + " (shipped: a manifest in models/ or a subfolder; a run: runs/zoo/<model>/, trained with the notebook's "
        "recipe, see its config.json)."]
    return "\n".join(lines) + "\n"


def plot_tradeoff(rows: list[dict], cost: str, xlabel: str, path: Path) -> Path:
    """Test accuracy against a cost, one colour per model, one marker per format, the Pareto front drawn and named."""
    plt = pyplot()
    models = list(dict.fromkeys(r["model"] for r in rows))
    formats = list(dict.fromkeys(r["format"] for r in rows))
    colours = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(models)}
    markers = dict(zip(formats, "osD^vP*Xh<>"))
    scale = 1 / 1024 if cost == "bytes" else 1.0
    fig, ax = plt.subplots(figsize=CHART_INCHES)
    for r in rows:
        ax.scatter(r[cost] * scale, 100 * r["test_accuracy"], color=colours[r["model"]],
                   marker=markers[r["format"]], s=55, alpha=0.85, edgecolors="none")
    front = pareto_front(rows, cost)
    ax.plot([rows[i][cost] * scale for i in front], [100 * rows[i]["test_accuracy"] for i in front],
            color="black", lw=1.2, ls="--", zorder=0, label="Pareto front")
    for i in front:
        ax.scatter(rows[i][cost] * scale, 100 * rows[i]["test_accuracy"], s=160, facecolors="none", edgecolors="black")
    by_model: dict[str, list[int]] = {}
    for i in front:
        by_model.setdefault(rows[i]["model"], []).append(i)
    ranked = sorted(by_model.items(), key=lambda kv: -rows[kv[1][0]]["test_accuracy"])
    for n, (model, members) in enumerate(ranked):  # one label per model, most accurate first: above, below, above...
        first = members[0]
        ax.annotate(f"{model}: {', '.join(rows[i]['format'] for i in members)}",
                    (rows[first][cost] * scale, 100 * rows[first]["test_accuracy"]), textcoords="offset points",
                    xytext=(10, -16 if n % 2 else 6), fontsize=8)
    for m in models:
        ax.scatter([], [], color=colours[m], marker="o", label=m)
    for f in formats:
        ax.scatter([], [], color="grey", marker=markers[f], label=f)
    ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel="test accuracy %", title=f"mnist-edge zoo: accuracy against {xlabel.split(',')[0]}")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="lower right", ncol=2)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=CHART_DPI)
    plt.close(fig)
    return atomic_write_bytes(path, buffer.getvalue(), overwrite=True)


def write_report(result: dict, out_dir: Path) -> str:
    """zoo.md, zoo.json and the two charts into out_dir; returns the Markdown table."""
    out_dir = Path(out_dir)
    table = to_markdown(result)
    rows = result["rows"]
    for key in CHARTS:
        for i in pareto_front(rows, key):
            rows[i].setdefault("pareto", []).append(key)
    atomic_write_json(out_dir / "zoo.json", result, overwrite=True)
    atomic_write_text(out_dir / "zoo.md", table, overwrite=True)
    if rows:
        for key, (name, xlabel) in CHARTS.items():
            plot_tradeoff(rows, key, xlabel, out_dir / name)
    return table
