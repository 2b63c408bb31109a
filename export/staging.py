"""All-or-nothing export: everything is written into a staging folder, then swapped into the output folder as one set.

The output folder (models/) also holds files that are not the export's
(the Keras model, the training report, the zoo), so the folder itself cannot
be swapped; the export's own files are, under a journal:

1. every artifact, the manifest, parity files, calibration list and micro/
   are written to `<out>/.export-staging-XXXX/`;
2. the journal `<out>/.export-swap.json` naming them is written (fsynced):
   the commit point;
3. each old file (or micro/) is renamed into `<out>/.export-old-XXXX/`, each new one into place;
4. the journal is removed, then the old files and the staging folder.

A kill before 2 leaves the old set (the staging folder is removed at the next
start); a kill after 2 leaves a journal, so readers refuse the folder
(runtime.manifest) until `recover` (run at the start of every export) rolls
the swap forward: the new set. MNIST_EDGE_EXPORT_KILL_AT=<point> makes the
process SIGKILL itself at a named point, for the fault tests.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
from pathlib import Path

from runtime.files import atomic_write_json
from runtime.manifest import SWAP_JOURNAL

STAGING_PREFIX = ".export-staging-"
BACKUP_PREFIX = ".export-old-"
KILL_ENV = "MNIST_EDGE_EXPORT_KILL_AT"


def fault_point(name: str) -> None:
    """SIGKILL this process here when MNIST_EDGE_EXPORT_KILL_AT names this point (fault-injection tests only)."""
    if os.environ.get(KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def new_staging_dir(out_dir: Path) -> Path:
    """An empty, unique staging folder inside `out_dir` (same file system: renames out of it are atomic)."""
    return Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out_dir))


def _roll_forward(out_dir: Path, journal: dict) -> None:
    """Finish a swap from the journal; every step can be repeated, so a kill during recovery is recovered too."""
    staging, backup = out_dir / journal["staging"], out_dir / journal["backup"]
    backup.mkdir(exist_ok=True)
    for name in journal.get("remove", []):  # stale files of the old set the new one has no counterpart for
        if (out_dir / name).exists() and not (backup / name).exists():
            os.replace(out_dir / name, backup / name)
    for name in journal["entries"]:
        new, old = staging / name, out_dir / name
        if not new.exists() and not new.is_symlink():
            continue  # already moved into place
        if old.exists() or old.is_symlink():
            if (backup / name).exists():
                _remove(old)
            else:
                os.replace(old, backup / name)
        os.replace(new, old)
        fault_point(f"swap:{name}")
    _fsync_dir(out_dir)
    (out_dir / SWAP_JOURNAL).unlink()
    _fsync_dir(out_dir)
    fault_point("swapped")
    _remove(backup)
    _remove(staging)


def recover(out_dir: str | Path) -> str | None:
    """Leave `out_dir` holding one complete set: finish a committed swap, drop unfinished staging. What was done, or None."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return None
    done = None
    journal_path = out_dir / SWAP_JOURNAL
    if journal_path.exists():
        try:
            journal = json.loads(journal_path.read_text())
            entries = journal["entries"]
            if not all(isinstance(n, str) and "/" not in n and n not in ("", ".", "..")
                       for n in [*entries, *journal.get("remove", [])]):
                raise ValueError("bad entry names")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RuntimeError(f"{journal_path}: unreadable swap journal ({exc}); "
                               "inspect the .export-* folders beside it by hand") from exc
        _roll_forward(out_dir, journal)
        done = f"finished an interrupted export swap in {out_dir} ({len(entries)} entries)"
    leftovers = [p for p in out_dir.iterdir() if p.name.startswith((STAGING_PREFIX, BACKUP_PREFIX))]
    for path in leftovers:
        _remove(path)
    if leftovers and done is None:
        done = f"removed {len(leftovers)} unfinished export folder(s) from {out_dir}"
    return done


def commit(staging: Path, out_dir: Path, remove: list[str] = ()) -> list[str]:
    """Swap everything in `staging` into `out_dir` as one set (see the module docstring), removing the old files
    named in `remove` in the same swap; the names swapped in."""
    staging, out_dir = Path(staging), Path(out_dir)
    entries = sorted(p.name for p in staging.iterdir())
    for path in staging.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(staging)
    backup = Path(tempfile.mkdtemp(prefix=BACKUP_PREFIX, dir=out_dir))
    fault_point("staged")
    journal = {"staging": staging.name, "backup": backup.name, "entries": entries,
               "remove": sorted(set(remove) - set(entries))}
    atomic_write_json(out_dir / SWAP_JOURNAL, journal, overwrite=True)
    _fsync_dir(out_dir)
    fault_point("committed")
    _roll_forward(out_dir, journal)
    return entries
