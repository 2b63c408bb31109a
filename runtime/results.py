"""Writing results people look at: a matplotlib figure as PNG, a benchmark as Markdown + JSON + PNG."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Callable

from runtime.files import atomic_write_bytes, atomic_write_json, atomic_write_text


def pyplot():
    """matplotlib's pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str | Path) -> Path:
    """Render a figure to PNG, write it atomically, close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    pyplot().close(fig)
    return atomic_write_bytes(path, buffer.getvalue(), overwrite=True)


def write_benchmark(out_dir: str | Path, stem: str, result: dict, table: str, plot: Callable[[dict, Path], None]) -> None:
    """`stem`.json, `stem`.md and `stem`.png in out_dir (results are refreshed, never a shipped model)."""
    out = Path(out_dir)
    atomic_write_json(out / f"{stem}.json", result, overwrite=True)
    atomic_write_text(out / f"{stem}.md", table, overwrite=True)
    plot(result, out / f"{stem}.png")
