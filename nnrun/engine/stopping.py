"""Early stopping: stop when the monitored quantity stops improving, and keep the best
weights to restore.

``training.early_stopping`` names a metrics.csv column (``monitor``), how many epochs
without improvement end training (``patience``), and whether the weights of the best
epoch replace the final ones (``restore_best``). "Improved" is :class:`Monitor`'s
rule, the one the plateau schedule and the epoch lines use too.
"""

from __future__ import annotations

import numpy as np

from nnrun.errors import RunEnded, UserError, setting
from nnrun.model.monitor import Monitor
from nnrun.store.tensorfile import check_like


def waited(settings) -> int:
    """The epochs without improvement that end a run: the patience, and at least one (a
    patience of 0 stops at the first epoch that does not improve, as Keras's does)."""
    return max(settings.patience, 1)


def did_not_improve(settings) -> str:
    """Why early stopping ended a run, in words: ``val_loss did not improve for 2 epochs``."""
    n = waited(settings)
    return f"{settings.monitor} did not improve for {n} epoch{'s' if n != 1 else ''}"


class EarlyStopper:
    """Stops when the monitored quantity has not improved by ``min_delta`` for
    ``patience`` epochs; keeps a copy of the best weights to restore."""

    def __init__(self, settings, graph):
        self.settings, self.graph = settings, graph
        self.monitor = Monitor(settings.monitor, settings.min_delta)
        self.best: float | None = None  # the best score so far, lower is better (see Monitor)
        self.best_epoch: int | None = None
        self.best_weights = None
        self.wait = 0
        self.stopped = False

    def update(self, epoch: int, row: dict) -> bool:
        if self.monitor.improves(row, self.best):
            self.best, self.best_epoch, self.wait = self.monitor.score(row), epoch, 0
            if self.settings.restore_best:
                self.best_weights = self.graph.weight_buffer.copy()
            return False
        self.wait += 1
        self.stopped = self.wait >= waited(self.settings)
        return self.stopped

    def ended_run(self, run_path, epoch: int) -> RunEnded:
        """The refusal to extend a run whose patience ran out at ``epoch``: trained with
        more epochs from the start, it would have stopped there all the same."""
        return RunEnded(
            f"{run_path}: early stopping's patience ran out at epoch {epoch} ({did_not_improve(self.settings)}); "
            "trained with more epochs from the start it would have stopped there too, so a larger training.epochs "
            "does not train it further",
            hint=f"to train more, start a new run with a larger training.early_stopping.patience (from "
            f"{run_path}/config.yaml), or warm start one from its weights with "
            f"{setting('model.init_weights', f'{run_path}/model.safetensors')}",
        )

    def restore(self) -> None:
        if self.settings.restore_best and self.best_weights is not None:
            np.copyto(self.graph.weight_buffer, self.best_weights)

    def checkpoint_state(self) -> tuple[dict[str, np.ndarray], dict]:
        """For checkpoints (see :mod:`nnrun.store.checkpoints`): best weights and counters."""
        arrays = {"best_weights": self.best_weights} if self.best_weights is not None else {}
        return arrays, {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait, "stopped": self.stopped}

    def restore_state(self, arrays: dict[str, np.ndarray], info: dict, origin) -> None:
        if arrays:
            check_like(origin, arrays, {"best_weights": self.graph.weight_buffer}, what="early-stopping array")
        try:
            self.best = None if info["best"] is None else float(info["best"])
            self.wait, self.stopped = int(info["wait"]), bool(info["stopped"])
            self.best_epoch = None if info["best_epoch"] is None else int(info["best_epoch"])
        except (KeyError, TypeError, ValueError):
            raise UserError(f"{origin}: the early-stopping state is malformed") from None
        self.best_weights = np.array(arrays["best_weights"]) if arrays else None
