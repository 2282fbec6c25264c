"""Everything a run needs before its first step: config -> data -> preprocessing -> graph.

``train``, ``evaluate`` and ``validate`` all start here, so they see the same split,
the same preprocessing and the same model. Problems that need both the config and the
data (output width against the classes, loss against the task) are found here,
before any training.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import Config, LoadedConfig, load_config
from .config.loader import apply_overrides, validate
from .data import Dataset, load_splits
from .data.preprocess import apply_pipeline, fit_pipeline
from .errors import ConfigError, Problem
from .graph import Graph, compile_graph


@dataclass
class Experiment:
    loaded: LoadedConfig
    splits: dict[str, Dataset]  # preprocessed; "train" always, "validation"/"test" if held out
    fingerprint: str  # of the raw training split
    preprocess_states: list[dict]
    graph: Graph

    @property
    def config(self) -> Config:
        return self.loaded.config


def as_loaded(config, overrides=()) -> LoadedConfig:
    """Accept a path, a plain dict, a Config or an already loaded config."""
    if isinstance(config, LoadedConfig):
        return config
    if isinstance(config, (str, Path)):
        return load_config(config, overrides)
    if isinstance(config, Config):
        config = config.model_dump(mode="json")
    if isinstance(config, dict):
        data = copy.deepcopy(config)
        applied = apply_overrides(data, overrides)
        data.setdefault("name", "run")
        loaded = LoadedConfig(None, "<config>", overrides=applied)  # type: ignore[arg-type]
        loaded.config = validate(data, loaded)
        return loaded
    raise TypeError(f"expected a config path, dict or Config, got {type(config).__name__}")


def build(loaded: LoadedConfig, preprocess_states: list[dict] | None = None) -> Experiment:
    """Load and split the data, fit (or reuse) preprocessing, compile the graph."""
    config = loaded.config
    splits = load_splits(config.data, config.seed)
    raw_train = splits.parts["train"]
    steps = config.data.preprocess
    if preprocess_states is None:
        preprocess_states = fit_pipeline(steps, raw_train.x)
    parts = {
        name: part.with_x(apply_pipeline(steps, preprocess_states, part.x)) for name, part in splits.parts.items()
    }
    try:
        check_sizes(config.model.layers)
        graph = compile_graph(
            config.model.layers, raw_train.input_shape, config.loss, rng=stream(config.seed, "init")
        )
        check_against_data(config, graph, raw_train, parts)
    except MemoryError as exc:
        problem = Problem("model.layers", f"the model does not fit in memory ({exc})")
        raise loaded.locate(ConfigError("", [problem])) from None
    except ConfigError as exc:
        raise loaded.locate(exc) from None
    return Experiment(loaded, parts, raw_train.fingerprint(), preprocess_states, graph)


STREAMS = {"split": 1, "init": 2, "shuffle": 3, "dropout": 4}


def stream(seed: int, purpose: str) -> np.random.Generator:
    """An independent generator per purpose, so e.g. adding dropout leaves the split
    and the initial weights unchanged."""
    return np.random.default_rng(np.random.SeedSequence([seed, STREAMS[purpose]]))


MAX_SIZE = 2**24  # units, filters, ... : larger is a typo, and would not fit in memory


def check_sizes(layers: list) -> None:
    """Refuse absurd layer sizes before anything is allocated."""
    problems = [
        Problem(f"model.layers.{i}.{key}", f"expected at most {MAX_SIZE}, got {value}")
        for i, layer in enumerate(layers)
        for key, value in layer.model_dump().items()
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_SIZE
    ]
    if problems:
        raise ConfigError("", problems)


def check_against_data(config: Config, graph: Graph, data: Dataset, parts: dict) -> None:
    """Problems that need the config and the data together, raised at once with
    dotted paths (``LoadedConfig.locate`` turns them into line:col)."""
    width = int(np.prod(graph.output_shape))
    problems = _check_loss_and_width(config, data, width)
    if not any(p.path == "loss" for p in problems):  # else its advice covers the activation too
        problems += _check_output_activation(config, data, width)
    for metric in config.metrics:
        if metric == "accuracy" and data.task != "classification":
            problems.append(Problem("metrics", "accuracy needs a classification task; the data is a regression task"))
    if config.training.early_stopping:
        problems += _check_monitor(config, parts)
    if problems:
        raise ConfigError("", problems)


def _check_loss_and_width(config: Config, data: Dataset, width: int) -> list[Problem]:
    loss = config.loss.type
    last = f"model.layers.{len(config.model.layers) - 1}"
    if config.loss.task == "classification" and data.task != "classification":
        return [Problem("loss", f"'{loss}' needs class labels, but the data is a regression task; use mse")]
    if data.task == "classification" and config.loss.task != "classification":
        return [Problem("loss", f"'{loss}' compares numbers, but the data has {data.num_classes} classes; "
                                "use categorical_crossentropy with a softmax output")]
    if loss == "binary_crossentropy":  # one unit, the probability of the second class
        if data.num_classes == 2 and width == 1:
            return []
        return [Problem("loss", f"binary_crossentropy needs 2 classes and 1 output unit (sigmoid); here "
                                f"{data.num_classes} classes and {width} units: use categorical_crossentropy "
                                f"with softmax")]
    if width != data.target_width:
        what = "classes" if data.task == "classification" else "targets"
        units = f"{width} unit{'s' if width != 1 else ''}"
        return [Problem(last, f"the output has {units} but the data has {data.target_width} {what}")]
    return []


def output_activation(layers: list) -> tuple[int, str | None]:
    """Index and activation of the layer that decides the output's activation: the
    last layer, looking through dropout; None when that layer has no activation."""
    index = len(layers) - 1
    while layers[index].type == "dropout" and not layers[index].inputs and index > 0:
        index -= 1
    return index, getattr(layers[index], "activation", None)


def _check_output_activation(config: Config, data: Dataset, width: int) -> list[Problem]:
    """The loss must get what it expects: probabilities over classes (softmax) for
    categorical cross-entropy, a probability per unit (sigmoid) for binary."""
    index, activation = output_activation(config.model.layers)
    where, loss = f"model.layers.{index}.activation", config.loss.type
    if activation is None:
        return []
    if activation == "softmax" and width == 1:
        return [Problem(where, "softmax over 1 unit always outputs 1, so nothing can be learned; "
                               "use sigmoid (2 classes) or linear (regression)")]
    if loss == "categorical_crossentropy" and activation != "softmax":
        why = ("sigmoid scores each class alone, so the outputs do not sum to 1"
               if activation == "sigmoid" else f"'{activation}' outputs are not probabilities")
        return [Problem(where, f"categorical_crossentropy needs probabilities over the classes, but {why}; "
                               "use activation: softmax")]
    if loss == "binary_crossentropy" and activation != "sigmoid":
        return [Problem(where, f"binary_crossentropy needs a probability per unit, but the output activation is "
                               f"'{activation}'; use activation: sigmoid")]
    if data.task == "regression" and activation == "softmax":
        return [Problem(where, "softmax forces the outputs to sum to 1, which regression targets do not; "
                               "use activation: linear")]
    return []


def _check_monitor(config: Config, parts: dict) -> list[Problem]:
    monitor = config.training.early_stopping.monitor
    known = ["loss", *config.metrics]
    name = monitor.removeprefix("val_")
    if name not in known:
        options = ", ".join(k for m in known for k in (m, f"val_{m}"))
        return [Problem("training.early_stopping.monitor", f"'{monitor}' is not reported; choose one of {options}")]
    if monitor.startswith("val_") and "validation" not in parts:
        return [
            Problem(
                "training.early_stopping.monitor",
                f"'{monitor}' needs a validation split, but data.split.validation is 0",
            )
        ]
    return []

