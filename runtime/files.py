"""Atomic artifact writes that never silently replace an existing file."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
import threading
from pathlib import Path


class ArtifactExistsError(FileExistsError):
    """The destination exists and overwriting was not asked for."""


class NotARegularFileError(OSError):
    """The destination is a folder, a device or a pipe: an atomic rename would replace it."""


def atomic_write_bytes(path: str | os.PathLike, data: bytes, overwrite: bool = False) -> Path:
    """Write `data` to a temp file beside `path`, then rename it into place."""
    path = _replaceable(path)
    if path.exists() and not overwrite:
        raise ArtifactExistsError(f"{path} exists; pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    with stop_signals_held():  # a SIGTERM mid-write waits for the temp file to be renamed or removed
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o644)  # mkstemp makes 0600; artifacts are meant to be read by others
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if overwrite:
                os.replace(tmp, path)
            else:
                _place_new(Path(tmp), path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return path


def _place_new(tmp: Path, path: Path) -> None:
    """Move `tmp` to `path` only if nothing is there: a hard link fails on an existing name, so of two writers
    racing to the same new file one wins and the other gets ArtifactExistsError (an exists() check then a
    rename let both "succeed", the second silently replacing the first). Where the file system has no hard
    links, the check and the rename it had to rely on."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise ArtifactExistsError(f"{path} exists; pass --force to overwrite it") from None
    except OSError:  # no hard links here (some network and FAT file systems)
        if path.exists():
            raise ArtifactExistsError(f"{path} exists; pass --force to overwrite it") from None
        os.replace(tmp, path)
        return
    tmp.unlink()


def file_in_the_way(folder: str | os.PathLike) -> Path | None:
    """The first of `folder` and its parents that exists but is not a folder (a write there would fail), or None."""
    folder = Path(folder)
    return next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)


def _replaceable(path: str | os.PathLike) -> Path:
    """`path`, unless it is a folder, a device or a pipe: a rename over /dev/full or /dev/null replaces the device."""
    path = Path(path)
    if path.exists() and not path.is_file():
        raise NotARegularFileError(f"{path}: not a regular file (a folder, a device or a pipe); give a file name")
    return path


def atomic_write_text(path: str | os.PathLike, text: str, overwrite: bool = False) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"), overwrite=overwrite)


def atomic_write_json(path: str | os.PathLike, obj, overwrite: bool = False) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n", overwrite=overwrite)


@contextlib.contextmanager
def stop_signals_held():
    """Within the block, Ctrl-C, SIGTERM and SIGHUP wait; the first one caught is delivered after it.

    For a few renames that must all happen or none (a set of files replaced together).
    """
    if threading.current_thread() is not threading.main_thread():  # Python sets handlers only there
        yield
        return
    caught: list[int] = []
    held = [s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {s: signal.signal(s, lambda signum, _frame: caught.append(signum)) for s in held}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        if caught:
            signal.raise_signal(caught[0])


def replace_together(files: dict[str | os.PathLike, bytes]) -> list[Path]:
    """Write every file to a temp file beside it, then rename them all into place, stop signals held from the
    first write to the last rename (a SIGTERM mid-write would leave the temp files behind): the set is replaced
    together, or (a failed write) not at all, and no temp file stays."""
    files = {_replaceable(path): data for path, data in files.items()}
    staged: list[tuple[Path, Path]] = []
    with stop_signals_held():  # delivered after the cleanup below
        try:
            for path, data in files.items():
                path = Path(path)
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
                staged.append((Path(tmp), path))
                os.fchmod(fd, 0o644)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            for tmp, path in staged:
                os.replace(tmp, path)
        finally:
            for tmp, _ in staged:
                tmp.unlink(missing_ok=True)
    return [path for _, path in staged]
