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
from nnrun.data.columns import class_list
from nnrun.config.keras_words import keras_value_hint
from nnrun.errors import ConfigError, Problem, did_you_mean, hint_then_choices
from nnrun.model.graph import INPUT, Graph

MAX_SIZE = 2**24  # units, filters, ... : larger is a typo, and would not fit in memory
# A regression target whose mean or spread is larger is warned about without
# data.target_scale. The bundled diabetes target (mean 150, spread 76) trains to r2 0.49
# unscaled; house prices (mean 450,000) stayed at r2 -7 after 100 epochs of Adam at 0.01.
TARGET_SCALE_WARNING = 1000


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
    problems = _check_loss_and_width(config, data, width, tuple(graph.output_shape))
    if not any(p.path == "loss" for p in problems):  # else its advice covers the activation too
        problems += _check_output_activation(config, data, width)
    problems += _check_metrics(config, data)
    problems += _check_class_weights(config, data)
    problems += _check_target_scale(config, data)
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
        if not node.reads_model_input:
            continue
        for name, part in parts.items():
            message = node.layer.check_inputs(part.x)
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
            problems.append(Problem(f"metrics.{i}", f"auc is for binary classifiers; the data has {class_list(data)}"))
    return problems


def idle_settings(config: Config, data: Dataset) -> list[str]:
    """Settings that are valid but do nothing useful here (a metric that always reads 1,
    a warmup longer than the run). Warned, not refused, so that runs trained with them
    still load."""
    from nnrun.model.metrics import TOP_K

    warnings = []
    if "top_k_accuracy" in config.metrics and data.task == "classification" and data.num_classes <= TOP_K:
        warnings.append(f"metrics: top_k_accuracy counts a sample as right when its class is among the {TOP_K} "
                        f"most probable, so with {data.num_classes} classes it is always 1; accuracy is the one "
                        "to read")
    if config.data.target_scale == "none":
        warnings += _target_scale_warning(data)
    warmup, epochs = getattr(config.training.schedule, "warmup_epochs", 0), config.training.epochs
    if warmup > epochs:
        warnings.append(f"training.schedule.warmup_epochs: {warmup} warmup epochs in a run of {epochs}: the "
                        "learning rate never reaches optimizer.learning_rate; give fewer warmup epochs than epochs")
    return warnings


def _check_target_scale(config: Config, data: Dataset) -> list[Problem]:
    if config.data.target_scale == "none":
        return []
    if data.task != "regression":
        return [Problem("data.target_scale", f"standardize scales a regression's targets, but this is a "
                                             f"{data.task} ({data.num_classes} classes); remove it")]
    index, activation = output_activation(config.model.layers)
    if activation not in (None, "linear"):
        return [Problem(f"model.layers.{index}.activation",
                        f"with data.target_scale: standardize the layers learn targets centred on 0, which a "
                        f"'{activation}' output cannot follow; use activation: linear")]
    return []


def unread_masks(graph: Graph) -> list[str]:
    """Layers where an embedding's padding mask (mask_zero) ends without a layer having
    read it: from there on the padded steps count as tokens, as if there were no mask
    (Keras refuses such a model; nnrun warns, so that runs trained so still load)."""
    source: dict[str, str | None] = {INPUT: None}  # node -> the embedding whose mask its output carries
    warnings = []
    for node in graph.nodes:
        layer = node.layer
        carried = next((source[name] for name in node.inputs if source.get(name)), None)
        if layer.type == "embedding" and getattr(layer, "mask_zero", False):
            source[node.name] = node.name
        elif carried is None:
            source[node.name] = None
        elif layer.takes_mask:  # read; it goes on with the output's steps, as output_mask gives it
            steps = graph_input_steps(graph, node)
            source[node.name] = carried if len(node.output_shape) == 2 and node.output_shape[0] == steps else None
        elif layer.keeps_mask:
            source[node.name] = carried
        else:
            source[node.name] = None
            warnings.append(f"model.layers.{node.index} ({node.name}, {layer.type}): the padding mask of {carried} "
                            "(mask_zero: true) ends here unread, so padded steps count as tokens from here on; read "
                            "the sequence with a layer that takes the mask first (lstm, gru, simple_rnn, "
                            "bidirectional, global_average_pool1d, global_max_pool1d, multi_head_attention), or "
                            "drop mask_zero")
    return warnings


def graph_input_steps(graph: Graph, node) -> int | None:
    """The number of steps of the sequence a node reads (its first input's)."""
    shapes = {INPUT: graph.input_shape, **{n.name: n.output_shape for n in graph.nodes}}
    shape = shapes.get(node.inputs[0])
    return shape[0] if shape and len(shape) == 2 else None


def _target_scale_warning(data: Dataset) -> list[str]:
    """A regression target far from unit scale trains slowly from outputs near 0: Adam
    moves each weight by about the learning rate per step."""
    if data.task != "regression" or not len(data.y):
        return []
    values = np.asarray(data.y, np.float64).reshape(len(data.y), -1)
    mean, std = values.mean(axis=0), values.std(axis=0)
    far = int(np.argmax(np.maximum(np.abs(mean), std)))
    if max(abs(mean[far]), std[far]) <= TARGET_SCALE_WARNING:
        return []
    name = f"the target{f' (output {far})' if values.shape[1] > 1 else ''}"
    return [f"{name} has mean {_shown(mean[far])} and standard deviation {_shown(std[far])} in the training split, while "
            "the model starts with outputs near 0 and moves them slowly; set data.target_scale: standardize (the "
            "predictions and metrics stay in the target's units)"]


def _shown(value: float) -> str:
    """A target's statistic as a person reads it: 449,122 or 0.5312."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


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
    if loss == "binary_crossentropy":  # one unit, the probability of the second class
        if data.num_classes == 2 and width == 1:
            return []
        return [Problem("loss", f"binary_crossentropy needs 2 classes and 1 output unit (sigmoid); here "
                                f"{units} and {classes}: use categorical_crossentropy with softmax")]
    if width != data.target_width:
        what = classes if data.task == "classification" else \
            f"{data.target_width} target{'s' if data.target_width != 1 else ''}"
        if len(shape) > 1:  # a sequence or an image per sample, where the data has one target vector
            return [Problem(last, f"the output is {_per_sample(shape)} per sample, but the data has one target "
                                  f"per sample ({what}); {_one_vector_fix(shape)}")]
        return [Problem(last, f"the output has {units} but the data has {what}{_units_fix(config, data, width)}")]
    return []


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
    return []


def _check_monitor(config: Config, parts: dict, where: str = "training.early_stopping.monitor",
                   monitor: str | None = None) -> list[Problem]:
    monitor = monitor or config.training.early_stopping.monitor
    known = ["loss", *config.metrics]
    name = monitor.removeprefix("val_")
    if name not in known:
        reported = [k for m in known for k in (m, f"val_{m}")]
        # Keras's metric names (val_acc) first, with the split's prefix kept; then spelling.
        hint = keras_value_hint(name, known, prefix=monitor[: len(monitor) - len(name)]) \
            or did_you_mean(monitor, reported)
        choices = hint_then_choices(hint, f"choose one of {', '.join(reported)}")
        return [Problem(where, f"'{monitor}' is not reported{choices}")]
    if monitor.startswith("val_") and "validation" not in parts:
        return [
            Problem(
                where,
                f"'{monitor}' needs a validation split, but data.split.validation is 0",
            )
        ]
    return []

