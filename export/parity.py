"""Accuracy parity of an export with the float model on the full test set, and the table that shows it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from export.formats import Tolerance


@dataclass
class ParityResult:
    format: str
    runtime: str
    images: int
    accuracy: float
    float_accuracy: float
    agreement: float  # top-1 agreement with the float model
    max_abs_prob_diff: float
    tolerance: Tolerance
    failures: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    @property
    def accuracy_drop_pp(self) -> float:
        return 100.0 * (self.float_accuracy - self.accuracy)

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict:
        out = asdict(self)
        out.update(accuracy_drop_pp=self.accuracy_drop_pp, passed=self.passed)
        return out


def check_parity(format_name: str, runtime: str, probs: np.ndarray, float_probs: np.ndarray,
                 labels: np.ndarray, tolerance: Tolerance) -> ParityResult:
    """Compare an export's probabilities with the float model's; failures say what and by how much."""
    if probs.shape != float_probs.shape:
        raise ValueError(f"{format_name}: output shape {probs.shape} differs from the float model's {float_probs.shape}")
    pred, float_pred = probs.argmax(1), float_probs.argmax(1)
    result = ParityResult(
        format=format_name, runtime=runtime, images=len(labels),
        accuracy=float((pred == labels).mean()), float_accuracy=float((float_pred == labels).mean()),
        agreement=float((pred == float_pred).mean()),
        max_abs_prob_diff=float(np.abs(probs - float_probs).max()), tolerance=tolerance,
    )
    if result.agreement < tolerance.min_agreement:
        result.failures.append(
            f"agreement {100 * result.agreement:.2f} % < {100 * tolerance.min_agreement:.2f} % "
            f"({int((pred != float_pred).sum())} of {len(labels)} images differ)")
    if result.accuracy_drop_pp > tolerance.max_accuracy_drop_pp + 1e-9:
        result.failures.append(
            f"accuracy drop {result.accuracy_drop_pp:.2f} pp > {tolerance.max_accuracy_drop_pp:.2f} pp")
    return result


def parity_table(rows: list[dict], errors: dict[str, str] | None = None, sizes: dict[str, int] | None = None) -> str:
    """Markdown: one row per format (ParityResult.to_dict() rows) with status, size and figures; failed exports too."""
    sizes = sizes or {}
    lines = [
        "| format | runtime | status | size KiB | accuracy % | drop pp | agreement % | max abs prob diff | notes |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        status = "passed" if r["passed"] else "FAILED"
        size = f"{sizes[r['format']] / 1024:.1f}" if r["format"] in sizes else "-"
        lines.append(
            f"| {r['format']} | {r['runtime']} | {status} | {size} | {100 * r['accuracy']:.2f} | {r['accuracy_drop_pp']:+.2f} "
            f"| {100 * r['agreement']:.2f} | {r['max_abs_prob_diff']:.2e} | {'; '.join(r['failures'])} |")
        tflm = r.get("extra", {}).get("tflm")
        if tflm:  # the same file in the TFLM interpreter, compared with LiteRT image by image
            same = tflm["differing_images"] == 0  # then its accuracy is LiteRT's, exactly
            accuracy, drop = (f"{100 * r['accuracy']:.2f}", f"{r['accuracy_drop_pp']:+.2f}") if same else ("-", "-")
            lines.append(
                f"| {r['format']} | tflm | {status} | {size} | {accuracy} | {drop} | {100 * tflm['top1_same_as_litert']:.2f} "
                f"vs LiteRT | {tflm['max_abs_prob_diff_vs_litert']:.2e} | {tflm['images']:,} images, "
                f"{tflm['differing_images']} predicted differently from LiteRT |")
    for name, error in (errors or {}).items():
        lines.append(f"| {name} | - | EXPORT FAILED | - | - | - | - | - | {error} |")
    return "\n".join(lines) + "\n"
