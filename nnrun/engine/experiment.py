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

from nnrun.config import Config, LoadedConfig, load_config
from nnrun.config.loader import apply_overrides, validate
from nnrun.data import Dataset, load_splits
from nnrun.data.preprocess import apply_pipeline, fit_pipeline
from nnrun.errors import ConfigError, Problem
from nnrun.model.graph import Graph, compile_graph
from nnrun.seeding import stream


@dataclass
class Experiment:
    loaded: LoadedConfig
    splits: dict[str, Dataset]  # preprocessed; "train" always, "validation"/"test" if held out
    fingerprint: str  # of the raw training split
    preprocess_states: list[dict]
    graph: Graph
    columns: dict | None = None  # fitted column encoding of a CSV source, saved in preprocess.json
    split_fingerprints: dict[str, str] | None = None  # of every raw split, for meta.json

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


def build(
    loaded: LoadedConfig, preprocess_states: list[dict] | None = None, columns: dict | None = None,
    warm_start: bool = True,
) -> Experiment:
    """Load and split the data, fit (or reuse) the column encoding and preprocessing,
    compile the graph, and load ``model.init_weights`` (unless ``warm_start`` is False:
    a saved run brings its own weights)."""
    config = resolve_paths(loaded)
    try:
        splits = load_splits(config.data, config.seed, columns)
    except ConfigError as exc:
        raise loaded.locate(exc) from None
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
    if warm_start:
        load_initial_weights(loaded, graph)
    fingerprints = {name: part.fingerprint() for name, part in splits.parts.items()}
    return Experiment(loaded, parts, fingerprints["train"], preprocess_states, graph, splits.columns, fingerprints)


def resolve_paths(loaded: LoadedConfig) -> Config:
    """Make relative file paths absolute: the data source's, read from the config
    file's folder (the working directory for a config given as a dict), and
    ``model.init_weights``, read from the working directory. The run directory's
    config.yaml then holds absolute paths and finds the same files from anywhere."""
    folder = Path(loaded.source).resolve().parent if Path(loaded.source).is_file() else Path.cwd()
    config = loaded.config
    source = config.data.source.resolve(folder)
    if source != config.data.source:
        config = config.model_copy(update={"data": config.data.model_copy(update={"source": source})})
    weights = config.model.init_weights
    if weights is not None and not Path(weights).is_absolute():
        model = config.model.model_copy(update={"init_weights": str(Path(weights).resolve())})
        config = config.model_copy(update={"model": model})
    loaded.config = config
    return config




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
    problems += _check_metrics(config, data)
    problems += _check_class_weights(config, data)
    problems += _check_layer_inputs(graph, parts)
    if config.training.early_stopping:
        problems += _check_monitor(config, parts)
    if getattr(config.training.schedule, "monitor", None):
        problems += _check_monitor(config, parts, "training.schedule.monitor", config.training.schedule.monitor)
    if problems:
        raise ConfigError("", problems)


def _check_layer_inputs(graph: Graph, parts: dict) -> list[Problem]:
    """Layers that accept only some input values (embedding: whole-number indices) check
    every split before training, rather than failing in the middle of it."""
    problems = []
    for node in graph.nodes:
        check = getattr(node.layer, "check_inputs", None)
        if check is None or not node.reads_model_input:
            continue
        for name, part in parts.items():
            message = check(part.x)
            if message:
                problems.append(Problem(f"model.layers.{node.index}", f"{message} (in the {name} split)"))
                break
    return problems


def _check_metrics(config: Config, data: Dataset) -> list[Problem]:
    from nnrun.model.metrics import METRICS

    problems = []
    for i, name in enumerate(config.metrics):
        needed = METRICS[name].task
        if needed != data.task:
            problems.append(Problem(f"metrics.{i}", f"{name} needs a {needed} task, but the data is {data.task}"))
        elif name == "auc" and data.num_classes != 2:
            problems.append(Problem(f"metrics.{i}", f"auc is for binary classifiers; the data has {data.num_classes} classes"))
    return problems


def _check_class_weights(config: Config, data: Dataset) -> list[Problem]:
    weights = getattr(config.loss, "class_weights", None)
    if weights is None or data.task != "classification" or len(weights) == data.num_classes:
        return []
    names = ", ".join(data.class_names or [])
    return [Problem("loss.class_weights", f"{len(weights)} weights for {data.num_classes} classes; "
                                          f"give one per class, in this order: {names}")]


def load_initial_weights(loaded: LoadedConfig, graph: Graph) -> None:
    """Warm start: copy ``model.init_weights`` into the graph, by parameter name."""
    from nnrun.store import rundir
    from nnrun.errors import UserError

    path = loaded.config.model.init_weights
    if path is None:
        return
    try:
        weights = rundir.load_weights(Path(path), require_checksum=False, what="initial weights (model.init_weights)")
        graph.load_state(weights, path)
    except UserError as exc:
        raise loaded.locate(ConfigError("", [Problem("model.init_weights", exc.message)])) from None


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
    if getattr(config.loss, "from_logits", False):
        return []  # the graph checks that the output is linear
    if activation is None:  # a layer without an activation (add, flatten, ...) outputs what it gets
        wanted = {"softmax": "softmax", "sigmoid": "sigmoid"}.get(config.loss.fuses or "")
        if not wanted:
            return []
        return [Problem(f"model.layers.{index}", f"{loss} needs {wanted} outputs, but this '{config.model.layers[index].type}' "
                                                f"layer ends the model with raw values; add "
                                                f"{{type: activation, activation: {wanted}}} after it")]
    if activation == "softmax" and width == 1:
        return [Problem(where, "softmax over 1 unit always outputs 1, so nothing can be learned; "
                               "use sigmoid (2 classes) or linear (regression)")]
    if config.loss.fuses == "softmax" and activation != "softmax":
        why = ("sigmoid scores each class alone, so the outputs do not sum to 1"
               if activation == "sigmoid" else f"'{activation}' outputs are not probabilities")
        return [Problem(where, f"{loss} needs probabilities over the classes, but {why}; "
                               "use activation: softmax (or from_logits: true with a linear output)")]
    if config.loss.fuses == "sigmoid" and activation != "sigmoid":
        return [Problem(where, f"{loss} needs a probability per unit, but the output activation is "
                               f"'{activation}'; use activation: sigmoid (or from_logits: true with a linear output)")]
    if data.task == "regression" and activation == "softmax":
        return [Problem(where, "softmax forces the outputs to sum to 1, which regression targets do not; "
                               "use activation: linear")]
    return []


def _check_monitor(config: Config, parts: dict, where: str = "training.early_stopping.monitor",
                   monitor: str | None = None) -> list[Problem]:
    monitor = monitor or config.training.early_stopping.monitor
    known = ["loss", *config.metrics]
    name = monitor.removeprefix("val_")
    if name not in known:
        options = ", ".join(k for m in known for k in (m, f"val_{m}"))
        return [Problem(where, f"'{monitor}' is not reported; choose one of {options}")]
    if monitor.startswith("val_") and "validation" not in parts:
        return [
            Problem(
                where,
                f"'{monitor}' needs a validation split, but data.split.validation is 0",
            )
        ]
    return []

