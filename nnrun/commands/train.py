"""``nnrun train``: a new run from a config, or a stopped run continued in place.

    nnrun train configs/iris.yaml --set training.epochs=20
    nnrun train --resume runs/iris-20260101-120000
"""

from __future__ import annotations

from nnrun.engine.hooks import TrainingHooks
from nnrun.engine.resume import resume_training
from nnrun.engine.train import TrainResult, train
from nnrun.errors import UserError


def train_or_resume(config, resume, run_dir, overrides, hooks: TrainingHooks, command: str) -> TrainResult:
    """A new run from CONFIG, or with ``resume`` the given run continued in place
    (CONFIG then optional, and must match the run's)."""
    if resume is not None:
        if run_dir is not None:
            raise UserError("--run-dir: not allowed with --resume, which continues the run where it is")
        return resume_training(resume, config, overrides=overrides, hooks=hooks, command=command)
    if config is None:
        raise UserError("missing CONFIG: give a config file, or --resume RUN_DIR to continue a run",
                        hint="nnrun train configs/iris.yaml")
    return train(config, overrides=overrides, run_dir=run_dir, hooks=hooks, command=command)
