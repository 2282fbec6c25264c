"""nnrun: train neural networks from a YAML file, NumPy only.

    import nnrun
    result = nnrun.train("configs/iris.yaml")      # writes runs/iris-<time>/
    model = nnrun.load(result.run_dir)             # predict, evaluate, history, classes
    report = nnrun.evaluate(result.run_dir)        # test metrics, also in eval-test.json

The functions live in :mod:`nnrun.api` and load on first use, so ``import nnrun`` and
the CLI start fast.
"""

from __future__ import annotations

import os as _os

from nnrun.version import __version__

# OpenBLAS's idle threads spin for about a tenth of a second after each matrix multiply
# before they sleep (2^28 cycles), holding the core that element-wise work split over
# the run's threads (nnrun.model.rows) needs. 2^20 cycles (a third of a millisecond)
# keeps them awake between the multiplies of one step but lets them sleep through
# longer element-wise stretches: at two threads a small CNN's step took 17.2 ms with
# the default, 13.0 ms sleeping at once (2^4), 13.8 ms with this; an MLP batch-32 step
# 0.69 ms, 1.07 ms (every multiply waited for a sleeping thread to wake) and 0.71 ms.
# It is read once, when numpy loads OpenBLAS, so it counts when nnrun is imported
# first (the command line always is); the results do not change, and a user's own
# setting wins.
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "20")

__all__ = ["__version__", "Config", "Evaluation", "Prediction", "SweepResult", "TrainResult", "TrainedModel",
           "evaluate", "load", "resume", "sweep", "train"]


def __getattr__(name: str):
    if name in __all__:
        from nnrun import api

        return getattr(api, name)
    raise AttributeError(f"module 'nnrun' has no attribute {name!r}")


def __dir__() -> list[str]:
    # The lazy names too, so a notebook's tab completion finds train, load and evaluate;
    # the package's own (its modules) but not what this file took for itself (_os).
    return sorted({name for name in globals() if not name.startswith("_") or name.startswith("__")}
                  - {"annotations"} | set(__all__))
