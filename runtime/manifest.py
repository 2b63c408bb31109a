"""models/manifest.json: what export produced. Its one owner: export writes it through here, runtime and bench read it.

The schema lives here only: `artifact_entry` and `write_manifest` build it,
`load_manifest` checks it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from runtime.files import atomic_write_json

MANIFEST_NAME = "manifest.json"
SCHEMA_VERSION = 1
REPO_MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
# The shipped model's format, every command's default. The same name as export/formats.py's
# INT8_FORMAT: the device side never imports export/ (tests/test_layering.py checks they agree).
DEFAULT_FORMAT = "tflite-int8"
# Keys every artifact entry has, with their types (artifact_entry writes them, load_manifest requires them).
ARTIFACT_KEYS = ("format", "file", "sha256", "runtime", "bytes", "input", "output")
ARTIFACT_TYPES = {"format": str, "file": str, "sha256": str, "runtime": str, "bytes": int, "input": dict,
                  "output": dict, "parity": dict, "extra": dict, "status": str}
PASSED, FAILED = "passed", "failed"  # an entry's "status": its parity check at export
# Present while export swaps a finished export into the folder (export/staging.py); readers refuse the folder then.
SWAP_JOURNAL = ".export-swap.json"


class ManifestError(ValueError):
    """The manifest is missing or malformed, names an unknown format, or disagrees with a file."""


def sha256_of(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_models_dir() -> Path:
    """$MNIST_EDGE_MODELS, else the repository's models/ folder."""
    return Path(os.environ.get("MNIST_EDGE_MODELS") or REPO_MODELS_DIR)


@dataclass(frozen=True)
class Artifact:
    """One exported model file as the manifest describes it."""

    format: str
    path: Path
    sha256: str
    runtime: str
    bytes: int
    input: dict
    output: dict
    parity: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    status: str = PASSED

    @property
    def passed(self) -> bool:
        """Whether it passed its parity check at export (a failed one is loaded only when asked explicitly)."""
        return self.status == PASSED and self.parity.get("passed", True) is not False

    def verify(self) -> None:
        """Fail unless the file exists and its sha256 is the manifest's."""
        if not self.path.is_file():
            raise ManifestError(f"{self.path}: listed in the manifest as {self.format} but missing")
        actual = sha256_of(self.path)
        if actual != self.sha256:
            raise ManifestError(
                f"{self.path}: sha256 {actual[:16]}... does not match the manifest's {self.sha256[:16]}... "
                "(modified or corrupted model file; re-export it)"
            )


@dataclass(frozen=True)
class Manifest:
    path: Path
    data: dict

    @property
    def artifacts(self) -> dict[str, Artifact]:
        folder = self.path.parent
        return {
            entry["format"]: Artifact(
                format=entry["format"], path=folder / entry["file"], sha256=entry["sha256"],
                runtime=entry["runtime"], bytes=entry["bytes"], input=entry["input"], output=entry["output"],
                parity=entry.get("parity", {}), extra=entry.get("extra", {}), status=entry.get("status", PASSED),
            )
            for entry in self.data.get("artifacts", [])
        }

    def artifact(self, format_name: str) -> Artifact:
        artifacts = self.artifacts
        if format_name not in artifacts:
            raise ManifestError(
                f"{self.path}: no artifact of format {format_name!r}; it lists {', '.join(artifacts) or 'none'}"
            )
        return artifacts[format_name]

    def artifact_for_file(self, path: Path) -> Artifact | None:
        resolved = Path(path).resolve()
        return next((a for a in self.artifacts.values() if a.path.resolve() == resolved), None)


def load_manifest(path: str | os.PathLike | None = None) -> Manifest:
    """Read a manifest (a file, or a folder holding manifest.json; default: the shipped models)."""
    path = Path(path) if path is not None else default_models_dir()
    if path.is_dir():
        path = path / MANIFEST_NAME
    if (path.parent / SWAP_JOURNAL).exists():
        raise ManifestError(f"{path.parent}: an export was stopped while swapping its files in; "
                            f"run `mnist-edge export --recover --out {path.parent}` (or any export into it) to finish it")
    if path.is_symlink() and not path.exists():
        raise ManifestError(f"{path}: a link to {os.readlink(path)}, which does not exist (a broken manifest, "
                            "not a missing one); fix the link or re-export")
    if not path.is_file():
        raise ManifestError(f"{path}: no manifest; run `mnist-edge export` to produce one")
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: unreadable or not valid JSON ({exc})") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA_VERSION or not isinstance(data.get("artifacts"), list):
        raise ManifestError(f"{path}: not an mnist-edge manifest of schema {SCHEMA_VERSION}")
    for k, entry in enumerate(data["artifacts"]):
        _check_entry(path, k, entry)
    return Manifest(path, data)


def _check_entry(path: Path, index: int, entry) -> None:
    """Every required key present, every known key of its type, the file a plain name in the manifest's folder."""
    if not isinstance(entry, dict):
        raise ManifestError(f"{path}: artifacts[{index}] is {type(entry).__name__}, not an object")
    name = entry.get("format") if isinstance(entry.get("format"), str) else f"artifacts[{index}]"
    missing = set(ARTIFACT_KEYS) - set(entry)
    if missing:
        raise ManifestError(f"{path}: artifact entry {name} lacks {sorted(missing)}")
    for key, kind in ARTIFACT_TYPES.items():
        if key in entry and (not isinstance(entry[key], kind) or (kind is int and isinstance(entry[key], bool))):
            raise ManifestError(f"{path}: artifact {name}: {key!r} must be {kind.__name__}, got {entry[key]!r}")
    file = Path(entry["file"])
    if not entry["file"] or file.is_absolute() or ".." in file.parts:
        raise ManifestError(f"{path}: artifact {name}: file {entry['file']!r} must be a path inside the manifest's "
                            "folder (relative, no '..')")
    if entry.get("status", PASSED) not in (PASSED, FAILED):
        raise ManifestError(f"{path}: artifact {name}: status must be {PASSED!r} or {FAILED!r}, got {entry['status']!r}")


def tensor_entry(info) -> dict:
    """A backend's TensorInfo as the manifest records it: dtype, shape, int8 parameters or None."""
    return {"dtype": str(info.dtype), "shape": list(info.shape),
            "quantization": info.quant.to_dict() if info.quant else None}


def classes_entry(num_classes: int, min_confidence: float | None = None) -> dict:
    """What a model's outputs mean. An 11th output is "not a digit"; such a model also carries its
    operating point: the best digit's probability below which a crop is "not a digit" (runtime.predictor)."""
    if num_classes == 10:
        return {"classes": [str(k) for k in range(10)]}
    return {"classes": [str(k) for k in range(10)] + ["not a digit"], "not_a_digit_class": 10,
            "min_confidence": min_confidence}


def artifact_entry(format_name: str, path: Path, runtime: str, description: str, backend, *,
                   calibration: str | None, convert_seconds: float, parity: dict, classes: dict | None = None) -> dict:
    """One artifact's entry: its file, size, sha256, the runtime's view of its input/output (with `classes`,
    what the outputs mean: classes_entry), its parity figures."""
    path = Path(path)
    return {"format": format_name, "file": path.name, "bytes": path.stat().st_size, "sha256": sha256_of(path),
            "runtime": runtime, "description": description,
            "input": tensor_entry(backend.input),
            "output": {**tensor_entry(backend.output), **(classes or classes_entry(int(backend.output.shape[-1])))},
            "calibration": calibration, "convert_seconds": round(convert_seconds, 2), "parity": parity,
            "status": PASSED if parity.get("passed", True) else FAILED}


def _entries_to_keep(manifest_path: Path, source_sha: str, fresh: set[str]) -> list[dict]:
    """Earlier entries of the same source model that were not re-exported and whose file is still there."""
    if not manifest_path.exists():
        return []
    try:
        old = json.loads(manifest_path.read_text())
        if old.get("source_model", {}).get("sha256") != source_sha:
            return []
        return [e for e in old.get("artifacts", [])
                if e["format"] not in fresh and (manifest_path.parent / e["file"]).exists()]
    except (json.JSONDecodeError, KeyError, TypeError):
        return []


def write_manifest(out_dir: Path, source_model: Path, entries: list[dict], *, source_accuracy: float,
                   x_test: np.ndarray, calibration: dict, converters: dict, order: list[str],
                   write_to: Path | None = None) -> dict:
    """The manifest of out_dir, keeping its earlier entries of the same source model that were not re-exported;
    artifacts sorted by `order`. Written to out_dir/manifest.json, or into `write_to` (export's staging folder)."""
    out_dir, source_model = Path(out_dir), Path(source_model)
    source_sha = sha256_of(source_model)
    manifest_path = out_dir / MANIFEST_NAME
    kept = _entries_to_keep(manifest_path, source_sha, {e["format"] for e in entries})
    try:
        source_file = os.path.relpath(source_model.resolve(), out_dir.resolve())
    except ValueError:
        source_file = str(source_model.resolve())
    rank = {name: i for i, name in enumerate(order)}
    manifest = {
        "schema": SCHEMA_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "source_model": {"file": source_file, "sha256": source_sha, "test_accuracy": float(source_accuracy)},
        "test_set": {"images": int(len(x_test)), "x_test_sha256": hashlib.sha256(x_test.tobytes()).hexdigest()},
        "calibration": calibration,
        "converters": converters,
        "artifacts": sorted(kept + entries, key=lambda e: rank.get(e["format"], len(rank))),
    }
    atomic_write_json(Path(write_to or out_dir) / MANIFEST_NAME, manifest, overwrite=True)
    return manifest
