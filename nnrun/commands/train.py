"""``nnrun train``: a new run from a config, or a stopped run continued in place.

    nnrun train configs/iris.yaml --set training.epochs=20
    nnrun train --resume runs/iris-20260101-120000
    mpiexec -n 4 nnrun train configs/iris.yaml     # one run over 4 processes
"""

from __future__ import annotations

import time

from nnrun.engine.distributed import connect
from nnrun.engine.hooks import TrainingHooks
from nnrun.engine.resume import resume_training
from nnrun.engine.train import TrainResult, train
from nnrun.errors import UserError


def train_or_resume(config, resume, run_dir, overrides, hooks: TrainingHooks, command: str) -> TrainResult:
    """A new run from CONFIG, or with ``resume`` the given run continued in place
    (CONFIG then optional, and must match the run's). Started by an MPI launcher with
    several processes, all of them train the one run (see :mod:`nnrun.engine.together`)."""
    if resume is not None and run_dir is not None:
        raise UserError("--run-dir: not allowed with --resume, which continues the run where it is")
    if resume is None and config is None:
        raise UserError("missing CONFIG: give a config file, or --resume RUN_DIR to continue a run",
                        hint="nnrun train configs/iris.yaml")
    world = connect()  # None unless mpiexec started several processes; mpi4py is imported only then
    if world is not None:
        from nnrun.engine.together import resume_together, train_together

        if resume is not None:
            return resume_together(world, resume, config, overrides, hooks, time.perf_counter())
        return train_together(world, config, overrides, run_dir, "runs", hooks, command, time.perf_counter())
    if resume is not None:
        return resume_training(resume, config, overrides=overrides, hooks=hooks, command=command)
    return train(config, overrides=overrides, run_dir=run_dir, hooks=hooks, command=command)
