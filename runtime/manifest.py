"""models/manifest.json: what export produced. The runtime and the benchmark read it instead of guessing from file names."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST_NAME = "manifest.json"
SCHEMA_VERSION = 1
REPO_MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


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
                parity=entry.get("parity", {}), extra=entry.get("extra", {}),
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
    if not path.is_file():
        raise ManifestError(f"{path}: no manifest; run `mnist-edge export` to produce one")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA_VERSION or not isinstance(data.get("artifacts"), list):
        raise ManifestError(f"{path}: not an mnist-edge manifest of schema {SCHEMA_VERSION}")
    for entry in data["artifacts"]:
        missing = {"format", "file", "sha256", "runtime", "bytes", "input", "output"} - set(entry)
        if missing:
            raise ManifestError(f"{path}: artifact entry {entry.get('format', '?')} lacks {sorted(missing)}")
    return Manifest(path, data)
