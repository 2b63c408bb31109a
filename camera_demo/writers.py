"""The demo's files: the annotated video and the JSON lines, each written to a unique temp file and moved into place at the end.

Two runs aimed at the same path never share a temp file; a run that fails
(disk full, killed) leaves the earlier file untouched, never a half-written one.
"""

from __future__ import annotations

import contextlib
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

from runtime.files import ArtifactExistsError, file_in_the_way
from runtime.quiet import native_stderr_silenced


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
    blocking = file_in_the_way(path.parent)
    if blocking is not None:
        raise OutputError(f"{what} {path}: {blocking} is a file, not a folder")
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


def fsync_file(tmp: Path, path: Path, what: str) -> None:
    """Flush a finished temp file to disk; on failure remove it and say why."""
    try:
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot finish {what} {path}: {_why(exc)}") from exc


def rename_into_place(tmp: Path, path: Path, what: str) -> None:
    try:
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot finish {what} {path}: {_why(exc)}") from exc


def move_into_place(tmp: Path, path: Path, what: str) -> None:
    fsync_file(tmp, path, what)
    rename_into_place(tmp, path, what)


def frames_in_video(path: Path) -> int:
    """How many frames OpenCV reads back from a finished video file (0 if it cannot open it)."""
    with native_stderr_silenced():  # FFmpeg's own "moov atom not found" for a truncated file
        capture = cv2.VideoCapture(str(path))
        try:
            return max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0) if capture.isOpened() else 0
        finally:
            capture.release()


class Recorder:
    """Annotated video written to a unique temp file; `finish()` checks it, `commit()` moves it into place.

    OpenCV's VideoWriter reports no write error (a full disk leaves a truncated,
    unreadable file), so the finished video is read back before it may replace anything.
    Frames of another size than the first are resized to it (said once), never dropped.
    """

    def __init__(self, path: str, fps: float, force: bool, say=lambda msg: print(msg, file=sys.stderr)):
        self.path = Path(path)
        check_target(self.path, "--record", force, streams=False)  # a video is finished by renaming it into place
        self._tmp = make_temp(self.path, "the recording")
        self._fps, self._writer, self._size, self._say = fps, None, None, say
        self.frames = self._resized = 0  # frames really written; of them, resized
        self._in_flight = False  # a stop signal may land between the write and its count

    def write(self, image: np.ndarray) -> None:
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        h, w = image.shape[:2]
        if self._writer is None:
            self._size = (w, h)
            with native_stderr_silenced():  # FFmpeg's own lines; the error below says what failed
                self._writer = cv2.VideoWriter(str(self._tmp), cv2.VideoWriter_fourcc(*"mp4v"), self._fps, (w, h))
            if not self._writer.isOpened():
                hint = "" if self.path.suffix.lower() == ".mp4" else " (use a .mp4 name)"
                raise OutputError(f"{self.path}: OpenCV cannot write an MPEG-4 video of {w}x{h} at "
                                  f"{self._fps:g} fps{hint}")
        elif (w, h) != self._size:
            if not self._resized:
                self._say(f"--record: frame {self.frames + 1} is {w}x{h}, the recording {self._size[0]}x"
                          f"{self._size[1]} (its first frame's size); frames of another size are resized to it")
            self._resized += 1
            image = cv2.resize(image, self._size, interpolation=cv2.INTER_AREA)
        self._in_flight = True
        self._writer.write(image)
        self.frames += 1
        self._in_flight = False

    def finish(self) -> bool:
        """Close the video and check it holds every frame written; False (temp file removed) if none was."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.release()
        if writer is None or not self.frames:
            self._tmp.unlink(missing_ok=True)
            return False
        found = frames_in_video(self._tmp) if self._tmp.stat().st_size else 0
        if self._in_flight and found == self.frames + 1:  # interrupted after the write, before its count
            self.frames = found
        if found != self.frames:
            self._tmp.unlink(missing_ok=True)
            raise OutputError(f"cannot finish the recording {self.path}: the video written holds {found} of the "
                              f"{self.frames} frames (disk full?); "
                              + ("the earlier file is left as it was" if self.path.exists() else "nothing written"))
        fsync_file(self._tmp, self.path, "the recording")
        return True

    def commit(self) -> str:
        rename_into_place(self._tmp, self.path, "the recording")
        return str(self.path)

    def discard(self) -> None:
        """Drop the partial video: the temp file goes, an earlier file at the path stays."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.release()
        self._tmp.unlink(missing_ok=True)

    def close(self, keep: bool = True) -> str | None:
        """Finish, check and move the video into place; with keep=False (or no frame written) only remove the temp file."""
        if not keep:
            self.discard()
            return None
        return self.commit() if self.finish() else None


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

    def finish(self) -> None:
        """Flush and close (and fsync a temp file); on failure the temp file is removed."""
        if self._handle is sys.stdout:
            try:
                sys.stdout.flush()
            except OSError as exc:
                raise OutputError(f"cannot write JSON lines to stdout: {_why(exc)}") from exc
            return
        try:
            self._handle.close()
        except OSError as exc:
            if self._tmp is not None:
                self._tmp.unlink(missing_ok=True)
            raise OutputError(f"cannot write --jsonl {self.path}: {_why(exc)}") from exc
        if self._tmp is not None:
            fsync_file(self._tmp, self.path, "the JSON lines")

    def commit(self) -> None:
        if self._tmp is not None:
            rename_into_place(self._tmp, self.path, "the JSON lines")

    def discard(self) -> None:
        """Drop the partial file: the temp file goes, an earlier file at the path stays."""
        if self._handle is not sys.stdout:
            with contextlib.suppress(OSError):
                self._handle.close()
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)

    def close(self, keep: bool = True) -> None:
        """Flush, fsync and move into place; with keep=False remove the temp file instead."""
        if not keep:
            self.discard()
            return
        self.finish()
        self.commit()


def same_file(a: str | None, b: str | None) -> bool:
    """Whether two output paths name the same file (after resolving links and relative parts)."""
    if not a or not b or "-" in (a, b):
        return False
    return Path(a).resolve() == Path(b).resolve()
