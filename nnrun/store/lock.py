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
        self.fd = _locked(Path(run_dir), kind, os.O_RDWR | os.O_CREAT)
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()}\n".encode(), 0)

    @staticmethod
    def check_free(run_dir: Path, kind: str = "run") -> None:
        """The UserError naming the process that holds the lock, if one does; the lock
        file is left as it is (a folder only looked at is not changed)."""
        os.close(_locked(Path(run_dir), kind, os.O_RDONLY))

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = -1


def _locked(run_dir: Path, kind: str, flags: int) -> int:
    """The lock file opened with ``flags`` and locked, or a UserError naming its holder."""
    lock_path = run_dir / LOCK_FILE
    try:
        fd = os.open(lock_path, flags | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise UserError(f"{lock_path}: cannot open the lock file ({exc.strerror})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
            raise
        raise UserError(
            f"{run_dir}: another nnrun process (pid {owner}) is writing this {kind} directory",
            hint=f"wait for it to finish, or stop it; two processes must never share a {kind}",
        ) from None
    return fd
