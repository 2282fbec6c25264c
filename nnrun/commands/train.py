"""``nnrun train``: a new run from a config, or a stopped run continued in place.

    nnrun train configs/iris.yaml --set training.epochs=20
    nnrun train --resume runs/iris-20260101-120000
    nnrun train configs/iris.yaml --resume runs/nightly   # started there, or continued if it was
    mpiexec -n 4 nnrun train configs/iris.yaml     # one run over 4 processes
"""

from __future__ import annotations

import time

from nnrun.engine.distributed import connect
from nnrun.engine.hooks import TrainingHooks
from nnrun.engine.resume import resume_training
from nnrun.engine.train import TrainResult, train
from nnrun.errors import NonFiniteError, UserError
from nnrun.store.leftovers import holds_no_run


def train_or_resume(config, resume, run_dir, overrides, hooks: TrainingHooks, command: str) -> TrainResult:
    """A new run from CONFIG, or with ``resume`` the given run continued in place
    (CONFIG then optional, and must match the run's). CONFIG with ``resume`` naming a
    folder that holds no run yet (none, or an empty one) starts the run there: one command
    that a job retried after a kill or a preemption can run again and again, as Keras's
    BackupAndRestore restores a backup only where there is one. Started by an MPI launcher
    with several processes, all of them train the one run (see :mod:`nnrun.engine.together`)."""
    if resume is not None and run_dir is not None:
        raise UserError("--run-dir: not allowed with --resume, which continues the run where it is")
    if resume is None and config is None:
        raise UserError("missing CONFIG: give a config file, or --resume RUN_DIR to continue a run",
                        hint="nnrun train configs/iris.yaml")
    world = connect()  # None unless mpiexec started several processes; mpi4py is imported only then
    if resume is not None and config is not None and _starts_there(world, resume):
        resume, run_dir = None, resume
    try:
        return _train_or_resume(world, config, resume, run_dir, overrides, hooks, command)
    except NonFiniteError as exc:  # the run is kept, marked failed: named, for a script to find it
        if exc.run_dir is None:
            raise
        named = NonFiniteError(f"{exc.run_dir}: {exc.message}", hint=exc.hint, before_update=exc.before_update,
                               **exc.details)
        named.run_dir = exc.run_dir
        raise named from exc


def _train_or_resume(world, config, resume, run_dir, overrides, hooks, command) -> TrainResult:
    if world is not None:
        from nnrun.engine.together import resume_together, train_together

        if resume is not None:
            return resume_together(world, resume, config, overrides, hooks, time.perf_counter())
        return train_together(world, config, overrides, run_dir, "runs", hooks, command, time.perf_counter())
    if resume is not None:
        return resume_training(resume, config, overrides=overrides, hooks=hooks, command=command)
    return train(config, overrides=overrides, run_dir=run_dir, hooks=hooks, command=command)


def _starts_there(world, folder) -> bool:
    """Whether ``folder`` holds no run yet (see nnrun.store.leftovers.holds_no_run), so that CONFIG
    starts one there. Under mpiexec the writing process looks and tells the others: it
    makes the folder as it starts, and one that looked after that would resume."""
    if world is None:
        return holds_no_run(folder)
    return world.broadcast_json(holds_no_run(folder) if world.writes else None)
