"""``nnrun sweep``: check the sweep file, open its directory, run the trials on the
chosen executor, record every trial in trials.csv, and write best.yaml.

    result = run_sweep("sweeps/iris.yaml", view=view)
    result = run_sweep(None, resume="runs/iris-search-20260101-120000", view=view)
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path

from nnrun.config.sweep import read_sweep_file, with_workers
from nnrun.engine.threads import usable_cores
from nnrun.errors import NnrunError, TrainingFailed, UserError, quoted, said
from nnrun.store.checkpoints import newest_epoch
from nnrun.store.leftovers import holds_no_run, remove_unstarted

from nnrun.commands.sweep.checks import check_sweep
from nnrun.commands.sweep.directory import SweepDir
from nnrun.commands.sweep.moved import moved_paths, with_moved_base
from nnrun.commands.sweep.search import Search
from nnrun.commands.sweep.stopping import stopped_by_signals
from nnrun.commands.sweep.trial import resume_where_killed, stopped_from_outside, trained_seconds
from nnrun.commands.sweep.trials import Trial


class SweepInterrupted(NnrunError):
    """Ctrl-C or SIGTERM stopped the sweep after its trials saved checkpoints."""

    exit_code = 130
    label = "interrupted"


@dataclass
class SweepResult:
    path: Path
    trials: list[Trial]
    best: Trial | None
    metric: str
    direction: str
    best_run: Path | None = None  # the best trial's run directory
    best_config: Path | None = None  # best.yaml, which retrains it
    resumable: tuple[str, ...] = ()  # trials stopped from outside (interrupted, killed), which --resume finishes


class SweepState:
    """The trials of one sweep: recorded in trials.csv as they change, shown by the view."""

    def __init__(self, swept: SweepDir, trials: list[Trial], view):
        self.swept, self.view = swept, view
        self.trials = {t.id: t for t in trials}
        self.metric = swept.sweep.metric
        self.higher_is_better = swept.sweep.direction == "max"

    def started(self, trial: Trial) -> None:
        previous = self.trials.get(trial.id)
        trial.seconds = previous.seconds if previous else 0.0  # a resumed trial keeps its time
        # Resumed: it goes on from a checkpoint of its own (else it starts over).
        trial.resumed_from = newest_epoch(self.swept.trial_dir(trial.id)) if previous is not None else None
        trial.started_at = time.perf_counter()
        trial.status = "running"
        self.trials[trial.id] = trial
        self.swept.write_trials(list(self.trials.values()))
        self.view.started(trial)

    def epoch(self, trial: Trial) -> None:
        self.view.epoch(trial)

    def finished(self, trial: Trial, outcome: dict) -> None:
        trial.status, trial.message = outcome["status"], outcome.get("message", "")
        trial.best, trial.best_epoch = outcome.get("best"), outcome.get("best_epoch")
        trial.epochs = outcome.get("epochs", trial.epochs)
        # At least the time its epochs recorded: a sweep killed with the trial running
        # never wrote the time spent before the kill, which the resume then missed.
        trial.seconds = max(trial.seconds, trained_seconds(self.swept.trial_dir(trial.id)))
        self.swept.write_trials(list(self.trials.values()))
        self.view.finished(trial)

    def tick(self) -> None:
        self.view.refresh()

    def stopping(self, how: str) -> None:
        self.view.stopping(how)

    def best(self) -> Trial | None:
        done = [t for t in self.trials.values() if t.status == "completed" and t.best is not None]
        if not done:
            return None
        sign = -1 if self.higher_is_better else 1
        return min(done, key=lambda t: (sign * t.best, t.id))


def run_sweep(sweep_file=None, *, resume=None, view, runs_root="runs", run_dir=None, workers=None) -> SweepResult:
    """Run a new sweep, or finish the one in ``resume``; returns its trials and the best.
    ``run_dir``: the new sweep's directory, in place of ``runs_root/<name>-<time>`` (a new
    folder, or an empty one made beforehand); ``workers``: the local executor's trials at
    once, in place of the sweep file's (``--workers``)."""
    from nnrun.engine.distributed import refuse_launcher

    refuse_launcher("nnrun sweep", "run the whole sweep", hint="start it once, without mpiexec: it runs its trials in "
                    "processes of its own (executor.workers), or on Ray (executor: {type: ray})")
    from nnrun.engine.experiment import resolve_paths

    if resume is not None and sweep_file is not None and run_dir is None and holds_no_run(resume, "sweep"):
        resume, run_dir = None, resume  # started there, as `nnrun train CONFIG --resume DIR` starts a run
    # A folder that is no sweep is told at once, before the checks against the data.
    recorded = SweepDir.recorded_sweep_file(resume) if resume is not None else None
    given = with_workers(read_sweep_file(sweep_file), workers) if sweep_file is not None else None
    # Resumed without its sweep file, the sweep is checked as recorded: its base config
    # on disk, which the trials still to run will read, must still be the one it saved.
    moved = moved_paths(resume) if resume is not None else None  # read once: each trial's meta.json
    located = given or with_workers(with_moved_base(read_sweep_file(recorded), moved), workers)
    checked = check_sweep(located)
    base_config = resolve_paths(checked.configs[0][1])
    if resume is not None and run_dir is not None:
        raise UserError(f"{said('--run-dir', 'run_dir')}: not with {said('--resume', 'resume')}; a resumed sweep "
                        "goes on in its own directory")
    if run_dir is not None and (Path(run_dir) / "sweep.yaml").is_file() and not holds_no_run(run_dir, "sweep"):
        raise UserError(f"{run_dir}: already holds a sweep; nnrun never writes into one again",
                        hint=f"to finish it: {sweep_resume(run_dir)}; or give another {said('--run-dir', 'run_dir')}")
    if resume is not None:
        swept = SweepDir.reopen(resume, given, base_config, moved)
        with_workers(swept, workers)  # trials at once: no trial's result changes with them
        require_extras(swept.sweep)
    else:
        require_extras(located.sweep)
        swept = SweepDir.create(located, base_config, checked.base_data, root=runs_root, explicit=run_dir)
    try:
        previous = swept.read_trials()
        swept.lost, swept.killed = _run_again_where_lost(swept, previous), resume_where_killed(swept, previous)
        swept.data_warnings = checked.base_warnings
        curves = {t.id: _curve(swept, t.id) for t in previous if t.finished}
        state = SweepState(swept, previous, view)
        view.begin(swept, state)
        search = Search(swept.sweep, previous, curves, prune_here=swept.sweep.executor.type == "local")
        _execute(swept, search, state)
        best = state.best()
        best_config = swept.write_best(best) if best is not None else None
        result = SweepResult(swept.path, sorted(state.trials.values(), key=lambda t: t.id), best,
                             swept.sweep.metric, swept.sweep.direction,
                             swept.trial_dir(best.id) if best is not None else None, best_config,
                             tuple(sorted(t.id for t in state.trials.values() if stopped_from_outside(swept, t))))
    except UserError as error:
        # A new sweep that stopped before its first trial (no Ray cluster at address: auto)
        # leaves nothing: the sweep directory it made, and announced, holds no trial yet
        # (removed still locked, so that no other process's files go with it).
        if resume is None and not swept.read_trials() and not any(swept.trial_dir("").iterdir()):
            remove_unstarted(swept.path, swept.premade)
            removed = f"{swept.path} held no trial yet and was {'emptied' if swept.premade else 'removed'}"
            error.hint = f"{error.hint}; {removed}" if error.hint else removed
        raise
    finally:
        swept.release()
    view.end(result)
    if best is None:
        raise TrainingFailed(f"no trial of the sweep completed; see the messages in {swept.path / 'trials.csv'}")
    return result


def _run_again_where_lost(swept: SweepDir, previous: list[Trial]) -> list[str]:
    """The finished trials whose run folder is gone (deleted by hand): their weights, and
    the config best.yaml copies, went with it, so each runs again, as it first ran (the
    same values and seed give the same result). Their ids, for the screen to say so."""
    lost = [t for t in previous if t.status in ("completed", "pruned")
            and not (swept.trial_dir(t.id) / "meta.json").is_file()]
    for trial in lost:
        trial.status, trial.best, trial.best_epoch, trial.epochs, trial.seconds, trial.message = \
            "interrupted", None, None, 0, 0.0, ""
    return [t.id for t in lost]


def require_extras(sweep) -> None:
    """Fail before the sweep directory exists when an optional package is missing, or
    the Ray cluster named by ``executor.address`` does not answer."""
    if sweep.search == "tpe" or sweep.scheduler is not None and sweep.executor.type == "local":
        from nnrun.commands.sweep.optuna_search import optuna_module

        optuna_module()
    if sweep.executor.type == "ray":
        from nnrun.commands.sweep.ray_cluster import check_address
        from nnrun.commands.sweep.ray_executor import ray_modules

        ray_modules()
        check_address(sweep.executor)


def _execute(swept: SweepDir, search: Search, state: SweepState) -> None:
    executor = swept.sweep.executor
    try:
        if executor.type == "ray":
            from nnrun.commands.sweep.ray_executor import run_ray

            run_ray(swept, search, state)
        else:
            from nnrun.commands.sweep.local import run_local

            with stopped_by_signals():
                run_local(swept.path, search, state, executor.workers or usable_cores())
    except KeyboardInterrupt:
        finished = [t for t in state.trials.values() if t.finished]
        if len(finished) == len(state.trials) == swept.sweep.trial_count:  # stopped as its last trial ended: done
            return
        swept.release()
        state.view.close()
        saved = "running trials that had begun training saved their checkpoints (the others start again on " \
            "resume)" if executor.type == "local" else \
            "Ray ended the running trials, which resume from their newest checkpoints"
        raise SweepInterrupted(
            f"the sweep stopped; {saved}",
            hint=f"resume it with: {sweep_resume(swept.path)}",
        ) from None


def sweep_resume(path) -> str:
    """How to finish the sweep in ``path``, as the caller calls nnrun."""
    return said(f"nnrun sweep --resume {quoted(path)}", f"nnrun.sweep(resume={str(path)!r})")


def _curve(swept: SweepDir, trial_id: str) -> dict[int, float]:
    """A finished trial's metric per epoch, for a resumed scheduler."""
    try:
        with open(swept.trial_dir(trial_id) / "metrics.csv", newline="") as handle:
            return {int(r["epoch"]): float(r[swept.sweep.metric]) for r in csv.DictReader(handle)}
    except (OSError, KeyError, ValueError):
        return {}

