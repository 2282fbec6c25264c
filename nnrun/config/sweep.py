"""The sweep file: a base config, the parameters to search, how, and where to run.

    base: iris.yaml                 # relative to this file
    metric: val_accuracy            # any metrics.csv column; mode from the metric
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
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from nnrun.config.loader import LoadedConfig, default_name, user_path
from nnrun.config.messages import describe
from nnrun.config.render import QuotedConfigError
from nnrun.config.schema import RUN_NAME_PATTERN, Section
from nnrun.config.sweep_space import Choice, Grid, ParameterSpec
from nnrun.config.yaml_reader import read_yaml
from nnrun.errors import ConfigError, Problem
from nnrun.specs import tagged_union

PARAMETER_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")


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


class LocalExecutor(Section):
    """Trial processes on this machine, each with one BLAS thread."""

    type: Literal["local"] = "local"
    workers: int | None = Field(None, ge=1, le=1024, description="Trials at once. Default: the number of CPUs.")


class RayExecutor(Section):
    """Ray Tune (pip install 'nnrun[ray]'): one CPU per trial, on a cluster or a local Ray."""

    type: Literal["ray"] = "ray"
    address: str | None = Field(
        None, description="Ray cluster to join ('auto', or 'host:6379'); none: start a local Ray for this sweep."
    )
    max_concurrent_trials: int | None = Field(None, ge=1, description="Trials at once. Default: as many as fit.")
    cpus: int | None = Field(None, ge=1, description="CPUs of the local Ray started when there is no address.")


ExecutorSpec = tagged_union((LocalExecutor, RayExecutor))


class SweepConfig(Section):
    base: str = Field(description="The config file every trial starts from, relative to this file.")
    name: str | None = Field(None, pattern=RUN_NAME_PATTERN, max_length=100,
                             description="Sweep name, used for its directory. Default: the sweep file's name.")
    metric: str = Field("val_loss", description="The metrics.csv column to optimise, e.g. val_accuracy.")
    mode: Literal["max", "min"] | None = Field(None, description="Maximise or minimise. Default: from the metric.")
    search: Literal["grid", "random", "tpe"] = Field(
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
    def _consistent(self):
        problems = [f"'{path}' is not a dotted config path like optimizer.learning_rate"
                    for path in self.parameters if not PARAMETER_PATH.match(path)]
        ranges = [path for path, spec in self.parameters.items() if not isinstance(spec, Choice)]
        grids = [path for path, spec in self.parameters.items() if isinstance(spec, Grid)]
        if self.search == "grid" and ranges:
            problems.append(f"search: grid needs a list of values for every parameter; {', '.join(ranges)} "
                            "is a range: make it {type: grid, values: [...]}, or use search: random")
        if self.search == "grid" and self.samples is not None:
            problems.append("samples: a grid search runs every combination once; remove samples")
        if self.search == "tpe" and grids:
            problems.append(f"search: tpe chooses every value itself; {', '.join(grids)} is a grid: make it "
                            "{type: choice, values: [...]}")
        if problems:
            raise ValueError("; ".join(problems))
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
    """A validated sweep file, where its values came from, and its base config's path."""

    sweep: SweepConfig
    source: str
    base_path: Path
    values: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def locator(self) -> LoadedConfig:
        return LoadedConfig(None, self.source, self.values, self.keys, {}, self.lines)  # type: ignore[arg-type]

    def problem(self, path: str, message: str) -> Problem:
        """A problem located at ``path`` of the sweep file; a parameter at its name."""
        if path.startswith("parameters."):
            where = self.keys.get(("parameters", path.removeprefix("parameters.")))
            return Problem(path, message, *(where or (None, None)))
        return self.locator().place(Problem(path, message))

    def error(self, problems: list[Problem]) -> ConfigError:
        return QuotedConfigError(self.source, problems, self.lines, what="the sweep file")


def is_sweep(data: Any) -> bool:
    """A sweep file names a base config; a config never has a ``base`` key."""
    return isinstance(data, dict) and "base" in data and "parameters" in data


def load_sweep(path: str | Path) -> LoadedSweep:
    """Read and validate a sweep file; raise a located :class:`ConfigError` on mistakes."""
    path = Path(path)
    data, values, keys, lines = read_yaml(path)
    located = LoadedSweep(None, str(path), path, values, keys, lines)  # type: ignore[arg-type]
    if not isinstance(data, dict):
        raise located.error([Problem("", "a sweep file is a mapping with base:, parameters:, ...", 1, 1)])
    data.setdefault("name", default_name(path))
    try:
        located.sweep = SweepConfig.model_validate_json(json.dumps(data), strict=True)
    except ValidationError as exc:
        raise located.error([_problem(located, err, data) for err in exc.errors()]) from None
    located.base_path = (path.parent / located.sweep.base)
    return located


def _problem(located: LoadedSweep, err: dict, data: dict) -> Problem:
    path, node = user_path(err["loc"], data)
    if err["type"] == "union_tag_invalid" and isinstance(node, dict):
        path += ("type",)
    problem = Problem(".".join(map(str, path)), describe(err, path, SweepConfig))
    # A parameter's name is a key that holds dots: place it by its own key.
    if len(path) >= 2 and path[0] == "parameters":
        by_key = len(path) == 2 or err["type"] == "extra_forbidden"
        where = located.keys.get(path) if by_key else located.values.get(path)
        where = where or located.values.get(path[:2])
        if where:
            return Problem(problem.path, problem.message, *where)
    return located.locator().place(problem, by_key=err["type"] == "extra_forbidden")


def json_schema() -> dict:
    """The JSON Schema of a sweep file, as ``nnrun schema --sweep`` prints it."""
    schema = SweepConfig.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "nnrun sweep",
        "description": "A hyperparameter search over a base config. Generated by `nnrun schema --sweep`.",
        **{key: value for key, value in schema.items() if key not in ("title", "description")},
    }
