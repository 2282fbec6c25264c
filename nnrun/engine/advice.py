"""Settings that are valid but likely not what was meant: warned by ``validate`` and
``train`` (through ``Experiment.warnings``), never refused, so that runs trained with
them still load.

May import: :mod:`nnrun.config`, :mod:`nnrun.data`, :mod:`nnrun.model`, and which layers read
the model input's values from :mod:`nnrun.engine.checks`.
"""

from __future__ import annotations

import numpy as np

from nnrun.config import Config
from nnrun.data import Dataset
from nnrun.data.ranges import amount, pixel_top
from nnrun.data.split import drawn_splits
from nnrun.model.inputs import VALUES_KEPT, reads_input_values
from nnrun.model.graph import INPUT, Graph
from nnrun.model.reach import reaching_output

# A regression target whose mean or spread is larger is warned about without
# data.target_scale. The bundled diabetes target (mean 150, spread 76) trains to r2 0.49
# unscaled; house prices (mean 450,000) stayed at r2 -7 after 100 epochs of Adam at 0.01.
TARGET_SCALE_WARNING = 1000


def idle_settings(config: Config, data: Dataset, validated: bool = False) -> list[str]:
    """Settings that are valid but do nothing useful here (a metric that always reads 1,
    a warmup longer than the run). Warned, not refused, so that runs trained with them
    still load. ``validated``: the run has a validation split (a fraction or a file)."""
    from nnrun.model.metrics import MAPE_FLOOR, MAPE_NEAR, TOP_K

    warnings = []
    if "top_k_accuracy" in config.metrics and data.task == "classification" and data.num_classes <= TOP_K:
        warnings.append(f"metrics: top_k_accuracy counts a sample as right when its class is among the {TOP_K} "
                        f"most probable, so with {data.num_classes} classes it is always 1; accuracy is the one "
                        "to read")
    if config.data.target_scale == "none":
        warnings += _target_scale_warning(data)
    if getattr(config.loss, "type", config.loss) == "mse" and config.data.target_scale != "log1p":
        warnings += _target_outliers(data)  # far values steer a squared error, not one of their logs
    if "mape" in config.metrics and data.task == "regression" and len(data.y):
        sizes = np.abs(np.asarray(data.y, np.float64))
        near = MAPE_NEAR * float(np.median(sizes))  # 0 and those close to it: an error over them reads huge
        zeros = int(np.count_nonzero(sizes <= max(near, MAPE_FLOOR)))
        if zeros:
            warnings.append(f"metrics: mape divides each error by its target, and {zeros} of the training targets "
                            f"are 0 or within {MAPE_NEAR:.0%} of the targets' median size of it: their errors weigh "
                            "so much that mape reads huge; mae or rmse measures them")
    if data.task == "regression" and data.y.ndim == 1 and len(data.y) and np.isin(data.y, (0, 1)).all():
        loss = getattr(config.loss, "type", config.loss)
        warnings.append(f"loss: {loss} fits the targets as amounts, but they are all 0 and 1, so the model predicts "
                        "numbers between them, not classes; for two classes use loss: binary_crossentropy with one "
                        "sigmoid unit (metrics: [accuracy, auc])")
    rows, batch = len(data.y), config.training.batch_size  # the samples are left out of `data`: its targets count
    if batch > rows and "batch_size" in config.training.model_fields_set:  # the default's on a small set: no news
        warnings.append(f"training.batch_size: {batch} is more than the {rows} training samples, so every step "
                        f"takes the whole split, one step an epoch; set batch_size: {rows} to say so, or a smaller "
                        "batch for more steps an epoch")
    split = config.data.split
    if not split.shuffle and split.stratify and "stratify" in split.model_fields_set and data.task == "classification":
        warnings.append("data.split: stratify: true keeps no class proportions with shuffle: false, which keeps the "
                        "rows' order (training first, then validation, then test); set shuffle: true for stratified "
                        "splits, or leave stratify out")
    drawn = drawn_splits(split)
    if split.gap and not drawn:
        warnings.append(f"data.split.gap: {split.gap} leaves rows out before the held-out rows, but none are drawn "
                        "from the data (validation and test are 0, or given by data.source); leave gap out")
    if not config.training.shuffle and "shuffle" in config.training.model_fields_set and split.shuffle and drawn:
        # Keras's shuffle=False with validation_split holds out the last rows; here the
        # split is its own setting, and without it a time series is tested on its own past.
        warnings.append(f"training.shuffle: false keeps each epoch's batches in the rows' order, but data.split "
                        f"still draws the {' and '.join(drawn)} rows at random; for rows in time order, set "
                        "data.split.shuffle: false too (training first, then validation, the test rows last)")
    layers = config.model.layers
    for i, step in enumerate(config.data.preprocess):
        if getattr(step, "per", None) == "channel" and len(data.input_shape) == 1 and layers and \
                getattr(layers[0], "type", None) == "reshape":
            warnings.append(f"data.preprocess.{i}: per: channel takes the last axis of the samples as stored, "
                            f"{tuple(data.input_shape)}: one statistic per column, before the model's reshape; store "
                            "the samples as (samples, steps, features) for one per feature")
    stopping = config.training.early_stopping
    if stopping is not None and not stopping.monitor.startswith("val_") and validated:
        warnings.append(f"training.early_stopping.monitor: '{stopping.monitor}' is measured on the training split, "
                        "which improves as the model memorises it; to stop when the model stops getting better on "
                        f"data it does not train on, monitor 'val_{stopping.monitor}'")
    return warnings + _idle_schedule(config) + _idle_optimizer(config) + _threads_beyond_cores(config)


def _idle_schedule(config: Config) -> list[str]:
    """A schedule that never does what it is for in this run: a warmup longer than the
    run, a step that never comes, a plateau floor at or above the rate."""
    schedule, epochs, rate = config.training.schedule, config.training.epochs, config.optimizer.learning_rate
    kind, warmup = getattr(schedule, "type", None), getattr(schedule, "warmup_epochs", 0)
    if warmup > epochs:
        return [f"training.schedule.warmup_epochs: {warmup} warmup epochs in a run of {epochs}: the learning rate "
                "never reaches optimizer.learning_rate; give fewer warmup epochs than epochs"]
    if kind == "exponential" and schedule.staircase and schedule.decay_epochs > epochs - 1:
        return [f"training.schedule.decay_epochs: {schedule.decay_epochs:g} epochs between steps of a staircase in a "
                f"run of {epochs}: the rate never steps; give fewer, or staircase: false to decay smoothly"]
    if kind == "step" and schedule.every >= epochs:
        return [f"training.schedule.every: {schedule.every} epochs between steps in a run of {epochs}: the rate "
                f"never steps; give every fewer than {epochs} epochs"]
    if kind == "reduce_on_plateau" and schedule.min_lr >= rate:
        return [f"training.schedule.min_lr: {schedule.min_lr:g} is not below optimizer.learning_rate {rate:g}, so "
                "the rate is never reduced; give a min_lr below the learning rate"]
    return []


def _idle_optimizer(config: Config) -> list[str]:
    """Options that do nothing without another: Nesterov's correction needs momentum
    (PyTorch refuses this; Keras, as here, runs plain SGD)."""
    optimizer = config.optimizer
    if getattr(optimizer, "nesterov", False) and not getattr(optimizer, "momentum", 0):
        return ["optimizer.nesterov: true with momentum 0 is plain SGD; give momentum too (0.9 is usual)"]
    return []


def _threads_beyond_cores(config: Config) -> list[str]:
    """More BLAS threads than this machine's cores take turns on them, waiting for each
    other: every multiply slower, whatever the count was meant to keep."""
    from nnrun.engine.threads import usable_cores

    threads, cores = config.training.threads, usable_cores()
    if isinstance(threads, int) and threads > cores:
        return [f"training.threads: {threads} BLAS threads on the {cores} core{'s' * (cores != 1)} this process may "
                f"use take turns on them, and every multiply waits; set at most {cores}, or auto"]
    return []


def text_without_embedding(config: Config, graph: Graph) -> list[str]:
    """A text column (``data.source.text``) becomes token indices, numbers that mean
    nothing as amounts: an embedding turns them into vectors. Read by any other layer
    they train, poorly, as numbers."""
    text = getattr(config.data.source, "text", None)
    readers = [node.layer for node in graph.nodes
               if node.layer.type not in VALUES_KEPT and reads_input_values(graph, node)]
    if text is None or not readers or any(layer.type == "embedding" for layer in readers):
        return []
    return [f"data.source.text: '{text.column}' becomes token indices, which an embedding turns into vectors; "
            f"the model reads them with a {readers[0].type} layer, as plain numbers; put {{type: embedding, "
            f"input_dim: {text.max_tokens}, output_dim: 16}} first (for a file whose only feature is text, nnrun init "
            "--data FILE --target COLUMN writes such a model)"]


# Image values above this (pixels of 0-255, the digits' 0-16) are warned about without data.preprocess.
UNSCALED_IMAGE = 10.0

# Inputs whose spreads differ by more than this factor (or spread more than
# UNSCALED_SPREAD) are warned about without data.preprocess. Breast cancer's columns
# spread from 0.0027 to 571: configs/breast_cancer.yaml without its standardize step
# reached test accuracy 0.972 (against 0.986) with its Adam, and with SGD at 0.01 stayed
# at 0.627, the share of the larger class (against 0.986).
UNSCALED_RATIO, UNSCALED_SPREAD, SCALE_ROWS = 1000.0, 100.0, 1000


def scale_rows(x: np.ndarray) -> np.ndarray | None:
    """At most SCALE_ROWS rows of flat features, spread over the training split (a copy,
    so the split itself can be dropped); None for images and sequences."""
    if x.ndim != 2 or not len(x):
        return None
    return np.array(x[:: max(1, len(x) // SCALE_ROWS)][:SCALE_ROWS])  # 3 MB for 784 float32 features


def unscaled_inputs(graph: Graph, rows: np.ndarray | None, names: list[str] | None) -> list[str]:
    """Flat features of very different or very large spreads, fed to the network as they
    are: networks train poorly on them, and nothing else would say why."""
    if rows is None or any(node.layer.type == "embedding" and INPUT in node.inputs for node in graph.nodes):
        return []  # token indices are no scale
    with np.errstate(invalid="ignore"):
        spreads = np.nanstd(rows, axis=0, dtype=np.float64)
    varying = np.flatnonzero(spreads > 0)
    if not len(varying):
        return []
    widest, narrowest = varying[np.argmax(spreads[varying])], varying[np.argmin(spreads[varying])]
    if spreads[widest] <= UNSCALED_SPREAD and spreads[widest] <= UNSCALED_RATIO * spreads[narrowest]:
        return []
    name = (lambda j: f"'{names[j]}'" if names and j < len(names) else f"feature {j}")
    return [f"data.preprocess: the features go in unscaled, and their spreads differ widely ({name(widest)} about "
            f"{spreads[widest]:.3g}, {name(narrowest)} about {spreads[narrowest]:.3g}); networks learn slowly or not "
            "at all from such inputs: add preprocess: [standardize]"]


def unscaled_images(graph: Graph, x: np.ndarray, preprocessed: bool) -> list[str]:
    """Images fed as stored, pixels of 0-255 (or 0-16, as the digits'): networks train
    slowly or not at all on them, and Keras's tutorials scale them first (Rescaling)."""
    if preprocessed or x.ndim not in (3, 4) or not len(x) or not any(n.layer.reads_images for n in graph.nodes):
        return []  # (N, H, W) too: images of one channel that a reshape gives their channel axis
    sample = x[:: max(1, len(x) // 256)][:256]
    low, top = float(np.min(sample)), float(np.max(sample))
    if top <= UNSCALED_IMAGE or low < 0:
        return []
    divisor = pixel_top(top)
    return [f"data.preprocess: the images go in as stored, values from {low:.3g} to {top:g}; networks learn slowly "
            f"or not at all from such inputs: add preprocess: [{{type: scale, factor: {1 / divisor:.6g}}}] "
            f"(1/{divisor:g}), or [standardize]"]


def unused_layers(graph: Graph) -> list[str]:
    """Layers whose output never reaches the model's output (the last layer listed): a
    branch left unconnected. They are computed every step and never learn anything
    (Keras leaves them out of the model without a word)."""
    reaching = reaching_output(graph.nodes, graph.output_name)
    unused = [node for node in graph.nodes if node.name not in reaching]
    if not unused:
        return []
    named = ", ".join(f"model.layers.{node.index} ({node.name})" for node in unused)
    one = len(unused) == 1
    return [f"{named}: {'its' if one else 'their'} output never reaches the model's output (the last layer listed), "
            f"so {'it is' if one else 'they are'} computed but never trained (nor {'its' if one else 'their'} "
            f"regularizers counted in the loss); feed {'it' if one else 'them'} into a "
            f"later layer's inputs, or remove {'it' if one else 'them'}"]


def _target_scale_warning(data: Dataset) -> list[str]:
    """A regression target far from unit scale trains slowly from outputs near 0: Adam
    moves each weight by about the learning rate per step."""
    if data.task != "regression" or not len(data.y):
        return []
    values = np.asarray(data.y, np.float64).reshape(len(data.y), -1)
    mean, std = values.mean(axis=0), values.std(axis=0)
    scales = np.maximum(np.abs(mean), std)
    far = int(np.argmax(scales))
    if scales[far] <= TARGET_SCALE_WARNING:
        return []
    above = int(np.count_nonzero(scales > TARGET_SCALE_WARNING))
    output = _output_name(data, far)
    name = "the target" if values.shape[1] == 1 else f"the target {output}" if above == 1 else \
        f"{'all' if above == values.shape[1] else above} of the {values.shape[1]} targets are far from unit scale; " \
        f"the farthest, {output},"
    low, high = values[:, far].min(), values[:, far].max()  # its own span: another target's may be in other units
    spans = f", or log1p, as its values span {amount(low)} to {amount(high)}" if low > 0 and high >= 100 * low else ""
    return [f"{name} has mean {amount(mean[far])} and standard deviation {amount(std[far])} in the training split, "
            f"while the model starts with outputs near 0 and moves them slowly; set data.target_scale: standardize"
            f"{spans} (the predictions and metrics stay in the target's units)"]


def _output_name(data: Dataset, output: int) -> str:
    """One of several targets, as the data names it ('price') or by number (output 0)."""
    return f"'{data.target_names[output]}'" if data.target_names else f"output {output}"


def _target_outliers(data: Dataset) -> list[str]:
    """A few regression targets far from the rest (see data.ranges.far_from_the_rest): a
    squared error grows with the square of their distance, so a handful of them steer
    what the model learns and what the loss, rmse and r2 report."""
    from nnrun.data.ranges import far_from_the_rest

    if data.task != "regression" or not len(data.y):
        return []
    values = np.asarray(data.y, np.float64).reshape(len(data.y), -1)
    for output in range(values.shape[1]):
        found = far_from_the_rest(values[:, output])
        if found is not None:
            count, extreme, median = found
            name = f"the target{f' {_output_name(data, output)}' if values.shape[1] > 1 else ''}"
            return [f"{name} has {count} value{'s' if count > 1 else ''} far from the rest of the training split "
                    f"(as far as {amount(extreme)}, against a median of {amount(median)}): with loss: mse they "
                    "steer the model and the loss, rmse and r2 it reports; loss: huber (or mae) fits the other "
                    "rows better, unless they are typos (correct those in the file)"]
    return []
