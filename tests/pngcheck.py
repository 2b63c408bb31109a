"""What the report tests ask of a PNG: it decodes, has the expected pixel size, and is not one flat colour."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk."""
    head = Path(path).read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def assert_picture(path: Path, size: tuple[int, int] | None = None) -> None:
    import matplotlib.image

    path = Path(path)
    assert path.is_file() and path.stat().st_size > 1000, f"{path} missing or nearly empty"
    width, height = png_size(path)
    if size is not None:
        assert (width, height) == size, f"{path.name}: {width}x{height}, expected {size[0]}x{size[1]}"
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[:2] == (height, width)
    assert float(np.std(pixels[..., :3])) > 0.01, f"{path.name} is one flat colour"
