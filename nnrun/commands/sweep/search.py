"""What the next trial is, and whether a running one should stop.

Grid and random searches follow their fixed plan (:mod:`.space`). ``tpe`` asks
Optuna's TPE sampler, which learns from the trials that finished; a scheduler
(``asha``, ``median``) is an Optuna pruner that sees each trial's metric after every
epoch. Optuna is imported only when one of the two is used.
"""

from __future__ import annotations

import math

from nnrun.config.sweep import SweepConfig

from nnrun.commands.sweep.space import as_params, as_values, planned_trials, trial_id
from nnrun.commands.sweep.trials import Trial


class Search:
    def __init__(self, sweep: SweepConfig, previous: list[Trial], curves: dict[str, dict[int, float]],
                 prune_here: bool = True):
        self.sweep = sweep
        self.total = sweep.trial_count
        self.plan = planned_trials(sweep) if sweep.search != "tpe" else None
        self.done = {t.id: t for t in previous if t.finished}
        self.again = [t for t in previous if not t.finished]  # interrupted: resumed from checkpoints
        self.resumed = {t.id for t in self.again}
        self.next_index = 0
        self.study = None
        self.asked: dict[str, object] = {}
        self.prune_here = prune_here and sweep.scheduler is not None  # else the executor's own scheduler
        if sweep.search == "tpe" or self.prune_here:
            from nnrun.commands.sweep import optuna_search

            self.study = optuna_search.study(sweep)
            for trial in sorted(previous, key=lambda t: t.id):
                if trial.finished:
                    optuna_search.add_finished(self.study, sweep, trial.values, trial.best, curves.get(trial.id, {}),
                                               trial.status)

    @property
    def prunes(self) -> bool:
        return self.prune_here

    def next_trial(self) -> Trial | None:
        """The next trial to run: interrupted ones first, then new ones in order."""
        if self.again:
            trial = self.again.pop(0)
            self._ask(trial)
            return Trial(trial.id, trial.values)
        while self.next_index < self.total:
            index, self.next_index = self.next_index, self.next_index + 1
            identifier = trial_id(index, self.total)
            if identifier in self.done or identifier in self.resumed:
                continue
            if self.plan is not None:
                trial = Trial(identifier, self.plan[index])
                self._ask(trial)
            else:
                trial = self._ask_tpe(index, identifier)
            return trial
        return None

    def _ask(self, trial: Trial) -> None:
        if self.study is not None:
            from nnrun.commands.sweep import optuna_search

            space = optuna_search.distributions(self.sweep) if self.sweep.search == "tpe" else {}
            if space:  # an interrupted TPE trial keeps its values
                self.study.enqueue_trial(as_params(trial.values))
            self.asked[trial.id] = self.study.ask(fixed_distributions=space) if space else self.study.ask()

    def _ask_tpe(self, index: int, identifier: str) -> Trial:
        from nnrun.commands.sweep import optuna_search

        self.study.sampler.for_trial(index)  # the same draws whether or not the sweep was resumed
        asked = self.study.ask(fixed_distributions=optuna_search.distributions(self.sweep))
        self.asked[identifier] = asked
        return Trial(identifier, as_values(self.sweep, asked.params))

    def should_prune(self, trial: Trial, epoch: int, value: float) -> bool:
        asked = self.asked.get(trial.id)
        if asked is None or not self.prunes or not math.isfinite(value):
            return False
        asked.report(value, epoch)
        return bool(asked.should_prune())

    def finished(self, trial: Trial) -> None:
        asked = self.asked.pop(trial.id, None)
        if asked is None:
            return
        from nnrun.commands.sweep import optuna_search

        optuna = optuna_search.optuna_module()
        if trial.status == "completed" and trial.best is not None:
            self.study.tell(asked, trial.best)
        elif trial.status == "pruned":
            self.study.tell(asked, state=optuna.trial.TrialState.PRUNED)
        else:
            self.study.tell(asked, state=optuna.trial.TrialState.FAIL)
