"""Pictures people look at: matplotlib on the Agg backend, a figure written atomically as PNG.

In train/ because the training report draws; bench/ draws too and may import train/.
"""

from __future__ import annotations

import io
from pathlib import Path

from runtime.files import atomic_write_bytes


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
