"""A local trial process: ``python -m nnrun.commands.sweep.worker SWEEP_DIR ID VALUES [--ask]``.

It runs one trial (:func:`.trial.run_trial`) and talks to the sweep on its standard
streams, one JSON line per message, each starting with ``MARK``:

    -> {"epoch": 3, "row": {...}}     after each epoch
    <- "go" or "prune"                 read after each epoch only with --ask (a scheduler decides)
    -> {"outcome": {...}}              last

It dies with the sweep (Linux: the parent's death sends it SIGKILL), so a sweep killed
with SIGKILL leaves no trial running; its checkpoints let ``--resume`` continue it.
"""

from __future__ import annotations

import json
import os
import signal
import sys

MARK = "@nnrun-sweep "


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the line above
        os._exit(1)


def send(message: dict) -> None:
    try:
        sys.stdout.write(MARK + json.dumps(message, default=float) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # the sweep died (SIGKILL), and its death's SIGKILL has not reached us yet:
        os._exit(1)  # gone as that signal would take us, not as a trial that failed of its own (--resume resumes it)


def main(argv: list[str]) -> int:
    _die_with_parent()
    sweep_dir, trial_id, values = argv[0], argv[1], json.loads(argv[2])
    ask = "--ask" in argv
    from nnrun.commands.sweep.trial import run_trial

    def on_epoch(row: dict) -> bool:
        """Report the epoch; True (prune) when the sweep's scheduler says so."""
        send({"epoch": int(row["epoch"]), "row": row})
        return ask and sys.stdin.readline().strip() == "prune"

    result = run_trial(sweep_dir, trial_id, values, on_epoch)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the trial is over: the sweep's stop now changes nothing
    send({"outcome": result})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
