"""Optuna's TPE sampler with its random draws seeded per trial (``search: tpe``).

    sampler = TrialSeededTPE(seed)
    sampler.for_trial(3)          # then ask the study for trial 3

One generator running on from the sweep's start would be built again by a resumed
sweep, whose next trials then drew the values of its first ones again. Seeded by the
sweep's seed and the trial's index, a resumed sweep draws for trial 3 what an unbroken
one draws: exactly so while TPE still samples at random (its first ten trials); after
that the draw also depends on which trials had finished, as it does with parallel
workers anyway. A class of a module of its own, importing Optuna: Ray Tune pickles its
searcher, sampler included, and only the sweeps that use Optuna import this.
"""

from __future__ import annotations

import numpy as np
import optuna


class TrialSeededTPE(optuna.samplers.BaseSampler):
    def __init__(self, seed: int):
        self.seed = seed
        self.for_trial(0)

    def for_trial(self, index: int) -> None:
        trial_seed = int(np.random.SeedSequence([self.seed, index]).generate_state(1)[0])
        self.inner = optuna.samplers.TPESampler(seed=trial_seed)

    def infer_relative_search_space(self, study, trial):
        return self.inner.infer_relative_search_space(study, trial)

    def sample_relative(self, study, trial, search_space):
        return self.inner.sample_relative(study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self.inner.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study, trial):
        self.inner.before_trial(study, trial)

    def after_trial(self, study, trial, state, values):
        self.inner.after_trial(study, trial, state, values)

    def reseed_rng(self):
        self.inner.reseed_rng()
