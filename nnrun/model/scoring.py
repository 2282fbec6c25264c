"""Scoring a trained graph on a whole split: the loss and every configured metric.

One definition serves the loop's validation pass, the closing table and ``nnrun
evaluate``, so "val_accuracy" means the same number wherever it is shown. The split is
run in inference mode (dropout off, batch norm on its moving statistics) in batches,
and the loss includes the regularization penalties, as in training (and, with
``data.target_scale``, compares standardized targets as training did; the metrics read
the target's own units).
"""

from __future__ import annotations

import numpy as np

from nnrun.model.graph import Graph
from nnrun.model.metrics import METRICS, decided


def score_split(graph: Graph, loss, metrics: list[str], x: np.ndarray, y: np.ndarray,
                batch_size: int = 1024, threshold: float | None = None) -> dict[str, float]:
    """``{"loss": ..., metric: ...}`` for samples ``x`` (N, *input) and targets ``y``;
    ``threshold``: of two classes, the metrics that read decisions score class 1 where
    its probability is above it (the loss and auc read the probabilities)."""
    raw = graph.raw_outputs(x, batch_size)
    value, _ = loss(raw, graph.scale_targets(y), graph.outputs_logits)
    scores = {"loss": value + graph.penalty()}  # regularization included, as in training
    probs = graph.activate(raw)
    moved = decided(probs, threshold) if threshold is not None else probs
    scores.update({name: METRICS[name].fn(y, moved if METRICS[name].decides else probs) for name in metrics})
    return scores
