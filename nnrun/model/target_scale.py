"""``data.target_scale: standardize``: a regression learns its targets standardized.

The training split's targets give a mean and a standard deviation per output
(:func:`fit_target_scale`, saved in ``preprocess.json``). The loss compares the layers'
raw outputs with the targets standardized by them (:meth:`TargetScale.standardize`);
everything that reads predictions (metrics, ``evaluate``, ``predict``, ``serve``, the
ONNX export) gets the outputs turned back into the target's units
(:meth:`TargetScale.restore`, through ``Graph.activate``). Training on the scaled
targets is training on the standardized targets themselves: the same float32 values
reach the loss.

May import: numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def fit_target_scale(y: np.ndarray) -> dict:
    """The training targets' mean and standard deviation per output, as JSON lists (a
    constant output gets 1, so it is only shifted)."""
    values = np.asarray(y, np.float64).reshape(len(y), -1)
    std = values.std(axis=0)
    return {"mean": values.mean(axis=0).tolist(), "std": np.where(std > 0, std, 1.0).tolist()}


@dataclass(frozen=True)
class TargetScale:
    mean: np.ndarray  # of the output's shape, in the graph's dtype
    std: np.ndarray

    @classmethod
    def of(cls, fitted: dict, dtype, shape: tuple) -> "TargetScale":
        return cls(*(np.asarray(fitted[key], dtype).reshape(shape) for key in ("mean", "std")))

    def standardize(self, y: np.ndarray) -> np.ndarray:
        """Targets as the loss compares them with the raw outputs (a new array)."""
        return ((y - self.mean) / self.std).astype(y.dtype, copy=False)

    def restore(self, out: np.ndarray) -> np.ndarray:
        """Outputs in the target's units (a new array)."""
        return out * self.std + self.mean
