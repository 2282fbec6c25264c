"""The run directory: created once, never overwritten, every file written atomically.

    runs/<name>-<YYYYmmdd-HHMMSS>/
        config.yaml  meta.json  metrics.csv  preprocess.json  model.safetensors  eval.json

A write goes to a temporary file in the same folder, is flushed and fsynced, then
renamed over the target (``os.replace`` is atomic on POSIX), and the folder is fsynced
so the rename itself survives a crash. A process killed mid-write leaves only a
``.<name>.<pid>.tmp`` file, which the next process to lock the directory removes.

One process at a time writes a run directory: it holds an exclusive ``flock`` on
``.lock`` inside it, which the kernel releases when the process ends, however it ends.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from nnrun.errors import UserError

TEMP_SUFFIX = ".tmp"
LOCK_NAME = ".lock"
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once; on any error the old file is untouched
    and no temporary file is left behind."""
    temp = path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")
    try:
        _write_temp(temp, data)
        os.replace(temp, path)
    finally:
        if temp.exists():
            temp.unlink()
    _fsync_dir(path.parent)


def _write_temp(temp: Path, data: bytes) -> None:
    with open(temp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def remove_stale_temporaries(folder: Path) -> list[str]:
    """Delete ``.*.tmp`` files left by a killed writer; call only while holding the lock."""
    removed = []
    for temp in sorted(folder.glob(f".*{TEMP_SUFFIX}")):
        if temp.is_file() and not temp.is_symlink():
            temp.unlink()
            removed.append(temp.name)
    return removed


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, value: Any) -> None:
    atomic_write(path, (json.dumps(value, indent=2) + "\n").encode())


def read_json(path: Path) -> Any:
    from nnrun.store.tensorfile import read_bytes

    if not path.exists() and not path.is_symlink():
        raise UserError(f"{path}: missing; is this a complete nnrun run directory?")
    try:
        return json.loads(read_bytes(path).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: not valid JSON ({exc})") from None


def create(name: str, explicit: str | Path | None = None, root: str | Path = "runs") -> Path:
    """Make a fresh run directory; an existing one is never reused."""
    if not SAFE_NAME.fullmatch(name or ""):
        raise UserError(f"run name '{name}': must be one path segment of letters, digits, '.', '_' or '-'")
    if explicit is not None:
        path = Path(explicit)
        if path.is_symlink():
            raise UserError(f"{path}: is a symbolic link; give a real directory for --run-dir")
        if path.exists():
            raise UserError(
                f"{path}: already exists; nnrun never overwrites a run",
                hint="choose another --run-dir, or leave it out to get a new timestamped one",
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir()
        return path
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for attempt in range(1, 1000):
        path = root / (f"{name}-{stamp}" if attempt == 1 else f"{name}-{stamp}-{attempt}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise UserError(f"{root}: could not find a free run directory name for '{name}'")


def open_existing(path: str | Path) -> Path:
    """A run directory given on the command line, checked before anything is read."""
    path = Path(path)
    if path.is_symlink():
        raise UserError(f"{path}: is a symbolic link; nnrun only reads real run directories")
    if path.is_file():
        raise UserError(f"{path}: is a file, not a run directory",
                        hint="give the folder `nnrun train` wrote, e.g. runs/<name>-<time>; `nnrun runs` lists them")
    if not path.is_dir():
        raise UserError(f"{path}: no such run directory", hint="`nnrun runs` lists the runs in runs/")
    if (path / "config.yaml").is_symlink():
        raise UserError(f"{path / 'config.yaml'}: is a symbolic link; nnrun reads only files inside the run directory")
    if not (path / "config.yaml").is_file():
        raise UserError(f"{path}: not an nnrun run directory (no config.yaml)",
                        hint="`nnrun runs` lists the runs in runs/" if any(path.glob("*/config.yaml")) else None)
    return path


class RunLock:
    """An exclusive ``flock`` on ``<run>/.lock``, holding the owner's pid for messages."""

    def __init__(self, run_dir: Path):
        lock_path = run_dir / LOCK_NAME
        try:
            self.fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            raise UserError(f"{lock_path}: cannot open the lock file ({exc.strerror})") from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            owner = os.pread(self.fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(self.fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                raise
            raise UserError(
                f"{run_dir}: another nnrun process (pid {owner}) is writing this run directory",
                hint="wait for it to finish, or stop it; two processes must never share a run",
            ) from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = -1


def is_writing(run_dir: Path) -> bool:
    """Whether a live process holds the run's lock. A run whose meta.json still says
    "running" without one was killed before it could say otherwise."""
    try:
        fd = os.open(run_dir / LOCK_NAME, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # also drops the shared lock, if it was taken
    return False


def save_weights(path: Path, weights: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> None:
    """Write weights as safetensors with a checksum of every tensor, atomically."""
    from nnrun.store.tensorfile import encode

    atomic_write(path, encode(weights, metadata or {}))


def load_weights(
    path: Path, like: dict[str, np.ndarray] | None = None, require_checksum: bool = True, what: str | None = None
) -> dict[str, np.ndarray]:
    """Read weights as untrusted input: every way a file can be wrong is a UserError
    (exit code 2) naming the file, and nothing in it is ever executed.

    Refused: a symbolic link, a truncated or non-safetensors file (a pickle, say), a
    checksum mismatch (a flipped bit), and, given ``like`` (e.g. ``graph.params``), any
    name, shape or dtype that differs from it. ``require_checksum=False`` is for
    weights that come from elsewhere (warm starts), which carry no nnrun checksum.
    """
    from nnrun.store.tensorfile import check_like, read

    if not path.exists() and not path.is_symlink():
        raise UserError(f"{path}: missing; " + (f"no such file for the {what}" if what else "the run may not have finished"))
    weights, _ = read(path, require_checksum=require_checksum)
    if like is not None:
        check_like(path, weights, like)
    return weights
