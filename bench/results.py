"""Writing a benchmark's results: Markdown table + JSON + PNG chart, side by side, replaced as one set."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Callable

from runtime.files import replace_together
from train.charts import pyplot, save_figure

__all__ = ["pyplot", "save_figure", "write_benchmark"]


def write_benchmark(out_dir: str | Path, stem: str, result: dict, table: str,
                    plot: Callable[[dict, Path], None] | None = None) -> list[Path]:
    """`stem`.json, `stem`.md and (with `plot`) `stem`.png in out_dir (results are refreshed, never a shipped model).

    All three are rendered first, then renamed in together: a failure or a stop leaves the earlier set whole.
    """
    out = Path(out_dir)
    files = {out / f"{stem}.json": (json.dumps(result, indent=2) + "\n").encode(), out / f"{stem}.md": table.encode()}
    if plot is not None:
        with tempfile.TemporaryDirectory(prefix="bench-chart-") as tmp:
            plot(result, Path(tmp) / f"{stem}.png")
            files[out / f"{stem}.png"] = (Path(tmp) / f"{stem}.png").read_bytes()
    return replace_together(files)
