"""Joining the Ray cluster a sweep names (``executor.address``), or starting a local one.

    check_address(sweep.executor)      # before the sweep directory exists
    started_here = join(ray, executor)  # in run_ray

An address of ``host:port`` is tried with a plain TCP connection first: Ray's own
attempt retries for minutes with no word from nnrun, and does not stop on Ctrl-C.
``auto`` (the cluster ``ray start`` left on this machine) fails at once when there is
none; either way the error names ``executor.address`` and how to start a cluster.
"""

from __future__ import annotations

import logging
import os
import socket

from nnrun.errors import UserError

CONNECT_SECONDS = 3.0
# Set once this process has started or joined Ray: the command line then ends the
# process without the interpreter's teardown (see nnrun.cli.program).
joined: list[bool] = []
START_HINT = ("start one with `ray start --head --port=6379` (and `ray start --address=HEAD:6379` on the "
              "other machines), or leave executor.address out to start a local Ray for this sweep")


def check_address(executor) -> None:
    """Refuse an ``executor.address`` of ``host:port`` where nothing answers."""
    address = getattr(executor, "address", None)
    if executor.type != "ray" or address in (None, "auto") or address.startswith("ray://"):
        return
    host, _, port = address.rpartition(":")  # its form checked with the sweep file (config.sweep)
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UserError(f"executor.address: no Ray cluster answers at {address} ({reason.lower()})",
                        hint=START_HINT) from None


def join(ray, executor) -> bool:
    """Connect to the sweep's cluster, or start a local Ray; True when started here
    (the sweep shuts it down at its end)."""
    if ray.is_initialized():
        return False
    quiet_tune()
    joined.append(True)
    try:
        ray.init(address=executor.address, num_cpus=executor.cpus if not executor.address else None,
                 include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    except ConnectionError as exc:  # address: auto with no cluster on this machine
        said = str(exc).split(". ")[0].rstrip(".")  # Ray's first sentence; its advice names flags nnrun has not
        raise UserError(f"executor.address: {executor.address}: {said}", hint=START_HINT) from None
    except BaseException:  # Ctrl-C as Ray starts: the processes it started so far end with it
        ray.shutdown()
        raise
    return True


def quiet_tune() -> None:
    """Ray Tune's settings for a sweep: nnrun shows and records the trials itself."""
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # no experiment banner and status tables
    os.environ["TUNE_DISABLE_SIGINT_HANDLER"] = "1"  # Ctrl-C reaches nnrun, which records and stops
    # No CSV, JSON or TensorBoard logs of Ray's own: trials.csv and each trial's run
    # directory record everything, and the TensorBoard writer's exit handler could hang
    # the process for good after a Ctrl-C (it joins a thread that waits on a queue no
    # one feeds any more; seen once in some dozens of interrupted sweeps).
    os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] = "1"
