"""The sweep file: a base config, the parameters to search, how, and where to run.

    base: iris.yaml                 # relative to this file
    metric: val_accuracy            # a loss or metric column of metrics.csv; mode from the metric
    search: random                  # grid | random | tpe
    samples: 12
    parameters:
      optimizer.learning_rate: {type: loguniform, low: 1.0e-4, high: 1.0e-1}
      model.layers.0.units: {type: choice, values: [16, 32, 64]}
    executor: {type: local, workers: 2}

It is read like a config (safe YAML, strict types, every problem located with a "did
you mean"), and each parameter's extremes are applied to the base config and validated
there, so a path the config does not have or a value it refuses is found before any
trial runs (:mod:`nnrun.config.sweep_checks`). The parameters' own specs are in
:mod:`nnrun.config.sweep_space`.

A mistake in one part of the file does not hide the others: :func:`read_sweep_file` keeps
the file's problems and the parts that are valid on their own, so the checks against
the base config run too and everything is reported at once.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import Field, TypeAdapter, ValidationError, ValidationInfo, field_validator, model_validator

from nnrun.config.loader import LoadedConfig, file_kind, user_path
from nnrun.config.messages import describe
from nnrun.config.render import CombinedError, QuotedConfigError
from nnrun.config.run_names import RUN_NAME_PATTERN, default_name
from nnrun.config.schema import Section
from nnrun.config.sweep_space import (PARAMETER_PATH, Grid, ParameterSpec, Search, plan_as_written,
                                      plan_problems)
from nnrun.config.yaml_reader import read_yaml
from nnrun.errors import Problem, UserError, quoted, said
from nnrun.specs import tagged_union

PLAN_CHECKED = "plan_checked"  # validation context: read_sweep_file checks the plan on the file itself


class Asha(Section):
    """Asynchronous successive halving: at epochs grace, grace*rf, grace*rf^2, ...
    only the best 1/rf of the trials that reached it go on."""

    type: Literal["asha"] = "asha"
    grace_epochs: int = Field(1, ge=1, description="Epochs every trial runs before it may be stopped.")
    reduction_factor: int = Field(3, ge=2, description="1/reduction_factor of the trials go on at each rung.")


class Median(Section):
    """Stop a trial whose best value so far is worse than the median of the other
    trials at the same epoch."""

    type: Literal["median"] = "median"
    grace_epochs: int = Field(1, ge=1, description="Epochs every trial runs before it may be stopped.")


SchedulerSpec = tagged_union((Asha, Median))


# Trial processes at once on one machine; a larger count is a typo (each trial is a process).
MAX_WORKERS = 1024


class LocalExecutor(Section):
    """Trial processes on this machine, each with one BLAS thread."""

    type: Literal["local"] = "local"
    workers: int | None = Field(None, ge=1, le=MAX_WORKERS, description="Trials at once. Default: the number of CPUs.")


class RayExecutor(Section):
    """Ray Tune (pip install 'nnrun[ray]'): one CPU per trial, on a cluster or a local Ray."""

    type: Literal["ray"] = "ray"
    address: str | None = Field(
        None, description="Ray cluster to join ('auto', or 'host:6379'); none: start a local Ray for this sweep."
    )
    max_concurrent_trials: int | None = Field(None, ge=1, description="Trials at once. Default: as many as fit.")
    cpus: int | None = Field(None, ge=1, description="CPUs of the local Ray started when there is no address.")

    @field_validator("address")
    @classmethod
    def _an_address(cls, address: str | None) -> str | None:
        # Its form is checked with the file (validate says it); whether a cluster answers, by the sweep.
        host, _, port = (address or "").rpartition(":")
        if address not in (None, "auto") and not address.startswith("ray://") and not (host and port.isdigit()):
            raise ValueError(f"expected 'auto' or 'host:port' (such as 'head:6379'), got {address!r}")
        return address


ExecutorSpec = tagged_union((LocalExecutor, RayExecutor))


class SweepConfig(Section):
    base: str = Field(description="The config file every trial starts from, relative to this file.")
    name: str | None = Field(None, pattern=RUN_NAME_PATTERN, max_length=100,
                             description="Sweep name, used for its directory. Default: the sweep file's name.")
    metric: str = Field("val_loss", description="The metrics.csv column to optimise, e.g. val_accuracy.")
    mode: Literal["max", "min"] | None = Field(None, description="Maximise or minimise. Default: from the metric.")
    search: Search = Field(
        "random", description="grid: every combination; random: independent draws; tpe: Optuna's TPE (nnrun[sweep])."
    )
    samples: int | None = Field(None, ge=1, le=100_000,
                                description="Trials of a random or tpe search (default 10); a grid is its product.")
    seed: int = Field(0, ge=0, lt=2**63, description="Seed of the search: the same seed gives the same trials.")
    parameters: dict[str, ParameterSpec] = Field(
        min_length=1, description="Dotted config paths (as --set takes them) and the values to search."
    )
    scheduler: SchedulerSpec | None = Field(None, description="Stop poor trials early (Optuna or Ray Tune).")
    executor: ExecutorSpec = Field(default_factory=LocalExecutor, description="Where the trials run.")

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo):
        if info.context and info.context.get(PLAN_CHECKED):  # already checked, and located, on the file
            return self
        kinds = {path: spec.type for path, spec in self.parameters.items()}
        problems = plan_problems(self.search, self.samples is not None, kinds)
        if problems:
            raise ValueError("; ".join(f"{where}: {message}" for where, message in problems))
        return self

    @property
    def direction(self) -> str:
        """``max`` or ``min``: the given mode, else the metric's own direction."""
        from nnrun.model.metrics import higher_is_better

        return self.mode or ("max" if higher_is_better(self.metric) else "min")

    @property
    def trial_count(self) -> int | None:
        """Trials the sweep runs: grid combinations times samples (one for a grid)."""
        combinations = math.prod(len(s.values) for s in self.parameters.values() if isinstance(s, Grid))
        if self.search == "grid":
            return math.prod(len(s.values) for s in self.parameters.values())
        return combinations * (self.samples or 10)

    def resolved(self) -> dict:
        """Every default filled in, as written to the sweep directory's sweep.yaml."""
        data = self.model_dump(mode="json")
        data["mode"] = self.direction
        if self.search != "grid":
            data["samples"] = self.samples or 10
        return data


@dataclass
class LoadedSweep:
    """A sweep file, where its values came from, and its base config's path.

    ``sweep`` is None while the file has ``problems``; ``base_path``, ``parameters`` and
    ``metric`` then hold the parts that are valid on their own (None or empty where not),
    for the checks against the base config."""

    sweep: SweepConfig | None
    source: str
    base_path: Path | None
    values: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    metric: str | None = None
    base_written: str | None = None  # base: as the file writes it (absolute in a sweep directory's sweep.yaml)
    workers_given: int | None = None  # --workers, in place of executor.workers (see with_workers)

    def locator(self) -> LoadedConfig:
        return LoadedConfig(None, self.source, self.values, self.keys, {}, self.lines)  # type: ignore[arg-type]

    def problem(self, path: str, message: str) -> Problem:
        """A problem located at ``path`` of the sweep file; a parameter at its name."""
        if path.startswith("parameters."):
            where = self.keys.get(("parameters", path.removeprefix("parameters.")))
            return Problem(path, message, *(where or (None, None)))
        return self.locator().place(Problem(path, message))

    def error(self, problems: list[Problem], base_error: UserError | None = None) -> UserError:
        """The sweep file's problems, then its base config's own mistakes when it has them."""
        own = QuotedConfigError(self.source, problems, self.lines, what="the sweep file")
        if base_error is None:
            return own
        return CombinedError([own, base_error]) if problems else base_error


def read_sweep_file(path: str | Path) -> LoadedSweep:
    """Read a sweep file and check it on its own, keeping its problems in ``problems``
    rather than raising them: the checks against the base config still run, and report
    with them (see :func:`nnrun.commands.sweep.checks.check_sweep`)."""
    path = Path(path)
    data, values, keys, lines = read_yaml(path)
    located = LoadedSweep(None, str(path), None, values, keys, lines)
    if not isinstance(data, dict):
        raise located.error([Problem("", "a sweep file is a mapping with base:, parameters:, ...", 1, 1)])
    if file_kind(data) == "config":
        raise UserError(f"{path} is a training config (it has no base: or parameters:), not a sweep file; "
                        f"train it with: nnrun train {quoted(path)}")
    data.setdefault("name", default_name(path))
    plan = [located.problem(where, message) for where, message in plan_as_written(data)]
    try:
        located.sweep = SweepConfig.model_validate_json(json.dumps(data), strict=True, context={PLAN_CHECKED: True})
    except ValidationError as exc:
        located.problems = [_problem(located, err, data) for err in exc.errors()]
    located.problems += plan
    located.base_path, located.parameters, located.metric = _checkable(located.sweep, data, path)
    located.base_written = data.get("base") if isinstance(data.get("base"), str) else None
    return located


def load_sweep(path: str | Path) -> LoadedSweep:
    """Read and validate a sweep file; raise a located :class:`ConfigError` on mistakes."""
    located = read_sweep_file(path)
    if located.problems:
        raise located.error(located.problems)
    return located


def _checkable(sweep: SweepConfig | None, data: dict, path: Path) -> tuple[Path | None, dict, str | None]:
    """The base config's path, the parameters and the metric, from a valid file; from
    one with problems, those that are valid on their own."""
    if sweep is not None:
        return path.parent / sweep.base, dict(sweep.parameters), sweep.metric
    base, metric = data.get("base"), data.get("metric", "val_loss")
    parameters = {}
    given = data.get("parameters")
    for name, spec in (given.items() if isinstance(given, dict) else ()):
        if not PARAMETER_PATH.match(str(name)):
            continue  # each of these is reported as the file's own problem
        try:
            parameters[name] = _PARAMETER.validate_json(json.dumps(spec), strict=True)
        except ValidationError:
            continue
    base_path = path.parent / base if isinstance(base, str) else None
    return base_path, parameters, metric if isinstance(metric, str) else None


_PARAMETER = TypeAdapter(ParameterSpec)


def _problem(located: LoadedSweep, err: dict, data: dict) -> Problem:
    path, node = user_path(err["loc"], data)
    if err["type"] == "union_tag_invalid" and isinstance(node, dict):
        path += ("type",)
    if len(path) == 3 and path[0] == "parameters" and isinstance(data["parameters"].get(path[1]), list):
        path = path[:2]  # a short-form list has no ``type`` key: its tag is no part of the path
    message = describe(err, path, SweepConfig)
    if _is_text_constant(err, path, node) and "did you mean" not in message:
        message = (f"{json.dumps(node)} is no parameter type, and a constant must be a number, true/false or null; "
                   f"write a text value as a one-value list: [{node}]")
    problem = Problem(".".join(map(str, path)), message)
    # A parameter's name is a key that holds dots: place it by its own key.
    if len(path) >= 2 and path[0] == "parameters":
        by_key = len(path) == 2 or err["type"] == "extra_forbidden"
        where = located.keys.get(path) if by_key else located.values.get(path)
        where = where or located.values.get(path[:2])
        if where:
            return Problem(problem.path, problem.message, *where)
    return located.locator().place(problem, by_key=err["type"] == "extra_forbidden")


def _is_text_constant(err: dict, path: tuple, node) -> bool:
    """A parameter written as a bare word that names no type: a text value meant as a
    constant (a close misspelling of a type gets its "did you mean" instead)."""
    return err["type"] == "union_tag_invalid" and isinstance(node, str) and len(path) == 2 and path[0] == "parameters"


def json_schema() -> dict:
    """The JSON Schema of a sweep file, as ``nnrun schema --sweep`` prints it."""
    schema = SweepConfig.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "nnrun sweep",
        "description": "A hyperparameter search over a base config. Generated by `nnrun schema --sweep`.",
        **{key: value for key, value in schema.items() if key not in ("title", "description")},
    }


def with_workers(located, workers: int | None):
    """``located`` (a LoadedSweep or SweepDir) with ``workers`` trials at once on its local
    executor (``--workers``, Python's ``workers=``), checked as the file's are; Ray's are its own."""
    if workers is None:
        return located
    option = said("--workers", "workers")
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise UserError(f"{option}: expected a whole number from 1 to {MAX_WORKERS}, got {workers!r}")
    if located.sweep is None:  # the file's own problems are told first
        return located
    if located.sweep.executor.type != "local":
        raise UserError(f"{option}: the sweep runs its trials on Ray (executor: {located.sweep.executor.type}), "
                        "which starts as many at once as executor.max_concurrent_trials says",
                        hint="set max_concurrent_trials in the sweep file's executor")
    located.sweep = located.sweep.model_copy(update={"executor": located.sweep.executor.model_copy(
        update={"workers": workers})})
    located.workers_given = workers
    return located
