"""Everything checked before a sweep's first trial runs, and what ``nnrun validate
SWEEP.yaml`` shows of it: the sweep file, its base config against the data, the metric,
and the base with each extreme of every parameter, all reported at once.
"""

from __future__ import annotations

import json
from pathlib import Path

from nnrun.config.sweep import LoadedSweep, read_sweep_file
from nnrun.config.sweep_checks import Checked, check_against_base, problem_details
from nnrun.errors import UserError

from nnrun.commands.sweep.grid_check import combination_problems


def check_sweep(located: LoadedSweep, build_each: bool = True) -> Checked:
    """Everything checked before a trial runs: the sweep file, the base config, the
    metric, and the base with each extreme of every parameter (against the data and
    ``model.init_weights`` too when ``build_each``), all reported at once. Returns what
    was found: the checked (values, LoadedConfig) pairs, the base first, and the base's
    data as read."""
    from nnrun.engine.experiment import build

    found = check_against_base(located)
    metric_told = any(p.path == "metric" for p in found.problems)
    input_shape = features = None
    if build_each and found.configs:
        try:
            base = build(found.configs[0][1])
            input_shape, found.base_warnings = base.splits["train"].input_shape, tuple(base.warnings)
            features = base.features
            if _unscored(located, base) and not metric_told:
                found.problems.append(located.problem("metric", f"the base config holds out no validation split "
                                                                f"(data.split.validation is 0), so no trial records "
                                                                f"'{located.metric}'; give it a validation split, or "
                                                                "rank the trials by a training column"))
                metric_told = True
        except UserError as exc:  # the base's own: each extreme would fail the same way
            found.base_error = exc
    if build_each and found.configs and found.base_error is None:
        for values, loaded in found.configs[1:]:
            (path, value), = values.items()
            try:
                unscored = _unscored(located, build(loaded))  # with model.init_weights loaded, as the trial will
            except UserError as exc:
                details = problem_details(exc)
                fails = ("cannot load its initial weights" if all(d.startswith("model.init_weights:") for d in details)
                         else "fails against its data")
                message = f"with {path} = {json.dumps(value)} the base config {fails}: {'; '.join(details)}"
                found.problems.append(located.problem(f"parameters.{path}", message))
                continue
            if unscored and not metric_told:
                found.problems.append(located.problem(f"parameters.{path}", f"with {path} = {json.dumps(value)} "
                                                      f"there is no validation split, so those trials would record "
                                                      f"no '{located.metric}' and could not be ranked; sweep only "
                                                      "values that keep a validation split, or rank the trials by a "
                                                      "training column"))
    if not found.problems and found.base_error is None and input_shape is not None:
        found.problems += combination_problems(located, found.base_data, input_shape, features)
    if found.problems or found.base_error is not None:
        raise located.error(found.problems, found.base_error)
    return found


def _unscored(located: LoadedSweep, experiment) -> bool:
    """Whether a trial of this config would record no value of the sweep's metric: a
    val_ column, and no validation split."""
    metric = located.metric
    return metric is not None and metric.startswith("val_") and "validation" not in experiment.splits


def is_sweep_file(path: Path) -> bool:
    """Whether ``path`` holds a sweep file (a ``base:`` and ``parameters:``) rather than a config."""
    from nnrun.config.loader import file_kind
    from nnrun.config.yaml_reader import read_yaml

    path = Path(path)
    return path.is_file() and path.suffix in (".yaml", ".yml") and file_kind(read_yaml(path)[0]) == "sweep"


def check_sweep_file(path: Path, overrides=()) -> dict:
    """``nnrun validate SWEEP.yaml``: what was checked, for the screen."""
    if overrides:
        raise UserError("--set: not allowed with a sweep file; write the value in the sweep file (its samples, "
                        "parameters, ...) or in its base config (what every trial trains with)")
    located = read_sweep_file(path)
    checked = check_sweep(located)
    return {"sweep": located.sweep, "base": located.base_path, "configs": len(checked.configs),
            "trials": located.sweep.trial_count, "warnings": checked.base_warnings}
