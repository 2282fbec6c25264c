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
import re
import shutil
from pathlib import Path

from nnrun.errors import UserError, quoted
from nnrun.store.lock import LOCK_FILE, is_held

# The files of a run before its first epoch: data.npz, data.csv and validation.csv are
# the data a Python call handed over, saved into the run before it starts.
RUN_START = {LOCK_FILE, "config.yaml", "preprocess.json", "meta.json", "metrics.csv", "checkpoints", "data.npz",
             "data.csv", "validation.csv"}
SWEEP_START = {LOCK_FILE, "sweep.yaml", "base.yaml", "base.source.yaml", "base.data.json", "trials", "trials.csv"}
# The command that starts a run or a sweep again in a folder one left, given the folder.
LEFTOVER_RESTART = {"run": "nnrun train CONFIG --resume", "sweep": "nnrun sweep SWEEP.yaml --resume"}
# A failed run whose failure was writing its first files (a full disk): it taught nothing.
WRITE_FAILURES = ("CheckpointWriteFailed", "RunWriteFailed")
# A write a kill cut short, ``.NAME.PID.tmp`` (see nnrun.store.files), of a file a start writes.
CUT_WRITE = re.compile(r"\.(?P<name>.+)\.\d+\.tmp")
# What nnrun writes into a lock file: nothing yet (a folder claimed), or its holder's pid.
LOCK_TEXT = re.compile(r"\d*\n?")


def holds_no_run(path: str | Path, kind: str = "run") -> bool:
    """Whether a ``kind`` ("run" or "sweep") may start in ``path`` as a resume of it: none
    there, an empty folder, or what one of that kind killed as it started left (a
    sweep's leftover is not cleared by ``train --resume``, which is told of it instead)."""
    path = Path(path)
    return not path.exists() or path.is_dir() and not path.is_symlink() and not any(path.iterdir()) or \
        leftover_of(path, prefer=kind) == kind


def leftover_refusal(path: str | Path, kind: str) -> UserError | None:
    """The error for resuming (as a ``kind``) what a start killed as it started left in
    ``path``: there is nothing to resume, and how to start it again; None for any other
    folder."""
    left = leftover_of(path, prefer=kind)
    if left is None:
        return None
    return UserError(f"{path}: the {left} there stopped as it started, before its first "
                     f"{'epoch' if left == 'run' else 'trial'}; there is nothing to resume",
                     hint=f"start it again there: {LEFTOVER_RESTART[left]} {quoted(path)}")


def started_nothing(path: str | Path, locked: bool = False) -> bool:
    """Whether the folder ``path`` holds only what a run or a sweep writes before it
    learns anything, its lock file first of all (a folder of one's own files of those
    names is none of nnrun's), and no process is writing it; ``locked``: the caller
    holds the lock itself."""
    return leftover_of(path, locked) is not None


def leftover_of(path: str | Path, locked: bool = False, prefer: str = "run") -> str | None:
    """"run" or "sweep": what was killed as it started in ``path`` (see
    :func:`started_nothing`); None where the folder is no such leftover. A folder that
    could be either (its lock file alone) is ``prefer``'s."""
    path = Path(path)
    lock = path / LOCK_FILE
    if not path.is_dir() or path.is_symlink() or lock.is_symlink() or not lock.is_file() or \
            not LOCK_TEXT.fullmatch(_head(lock)):
        return None
    names = {entry.name for entry in path.iterdir() if not _cut_write(entry, RUN_START | SWEEP_START)}
    starts = {"run": RUN_START, "sweep": SWEEP_START}
    kind = next((k for k in sorted(starts, key=lambda k: k != prefer) if names <= starts[k]), None)
    if kind is None or not locked and is_held(path):
        return None
    for folder in ("checkpoints", "trials"):  # a checkpoint, a trial's folder: something was learned
        inside = path / folder
        if inside.exists() and (inside.is_symlink() or not inside.is_dir() or
                                any(not _cut_write(entry, CHECKPOINT_FILE) for entry in inside.iterdir())):
            return None
    empty = _no_row(path / "metrics.csv") and _no_row(path / "trials.csv") and _not_completed(path / "meta.json")
    return kind if empty else None


# A checkpoint's file name (checkpoints/epoch-000012.safetensors): here, where a start cut short is told
# from a run that learned something, and through RunDir (which imports it) everywhere else.
CHECKPOINT_FILE = re.compile(r"epoch-(\d{6,})\.safetensors")


def _head(file: Path) -> str:
    """The first bytes of a small file, as text ("?" where it cannot be read: no lock of nnrun's)."""
    try:
        with open(file, "rb") as handle:
            return handle.read(64).decode(errors="replace")
    except OSError:
        return "?"


def _cut_write(entry: Path, names) -> bool:
    """A write cut short (``.NAME.PID.tmp``) of one of ``names`` (a set, or a pattern)."""
    found = CUT_WRITE.fullmatch(entry.name)
    if found is None or entry.is_symlink() or not entry.is_file():
        return False
    return found["name"] in names if isinstance(names, set) else names.fullmatch(found["name"]) is not None


def _no_row(table: Path) -> bool:
    """metrics.csv (trials.csv) absent, or its header alone: no epoch (no trial) yet."""
    if not table.exists():
        return True
    try:
        with open(table, encoding="utf-8", errors="replace") as handle:
            handle.readline()
            return not any(line.strip() for line in handle)
    except OSError:
        return False


def _not_completed(meta: Path) -> bool:
    """meta.json absent, or readable and saying the run did not complete, nor fail for
    any reason but writing its first files: a run that diverged in its first epoch
    (training.checkpoint: null keeps no checkpoint) would diverge again, which its
    meta.json says and must go on saying."""
    if not meta.exists():
        return True
    try:
        record = json.loads(meta.read_text(encoding="utf-8"))
        status, failed_in = record.get("status"), (record.get("failure") or {}).get("type")
    except (OSError, ValueError, AttributeError):
        return False  # damaged: not ours to judge, and not to clear
    return status in ("running", "interrupted") or status == "failed" and failed_in in WRITE_FAILURES


def remove_unstarted(path: Path, premade: bool = False, keep: str | None = None) -> None:
    """A run (or sweep) that failed before it began leaves nothing behind: its folder is
    removed, or, where it was made beforehand and given to nnrun empty, emptied (but for
    ``keep``, a lock file held)."""
    if not premade:
        shutil.rmtree(path, ignore_errors=True)
        return
    for made in list(path.iterdir()):
        if made.name == keep:
            continue
        if made.is_dir() and not made.is_symlink():
            shutil.rmtree(made, ignore_errors=True)
        else:
            made.unlink(missing_ok=True)
