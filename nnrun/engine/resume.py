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

from nnrun.config import load_config, resolved
from nnrun.config.diff import describe_changes
from nnrun.engine.experiment import as_loaded, build, resolve_paths
from nnrun.engine.hooks import SilentHooks, TrainingHooks
from nnrun.engine.record import RunRecord, environment
from nnrun.engine.train import run
from nnrun.errors import UserError
from nnrun.store import checkpoints
from nnrun.store.rundir import RunDir

# What bit-identical arithmetic depends on, beyond the config and the data.
ENVIRONMENT_KEYS = ("numpy", "blas", "blas_threads", "platform")


def resume_training(run_dir, config=None, overrides=(), hooks: TrainingHooks | None = None, command=None):
    """Continue ``run_dir`` from its newest valid checkpoint; returns a TrainResult."""
    hooks = hooks or SilentHooks()
    started = time.perf_counter()
    run_path = RunDir.open(run_dir)
    path = run_path.path
    record = RunRecord.reopen(run_path)
    try:
        loaded = load_config(run_path.config)
        if config is not None or overrides:
            _refuse_changes(path, loaded, config, overrides)
        experiment = build(loaded, warm_start=False)  # the checkpoint brings the weights
        for message in environment_changes(record.meta.get("environment", {}), environment()):
            hooks.warn(message)
        candidates = checkpoints.candidates(path)
    except BaseException:
        record.release()
        raise
    return run(experiment, record, hooks, started, resume_from=candidates)


def _refuse_changes(path: Path, loaded, config, overrides) -> None:
    given = as_loaded(config if config is not None else RunDir(path).config, overrides)
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
