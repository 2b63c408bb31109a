"""runtime/image_files.py: image files decoded as stored and turned upright by their EXIF orientation."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest
from PIL import Image

from runtime.image_files import UPRIGHT, decode_image, exif_orientation


def _picture(seed: int = 0) -> np.ndarray:
    """An upright BGRA picture whose colour and alpha both vary (so a wrong turn shows in either)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (30, 50, 4), dtype=np.uint8)


def _stored(upright: np.ndarray, orientation: int) -> np.ndarray:
    """The rows a camera would store for `upright` with this EXIF orientation (the inverse of UPRIGHT)."""
    for candidate in (upright, upright.swapaxes(0, 1)):
        for way in (lambda a: a, lambda a: a[:, ::-1], lambda a: a[::-1], lambda a: a[::-1, ::-1]):
            stored = np.ascontiguousarray(way(candidate))
            if np.array_equal(UPRIGHT[orientation](stored), upright):
                return stored
    raise AssertionError(orientation)


def _save(path, bgra: np.ndarray, orientation: int, **options) -> None:
    image = Image.fromarray(cv2.cvtColor(bgra, cv2.COLOR_BGRA2RGBA))
    exif = image.getexif()
    exif[0x0112] = orientation
    image.save(path, exif=exif, **options)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("suffix, options", [(".png", {}), (".webp", {"lossless": True, "exact": True})])
def test_a_picture_with_an_alpha_channel_is_turned_upright_by_its_exif_orientation(tmp_path, orientation, suffix,
                                                                                 options):
    """OpenCV turns a picture by its orientation in every mode but IMREAD_UNCHANGED, the one that keeps alpha:
    a PNG or WebP with both was read as stored (the attack review: "347" read "618" at orientation 3)."""
    upright = _picture()
    path = tmp_path / f"o{orientation}{suffix}"
    _save(path, _stored(upright, orientation), orientation, **options)
    assert np.array_equal(decode_image(str(path)), upright)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_the_turns_are_opencvs_own(tmp_path, orientation):
    """UPRIGHT turns a stored picture exactly as OpenCV's IMREAD_COLOR does for the same tag."""
    stored = _picture(1)[..., :3]
    path = tmp_path / f"o{orientation}.png"
    _save(path, cv2.cvtColor(stored, cv2.COLOR_BGR2BGRA), orientation)
    assert np.array_equal(UPRIGHT[orientation](stored), cv2.imread(str(path), cv2.IMREAD_COLOR))


def _exif(order: str, entries: list[tuple[int, int, int]], first: int = 8) -> bytes:
    mark = b"II" if order == "<" else b"MM"
    body = struct.pack(order + "H", len(entries)) + b"".join(
        struct.pack(order + "HHIHH", tag, kind, 1, value, 0) for tag, kind, value in entries)
    return mark + struct.pack(order + "HI", 42, first) + b"\0" * (first - 8) + body


@pytest.mark.parametrize("block, orientation", [
    (_exif("<", [(0x0112, 3, 6)]), 6),
    (_exif(">", [(0x010F, 2, 0), (0x0112, 3, 8)]), 8),
    (b"Exif\x00\x00" + _exif("<", [(0x0112, 3, 3)]), 3),
    (_exif("<", [(0x0112, 3, 9)]), 1),  # out of range
    (_exif("<", [(0x0112, 3, 0)]), 1),
    (_exif("<", [(0x0112, 4, 6)]), 1),  # not a SHORT
    (_exif("<", [(0x0112, 3, 6)])[:15], 1),  # cut inside the entry
    (_exif("<", [(0x0112, 3, 6)], first=4000)[:30], 1),  # directory past the end
    (b"XX" + _exif("<", [(0x0112, 3, 6)])[2:], 1),  # no byte order
    (b"", 1),
])
def test_exif_orientation_reads_the_tag_or_says_upright(block, orientation):
    assert exif_orientation(block) == orientation


def test_a_file_gone_or_not_an_image_gives_none(tmp_path):
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG not really")
    assert decode_image(str(tmp_path / "gone.png")) is None and decode_image(str(junk)) is None
