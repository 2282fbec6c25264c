"""The lock of a run or sweep directory: one process writes it at a time, and a second
one is refused with the first one's pid.

    lock = RunLock(run_path)      # or a UserError naming the process that holds it
    ...
    lock.release()
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from nnrun.errors import UserError

LOCK_FILE = ".lock"


class RunLock:
    """An exclusive ``flock`` on ``<run>/.lock``, holding the owner's pid for messages;
    ``kind`` names the folder in them (a "run" directory, or a "sweep" one)."""

    def __init__(self, run_dir: Path, kind: str = "run"):
        lock_path = Path(run_dir) / LOCK_FILE
        try:
            self.fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            hint = f"the {kind} directory cannot be written by you here: copy it where you can write (cp -r) and " \
                f"go on from the copy" if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else None
            raise UserError(f"{lock_path}: cannot open the lock file ({exc.strerror})", hint=hint) from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            owner = os.pread(self.fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(self.fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                raise
            raise held_by(run_dir, owner, kind) from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = -1


def is_held(run_dir: Path) -> bool:
    """Whether a live process holds the lock of ``run_dir``: a folder whose lock file is
    there without one was left by a process that ended, however it ended."""
    try:
        fd = os.open(Path(run_dir) / LOCK_FILE, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # also drops the shared lock, if it was taken
    return False


def held_by(run_dir: Path, owner: str, kind: str = "run") -> UserError:
    """The error of a run or sweep directory whose lock another process (``owner``, its
    pid as the lock file says it) holds."""
    return UserError(f"{run_dir}: another nnrun process (pid {owner}) is writing this {kind} directory",
                     hint=f"wait for it to finish, or stop it; two processes must never share a {kind}")
