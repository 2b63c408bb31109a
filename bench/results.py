"""Writing a benchmark's results: Markdown table + JSON + PNG chart, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from runtime.files import atomic_write_json, atomic_write_text
from train.charts import pyplot, save_figure

__all__ = ["pyplot", "save_figure", "write_benchmark"]


def write_benchmark(out_dir: str | Path, stem: str, result: dict, table: str, plot: Callable[[dict, Path], None]) -> None:
    """`stem`.json, `stem`.md and `stem`.png in out_dir (results are refreshed, never a shipped model)."""
    out = Path(out_dir)
    atomic_write_json(out / f"{stem}.json", result, overwrite=True)
    atomic_write_text(out / f"{stem}.md", table, overwrite=True)
    plot(result, out / f"{stem}.png")
