"""A small grid's whole combinations, checked before the first trial.

Each parameter's extremes are checked alone against the base config (see
:func:`nnrun.commands.sweep.checks.check_sweep`); two of them can each fit while
together they do not: a larger kernel, then another one, on an 8x8 image. For a grid of
a few combinations, each one's config is validated and its model compiled for the base's
input shape (no data is read again: parameters of the data are left to the trials), so
such a trial is found before the sweep starts rather than failing in it.
"""

from __future__ import annotations

from nnrun.commands.sweep.space import planned_trials
from nnrun.config.sweep import LoadedSweep
from nnrun.config.sweep_checks import problem_details, trial_config
from nnrun.config.sweep_space import shown_value
from nnrun.errors import Problem, UserError

MOST_COMBINATIONS = 64  # larger grids are left to their trials: compiling each would slow validate
SHOWN = 3  # failing combinations named; the rest counted


def combination_problems(located: LoadedSweep, base_data: dict, input_shape: tuple,
                         features: dict[str, list[int]] | None = None) -> list[Problem]:
    """The combinations of a grid of at most MOST_COMBINATIONS whose config is invalid or
    whose model does not compile, each named by the values that vary (``features``: the
    base data's feature positions by name, which a select layer names)."""
    from nnrun.engine.checks import check_sizes
    from nnrun.model.graph import compile_graph

    sweep = located.sweep
    if sweep is None or sweep.search != "grid" or any(path.startswith("data.") for path in sweep.parameters):
        return []
    plan = planned_trials(sweep)
    if len(plan) > MOST_COMBINATIONS:
        return []
    varying = [path for path, spec in sweep.parameters.items() if len(spec.extremes()) > 1]
    if len(varying) < 2:  # one parameter varies: its extremes alone were its combinations
        return []
    failing = []
    for values in plan:
        try:
            config = trial_config(base_data, str(located.base_path), values).config
            check_sizes(config.model.layers)
            compile_graph(config.model.layers, input_shape, config.loss, features=features)
        except UserError as exc:
            shown = " and ".join(f"{path} = {shown_value(values[path])}" for path in varying)
            failing.append(f"with {shown} together the base config is invalid: {'; '.join(problem_details(exc))}")
    if not failing:
        return []
    more = f" (and {len(failing) - SHOWN} more combinations)" if len(failing) > SHOWN else ""
    return [located.problem(f"parameters.{varying[0]}", f"{message}{more if i == SHOWN - 1 else ''}")
            for i, message in enumerate(failing[:SHOWN])]
