"""``nnrun train --resume RUN_DIR``: continue a stopped run exactly where it left off.

    resume_training("runs/iris-20260101-120000")

The run directory is locked, stale temporary files are removed, and the config is the
run's own ``config.yaml``; a CONFIG or ``--set`` given as well must not change it (the
refusal names the changed keys). Training then restores the newest valid checkpoint,
falling back to older ones if it is damaged (see :class:`nnrun.engine.checkpointing.Checkpointer`).
On the same machine with the same BLAS and thread count, the finished run's
``model.safetensors`` and ``metrics.csv`` (the ``seconds`` column aside) are
byte-identical to a run that was never stopped; elsewhere a warning says so.
"""

from __future__ import annotations

import time
from pathlib import Path

from nnrun.store import checkpoints, rundir
from nnrun.config import load_config, resolved
from nnrun.config.diff import describe_changes
from nnrun.errors import UserError
from nnrun.engine.experiment import as_loaded, build, resolve_paths
from nnrun.engine.record import RunRecord, environment

# What bit-identical arithmetic depends on, beyond the config and the data.
ENVIRONMENT_KEYS = ("numpy", "blas", "blas_threads", "platform")


def resume_training(run_dir, config=None, overrides=(), reporter=None, command=None):
    """Continue ``run_dir`` from its newest valid checkpoint; returns a TrainResult."""
    from nnrun.console.progress import make_reporter
    from nnrun.engine.loop import run

    started = time.perf_counter()
    path = rundir.open_existing(run_dir)
    record = RunRecord.reopen(path)
    try:
        loaded = load_config(path / "config.yaml")
        if config is not None or overrides:
            _refuse_changes(path, loaded, config, overrides)
        experiment = build(loaded, warm_start=False)  # the checkpoint brings the weights
        for message in environment_changes(record.meta.get("environment", {}), environment()):
            _warn(message)
        candidates = checkpoints.candidates(path)
    except BaseException:
        record.release()
        raise
    return run(experiment, record, reporter or make_reporter(quiet=True), started, resume_from=candidates)


def _refuse_changes(path: Path, loaded, config, overrides) -> None:
    given = as_loaded(config if config is not None else path / "config.yaml", overrides)
    # The run's config.yaml holds absolute paths; resolve the given one the same way.
    changes = describe_changes(resolved(resolve_paths(loaded)), resolved(resolve_paths(given)))
    if changes:
        source = str(config) if config is not None else "--set"
        raise UserError(
            f"{source}: differs from the config of the run {path}; changed: {', '.join(changes)}",
            hint="a resumed run keeps its config: leave out CONFIG and --set, or start a new run with "
            "`nnrun train CONFIG`",
        )


def environment_changes(before: dict, now: dict) -> list[str]:
    """Differences in what floating-point results depend on, as sentences."""
    changed = [key for key in ENVIRONMENT_KEYS if before.get(key) != now.get(key)]
    if not changed:
        return []
    detail = "; ".join(f"{key}: {before.get(key)} -> {now.get(key)}" for key in changed)
    return [
        f"the run started under a different numeric environment ({detail}); the resumed run is not "
        "promised to be bit-identical to an uninterrupted one"
    ]


def _warn(message: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"warning: {message}", markup=False, highlight=False, soft_wrap=True)


def train_or_resume(config, resume, run_dir, overrides, reporter, command: str) -> None:
    """``nnrun train``: a new run from CONFIG, or with ``--resume`` the given run
    continued in place (CONFIG then optional, and must match the run's)."""
    from nnrun.engine.loop import train

    if resume is not None:
        if run_dir is not None:
            raise UserError("--run-dir: not allowed with --resume, which continues the run where it is")
        resume_training(resume, config, overrides=overrides, reporter=reporter, command=command)
        return
    if config is None:
        raise UserError("missing CONFIG: give a config file, or --resume RUN_DIR to continue a run",
                        hint="nnrun train configs/iris.yaml")
    train(config, overrides=overrides, run_dir=run_dir, reporter=reporter, command=command)
