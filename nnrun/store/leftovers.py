"""What a run or a sweep killed as it started leaves behind, before its first epoch or
trial: its lock file, the files it writes first (config.yaml and preprocess.json, meta.json
saying "running"; a sweep's sweep.yaml and base files), and the temporary file of a
write the kill cut short. Nothing in it was learned: no checkpoint, no row of metrics,
no trial. Such a folder is taken as holding no run, so that the command that was
killed, run again (a retried CI job, a scheduler's restart), starts there instead of
being refused for ever.
"""

from __future__ import annotations

import json
from pathlib import Path

from nnrun.store.files import TEMP_SUFFIX
from nnrun.store.lock import LOCK_FILE, is_held

# The files of a run before its first epoch: data.npz, data.csv and validation.csv are
# the data a Python call handed over, saved into the run before it starts.
RUN_START = {LOCK_FILE, "config.yaml", "preprocess.json", "meta.json", "metrics.csv", "checkpoints", "data.npz",
             "data.csv", "validation.csv"}
SWEEP_START = {LOCK_FILE, "sweep.yaml", "base.yaml", "base.source.yaml", "base.data.json", "trials"}


def started_nothing(path: str | Path) -> bool:
    """Whether the folder ``path`` holds only what a run or a sweep writes before it
    learns anything, and no process is writing it (see the module)."""
    path = Path(path)
    if not path.is_dir() or path.is_symlink():
        return False
    names = {entry.name for entry in path.iterdir() if not _temporary(entry)}
    if not names or not (names <= RUN_START or names <= SWEEP_START) or is_held(path):
        return False
    for folder in ("checkpoints", "trials"):  # a checkpoint, a trial's folder: something was learned
        inside = path / folder
        if inside.exists() and (inside.is_symlink() or not inside.is_dir() or
                                any(not _temporary(entry) for entry in inside.iterdir())):
            return False
    return _no_epoch(path / "metrics.csv") and _not_completed(path / "meta.json")


def _temporary(entry: Path) -> bool:
    """A write cut short: ``.NAME.PID.tmp`` (see nnrun.store.files)."""
    return entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX) and entry.is_file()


def _no_epoch(metrics: Path) -> bool:
    """metrics.csv absent, or its header alone."""
    if not metrics.exists():
        return True
    try:
        with open(metrics, encoding="utf-8", errors="replace") as handle:
            handle.readline()
            return not handle.readline().strip()
    except OSError:
        return False


def _not_completed(meta: Path) -> bool:
    """meta.json absent, or readable and saying the run did not complete."""
    if not meta.exists():
        return True
    try:
        status = json.loads(meta.read_text(encoding="utf-8")).get("status")
    except (OSError, ValueError, AttributeError):
        return False  # damaged: not ours to judge, and not to clear
    return status in ("running", "failed", "interrupted")
