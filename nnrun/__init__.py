"""nnrun: train neural networks from a YAML file, NumPy only.

    import nnrun
    result = nnrun.train("configs/iris.yaml")      # writes runs/iris-<time>/
    model = nnrun.load(result.run_dir)             # predict, evaluate, history, classes
    report = nnrun.evaluate(result.run_dir)        # test metrics, also in eval-test.json

The functions live in :mod:`nnrun.api` and load on first use, so ``import nnrun`` and
the CLI start fast.
"""

from __future__ import annotations

from nnrun.version import __version__

__all__ = ["__version__", "Evaluation", "Prediction", "TrainResult", "TrainedModel", "evaluate", "load", "train"]


def __getattr__(name: str):
    if name in __all__:
        from nnrun import api

        return getattr(api, name)
    raise AttributeError(f"module 'nnrun' has no attribute {name!r}")
