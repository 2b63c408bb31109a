"""Image files -> frames: as stored (8 or 16 bits, gray or colour, an alpha channel kept), turned upright as
their EXIF orientation says (a phone stores a portrait photo sideways with a tag saying so)."""

from __future__ import annotations

import struct

import cv2
import numpy as np

# PNG, WebP (RIFF) and TIFF files may hold an alpha channel; JPEG, a phone's photo, does not. A GIF's one
# transparent colour is dropped (as before): on a photo-like palette it is the paper's, and laid on black the page
# read as black speckle (the attack review), while a transparent black ground under black ink is rarer.
MAY_HOLD_ALPHA = (b"\x89PNG", b"RIFF", b"II*\x00", b"MM\x00*")
ORIENTATION_TAG = 0x0112  # EXIF: how the stored rows must be turned to be seen upright, 1-8
UPRIGHT = {  # orientation -> the stored picture turned upright, as OpenCV's IMREAD_COLOR turns it
    1: lambda a: a, 2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1), 6: lambda a: np.rot90(a, -1), 7: lambda a: np.rot90(a, 2).swapaxes(0, 1),
    8: lambda a: np.rot90(a, 1),
}


def decode_image(path: str) -> np.ndarray | None:
    """The picture in an image file, upright; None if it cannot be read or decoded. OpenCV turns a picture by
    its EXIF orientation except in IMREAD_UNCHANGED, the one mode that keeps an alpha channel: files that may
    hold one are decoded so and turned here."""
    try:
        with open(path, "rb") as file:
            head = file.read(4)
    except OSError:  # gone or unreadable since it was listed
        return None
    if not head.startswith(MAY_HOLD_ALPHA):
        return cv2.imread(path, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)  # applies the EXIF orientation
    stored, kinds, blocks = cv2.imreadWithMetadata(path, cv2.IMREAD_UNCHANGED)
    if stored is None or stored.size == 0:
        return None
    kinds = [] if kinds is None else np.asarray(kinds).ravel().tolist()  # an array: "or []" took [0] for empty
    blocks = [] if blocks is None else list(blocks)
    exif = [bytes(np.asarray(b).ravel()) for k, b in zip(kinds, blocks) if k == cv2.IMAGE_METADATA_EXIF]
    return np.ascontiguousarray(UPRIGHT[exif_orientation(exif[0] if exif else b"")](stored))


def exif_orientation(exif: bytes) -> int:
    """The Orientation tag of an EXIF block (a TIFF header and its first directory, after an optional
    "Exif\\0\\0"), 1 when it is absent, out of range or the block is cut short."""
    exif = exif[6:] if exif.startswith(b"Exif\x00\x00") else exif
    if len(exif) < 8 or exif[:2] not in (b"II", b"MM"):
        return 1
    order = "<" if exif[:2] == b"II" else ">"
    (first,) = struct.unpack(order + "I", exif[4:8])
    if first + 2 > len(exif):
        return 1
    (entries,) = struct.unpack(order + "H", exif[first:first + 2])
    for at in range(first + 2, min(first + 2 + 12 * entries, len(exif) - 11), 12):
        tag, kind = struct.unpack(order + "HH", exif[at:at + 4])
        if tag == ORIENTATION_TAG and kind == 3:  # a SHORT, in the entry's first two value bytes
            (value,) = struct.unpack(order + "H", exif[at + 8:at + 10])
            return value if value in UPRIGHT else 1
    return 1
