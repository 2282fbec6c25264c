"""``data.target_scale``: a regression learns its targets standardized (``standardize``),
or their ``log1p`` standardized (``log1p``: prices, incomes, counts, whose values span
orders of magnitude and whose errors matter in proportion).

The training split's targets (their ``log(1 + y)`` with ``log1p``) give a mean and a
standard deviation per output (:func:`fit_target_scale`, saved in ``preprocess.json``). The loss compares the layers'
raw outputs with the targets standardized by them (:meth:`TargetScale.standardize`);
everything that reads predictions (metrics, ``evaluate``, ``predict``, ``serve``, the
ONNX export) gets the outputs turned back into the target's units
(:meth:`TargetScale.restore`, through ``Graph.activate``; ``expm1`` after the
standardization with ``log1p``). Training on the scaled
targets is training on the standardized targets themselves: the same float32 values
reach the loss.

May import: numpy and the leaves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnrun.errors import UserError


# What the loss compares the outputs with, by data.target_scale (none: the targets themselves).
COMPARED_WITH = {"standardize": "standardized targets", "log1p": "the standardized log1p of the targets"}


def fit_target_scale(y: np.ndarray, log1p: bool = False) -> dict:
    """The training targets' mean and standard deviation per output (of their ``log1p``
    where asked, said by a ``log1p`` key), as JSON lists (a constant output gets 1, so it
    is only shifted)."""
    values = np.asarray(y, np.float64).reshape(len(y), -1)
    values = np.log1p(values) if log1p else values
    std = values.std(axis=0)
    fitted = {"mean": values.mean(axis=0).tolist(), "std": np.where(std > 0, std, 1.0).tolist()}
    return fitted | ({"log1p": True} if log1p else {})


@dataclass(frozen=True)
class TargetScale:
    mean: np.ndarray  # of the output's shape, in the graph's dtype
    std: np.ndarray
    log1p: bool = False  # of log(1 + y): outputs are turned back by expm1

    @classmethod
    def of(cls, fitted: dict, dtype, shape: tuple) -> "TargetScale":
        mean, std = (np.asarray(fitted[key], dtype).reshape(shape) for key in ("mean", "std"))
        return cls(mean, std, bool(fitted.get("log1p")))

    def standardize(self, y: np.ndarray) -> np.ndarray:
        """Targets as the loss compares them with the raw outputs (a new array). Targets
        at -1 or below have no log1p: refused (training checked its splits before; here a
        file or arrays given to evaluate)."""
        if self.log1p and len(y) and float(np.min(y)) <= -1:
            count = int(np.count_nonzero(y <= -1))
            raise UserError(f"{count} target{'s' if count != 1 else ''} at -1 or below, which a model that learned "
                            "log(1 + target) (data.target_scale: log1p) cannot score",
                            hint="leave those rows out, and score the others")
        return (((np.log1p(y) if self.log1p else y) - self.mean) / self.std).astype(y.dtype, copy=False)

    def restore(self, out: np.ndarray) -> np.ndarray:
        """Outputs in the target's units (a new array)."""
        scaled = out * self.std + self.mean
        return np.expm1(scaled) if self.log1p else scaled
