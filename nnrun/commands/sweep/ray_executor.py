"""``executor: ray``: the same trials on Ray Tune (pip install 'nnrun[ray]').

Each trial is a Ray Tune function trainable calling nnrun in-process
(:func:`.trial.run_trial`), one CPU each, reporting every epoch with ``tune.report``.
Grid and random searches run nnrun's own plan (so the trials and their order are those
of the local executor); ``tpe`` is Ray's OptunaSearch over the same Optuna
distributions; ``asha`` and ``median`` are Ray's schedulers. The trials still write
ordinary run directories under the sweep directory, and this process still writes
trials.csv, so the result looks the same whichever executor ran it. On a cluster the
sweep directory must be on storage every node sees at the same path.
"""

from __future__ import annotations

import time
from pathlib import Path

from nnrun.commands.sweep.ray_cluster import join
from nnrun.commands.sweep.stopping import (raise_if_received, received as stopping_received, stopped_by,
                                           stopped_by_signals)
from nnrun.errors import UserError

INSTALL = "pip install 'nnrun[ray]'"


def ray_modules():
    try:
        import ray
        from ray import tune
    except ImportError:
        raise UserError("executor: ray needs Ray Tune, which is not installed",
                        hint=f"install it with: {INSTALL}") from None
    return ray, tune


def trainable(config: dict) -> None:
    """One trial inside a Ray worker: nnrun trains it, every epoch goes to tune.report.

    Ray ends a trial its scheduler stops by raising SystemExit from ``tune.report``;
    that becomes :class:`TrialPruned`, so the run directory records why it stopped."""
    from ray import tune

    from nnrun.commands.sweep.trial import TrialPruned, metric_value, run_trial, sweep_context

    sweep, _ = sweep_context(config["nnrun_sweep_dir"])
    higher = sweep.direction == "max"
    best = [None]

    def on_epoch(row: dict) -> None:
        value = metric_value(row, sweep.metric)
        if value == value and (best[0] is None or (value > best[0] if higher else value < best[0])):
            best[0] = value
        try:
            tune.report({"epoch": int(row["epoch"]), sweep.metric: value,
                         "nnrun_best": best[0] if best[0] is not None else value})
        except SystemExit:
            raise TrialPruned(int(row["epoch"])) from None

    from nnrun.commands.sweep.space import as_values, planned_trials

    # tpe: Optuna's parameters; else the plan fixed by the sweep file and seed, as the local executor's
    values = as_values(sweep, config) if sweep.search == "tpe" else planned_trials(sweep)[int(config["nnrun_trial"])]
    run_trial(Path(config["nnrun_sweep_dir"]), config["nnrun_trial"], values, on_epoch)


def run_ray(swept, search, state) -> None:
    """Run the search's remaining trials on Ray Tune; ``state`` records and shows them."""
    ray, tune = ray_modules()
    started_here = join(ray, swept.sweep.executor)
    # From here on, not before: ray.init sets a SIGTERM handler of its own that exits at once.
    stopped = None
    with stopped_by_signals():
        try:
            _tuner(tune, swept, search, state).fit()
            raise_if_received()  # a SIGTERM whose interrupt a finalizer swallowed still stops the sweep
        except KeyboardInterrupt as interrupt:
            stopped = interrupt  # each worker keeps its newest checkpoint (every_seconds old at most)
            state.stopping(f"asked by {stopped_by(interrupt)}; Ray ends the running trials, and each resumes from its "
                           "newest checkpoint")
            raise
        finally:
            if started_here:
                ray.shutdown()
            if stopped is not None:  # recorded once the workers are gone: none adds an epoch after
                _record_interrupted(swept, state, f"stopped by {stopped_by(stopped)}")


def _record_interrupted(swept, state, message: str) -> None:
    """The running trials as interrupted, their epochs as their runs recorded them."""
    from nnrun.commands.sweep.trial import stopped_outcome
    for trial in list(state.trials.values()):
        if trial.status == "running":
            state.finished(trial, stopped_outcome(swept.trial_dir(trial.id), swept.sweep, "interrupted", message))


def _tuner(tune, swept, search, state):
    sweep = swept.sweep
    trials = _remaining(search)
    if (not trials) if sweep.search != "tpe" else _tpe_remaining(search) == 0:
        return _NoTrials()
    callback = _Recorder(swept, state, search)
    base = {"nnrun_sweep_dir": str(swept.path.resolve())}
    if sweep.search == "tpe":
        searcher, space, samples = _optuna_searcher(swept, search, callback), base, _tpe_remaining(search)
    else:
        searcher = None
        callback.planned = {t.id: t for t in trials}
        space = {**base, "nnrun_trial": tune.grid_search([t.id for t in trials])}
        samples = 1
    tune_config = tune.TuneConfig(
        num_samples=samples, search_alg=searcher, scheduler=_scheduler(swept),
        # A fresh worker per trial: with reused ones, trials after a stopped one went
        # unreported to the callbacks (Ray 2.60), and every trial must reach trials.csv.
        max_concurrent_trials=sweep.executor.max_concurrent_trials, reuse_actors=False,
    )
    run_config = tune.RunConfig(name="tune", storage_path=str((swept.path / ".ray").resolve()), verbose=0,
                                callbacks=[callback], log_to_file=False)
    return tune.Tuner(tune.with_resources(trainable, {"cpu": 1}), param_space=space, tune_config=tune_config,
                      run_config=run_config)


class _NoTrials:
    def fit(self):
        return None


def _remaining(search) -> list:
    """The trials of a planned search still to run, in order (interrupted ones first)."""
    if search.plan is None:
        return []
    trials = []
    while (trial := search.next_trial()) is not None:
        trials.append(trial)
    return trials


def _tpe_remaining(search) -> int:
    return search.total - len(search.done)


def _scheduler(swept):
    from ray.tune.schedulers import ASHAScheduler, MedianStoppingRule

    sweep = swept.sweep
    scheduler = sweep.scheduler
    if scheduler is None:
        return None
    metric, mode = sweep.metric, sweep.direction
    if scheduler.type == "asha":
        # max_t beyond the last epoch: a trial that trains to the end is never stopped
        # at its last report, so it always ends by returning, with its files complete.
        epochs = _epochs(swept)
        return ASHAScheduler(time_attr="epoch", metric=metric, mode=mode, max_t=epochs + 1,
                             grace_period=scheduler.grace_epochs, reduction_factor=scheduler.reduction_factor)
    # Until three other trials have reached an epoch, Ray's rule pauses a trial there to let
    # pending ones catch up; tune.report ends a paused trial as it ends a stopped one, so
    # every trial was recorded as pruned at its first epoch after the grace. An endless
    # time slice makes it go on instead, as the local executor's median pruner does.
    return MedianStoppingRule(time_attr="epoch", metric=metric, mode=mode, grace_period=scheduler.grace_epochs,
                              min_samples_required=3, min_time_slice=float("inf"))


def _epochs(swept) -> int:
    from nnrun.commands.sweep.directory import base_data
    from nnrun.config.sweep_checks import longest_epochs
    from nnrun.engine.experiment import as_loaded

    base = as_loaded(base_data(swept.path, swept.sweep)).config  # the schema's defaults filled in
    return longest_epochs(swept.sweep.parameters, base.training.epochs)


def _optuna_searcher(swept, search, callback):
    from ray.tune.search.optuna import OptunaSearch

    from nnrun.commands.sweep import optuna_search
    from nnrun.commands.sweep.space import as_params, as_values, trial_id

    sweep = swept.sweep
    again = list(search.again)
    done = set(search.done)
    ids = [t.id for t in again] + [trial_id(i, search.total) for i in range(search.total)
                                   if trial_id(i, search.total) not in done and
                                   trial_id(i, search.total) not in {t.id for t in again}]

    tpe = optuna_search.sampler(sweep)

    class NumberedOptunaSearch(OptunaSearch):
        """OptunaSearch whose suggestions carry nnrun's trial id, in order, each drawn by
        the sampler seeded for that trial (as the local executor draws it)."""

        def suggest(self, ray_trial_id):
            if ids:
                tpe.for_trial(int(ids[0]))
            config = super().suggest(ray_trial_id)
            if isinstance(config, dict) and ids:
                number = ids.pop(0)
                config = {**config, "nnrun_trial": number}
                callback.values[number] = as_values(sweep, config)
            return config

    searcher = NumberedOptunaSearch(
        space=optuna_search.distributions(sweep), metric="nnrun_best",
        mode=sweep.direction, sampler=tpe,
        points_to_evaluate=[as_params(t.values) for t in again] or None,
    )
    for trial in search.done.values():
        if trial.status == "completed" and trial.best is not None:
            searcher.add_evaluated_point(as_params(trial.values), trial.best)
    return searcher


_LIVE: dict = {}


def _Recorder(*args):
    """A Ray Tune callback in this process: it turns trial events into trials.csv rows
    and the live table. The class derives from Ray's, so it is made on first use, and
    is a global of this module so that Ray saves its instances by reference."""
    global Recorder
    if "Recorder" not in globals():
        from ray import tune

        class Recorder(tune.Callback):
            # Ray Tune saves its callbacks with the experiment's state; the sweep's open
            # files and console stay in this process, found by a key.
            def __init__(self, swept, state, search):
                self.key = id(self)
                _LIVE[self.key] = (swept, state)
                self.planned, self.values, self.trials, self.clock = {}, {}, {}, {}

            @property
            def swept(self):
                return _LIVE[self.key][0]

            @property
            def state(self):
                return _LIVE[self.key][1]

            def _trial(self, ray_trial):
                number = ray_trial.config["nnrun_trial"]
                if number not in self.trials:
                    from nnrun.commands.sweep.trials import Trial

                    values = self.planned[number].values if number in self.planned else self.values.get(number, {})
                    self.trials[number] = Trial(number, dict(values))
                return self.trials[number]

            def on_trial_start(self, iteration, trials, trial, **info):
                record = self._trial(trial)
                self.clock[record.id] = time.perf_counter()
                self.state.started(record)

            def on_trial_result(self, iteration, trials, trial, result, **info):
                record = self._trial(trial)
                record.observe(int(result["epoch"]), float(result[self.state.metric]), self.state.higher_is_better)
                self.state.epoch(record)

            def on_trial_complete(self, iteration, trials, trial, **info):
                self._finish(trial, None)

            def on_trial_error(self, iteration, trials, trial, **info):
                self._finish(trial, f"the Ray trial failed: {_ray_error(trial)}")

            def _finish(self, ray_trial, error):
                from nnrun.commands.sweep.trial import read_outcome

                record = self._trial(ray_trial)
                record.seconds += time.perf_counter() - self.clock.get(record.id, time.perf_counter())
                outcome = read_outcome(self.swept.trial_dir(record.id), self.swept.sweep)
                if error:
                    outcome.update(status="failed", message=error)
                elif outcome["status"] == "running":
                    if stopping_received():  # the sweep is stopping: its except records the trial interrupted
                        return
                    if self.swept.sweep.scheduler is None:  # no scheduler stopped it: say so, and resume it
                        outcome.update(status="interrupted", message="Ray ended its process before its run "
                                       "recorded an end; it resumes from its newest checkpoint")
                    else:
                        # Ray ends the worker of a trial its scheduler stops, before the run can
                        # record it: the run directory stays as a killed run's (resumable).
                        outcome.update(status="pruned", message=f"pruned by the scheduler after epoch "
                                       f"{record.epochs}; Ray ended its process: its run keeps its newest checkpoint")
                self.state.finished(record, outcome)

            def on_step_end(self, iteration, trials, **info):
                self.state.tick()

        globals()["Recorder"] = Recorder
    return Recorder(*args)


def _ray_error(trial) -> str:
    error = getattr(trial, "error_file", None)
    try:
        lines = [line for line in Path(error).read_text().splitlines() if line.strip()] if error else []
    except OSError:
        lines = []
    return lines[-1].strip() if lines else "unknown error"
