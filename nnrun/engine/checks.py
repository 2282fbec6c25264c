"""Checks that need the config and the data together, run before any training.

The schema checks each block alone; these compare them: the output width against the
classes, the loss against the task and the output activation, metrics and class
weights against the data, layers that accept only some input values (embedding
indices) against every split, and absurd layer sizes before anything is allocated.
Every problem is collected and raised at once, with its dotted path, so ``nnrun
validate`` and ``nnrun train`` show them all with line and column.
"""

from __future__ import annotations

import numpy as np

from nnrun.config import Config
from nnrun.data import Dataset
from nnrun.data.labels import class_list, classes_written_once, label_slips
from nnrun.engine.monitor_checks import monitor_problems
from nnrun.errors import ConfigError, Problem
from nnrun.model.graph import Graph
from nnrun.model.inputs import input_readers, values_read
from nnrun.model.metrics import BINARY_ONLY, METRICS

MAX_SIZE = 2**24  # units, filters, ... : larger is a typo, and would not fit in memory


def check_sizes(layers: list) -> None:
    """Refuse absurd layer sizes before anything is allocated, in a wrapped layer's
    options too (``bidirectional``'s ``layer.units``)."""
    problems = [Problem(path, f"expected at most {MAX_SIZE}, got {value}")
                for i, layer in enumerate(layers) for path, value in _whole_numbers(layer.model_dump(),
                                                                                  f"model.layers.{i}")
                if value > MAX_SIZE]
    if problems:
        raise ConfigError("", problems)


def _whole_numbers(value, path: str):
    """``(dotted path, number)`` of every whole number in an option's dumped value."""
    if isinstance(value, int) and not isinstance(value, bool):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _whole_numbers(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _whole_numbers(item, f"{path}.{i}")


def check_against_data(config: Config, graph: Graph, data: Dataset, parts: dict) -> None:
    """Problems that need the config and the data together, raised at once with
    dotted paths (``LoadedConfig.locate`` turns them into line:col)."""
    width = int(np.prod(graph.output_shape))
    problems = _check_loss_and_width(config, data, width, tuple(graph.output_shape))
    if not any(p.path == "loss" for p in problems):  # else its advice covers the activation too
        problems += _check_output_activation(config, data, width)
    problems += _check_metrics(config, data)
    problems += _check_class_weights(config, data)
    problems += _check_target_scale(config, data, parts)
    # A text column's token indices are indices until a preprocessing step changes them.
    text = getattr(config.data.source, "text", None) is not None
    problems += _check_layer_inputs(graph, parts, [step.type for step in config.data.preprocess] if text else [])
    problems += monitor_problems(config, parts)
    if problems:
        raise ConfigError("", problems)


def _check_layer_inputs(graph: Graph, parts: dict, steps: list[str]) -> list[Problem]:
    """Layers that accept only some input values (embedding: whole-number indices) check
    every split before training, rather than failing in the middle of it. With
    ``steps`` of preprocessing that turned a text column's indices into other numbers,
    the mistake is told where it is made."""
    problems = []
    for node in input_readers(graph):
        for name, part in parts.items():
            message = node.layer.check_inputs(values_read(graph, node, part.x))
            if message and steps:
                problems.append(Problem("data.preprocess", f"{', '.join(steps)} turns the indices that model.layers."
                                        f"{node.index} ({node.layer.type}) looks up into other numbers; remove "
                                        "data.preprocess: the layer reads its inputs as they are"))
                break
            if message:
                problems.append(Problem(f"model.layers.{node.index}", f"{message} (in the {name} split)"))
                break
    return problems


def _check_metrics(config: Config, data: Dataset) -> list[Problem]:
    problems = []
    for i, name in enumerate(config.metrics):
        needed = METRICS[name].task
        if needed != data.task:
            problems.append(Problem(f"metrics.{i}", f"{name} needs a {needed} task, but the data is {data.task}"))
        elif name in BINARY_ONLY and data.num_classes != 2:
            slip = label_slips(data)
            problems.append(Problem(f"metrics.{i}", f"{name} is for binary classifiers; the data has {class_list(data)}"
                                    + (f"; {slip}" if slip else "")))
    return problems


def _check_target_scale(config: Config, data: Dataset, parts: dict) -> list[Problem]:
    scale = config.data.target_scale
    if scale == "none":
        return []
    if data.task != "regression":
        return [Problem("data.target_scale", f"{scale} scales a regression's targets, but this is a "
                                             f"{data.task} ({data.num_classes} classes); remove it")]
    # Every split's: a validation target at -3 made val_loss NaN in every epoch, and early stopping kept nothing.
    lowest = {name: float(np.min(part.y)) for name, part in parts.items() if len(part.y)}
    below = {name: low for name, low in lowest.items() if low <= -1} if scale == "log1p" else {}
    problems = [Problem("data.target_scale", "log1p takes log(1 + target), which needs targets above -1; "
                        + ", ".join(f"the {'training' if name == 'train' else name} targets go down to {low:g}"
                                    for name, low in below.items())
                        + ": use standardize")] if below else []
    index, activation = output_activation(config.model.layers)
    if activation not in (None, "linear"):
        problems.append(Problem(f"model.layers.{index}.activation",
                                f"with data.target_scale: {scale} the layers learn targets centred on 0, which a "
                                f"'{activation}' output cannot follow; use activation: linear"))
    return problems


def _check_class_weights(config: Config, data: Dataset) -> list[Problem]:
    weights = getattr(config.loss, "class_weights", None)
    if weights is None or data.task != "classification" or len(weights) == data.num_classes:
        return []
    names = ", ".join(data.class_names or [])
    return [Problem("loss.class_weights", f"{len(weights)} weights for {data.num_classes} classes; "
                                          f"give one per class, in this order: {names}")]


def _check_loss_and_width(config: Config, data: Dataset, width: int, shape: tuple = ()) -> list[Problem]:
    loss = config.loss.type
    last = f"model.layers.{len(config.model.layers) - 1}"
    if config.loss.task == "classification" and data.task != "classification":
        return [Problem("loss", f"'{loss}' needs class labels, but the data is a regression task; use mse")]
    # Classes are named in every message (a typo in a label is a class of its own).
    classes = class_list(data) if data.task == "classification" else ""
    if data.task == "classification" and data.num_classes < 2:
        return [Problem("data.source", f"the target holds a single class ({classes}); a classifier needs at "
                                       "least 2: check the target column, or use a regression loss for numbers")]
    if data.task == "classification" and config.loss.task != "classification":
        return [Problem("loss", f"'{loss}' compares numbers, but the data has {classes}; "
                                "use categorical_crossentropy with a softmax output")]
    units = f"{width} unit{'s' if width != 1 else ''}"
    binary = loss == "binary_crossentropy"
    if len(shape) > 1 and width != (1 if binary and data.num_classes == 2 else data.target_width):
        # A sequence or an image per sample, where the data has one target vector (a
        # sigmoid's 40 "units" would be its 40 steps): the shape is the fix, not the units.
        what = classes if data.task == "classification" else \
            f"{data.target_width} target{'s' if data.target_width != 1 else ''}"
        return [Problem(last, f"the output is {_per_sample(shape)} per sample, but the data has one target "
                              f"per sample ({what}); {_one_vector_fix(shape)}")]
    if binary:  # one unit, the probability of the second class
        if data.num_classes == 2 and width == 1:
            return []
        # Two classes: the one unit is the fix; more: a softmax over them.
        fix = f"give the output layer units: 1 (a sigmoid), or use categorical_crossentropy with a softmax over " \
            f"the {units}" if data.num_classes == 2 else _slip_first(data, "use categorical_crossentropy with softmax",
                                                                   wanted=2)
        return [Problem("loss", f"binary_crossentropy needs 2 classes and 1 output unit (sigmoid); here "
                                f"{units} and {classes}: {fix}")]
    if width != data.target_width:
        what = classes if data.task == "classification" else \
            f"{data.target_width} target{'s' if data.target_width != 1 else ''}"
        fix = _units_fix(config, data, width)
        if data.task == "classification" and fix and classes_written_once(data.class_names) == width:
            fix = None  # the labels written one way make the classes the units: that is the fix
        slip = label_slips(data) if data.task == "classification" else None
        fix = f"; {slip}, or {fix.removeprefix('; ')}" if slip and fix else f"; {slip}" if slip else fix
        return [Problem(last, f"the output has {units} but the data has {what}{fix}")]
    return []


def _slip_first(data: Dataset, fix: str, wanted: int | None = None) -> str:
    """``fix``, after the fix in the file where a slip in the labels may have made a class
    too many; the slip's fix alone where the labels written one way are the ``wanted``
    classes."""
    slip = label_slips(data)
    if slip and wanted is not None and classes_written_once(data.class_names) == wanted:
        return slip
    return f"{slip}, or {fix}" if slip else fix


def _per_sample(shape: tuple) -> str:
    what = "a sequence" if len(shape) == 2 else "an image" if len(shape) == 3 else "an array"
    return f"{what} of shape {shape}"


def _one_vector_fix(shape: tuple) -> str:
    """How to end a model whose output still has steps or pixels with one vector a sample."""
    if len(shape) == 2:
        return ("end with one vector per sample: return_sequences: false on the last recurrent layer, or a "
                "global_average_pool1d (or global_max_pool1d) layer before the output layer")
    return "add a flatten (or global_average_pool2d) layer before the output layer"


def _units_fix(config: Config, data: Dataset, width: int) -> str:
    """How to fix the output's width when one layer's ``units`` sets it (looking back
    through the layers that keep the width, such as dropout and activation)."""
    for i in reversed(range(len(config.model.layers))):
        units = getattr(config.model.layers[i], "units", None)
        if units is not None:
            return f"; set units: {data.target_width} on model.layers.{i}" if units == width else ""
        if config.model.layers[i].type not in ("dropout", "activation"):
            return ""
    return ""


def output_activation(layers: list) -> tuple[int, str | None]:
    """Index and activation of the layer that decides the output's activation: the
    last layer, looking through dropout; None when that layer has no activation."""
    index = len(layers) - 1
    while layers[index].type == "dropout" and not layers[index].inputs and index > 0:
        index -= 1
    return index, layers[index].output_activation()


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
    if data.task == "regression" and config.data.target_scale == "none":
        return _check_output_range(where, activation, data)
    return []


OUTPUT_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, np.inf)}  # what the output can reach


def _check_output_range(where: str, activation: str, data: Dataset) -> list[Problem]:
    """A regression's output activation must reach its targets: a sigmoid output trained
    on prices learns nothing (its loss barely moves), and no warning would say why."""
    if activation not in OUTPUT_RANGES or not len(data.y):
        return []
    low, high = OUTPUT_RANGES[activation]
    smallest, largest = float(np.min(data.y)), float(np.max(data.y))
    if low <= smallest and largest <= high:
        return []
    reach = f"{low:g} and up" if high == np.inf else f"{low:g} to {high:g}"
    return [Problem(where, f"'{activation}' outputs reach only {reach}, but the training targets range from "
                           f"{smallest:.4g} to {largest:.4g}; use activation: linear (or set data.target_scale: "
                           "standardize with it)")]
