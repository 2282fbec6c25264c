"""A sweep file against its base config: every parameter's extremes applied to the base
and validated there, before any trial runs.

    found = check_against_base(read_sweep_file(path))   # found.configs: [(values, LoadedConfig), ...]

Every check that does not need another to pass runs, so one report holds all of them:
each parameter is checked alone, and only what needs a valid base config (the
parameters, the metric) waits for it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nnrun.config.loader import LoadedConfig, file_kind, validate
from nnrun.config.run_names import default_name
from nnrun.config.schema import Config
from nnrun.config.overrides import _set_path, from_the_start, path_parts
from nnrun.config.sweep import LoadedSweep
from nnrun.config.sweep_space import PARAMETER_PATH, shown_value
from nnrun.config.yaml_reader import read_yaml
from nnrun.config.keras_words import keras_value_hint
from nnrun.errors import Problem, UserError, did_you_mean, near_file


@dataclass
class Checked:
    """What checking a sweep file against its base config found."""

    configs: list[tuple[dict, LoadedConfig]] = field(default_factory=list)  # the base, then each valid extreme
    problems: list[Problem] = field(default_factory=list)  # in the sweep file, its own problems first
    base_error: UserError | None = None  # the base config's own mistakes, located in its file
    base_data: dict | None = None  # the base config's data as read, which every trial starts from
    base_written: dict | None = None  # the same, also when it is invalid
    base_warnings: tuple[str, ...] = ()  # what building the base said of its data (rows skipped, ...)


def apply_parameters(base: dict, assignments: dict[str, Any]) -> dict:
    """A copy of the base config's data with each dotted path set to its value."""
    data = copy.deepcopy(base)
    for path, value in assignments.items():
        _set_path(data, path_parts(path), copy.deepcopy(value), f"parameter {path}")  # a list: each trial's own
    return data


def trial_config(base_data: dict, base_source: str, assignments: dict[str, Any]) -> LoadedConfig:
    """The validated config of one trial: the base with the trial's values; a bad value
    is reported against the parameter that set it."""
    data = apply_parameters(base_data, assignments)
    origins = {path_parts(path): f"parameter {path}={shown_value(value)}" for path, value in assignments.items()}
    loaded = LoadedConfig(None, base_source, overrides=origins)  # type: ignore[arg-type]
    loaded.config = validate(data, loaded)
    return loaded


def read_base_file(path: Path) -> dict:
    data = read_yaml(path)[0]
    if isinstance(data, dict):
        data.setdefault("name", default_name(path))
    return data


def check_against_base(located: LoadedSweep) -> Checked:
    """Validate the base config, then the base with each extreme of every parameter
    (low and high of a range, every value of a list), and the metric against the base's
    columns; every problem is located in the sweep file and names the value that caused
    it, beside the file's own problems."""
    found = Checked(problems=list(located.problems))
    base = _read_base(located, found)
    if base is None:
        base_problems = getattr(found.base_error, "problems", None) or []
        if located.metric is not None and found.base_error is not None and \
                not any(p.path.split(".")[0] == "metrics" for p in base_problems):  # else the base's list is wrong
            found.problems += _metric_against_written(located, found.base_written)
        return found
    data, loaded = base
    found.base_data = copy.deepcopy(data)
    found.problems += _overlapping(located, data)
    for path, spec in located.parameters.items():
        for value in spec.extremes():
            try:
                found.configs.append(({path: value}, trial_config(data, str(located.base_path), {path: value})))
            except UserError as exc:
                problem = located.problem(f"parameters.{path}", _explain(path, value, exc, spec))
                if problem not in found.problems:  # a wrong path fails the same way for every value
                    found.problems.append(problem)
    if located.metric is not None:
        found.problems += check_metric(located, loaded.config)
    found.problems += check_scheduler(located, loaded.config)
    return found


def _overlapping(located: LoadedSweep, base: dict) -> list[Problem]:
    """Two parameters of which one sets the other's value or a part of it
    (``training.early_stopping`` and ``training.early_stopping.patience``; a 3-layer
    model's ``model.layers.-1.units`` and ``model.layers.2.units``): every trial would
    train with whichever is applied last, while trials.csv recorded both."""
    resolved = {path: resolved_parts(path_parts(path), base) for path in located.parameters
                if PARAMETER_PATH.match(path)}
    problems, paths = [], list(resolved)
    for i, later in enumerate(paths):
        for earlier in paths[:i]:
            a, b = resolved[earlier], resolved[later]
            if not (a[: len(b)] == b or b[: len(a)] == a) or _type_then_option(located, earlier, a, b):
                continue
            problems.append(located.problem(
                f"parameters.{later}", f"'{later}' and '{earlier}' set the same value"
                f"{' or a part of it' if len(a) != len(b) else ''}: each trial would train with one of them while "
                "trials.csv recorded both; sweep one of the two (or, to sweep a block's type and an option of it, "
                "list the type first: optimizer: [adam, sgd], then optimizer.learning_rate)"))
    return problems


def _type_then_option(located: LoadedSweep, earlier: str, a: tuple, b: tuple) -> bool:
    """A block's type swept before one of its options (``optimizer: [adam, sgd]``, then
    ``optimizer.learning_rate``): each type name becomes ``{type: ...}``, and the option
    is then set inside it, so both values hold in every trial."""
    values = located.parameters[earlier].extremes()
    return len(a) < len(b) and all(isinstance(value, str) for value in values)


def resolved_parts(parts: tuple, data: Any) -> tuple:
    """A path's parts with each index from the end (-1) counted from the start, as the
    base config's lists make it; parts past the base's values are kept as written."""
    resolved = []
    for part in parts:
        part = from_the_start(data, part)
        resolved.append(part)
        data = data[part] if isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data) else \
            data.get(part) if isinstance(data, dict) else None
    return tuple(resolved)


def longest_epochs(parameters: dict, base_epochs: int) -> int:
    """The most epochs a trial trains: the largest value ``training.epochs`` is swept
    over, else the base config's (what a scheduler's grace and Ray's ASHA measure by)."""
    swept = [value for path, spec in parameters.items() if path == "training.epochs" for value in spec.extremes()]
    return int(max(swept)) if swept else base_epochs


def check_scheduler(located: LoadedSweep, base: Config) -> list[Problem]:
    """A scheduler may stop a trial only after its grace epochs: as many as the longest
    trial's epochs (the base's, or the most a parameter gives) would let it stop none."""
    scheduler = located.sweep.scheduler if located.sweep is not None else None
    if scheduler is None:
        return []
    epochs = longest_epochs(located.parameters, base.training.epochs)
    if scheduler.grace_epochs < epochs:
        return []
    return [located.problem("scheduler.grace_epochs", f"{scheduler.grace_epochs} grace epochs, but the longest trial "
                                                      f"trains {epochs}: the {scheduler.type} scheduler could stop no "
                                                      f"trial; give fewer grace epochs than {epochs}, or no scheduler")]


def _read_base(located: LoadedSweep, found: Checked) -> tuple[dict, LoadedConfig] | None:
    """The base config's data as written and the base validated, located in its own
    file (the first of ``found.configs``); None, with the reason in ``found``, when
    there is no valid base to check the parameters against."""
    base = located.base_path
    if base is None:  # base: itself is wrong, and reported with the file's problems
        return None
    if not base.is_file():
        source = Path(located.source)
        recorded = source.name == "sweep.yaml" and (source.parent / "trials.csv").is_file()  # a sweep directory's
        why = "the sweep recorded it by its absolute path, so it was moved or deleted since" if recorded else \
            "the path is relative to the sweep file's folder" if not Path(located.base_written or "").is_absolute() \
            else "no file is at that absolute path"
        found.problems.append(located.problem("base", f"no config file at {base}{near_file(base)}; {why}"))
        return None
    try:
        data, values, keys, lines = read_yaml(base)
    except UserError as exc:
        found.base_error = exc
        return None
    if not isinstance(data, dict) or file_kind(data) == "sweep":
        kind = "a sweep file" if isinstance(data, dict) else "not a config (a mapping of sections)"
        found.problems.append(located.problem("base", f"{base} is {kind}; base: names the training config every "
                                                      "trial starts from"))
        return None
    data.setdefault("name", default_name(base))
    found.base_written = data
    loaded = LoadedConfig(None, str(base), values, keys, {}, lines)  # type: ignore[arg-type]
    try:
        loaded.config = validate(data, loaded)
    except UserError as exc:
        found.base_error = exc
        return None
    found.configs.append(({}, loaded))
    return data, loaded


def _explain(path: str, value: Any, exc: UserError, spec: Any = None) -> str:
    problems = getattr(exc, "problems", None)
    if problems is None:  # the path itself leads nowhere (a list index out of range)
        return f"'{path}' is not a path of the base config: {exc.message.split(': ', 1)[-1]}"
    details = problem_details(exc)
    kind = getattr(spec, "type", None)
    if kind in ("uniform", "loguniform") and any(p.path == path and "expected a whole number" in p.message
                                                 for p in problems):  # the same for low and high: said once
        return (f"{kind} draws numbers with fractions, but {path} takes whole numbers; use type: int (with the "
                "same low and high)")
    # The parameter's own key unknown (or a key on its way): its path is wrong. Another
    # key unknown is the value's doing (type: conv1d leaves a dense layer's units over).
    if any(p.path == path or path.startswith(f"{p.path}.") for p in problems if "unknown key" in p.message):
        return f"'{path}' is not a path of the base config: " + "; ".join(details)
    return f"with {path} = {shown_value(value)} the base config is invalid: " + "; ".join(details)


def problem_details(exc: UserError) -> list[str]:
    """Each of a trial config's problems as ``path: message``, without the "(from
    parameter ...)" note: the sweep file's own problem already names the parameter."""
    problems = getattr(exc, "problems", None)
    if problems is None:
        return [exc.message]
    return [f"{p.path}: {p.message.split(' (from parameter')[0]}" for p in problems]


def check_metric(located: LoadedSweep, config) -> list[Problem]:
    """The metric must be a column of the base config's metrics.csv."""
    names = ["loss", *config.metrics]
    # A validation file (or arrays) gives val_ columns too; a split of 0 without one is
    # told once the data is read (nnrun.commands.sweep.checks.check_sweep).
    columns = names + [f"val_{n}" for n in names]
    metric = located.metric
    spec = located.parameters.get("data.target_scale")
    scales = sorted({str(value) for value in spec.extremes()}) if spec is not None else []
    if metric in ("loss", "val_loss") and len(scales) > 1:
        # Each scale's loss is in its own units (the target's, standardized, of its log1p):
        # one ranking would compare 0.01 with 800,000. One scale in every trial is one unit.
        in_units = [m for m in config.metrics if m in ("mae", "rmse", "mape", "r2")]
        use = f"val_{in_units[0]}" if in_units else "val_mae (add mae to the base config's metrics)"
        return [located.problem("metric", f"'{metric}' is in other units in trials of another data.target_scale "
                                          f"({', '.join(scales)}), so it cannot rank them; use {use}")]
    if metric not in columns:
        return [_not_a_column(located, names, columns, getattr(config.loss, "task", None))]
    return _mode_against_metric(located)


def _mode_against_metric(located: LoadedSweep) -> list[Problem]:
    """A mode that ranks a metric the wrong way up (val_loss: max) would make the worst
    trial the best one, and best.yaml its config."""
    from nnrun.model.metrics import higher_is_better

    mode = located.sweep.mode if located.sweep is not None else None
    own = "max" if higher_is_better(located.metric) else "min"
    if mode is None or mode == own:
        return []
    better = "higher" if own == "max" else "lower"
    return [located.problem("mode", f"{mode} ranks the trial of the {'highest' if mode == 'max' else 'lowest'} "
                                    f"{located.metric} best, but {located.metric} is better {better}; leave mode out "
                                    f"(nnrun takes {own} for it)")]


def _metric_against_written(located: LoadedSweep, data: dict | None) -> list[Problem]:
    """For a base config that is invalid: the metric against the metrics it lists as
    written (and their val_ columns), so that a wrong metric is said beside the base's
    own problems."""
    written = data.get("metrics", []) if isinstance(data, dict) else None
    if not isinstance(written, list) or not all(isinstance(m, str) for m in written):
        return []
    names = ["loss", *written]
    columns = names + [f"val_{n}" for n in names]
    return [] if located.metric in columns else [_not_a_column(located, names, columns)]


def _not_a_column(located: LoadedSweep, names: list[str], columns: list[str], task: str | None = None) -> Problem:
    # Keras's names (val_acc) first, with the split's prefix kept; then spelling.
    metric = located.metric
    if metric.startswith("test_") and f"val_{metric.removeprefix('test_')}" in columns:
        # The test split is scored once, after training, and must not choose the trial.
        return located.problem("metric", f"'{metric}' is not a column of the trials' metrics.csv: the test split is "
                                         "scored once, at the end, and is kept out of choosing a trial; use "
                                         f"val_{metric.removeprefix('test_')}")
    if metric in ("epoch", "lr", "seconds"):  # metrics.csv's other columns: no score of the model
        return located.problem("metric", f"'{metric}' is a column of metrics.csv that says how a trial trained, not "
                                         f"how well; rank by a loss or metric: {', '.join(columns)}")
    name = metric.removeprefix("val_")
    from nnrun.model.metrics import METRICS, uncomputed

    if uncomputed(name, names, task) == "other task":
        return located.problem("metric", f"'{metric}' is not a column of the trials' metrics.csv: {name} is for "
                                         f"{METRICS[name].task}, and the base config is a {task}; rank by one "
                                         f"of {', '.join(columns)}")
    if uncomputed(name, names, task) == "add":  # a metric nnrun has, which the base does not compute
        listed = ", ".join([*(n for n in names if n != "loss"), name])
        return located.problem("metric", f"'{metric}' is not a column of the trials' metrics.csv: the base config "
                                         f"does not compute {name}; add it to its metrics (metrics: [{listed}])")
    hint = keras_value_hint(name, names, prefix=metric[: len(metric) - len(name)]) \
        or did_you_mean(metric, columns, "the base config's metrics.csv has")
    return located.problem("metric", f"'{metric}' is not a column of the trials' metrics.csv{hint}")
