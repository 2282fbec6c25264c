"""Every file nnrun writes is written atomically; every JSON file it reads is untrusted.

A write goes to a temporary file in the same folder, is flushed and fsynced, then
renamed over the target (``os.replace`` is atomic on POSIX), and the folder is fsynced
so the rename itself survives a crash. A process killed mid-write leaves only a
``.<name>.<pid>.tmp`` file, which the next process to lock the directory removes (once
that pid no longer runs).
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

from nnrun.errors import UserError, said

TEMP_SUFFIX = ".tmp"


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once; on any error the old file is untouched
    and no temporary file is left behind."""
    temp = path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")
    try:
        _write_temp(temp, data)
        os.replace(temp, path)
    except OSError as exc:
        exc.filename = str(path)  # a write or sync error names no file: the one it was for
        raise
    finally:
        if temp.exists():
            temp.unlink()
    _fsync_dir(path.parent)


def write_output(path: Path, data: bytes, force: bool = False, what: str = "the output",
                 other: str = ", or choose another file with -o") -> None:
    """Write a command's output file (a report, predictions) atomically, never replacing
    a different file of that name unless ``force``; rewriting the same bytes is no loss.
    ``other``: the end of the hint, how else the command can write elsewhere."""
    if path.is_dir():
        raise UserError(f"{path}: is a folder; give a file name for {what}, e.g. {path / 'out.csv'}")
    if is_stream(path):
        write_stream(path, data)
        return
    if not path.parent.is_dir():
        raise UserError(f"{path}: the folder {path.parent} does not exist")
    if not force and path.exists() and (path.is_symlink() or path.read_bytes() != data):
        force_it = said("add --force", "pass force=True")
        raise UserError(f"{path}: already exists; nnrun does not overwrite it", hint=f"{force_it} to replace it{other}")
    atomic_write(path, data)


# A process's own open files: /dev/stdout is one also when the shell sent it to a file.
OPEN_FILE = re.compile(r"/(?:dev/(?:stdout|stderr|fd/\d+)|proc/(?:self|\d+)/fd/\d+)")


def is_stream(path: Path) -> bool:
    """Whether ``path`` is a device, a pipe or a process's open file (``-o /dev/null``,
    ``-o /dev/stdout`` also when the shell sends it to a file, a named pipe): written
    into, never replaced by a rename (which would replace /dev/stdout's link itself). A
    regular file is none, wherever it is (/dev/shm holds files)."""
    if OPEN_FILE.fullmatch(os.path.abspath(path)) and path.exists():
        return True
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def write_stream(path: Path, data: bytes) -> None:
    """Write into a device, pipe or open file as it is, after what it holds (a file the
    shell opened with >> keeps its lines; one opened with > was emptied by the shell)."""
    with open(path, "ab") as handle:
        handle.write(data)


def keep_aside(path: Path, name: str) -> Path | None:
    """Move ``path`` to ``name`` in its folder (``name-2``, ... when taken), so a new file
    can take its place with nothing lost; returns where it went, or None when it was
    gone already (another process moved it)."""
    stem, suffix = Path(name).stem, Path(name).suffix
    for n in range(1, 10_000):
        target = path.with_name(name if n == 1 else f"{stem}-{n}{suffix}")
        if target.exists():
            continue
        try:
            os.link(path, target)  # fails if the name was taken meanwhile, where a rename would replace it
        except FileExistsError:
            continue
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK):
                raise
            try:
                os.rename(path, target)  # a file system without hard links
            except FileNotFoundError:
                return None
        else:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
        _fsync_dir(path.parent)
        return target
    raise UserError(f"{path}: no free name to keep it under beside it ({name}, {stem}-2{suffix}, ...)")


def _write_temp(temp: Path, data: bytes) -> None:
    with open(temp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def remove_stale_temporaries(folder: Path) -> list[str]:
    """Delete ``.*.tmp`` files left by a killed writer; call only while holding the lock.
    A temporary file of a process still running is left alone: ``evaluate`` and
    ``predict`` write their reports into a run folder without its lock."""
    removed = []
    for temp in sorted(folder.glob(f".*{TEMP_SUFFIX}")):
        if temp.is_file() and not temp.is_symlink() and not _writer_alive(temp):
            temp.unlink()
            removed.append(temp.name)
    return removed


def _writer_alive(temp: Path) -> bool:
    """Whether the process named in ``temp``'s name (``.NAME.PID.tmp``, see
    :func:`atomic_write`) is running; one that is not named is not."""
    pid = temp.name[: -len(TEMP_SUFFIX)].rpartition(".")[2]
    if not pid.isdigit() or not 0 < int(pid) < 1 << 22 or int(pid) == os.getpid():  # 0 would be our group
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether it exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process, running
    return True


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def json_text(value: Any, default=None) -> str:
    """``value`` as JSON that any parser reads: a NaN or infinite number (an auc of a split
    with one class) is null, as JSON has no word for it (Python would write NaN).
    ``default``: as ``json.dumps`` takes it, for values of other types."""
    return json.dumps(_finite(value), indent=2, allow_nan=False, default=default) + "\n"


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def write_json(path: Path, value: Any) -> None:
    atomic_write(path, json_text(value).encode())


def read_json(path: Path) -> Any:
    if not path.exists() and not path.is_symlink():
        raise UserError(f"{path}: missing; is this a complete nnrun run directory?")
    try:
        return json.loads(read_bytes(path).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: not valid JSON ({exc})") from None


def read_bytes(path: Path, what: str = "file") -> bytes:
    """The whole file, refusing a symbolic link at open time."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise UserError(f"{path}: missing {what}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UserError(f"{path}: is a symbolic link; nnrun reads only files inside the run directory") from None
        raise UserError(f"{path}: cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def bytes_hash(data) -> str:
    """SHA-256 of bytes (or of a contiguous array's memory), as hex."""
    return hashlib.sha256(data).hexdigest()


def file_hash(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex: what a run's meta.json keeps of a file it
    wrote, to tell later that the file was edited."""
    return bytes_hash(read_bytes(path))
