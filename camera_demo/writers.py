"""The demo's files: the annotated video and the JSON lines, each written to a unique temp file and moved into place at the end.

Two runs aimed at the same path never share a temp file; a run that fails
(disk full, killed) leaves the earlier file untouched, never a half-written one.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import IO

import cv2
import numpy as np

from runtime.files import ArtifactExistsError


class OutputError(RuntimeError):
    """An output file cannot be written: read-only folder, a directory in the way, a full disk."""


def _why(exc: OSError) -> str:
    return {errno.ENOSPC: "disk full", errno.EACCES: "permission denied (read-only folder?)",
            errno.EROFS: "read-only file system", errno.EISDIR: "it is a directory"}.get(exc.errno, exc.strerror or str(exc))


def _is_stream(path: Path) -> bool:
    """A character device, FIFO or socket (e.g. /dev/null, /dev/full): written in place, no temp file."""
    try:
        return not stat.S_ISREG(path.stat().st_mode) and not stat.S_ISDIR(path.stat().st_mode)
    except OSError:
        return False


def check_target(path: Path, what: str, force: bool, streams: bool = True) -> None:
    """Fail early, with the reason, unless `path` can become the output file (or, with `streams`, be written in place)."""
    if path.is_dir():
        raise OutputError(f"{what} {path}: is a directory; give a file name")
    if not streams and _is_stream(path):
        raise OutputError(f"{what} {path}: not a regular file (a device or pipe); give a file name")
    if path.exists() and not force and not _is_stream(path):
        raise ArtifactExistsError(f"{path} exists; pass --force to overwrite it")


def make_temp(path: Path, what: str) -> Path:
    """A new, unique, empty file beside `path` (same file system, so the final rename is atomic)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".part{path.suffix}")
        os.fchmod(fd, 0o644)
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot write {what} {path}: {_why(exc)}") from exc
    return Path(tmp)


def move_into_place(tmp: Path, path: Path, what: str) -> None:
    try:
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot finish {what} {path}: {_why(exc)}") from exc


class Recorder:
    """Annotated video written to a unique temp file and moved into place when closed, whatever ended the run."""

    def __init__(self, path: str, fps: float, force: bool):
        self.path = Path(path)
        check_target(self.path, "--record", force, streams=False)  # a video is finished by renaming it into place
        self._tmp = make_temp(self.path, "the recording")
        self._fps, self._writer, self.frames = fps, None, 0

    def write(self, image: np.ndarray) -> None:
        if self._writer is None:
            h, w = image.shape[:2]
            self._writer = cv2.VideoWriter(str(self._tmp), cv2.VideoWriter_fourcc(*"mp4v"), self._fps, (w, h))
            if not self._writer.isOpened():
                raise OutputError(f"{self.path}: OpenCV cannot write this video (use a .mp4 name)")
        self._writer.write(image)
        self.frames += 1

    def close(self, keep: bool = True) -> str | None:
        """Finish the video and move it into place; with keep=False (or no frame written) only remove the temp file."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.release()
        if writer is None or not keep or not self.frames:
            self._tmp.unlink(missing_ok=True)
            return None
        move_into_place(self._tmp, self.path, "the recording")
        return str(self.path)


class JsonLines:
    """One JSON object per line, flushed per line; to stdout ("-"), a device, or a file through a unique temp file."""

    def __init__(self, target: str, force: bool):
        self.path = None if target == "-" else Path(target)
        self._tmp: Path | None = None
        if self.path is None:
            self._handle: IO = sys.stdout
            return
        check_target(self.path, "--jsonl", force)
        if _is_stream(self.path):
            opened = self.path
        else:
            self._tmp = opened = make_temp(self.path, "the JSON lines")
        try:
            self._handle = open(opened, "w", buffering=1)  # line-buffered: a killed run keeps whole lines
        except OSError as exc:
            if self._tmp:
                self._tmp.unlink(missing_ok=True)
            raise OutputError(f"cannot write --jsonl {self.path}: {_why(exc)}") from exc

    def write(self, record: dict) -> None:
        try:
            self._handle.write(json.dumps(record) + "\n")
        except OSError as exc:
            raise OutputError(f"cannot write --jsonl {self.path or 'stdout'}: {_why(exc)}") from exc

    def close(self, keep: bool = True) -> None:
        """Flush, fsync and move into place; with keep=False remove the temp file instead."""
        if self._handle is sys.stdout:
            try:
                sys.stdout.flush()
            except OSError as exc:
                raise OutputError(f"cannot write JSON lines to stdout: {_why(exc)}") from exc
            return
        try:
            self._handle.close()
        except OSError as exc:
            keep = False
            if self._tmp is None:
                raise OutputError(f"cannot write --jsonl {self.path}: {_why(exc)}") from exc
            error = OutputError(f"cannot write --jsonl {self.path}: {_why(exc)}")
        else:
            error = None
        if self._tmp is not None:
            if keep:
                move_into_place(self._tmp, self.path, "the JSON lines")
            else:
                self._tmp.unlink(missing_ok=True)
        if error:
            raise error


def same_file(a: str | None, b: str | None) -> bool:
    """Whether two output paths name the same file (after resolving links and relative parts)."""
    if not a or not b or "-" in (a, b):
        return False
    return Path(a).resolve() == Path(b).resolve()
