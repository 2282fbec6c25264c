"""Metrics: pure functions of the whole split's targets and predictions.

``fn(target, probs) -> float`` where ``probs`` are the model's outputs after its output
activation. They run once per epoch on every sample, so metrics that do not average
over batches (precision, AUC) are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[[np.ndarray, np.ndarray], float]
    higher_is_better: bool


def class_labels(target: np.ndarray) -> np.ndarray:
    """Integer labels from integer labels (N,), one-hot rows (N, C) or 0/1 columns."""
    if target.ndim == 2 and target.shape[1] > 1:
        return target.argmax(axis=1)
    return target.reshape(-1).astype(np.int64)


def predicted_labels(probs: np.ndarray) -> np.ndarray:
    """Argmax over classes; a single output column is a binary probability."""
    if probs.shape[-1] == 1:
        return (probs[:, 0] >= 0.5).astype(np.int64)
    return probs.argmax(axis=-1)


def accuracy(target: np.ndarray, probs: np.ndarray) -> float:
    return float(np.mean(predicted_labels(probs) == class_labels(target)))


METRICS: dict[str, Metric] = {m.name: m for m in (Metric("accuracy", accuracy, True),)}

MetricName = Literal[tuple(METRICS)]  # type: ignore[valid-type]


def higher_is_better(monitor: str) -> bool:
    """Direction of a monitored quantity such as 'val_loss' or 'accuracy'."""
    name = monitor.removeprefix("val_")
    return METRICS[name].higher_is_better if name in METRICS else False
