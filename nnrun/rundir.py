"""The run directory: created once, never overwritten, every file written atomically.

    runs/<name>-<YYYYmmdd-HHMMSS>/
        config.yaml  meta.json  metrics.csv  preprocess.json  model.safetensors  eval.json

A write goes to a temporary file in the same folder, is flushed and fsynced, then
renamed over the target (``os.replace`` is atomic on POSIX), and the folder is fsynced
so the rename itself survives a crash.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from .errors import UserError

TEMP_SUFFIX = ".tmp"


def atomic_write(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")
    try:
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        if temp.exists():
            temp.unlink()
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, value: Any) -> None:
    atomic_write(path, (json.dumps(value, indent=2) + "\n").encode())


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: missing; is this a complete nnrun run directory?") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: not valid JSON ({exc})") from None


def create(name: str, explicit: str | Path | None = None, root: str | Path = "runs") -> Path:
    """Make a fresh run directory; an existing one is never reused."""
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
    if not path.is_dir():
        raise UserError(f"{path}: no such run directory", hint="`nnrun train CONFIG` prints the run directory it writes")
    if not (path / "config.yaml").is_file():
        raise UserError(f"{path}: not an nnrun run directory (no config.yaml)")
    return path


def save_weights(path: Path, weights: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> None:
    from safetensors.numpy import save

    tensors = {name: np.ascontiguousarray(value) for name, value in sorted(weights.items())}
    atomic_write(path, save(tensors, metadata=metadata))


def load_weights(path: Path) -> dict[str, np.ndarray]:
    """Read a safetensors file; anything that is not one is a clear error, never executed."""
    from safetensors import SafetensorError
    from safetensors.numpy import load

    if path.is_symlink():
        raise UserError(f"{path}: is a symbolic link; refusing to read weights through it")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: missing; the run may not have finished") from None
    try:
        return load(data)
    except (SafetensorError, ValueError, OSError) as exc:
        raise UserError(f"{path}: not a valid safetensors file ({exc})") from None
