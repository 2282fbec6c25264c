"""nnrun: train neural networks from a YAML file, NumPy only.

    import nnrun
    result = nnrun.train("configs/iris.yaml")      # writes runs/iris-<time>/
    report = nnrun.evaluate(result.run_dir)        # test metrics, also in eval.json

Heavy modules load on first use, so ``import nnrun`` and the CLI start fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "evaluate", "train"]


def train(config, **options):
    """Train from a config path, dict or Config; see :func:`nnrun.engine.loop.train`."""
    from nnrun.engine.loop import train as _train

    return _train(config, **options)


def evaluate(run_dir, split: str = "test", data=None) -> dict:
    """Score a run directory's weights on a split, or on a labelled file ``data``; see
    :func:`nnrun.commands.evaluate.evaluate`."""
    from nnrun.commands.evaluate import evaluate as _evaluate

    return _evaluate(run_dir, split, data)
