"""The trials a grid or random search runs, fixed by the sweep file and its seed.

    trials = planned_trials(sweep)      # [{"optimizer.learning_rate": 0.0031, ...}, ...]

The whole list is known before the first trial starts, so every executor runs the same
trials in the same order, and a resumed sweep knows what it still has to run. Trial
``i`` draws its random values from its own stream ``(seed, i)``: a trial's values do
not depend on how many others were drawn before it.

A grid search runs the product of every parameter's values, the last parameter
changing fastest. A random search draws ``samples`` times; grid parameters in it are
crossed with the samples (each combination ``samples`` times), as Ray Tune does.
"""

from __future__ import annotations

import itertools

import numpy as np

from nnrun.config.sweep import SweepConfig
from nnrun.config.sweep_space import Grid


def planned_trials(sweep: SweepConfig) -> list[dict]:
    """Each trial's parameter values, in the order the trials run."""
    if sweep.search == "grid":
        return _grid(sweep.parameters)
    grid_paths = [path for path, spec in sweep.parameters.items() if isinstance(spec, Grid)]
    combinations = _grid({path: sweep.parameters[path] for path in grid_paths})
    trials = []
    for sample in range(sweep.samples or 10):
        for combination in combinations:
            rng = np.random.default_rng([sweep.seed, len(trials)])
            values = {path: combination[path] if path in combination else spec.sample(rng)
                      for path, spec in sweep.parameters.items()}
            trials.append(values)
    return trials


def _grid(parameters: dict) -> list[dict]:
    paths = list(parameters)
    return [dict(zip(paths, values)) for values in itertools.product(*(parameters[p].values for p in paths))]


def trial_id(index: int, total: int | None) -> str:
    """``007``: zero-padded so trial folders sort in order."""
    return f"{index:0{max(3, len(str(max((total or 0) - 1, 0))))}d}"
