"""Calibration data you can name and replay: a fixed, saved, class-balanced list of training-image indices."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

DEFAULT_COUNT = 500
DEFAULT_SEED = 1234


def balanced_indices(y_train: np.ndarray, count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> np.ndarray:
    """`count` training indices, count/10 from each digit, drawn with `seed`, sorted."""
    if count < 10 or count % 10:
        raise ValueError(f"calibration size must be a positive multiple of 10, got {count}")
    rng = np.random.default_rng(seed)
    per_class = count // 10
    picks = [rng.choice(np.flatnonzero(y_train == digit), per_class, replace=False) for digit in range(10)]
    return np.sort(np.concatenate(picks))


def calibration_record(indices: np.ndarray, seed: int) -> dict:
    return {"split": "train", "seed": seed, "count": int(len(indices)), "per_class": int(len(indices) // 10),
            "indices": [int(i) for i in indices]}


def load_indices(path: str | Path) -> np.ndarray:
    """Indices from a calibration file written by export, to replay a quantization exactly."""
    record = json.loads(Path(path).read_text())
    if record.get("split") != "train" or not isinstance(record.get("indices"), list):
        raise ValueError(f"{path}: not a calibration file (needs split 'train' and a list of indices)")
    return np.asarray(record["indices"], dtype=np.int64)


def saved_or_drawn_indices(path: str | Path, y_train: np.ndarray, count: int = DEFAULT_COUNT,
                           seed: int = DEFAULT_SEED) -> np.ndarray:
    """The saved list at `path` when it was drawn with this count and seed (replay), else a fresh draw.

    Reading it back makes a re-export quantize from the same images even if
    numpy's random stream changes between versions.
    """
    path = Path(path)
    if path.is_file():
        record = json.loads(path.read_text())
        if record.get("seed") == seed and record.get("count") == count:
            indices = load_indices(path)
            if len(indices) != count or indices.min() < 0 or indices.max() >= len(y_train):
                raise ValueError(f"{path}: {len(indices)} indices, not {count} within the {len(y_train)} training images")
            return indices
    return balanced_indices(y_train, count, seed)
