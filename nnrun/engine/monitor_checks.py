"""Whether what early stopping and a plateau schedule watch is a column training
reports, and one it can measure: a val_ name needs a validation split, a metric must be
in ``metrics`` (and suit the task), and a binary classifier's auc needs both classes in
the split it reads. Problems carry the setting's dotted path, as :mod:`.checks`' do.
"""

from __future__ import annotations

import numpy as np

from nnrun.config import Config
from nnrun.config.keras_words import keras_value_hint
from nnrun.errors import Problem, did_you_mean, hint_then_choices
from nnrun.model.metrics import BINARY_ONLY, uncomputed


def monitor_problems(config: Config, parts: dict) -> list[Problem]:
    """The problems of each monitor the config sets (early stopping's, a schedule's)."""
    problems = _check_monitor(config, parts) if config.training.early_stopping else []
    if getattr(config.training.schedule, "monitor", None):
        problems += _check_monitor(config, parts, "training.schedule.monitor", config.training.schedule.monitor)
    return problems


def _check_monitor(config: Config, parts: dict, where: str = "training.early_stopping.monitor",
                   monitor: str | None = None) -> list[Problem]:
    monitor = monitor or config.training.early_stopping.monitor
    known = ["loss", *config.metrics]
    name = monitor.removeprefix("val_")
    validation = "validation" in parts
    if monitor.startswith("val_") and not validation:
        # Told first: offering another val_ name, or a training one silently, would not help.
        what = f"'{name}'" if name in known else f"one of {', '.join(known)}"
        return [Problem(where, f"'{monitor}' needs a validation split, but data.split.validation is 0; monitor "
                               f"{what} (on the training data) or set data.split.validation to a fraction such as 0.1")]
    data = next(iter(parts.values())) if parts else None
    task = data.task if data is not None else None
    if name in BINARY_ONLY and name not in known and task == "classification" and data.num_classes != 2:
        split = monitor.removesuffix(name)
        accuracy = f" or {split}accuracy" if "accuracy" in known else ""
        return [Problem(where, f"'{monitor}' is not reported, and {name} is for binary classifiers (the data has "
                               f"{data.num_classes} classes); monitor {split}loss{accuracy}")]
    if task is not None and uncomputed(name, known, task) == "add":  # one this config does not compute
        listed = ", ".join([*config.metrics, name])
        return [Problem(where, f"'{monitor}' is not reported: {name} is not in metrics; add it (metrics: [{listed}]) "
                               "to monitor it")]
    if name not in known:
        reported = [k for m in known for k in ((m, f"val_{m}") if validation else (m,))]
        # Keras's metric names (val_acc) first, with the split's prefix kept; then spelling.
        hint = keras_value_hint(name, known, prefix=monitor[: len(monitor) - len(name)]) \
            or did_you_mean(monitor, reported)
        choices = hint_then_choices(hint, f"choose one of {', '.join(reported)}")
        return [Problem(where, f"'{monitor}' is not reported{choices}")]
    return []


def unmeasurable_monitors(config: Config, parts: dict) -> list[Problem]:
    """Before a new run trains (not as a saved run is rebuilt to be scored): a monitored
    auc or pr_auc of a split that holds one class only reads NaN in every epoch, so early
    stopping (or a plateau schedule) would wait out its patience and keep no best epoch."""
    watched = [("training.early_stopping.monitor", getattr(config.training.early_stopping, "monitor", None)),
               ("training.schedule.monitor", getattr(config.training.schedule, "monitor", None))]
    problems = []
    for where, monitor in watched:
        name = (monitor or "").removeprefix("val_")
        split = parts.get("validation" if (monitor or "").startswith("val_") else "train")
        if name in BINARY_ONLY and split is not None and split.num_classes == 2 and len(np.unique(split.y)) < 2:
            side = "validation" if monitor.startswith("val_") else "training"
            problems.append(Problem(where, f"'{monitor}' cannot be measured: the {side} split holds one class only, "
                                           f"so {name} reads NaN in every epoch; monitor "
                                           f"{monitor.removesuffix(name)}loss, or hold out more rows "
                                           "(data.split.validation) so that it holds both classes"))
    return problems

