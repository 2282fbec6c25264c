"""One definition of "the monitored quantity improved".

Early stopping, the reduce-on-plateau schedule, the new-best marker of the epoch lines
and the best epoch of a history all ask the same question of a metrics row; they ask
this class, so the answers cannot drift apart. Values are compared in "lower is better"
form: a metric where higher is better (accuracy, auc, r2, ...) is negated.

    monitor = Monitor("val_accuracy", min_delta=1e-4)
    best = None
    for row in history:
        if monitor.improves(row, best):
            best = monitor.score(row)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from nnrun.model.metrics import higher_is_better


@dataclass(frozen=True)
class Monitor:
    key: str  # a metrics.csv column: "loss", a metric, or either with "val_"
    min_delta: float = 0.0  # the smallest change that counts as an improvement

    @property
    def higher_is_better(self) -> bool:
        return higher_is_better(self.key)

    def score(self, row: dict) -> float:
        """The row's value in lower-is-better form; NaN when the row lacks it."""
        value = row.get(self.key, math.nan)
        return -value if self.higher_is_better else value

    def improves(self, row: dict, best: float | None) -> bool:
        """True when ``row`` beats ``best`` (a previous :meth:`score`, or None for none
        yet) by more than ``min_delta``; a non-finite value never improves."""
        score = self.score(row)
        if not math.isfinite(score):
            return False
        return best is None or score < best - self.min_delta

    def best_row(self, history: list[dict]) -> dict | None:
        """The best row of a history, the earliest on ties; None when no row has a
        finite value."""
        best, chosen = None, None
        for row in history:
            if self.improves(row, best):
                best, chosen = self.score(row), row
        return chosen


def default_key(row: dict) -> str:
    """What "best" means when nothing is configured: validation loss when there is one."""
    return "val_loss" if "val_loss" in row else "loss"
