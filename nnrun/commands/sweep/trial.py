"""One trial, in the calling process: the base config with the trial's values, trained
into ``trials/<id>/`` of the sweep directory (or resumed there from its checkpoints).

    outcome = run_trial(sweep_dir, "007", {"optimizer.learning_rate": 0.003}, on_epoch)

Both executors call this: the local one in a trial process of its own, Ray Tune in
its worker. ``on_epoch(row)`` sees each epoch's metrics.csv row; when it returns True
the trial is pruned: training ends there as early stopping would (``should_stop``), and
the run completes with its weights, so it can be evaluated like any other. Whatever
goes wrong stays inside the trial: the outcome says failed, with the message.
"""

from __future__ import annotations

import csv
import shutil
import time
from functools import lru_cache
from pathlib import Path

import yaml

from nnrun.config.sweep import SweepConfig
from nnrun.config.sweep_checks import trial_config
from nnrun.engine.hooks import SilentHooks
from nnrun.errors import NnrunError
from nnrun.store import files
from nnrun.store.rundir import RunDir

from nnrun.commands.sweep.directory import base_data
from nnrun.commands.sweep.trials import best_of


class TrialPruned(Exception):
    """Raised where a trial cannot end its own run (Ray ends a stopped trial by raising
    SystemExit in it); the run's meta.json then says pruned instead of failed."""

    run_status = "pruned"  # what the run's meta.json records instead of "failed"

    def __init__(self, epoch: int):
        super().__init__(f"pruned by the scheduler after epoch {epoch}")
        self.message = str(self)


class EpochHooks(SilentHooks):
    """Training hooks that pass each finished epoch's row on and stop training when the
    receiver says so (a scheduler pruning the trial)."""

    def __init__(self, on_epoch):
        self.on_epoch = on_epoch
        self.pruned_after: int | None = None

    def epoch_end(self, row: dict) -> None:
        if self.on_epoch(row):
            self.pruned_after = int(row["epoch"])

    def should_stop(self) -> bool:
        return self.pruned_after is not None


@lru_cache(maxsize=4)
def sweep_context(sweep_dir: str) -> tuple[SweepConfig, dict]:
    """The recorded sweep and the base config's data its trials start from (read once
    per process)."""
    recorded = yaml.safe_load((Path(sweep_dir) / "sweep.yaml").read_text())
    sweep = SweepConfig.model_validate(recorded)
    return sweep, base_data(Path(sweep_dir), sweep)


def run_trial(sweep_dir: Path, trial_id: str, values: dict, on_epoch=lambda row: False) -> dict:
    """Train (or resume, or just read back) one trial; returns its outcome: status,
    best value and epoch of the sweep's metric, epochs run, message."""
    from nnrun.engine.resume import resume_training
    from nnrun.engine.train import train

    sweep, base = sweep_context(str(sweep_dir))
    path = Path(sweep_dir) / "trials" / trial_id
    state = _previous_state(path)
    status, message = "completed", ""
    hooks = EpochHooks(on_epoch)
    try:
        if state in ("completed", "pruned", "failed"):  # it ended, but the sweep died before recording it
            status, message = state, _failure(path)
        elif state is not None:
            resume_training(path, hooks=hooks, command=f"nnrun sweep (trial {trial_id})")
        else:
            config = trial_config(base, sweep.base, values)
            train(config, run_dir=path, hooks=hooks, command=f"nnrun sweep (trial {trial_id})")
        if hooks.pruned_after is not None:
            status, message = "pruned", f"pruned by the scheduler after epoch {hooks.pruned_after}"
    except TrialPruned as exc:
        status, message = "pruned", exc.message
    except NnrunError as exc:
        status, message = ("interrupted" if exc.exit_code == 130 else "failed"), exc.message
    except Exception as exc:  # a trial's own bug must not end the sweep
        status, message = "failed", f"{type(exc).__name__}: {exc}"
    return outcome(path, sweep, status, message)


def outcome(path: Path, sweep: SweepConfig, status: str, message: str) -> dict:
    rows = _rows(path)
    best, epoch = best_of(rows, sweep.metric, sweep.direction == "max")
    return {"status": status, "best": best, "best_epoch": epoch, "epochs": len(rows), "message": message}


def stopped_outcome(path: Path, sweep: SweepConfig, status: str, message: str) -> dict:
    """The outcome of a trial its executor stopped, or whose process ended without one:
    its best value and epochs as its run recorded them, and its run's own status where
    that says it completed (the stop came too late to stop it)."""
    recorded = read_outcome(path, sweep)
    return recorded if recorded["status"] == "completed" else outcome(path, sweep, status, message)


def read_outcome(path: Path, sweep: SweepConfig) -> dict:
    """A trial's outcome from its run directory alone (for an executor whose trials run
    elsewhere, such as Ray's); status "running" when the run recorded no end."""
    try:
        meta = files.read_json(path / "meta.json")
    except Exception:
        return outcome(path, sweep, "running", "")
    return outcome(path, sweep, meta.get("status", "running"), meta.get("failure", {}).get("message", ""))


def resume_where_killed(swept, previous: list) -> list[str]:
    """The failed trials whose process was killed as their run trained (out of memory, a
    kill -9), which their run never recorded as a failure of its own: a resumed sweep
    resumes each from its last checkpoint, as one its own stop interrupted, so the kill
    changes no result (one killed before its first checkpoint starts again). One finished
    by hand since (nnrun train --resume) counts as its run recorded it, completed or
    failed, with its time. Their ids (the killed ones)."""
    killed = []
    for trial in (t for t in previous if t.status == "failed"):
        recorded = _recorded(swept, trial)
        if recorded is None:
            continue  # failed before its run began: nothing to resume
        if recorded["status"] in KILLED:
            trial.status, trial.message = "interrupted", ""
            killed.append(trial.id)
        else:  # finished by hand since: completed, or failed of its own (a NaN), as its run says
            trial.status, trial.message, trial.best, trial.best_epoch, trial.epochs = (
                recorded[key] for key in ("status", "message", "best", "best_epoch", "epochs"))
            trial.seconds = max(trial.seconds, trained_seconds(swept.trial_dir(trial.id)))
    return killed


def stopped_from_outside(swept, trial) -> bool:
    """Whether ``trial`` stopped short for no reason of its run's own: its process
    interrupted, or killed as it trained (see :func:`resume_where_killed`); a resumed
    sweep finishes it."""
    recorded = _recorded(swept, trial) if trial.status == "failed" else None
    return trial.status == "interrupted" if recorded is None else recorded["status"] in KILLED


KILLED = ("running", "interrupted")  # what a failed trial's own run says where its process was killed as it trained


def _recorded(swept, trial) -> dict | None:
    """What a trial's own run recorded (see :func:`read_outcome`); None before it began."""
    if not (swept.trial_dir(trial.id) / "meta.json").is_file():
        return None
    return read_outcome(swept.trial_dir(trial.id), swept.sweep)


def _previous_state(path: Path) -> str | None:
    """None for a new trial; else the status in its meta.json. A folder a killed or
    interrupted trial left with no checkpoint to resume from (stopped before its first,
    or with checkpoints off) is moved aside (never deleted) so the trial starts over."""
    if not path.exists():
        return None
    try:
        meta = files.read_json(path / "meta.json")
        # A checkpoint file, not the temporary one of a write the kill cut short: resumed from it.
        if RunDir(path).kept_checkpoint() or meta.get("status") not in ("running", "interrupted"):
            return meta.get("status", "running")
    except Exception:
        pass
    aside = path.with_name(f".{path.name}-abandoned-{time.strftime('%Y%m%d-%H%M%S')}")
    for again in range(2, 1000):  # a second in the same second: beside the first, not into it
        if not aside.exists():
            break
        aside = aside.with_name(f"{aside.name.rsplit('~', 1)[0]}~{again}")
    shutil.move(str(path), str(aside))
    return None


def _failure(path: Path) -> str:
    try:
        return files.read_json(path / "meta.json").get("failure", {}).get("message", "")
    except Exception:
        return ""


def trained_seconds(path: Path) -> float:
    """The time a trial's epochs took, as its metrics.csv records them."""
    return sum(float(row.get("seconds") or 0) for row in _rows(path))


def _rows(path: Path) -> list[dict]:
    try:
        with open(path / "metrics.csv", newline="") as handle:
            return list(csv.DictReader(handle))
    except OSError:
        return []


def metric_value(row: dict, metric: str) -> float:
    """The sweep's metric in an epoch's row (NaN when the row lacks it)."""
    return float(row.get(metric, "nan"))

