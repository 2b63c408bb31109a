"""quant-report's outputs: a Markdown table and a PNG per int8 artifact, all figures in JSON, a stdout summary."""

from __future__ import annotations

import io
import math
from pathlib import Path

from runtime.files import atomic_write_bytes, atomic_write_json, atomic_write_text

SQNR_AXIS_DB = 100


def _pyplot():
    """matplotlib on the Agg backend (export/ does not import train/, where the other charts' helper lives)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save_png(fig, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return atomic_write_bytes(path, buffer.getvalue(), overwrite=True)


def _variant_lines(report: dict, float_accuracy: float) -> list[str]:
    base = report["variants"][0]
    lines = [
        "| quantized model | kept float | size KiB | accuracy % | vs all-int8 pp | agreement with artifact % "
        "| agreement with float % | mean abs prob diff vs float |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
        f"| shipped artifact | - | {report['artifact_bytes'] / 1024:.1f} | {100 * report['artifact_accuracy']:.2f} | - | 100.00 | - | - |",
    ]
    for v in report["variants"]:
        label = "all int8 (re-quantized here)" if not v["kept_float"] else f"`{v['layer']}` float"
        if "error" in v:
            lines.append(f"| {label} | {', '.join(v['kept_float'])} | - | - | - | {v['error']} | - | - |")
            continue
        lines.append(f"| {label} | {'<br>'.join(f'`{k}`' for k in v['kept_float']) or '-'} | {v['bytes'] / 1024:.1f} "
                     f"| {100 * v['accuracy']:.2f} | {100 * (v['accuracy'] - base['accuracy']):+.2f} "
                     f"| {100 * v['agreement_with_artifact']:.2f} | {100 * v['agreement_with_float']:.2f} "
                     f"| {v['mean_abs_prob_diff_vs_float']:.2e} |")
    lines.append(f"| float model (Keras) | everything | - | {100 * float_accuracy:.2f} "
                 f"| {100 * (float_accuracy - base['accuracy']):+.2f} | - | 100.00 | 0 |")
    return lines


def to_markdown(report: dict, result: dict) -> str:
    worst = set(report["worst"])
    head = (f"# Where `{report['format']}` loses precision\n\nSource `{result['source_model']}`, "
            f"{report['tool']}, errors averaged over {result['debug_images']} test images; accuracy on "
            f"{result['test_images']:,} test images. Worst layers (bold) are tried float one at a time.\n\n")
    if report["metric"] == "rmse_over_scale":
        t = result["thresholds"]
        lines = [f"RMSE/scale: the error in quantization steps; {t['ideal_rmse_over_scale']:.2f} is ideal rounding, "
                 f"above {t['look_rmse_over_scale']} deserves a look.", "",
                 "| # | layer | op | tensor | elements | scale | zero point | mean error | max abs error | RMSE/scale |",
                 "|---:|---|---|---|---:|---:|---:|---:|---:|---:|"]
        for i, r in enumerate(report["rows"]):
            b = "**" if r["tensor"] in worst else ""
            lines.append(f"| {i} | {b}{r['layer']}{b} | {r['op']} | `{r['tensor']}` | {r['elements']:,} | {r['scale']:.4g} "
                         f"| {r['zero_point']} | {r['mean_error']:+.2e} | {r['max_abs_error']:.2e} | {b}{r['rmse_over_scale']:.3f}{b} |")
    else:
        lines = ["SQNR in dB (higher is better): local compares a tensor just before and after its own "
                 "quantize/dequantize pair; cumulative compares the QDQ model's tensor with the float model's, "
                 "so it carries every earlier layer's error.", "",
                 "| # | layer | kind | op | tensor | SQNR local dB | SQNR cumulative dB |", "|---:|---|---|---|---|---:|---:|"]
        for i, r in enumerate(report["rows"]):
            b = "**" if r["tensor"] in worst else ""
            cumulative = "-" if math.isnan(r["sqnr_cumulative_db"]) else f"{r['sqnr_cumulative_db']:.1f}"
            lines.append(f"| {i} | {b}{r['layer']}{b} | {r['kind']} | {r['op']} | `{r['tensor']}` "
                         f"| {b}{r['sqnr_local_db']:.1f}{b} | {cumulative} |")
    missing = report["missing_from_report"]
    lines += ["", "Every quantized activation tensor of the artifact is in the table." if not missing else
              f"Not in the table: {', '.join(f'`{m}`' for m in missing)}.", "",
              "## What keeping a layer float buys (measured)", "", *_variant_lines(report, result["float_accuracy"])]
    return head + "\n".join(lines) + "\n"


def plot_report(report: dict, result: dict, path: Path) -> Path:
    plt = _pyplot()
    worst = set(report["worst"])
    if report["metric"] == "rmse_over_scale":
        rows = report["rows"]
        fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.6))
        labels = [f"{i} {r['layer']} ({r['op']})" for i, r in enumerate(rows)]
        colours = ["#c44e52" if r["tensor"] in worst else "#4c72b0" for r in rows]
        ax.barh(labels, [r["rmse_over_scale"] for r in rows], color=colours)
        t = result["thresholds"]
        ax.axvline(t["ideal_rmse_over_scale"], color="green", ls="--", label=f"ideal rounding {t['ideal_rmse_over_scale']:.2f}")
        ax.axvline(t["look_rmse_over_scale"], color="red", ls=":", label=f"look above {t['look_rmse_over_scale']}")
        ax.set(xlabel="RMSE / scale (quantization steps)")
    else:
        rows = [r for r in report["rows"] if r["kind"] == "activation"]
        fig, ax = plt.subplots(figsize=(9, 0.5 * len(rows) + 1.6))
        labels = [f"{i} {r['layer']} ({r['op']})" for i, r in enumerate(rows)]
        y = range(len(rows))
        shown = lambda v: 0 if math.isnan(v) else min(v, SQNR_AXIS_DB)  # noqa: E731
        ax.barh([i - 0.2 for i in y], [shown(r["sqnr_local_db"]) for r in rows], height=0.4, label="local",
                color=["#c44e52" if r["tensor"] in worst else "#4c72b0" for r in rows])
        ax.barh([i + 0.2 for i in y], [shown(r["sqnr_cumulative_db"]) for r in rows], height=0.4, label="cumulative",
                color="#dd8452")
        for i, r in enumerate(rows):
            if r["sqnr_local_db"] > SQNR_AXIS_DB:
                ax.text(SQNR_AXIS_DB, i - 0.2, " exact", va="center", fontsize=7)
        ax.set_yticks(list(y), labels)
        ax.set_xlim(0, SQNR_AXIS_DB * 1.12)
        ax.set(xlabel=f"SQNR, dB (higher is better; {SQNR_AXIS_DB} and above drawn at {SQNR_AXIS_DB}: no rounding, "
                      "the tensor shares its input's scale)")
    ax.invert_yaxis()
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=8)
    names = ", ".join(next(r["layer"] for r in report["rows"] if r["tensor"] == w) for w in report["worst"])
    ax.set_title(f"{report['format']}: per-tensor quantization error; worst (red): {names}", fontsize=9)
    return _save_png(fig, path)


def summary_lines(result: dict) -> list[str]:
    lines = [f"{result['source_model']}: float accuracy {100 * result['float_accuracy']:.2f} % "
             f"on {result['test_images']:,} test images"]
    for report in result["reports"]:
        base = report["variants"][0]
        lines.append(f"{report['format']}: {len(report['rows'])} tensors, artifact accuracy "
                     f"{100 * report['artifact_accuracy']:.2f} %, all-int8 re-quantized {100 * base['accuracy']:.2f} %")
        for v in report["variants"][1:]:
            if "error" in v:
                lines.append(f"  keep {v['layer']} float: failed ({v['error']})")
            else:
                lines.append(f"  keep {v['layer']} float: {100 * v['accuracy']:.2f} % "
                             f"({100 * (v['accuracy'] - base['accuracy']):+.2f} pp), agreement with float "
                             f"{100 * v['agreement_with_float']:.2f} % (all int8: {100 * base['agreement_with_float']:.2f} %), "
                             f"{v['bytes'] / 1024:.1f} KiB ({(v['bytes'] - base['bytes']) / 1024:+.1f} KiB)")
    return lines


def write_outputs(result: dict, out_dir: Path) -> None:
    out_dir = Path(out_dir)
    for report in result["reports"]:
        atomic_write_text(out_dir / f"{report['format']}.md", to_markdown(report, result), overwrite=True)
        plot_report(report, result, out_dir / f"{report['format']}.png")
    atomic_write_json(out_dir / "quant_report.json", result, overwrite=True)
