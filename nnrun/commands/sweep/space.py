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
import json
import math

import numpy as np

from nnrun.config.sweep import SweepConfig
from nnrun.config.sweep_space import Choice, Grid, IntRange, written


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


def repeated_draws(sweep: SweepConfig) -> str | None:
    """A warning when a random search draws the same values for several trials: each
    trains with the base config's seed, so a repeat trains the same model again (a
    space of a few listed values, drawn more often than it has combinations)."""
    if sweep.search != "random":
        return None
    sizes = [len(s.values) if isinstance(s, Choice) else s.high - s.low + 1 if isinstance(s, IntRange) else None
             for s in sweep.parameters.values()]
    combinations = math.prod(sizes) if None not in sizes else None
    listed = all(isinstance(s, Choice) for s in sweep.parameters.values())
    trials = planned_trials(sweep)
    # Draws from a wide int range repeat by chance now and then: said only when the
    # space is a few listed values, or smaller than the trials asked for.
    if combinations is None or not (listed or combinations <= len(trials)):
        return None
    first: dict[str, int] = {}
    repeats = [i for i, values in enumerate(trials) if first.setdefault(json.dumps(values, sort_keys=True), i) != i]
    if not repeats:
        return None
    ids = ", ".join(trial_id(i, len(trials)) for i in repeats[:5]) + (", ..." if len(repeats) > 5 else "")
    if listed:
        fix = f"search: grid runs each of the {combinations} combinations once" if combinations > 1 else \
            "every trial sets the same values: samples: 1 trains them once"
    else:
        fix = (f"the space holds {combinations} combinations: ask for fewer samples, or list the values and "
               "search: grid to run each once")
    which = f"trial{'s' if len(repeats) > 1 else ''} {ids}"
    seed = "the seed among them" if "seed" in sweep.parameters else "every trial trains with the base config's seed"
    return (f"{len(repeats)} of the {len(trials)} random trials draw values an earlier trial drew ({which}); {seed}, "
            f"so each repeat trains the same model again; {fix}")


def _grid(parameters: dict) -> list[dict]:
    paths = list(parameters)
    return [dict(zip(paths, values)) for values in itertools.product(*(parameters[p].values for p in paths))]


def trial_id(index: int, total: int | None) -> str:
    """``007``: zero-padded so trial folders sort in order."""
    return f"{index:0{max(3, len(str(max((total or 0) - 1, 0))))}d}"


# Optuna's categories are numbers, words, booleans and None; a swept list is one by the
# text that writes it, and a trial gets the list back from that text.
def as_choice(value):
    return written(value) if isinstance(value, list) else value


def as_params(values: dict) -> dict:
    """A trial's values as Optuna's parameters (a list as its text)."""
    return {path: as_choice(value) for path, value in values.items()}


def as_values(sweep: SweepConfig, params: dict) -> dict:
    """Optuna's parameters as the trial's values, in the sweep's order (a list's text
    read back into the list it stands for)."""
    values = {}
    for path, spec in sweep.parameters.items():
        param = params[path]
        chosen = [v for v in spec.values if as_choice(v) == param] if isinstance(spec, Choice) else []
        values[path] = chosen[0] if chosen and isinstance(chosen[0], list) else param
    return values
