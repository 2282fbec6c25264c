"""Marks a data-parallel run failed when its processes are killed.

When one process of an ``mpiexec`` run dies (SIGKILL, a crash, a lost machine), the
launcher kills every other one at once, the writer included, so no process of the
run can record why it stopped. The writer therefore starts this small watcher in a
session of its own (out of the launcher's reach), connected by a pipe: the pipe closes
when the writer ends, however it ends. If ``meta.json`` then still says ``running``
and no process holds the run's lock, the watcher records the run as failed; its
checkpoints are untouched, so ``--resume`` continues it.

    python -m nnrun.engine.watchdog RUN_DIR WORLD_SIZE     # stdin: the writer's pipe
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from nnrun.errors import UserError, quoted
from nnrun.store.rundir import RunDir


def start(run_dir: Path, world_size: int) -> subprocess.Popen:
    """Start the watcher for ``run_dir``; it outlives this process by a moment."""
    return subprocess.Popen(
        [sys.executable, "-m", "nnrun.engine.watchdog", str(run_dir), str(world_size)],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,  # the launcher's cleanup does not reach it
    )


def mark_failed(run_dir: Path, world_size: int) -> bool:
    """Record a run that stopped without a word as failed; False if it needs no record."""
    run = RunDir(run_dir)
    lock = _lock(run)
    if lock is None:  # someone resumed it already
        return False
    try:
        meta = run.read_meta_or_none()
        if not isinstance(meta, dict) or meta.get("status") != "running":
            return False
        meta.update(
            status="failed",
            ended=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            failure={
                "type": "ProcessKilled",
                "message": f"a process of this {world_size}-process run ended without finishing (killed, "
                "crashed or its machine lost) and the MPI launcher stopped the others; resume with: "
                f"mpiexec -n {world_size} nnrun train --resume {quoted(run_dir)}",
            },
        )
        run.write_meta(meta)
        return True
    finally:
        lock.release()


def _lock(run: RunDir, seconds: float = 5.0):
    """The run's lock, once the ended writer's descriptors are closed (the pipe may close
    a moment before the lock does); None if another process holds it longer."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return run.lock()
        except UserError:
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)


def main(argv: list[str]) -> int:
    run_dir, world_size = Path(argv[0]), int(argv[1])
    sys.stdin.buffer.read()  # returns when the writer's end of the pipe closes
    mark_failed(run_dir, world_size)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
