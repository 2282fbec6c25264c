"""A sweep file against its base config: every parameter's extremes applied to the base
and validated there, before any trial runs.

    checked = check_parameters(located, read_base(located))   # [(values, LoadedConfig), ...]
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from nnrun.config.loader import LoadedConfig, default_name, validate
from nnrun.config.overrides import _set_path
from nnrun.config.sweep import LoadedSweep
from nnrun.config.yaml_reader import read_yaml
from nnrun.errors import UserError, did_you_mean


def apply_parameters(base: dict, assignments: dict[str, Any]) -> dict:
    """A copy of the base config's data with each dotted path set to its value."""
    data = copy.deepcopy(base)
    for path, value in assignments.items():
        parts = tuple(int(p) if p.isdigit() else p for p in path.split("."))
        _set_path(data, parts, value, f"parameter {path}")
    return data


def trial_config(base_data: dict, base_source: str, assignments: dict[str, Any]) -> LoadedConfig:
    """The validated config of one trial: the base with the trial's values; a bad value
    is reported against the parameter that set it."""
    data = apply_parameters(base_data, assignments)
    origins = {tuple(int(p) if p.isdigit() else p for p in path.split(".")): f"parameter {path}={json.dumps(value)}"
               for path, value in assignments.items()}
    loaded = LoadedConfig(None, base_source, overrides=origins)  # type: ignore[arg-type]
    loaded.config = validate(data, loaded)
    return loaded


def read_base(located: LoadedSweep) -> dict:
    """The base config's data as written (validated later, with each trial's values)."""
    base = located.base_path
    if not base.is_file():
        raise located.error([located.problem("base", f"no config file at {base}; the path is relative to the "
                                                     "sweep file's folder")])
    data = read_base_file(base)
    if not isinstance(data, dict):
        raise located.error([located.problem("base", f"{base} is not a config (a mapping of sections)")])
    return data


def read_base_file(path: Path) -> dict:
    data = read_yaml(path)[0]
    if isinstance(data, dict):
        data.setdefault("name", default_name(path))
    return data


def check_parameters(located: LoadedSweep, base_data: dict) -> list[tuple[dict, LoadedConfig]]:
    """Validate the base config, then the base with each extreme of every parameter
    (low and high of a range, every value of a list); returns each distinct valid
    assignment with its config, and raises every problem at once, located in the sweep
    file and naming the value that caused it."""
    checked = [({}, trial_config(base_data, str(located.base_path), {}))]  # the base's own errors, as its own
    problems = []
    for path, spec in located.sweep.parameters.items():
        for value in spec.extremes():
            try:
                checked.append(({path: value}, trial_config(base_data, str(located.base_path), {path: value})))
            except UserError as exc:
                problem = located.problem(f"parameters.{path}", _explain(path, value, exc))
                if problem not in problems:  # a wrong path fails the same way for every value
                    problems.append(problem)
    if problems:
        raise located.error(problems)
    return checked


def _explain(path: str, value: Any, exc: UserError) -> str:
    problems = getattr(exc, "problems", None)
    if problems is None:  # the path itself leads nowhere (a list index out of range)
        return f"'{path}' is not a path of the base config: {exc.message.split(': ', 1)[-1]}"
    details = [f"{p.path}: {p.message.split(' (from parameter')[0]}" for p in problems]
    if any("unknown key" in d for d in details):
        return f"'{path}' is not a path of the base config: " + "; ".join(details)
    return f"with {path} = {json.dumps(value)} the base config is invalid: " + "; ".join(details)


def check_metric(located: LoadedSweep, config) -> None:
    """The metric must be a column of the base config's metrics.csv."""
    names = ["loss", *config.metrics]
    columns = names + ([f"val_{n}" for n in names] if config.data.split.validation > 0 else [])
    metric = located.sweep.metric
    if metric not in columns:
        hint = did_you_mean(metric, columns, "the base config's metrics.csv has")
        raise located.error([located.problem("metric", f"'{metric}' is not a column of the trials' metrics.csv{hint}")])
