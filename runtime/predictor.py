"""One predictor over every artifact and runtime: 28x28 images in, class probabilities out."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from runtime.backends import BACKENDS, SUFFIX_BACKEND, ModelLoadError
from runtime.manifest import Artifact, ManifestError, load_manifest
from runtime.quant import Int8Params


class InputError(ValueError):
    """Images of the wrong shape, dtype or value range."""


def as_float_batch(images) -> np.ndarray:
    """(N, 28, 28[, 1]) or (28, 28) uint8 0-255 or float 0-1 -> float32 (N, 28, 28, 1) in [0, 1]."""
    x = np.asarray(images)
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise InputError(f"expected images of shape (N, 28, 28) or (N, 28, 28, 1), got {np.asarray(images).shape}")
    if len(x) == 0:
        raise InputError("empty batch: no images given")
    if x.dtype == np.uint8:
        return (x.astype(np.float32) / np.float32(255.0))[..., None]
    if not np.issubdtype(x.dtype, np.floating):
        raise InputError(f"images must be uint8 (0-255) or float (0-1), got {x.dtype}")
    if not np.isfinite(x).all():
        raise InputError("images contain NaN or infinite values")
    if x.min() < -1e-6 or x.max() > 1.0 + 1e-6:
        raise InputError(f"float images must lie in [0, 1], got [{x.min():.3g}, {x.max():.3g}]; pass uint8 for 0-255")
    return x.astype(np.float32)[..., None]


class Predictor:
    """A loaded model: built once, reused for every call."""

    def __init__(self, backend, artifact: Artifact | None = None):
        self.backend = backend
        self.artifact = artifact
        self.format = artifact.format if artifact else Path(backend.path).suffix.lstrip(".")
        self.input_quant: Int8Params | None = backend.input.quant if backend.input.dtype == np.int8 else None
        self.output_quant: Int8Params | None = backend.output.quant if backend.output.dtype == np.int8 else None

    @property
    def name(self) -> str:
        return f"{self.format}/{self.backend.name}"

    def to_model_input(self, images) -> np.ndarray:
        """The exact tensor the model receives: float [0, 1], or int8 through the model's own scale and zero point."""
        x = as_float_batch(images)
        return self.input_quant.quantize(x) if self.input_quant else x

    def predict(self, images, chunk: int = 256) -> np.ndarray:
        """Class probabilities, float32 (N, 10); large batches run in chunks to bound memory."""
        x = self.to_model_input(images)
        outputs = [self.backend.run(x[i:i + chunk]) for i in range(0, len(x), chunk)]
        raw = np.concatenate(outputs)
        probs = self.output_quant.dequantize(raw) if self.output_quant else raw.astype(np.float32)
        return probs.reshape(len(probs), -1)


def _backend_for(path: Path, backend: str) -> str:
    if backend != "auto":
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose from auto, {', '.join(BACKENDS)}")
        return backend
    try:
        return SUFFIX_BACKEND[path.suffix]
    except KeyError:
        raise ModelLoadError(f"{path}: unknown model type {path.suffix!r}; expected .tflite or .onnx") from None


def load_predictor(
    model: str | os.PathLike = "tflite-int8",
    backend: str = "auto",
    threads: int | None = None,
    manifest: str | os.PathLike | None = None,
    verify: bool = True,
) -> Predictor:
    """Load a format named in the manifest ("tflite-int8", "onnx-fp32"...) or a model file.

    A file listed in a manifest beside it (or in `manifest`) has its sha256
    checked first, so a modified or corrupted model fails loudly.
    """
    artifact = None
    candidate = Path(model)
    if candidate.suffix in SUFFIX_BACKEND or candidate.exists():
        path = candidate
        if not path.is_file():
            raise ModelLoadError(f"{path}: no such model file")
        try:
            artifact = load_manifest(manifest or path.parent).artifact_for_file(path)
        except ManifestError:
            if manifest is not None:
                raise
    else:
        artifact = load_manifest(manifest).artifact(str(model))
        path = artifact.path
    if artifact is not None and verify:
        artifact.verify()
    name = _backend_for(path, backend)
    return Predictor(BACKENDS[name](path, threads=threads), artifact)
