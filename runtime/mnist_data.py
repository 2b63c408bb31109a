"""MNIST loading with checks, numpy only, so the device side can evaluate too.

Order of sources: an explicit path, then `MNIST_NPZ`, then the Keras cache
(`~/.keras/datasets/mnist.npz`), then (machine with internet) a download of
the same file Keras fetches, checked against its published sha256.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ENV_VAR = "MNIST_NPZ"
KERAS_CACHE = Path.home() / ".keras" / "datasets" / "mnist.npz"
DOWNLOAD_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
DOWNLOAD_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

# sha256 of each array's bytes for the canonical 70,000-image set.
CANONICAL_ARRAY_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
CANONICAL_COUNTS = {"x_train": 60000, "x_test": 10000}


class MnistDataError(ValueError):
    """The MNIST file is missing, unreadable or not MNIST."""


@dataclass(frozen=True)
class MnistData:
    """The four MNIST arrays (uint8 images 28x28, white ink on black; uint8 labels)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str


def resolve_mnist_path(path: str | os.PathLike | None = None) -> Path | None:
    """Where MNIST will be read from, or None when it has to be downloaded."""
    if path is not None:
        return Path(path)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    if KERAS_CACHE.exists():
        return KERAS_CACHE
    return None


def download_mnist(dest: Path = KERAS_CACHE) -> Path:
    """Download Keras' mnist.npz to `dest` (atomically) and check its sha256."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".part")
    try:
        with urllib.request.urlopen(DOWNLOAD_URL, timeout=30) as resp:
            payload = resp.read()
    except OSError as exc:
        raise MnistDataError(
            f"MNIST not found locally and the download from {DOWNLOAD_URL} failed ({exc}). "
            f"Pass --data PATH or set {ENV_VAR} to a copy of mnist.npz."
        ) from exc
    digest = hashlib.sha256(payload).hexdigest()
    if digest != DOWNLOAD_SHA256:
        raise MnistDataError(f"downloaded MNIST has sha256 {digest}, expected {DOWNLOAD_SHA256}")
    tmp.write_bytes(payload)
    os.replace(tmp, dest)
    return dest


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        raise MnistDataError(
            f"{path}: no such file. Pass --data PATH or set {ENV_VAR} to a copy of mnist.npz."
        )
    try:
        with open(path, "rb") as handle:
            magic = handle.read(6)
    except OSError as exc:
        raise MnistDataError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if magic == b"\x93NUMPY":
        raise MnistDataError(f"{path}: a single .npy array, not an .npz archive holding x_train, y_train, x_test, y_test")
    if not magic.startswith(b"PK"):  # an .npz is a zip archive
        raise MnistDataError(f"{path}: not an .npz archive (no zip header); expected Keras' mnist.npz")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = {"x_train", "y_train", "x_test", "y_test"} - set(npz.files)
            if missing:
                raise MnistDataError(f"{path}: not an MNIST file, arrays {sorted(missing)} are missing")
            return {name: npz[name] for name in ("x_train", "y_train", "x_test", "y_test")}
    except MnistDataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise MnistDataError(f"{path}: unreadable or truncated .npz file ({exc})") from exc


def check_mnist_arrays(arrays: dict[str, np.ndarray], where: str = "MNIST") -> None:
    """Fail with a specific message unless the arrays look like MNIST."""
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.dtype != np.uint8 or y.dtype != np.uint8:
            raise MnistDataError(f"{where}: x_{split}/y_{split} must be uint8, got {x.dtype}/{y.dtype}")
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise MnistDataError(f"{where}: x_{split} must have shape (N, 28, 28), got {x.shape}")
        if y.shape != (x.shape[0],):
            raise MnistDataError(f"{where}: y_{split} has shape {y.shape}, expected ({x.shape[0]},)")
        if y.size and y.max() > 9:
            raise MnistDataError(f"{where}: y_{split} holds label {int(y.max())}, labels must be 0-9")
    # A file the size of the canonical set must be the canonical set, byte for byte.
    if all(arrays[k].shape[0] == n for k, n in CANONICAL_COUNTS.items()):
        for name, expected in CANONICAL_ARRAY_SHA256.items():
            digest = hashlib.sha256(arrays[name].tobytes()).hexdigest()
            if digest != expected:
                raise MnistDataError(
                    f"{where}: {name} has the canonical size but sha256 {digest[:16]}..., "
                    f"expected {expected[:16]}... (corrupted or modified file)"
                )


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1]: the Keras models' input (train, export, bench)."""
    return (images.astype(np.float32) / 255.0)[..., None]


def load_mnist(path: str | os.PathLike | None = None, limit: int | None = None) -> MnistData:
    """Load and check MNIST; `limit` keeps the first N training and N test images."""
    resolved = resolve_mnist_path(path)
    if resolved is None:
        resolved = download_mnist()
    arrays = _read_arrays(resolved)
    check_mnist_arrays(arrays, where=str(resolved))
    if limit is not None:
        if limit <= 0:
            raise MnistDataError(f"limit must be positive, got {limit}")
        arrays = {k: v[:limit] for k, v in arrays.items()}
    return MnistData(**arrays, source=str(resolved))
