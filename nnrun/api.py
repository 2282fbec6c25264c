"""The Python API: what ``import nnrun`` offers a script or a notebook.

    import nnrun
    result = nnrun.train("configs/iris.yaml")      # writes runs/iris-<time>/
    report = nnrun.evaluate(result.run_dir)        # test metrics, also in eval.json

These are the CLI's functions without the command line: the same config language, the
same run directory, the same errors (as exceptions: :class:`~nnrun.errors.UserError`
for bad input, :class:`~nnrun.errors.TrainingFailed` when training diverges).
"""

from __future__ import annotations

from pathlib import Path

from nnrun.commands.evaluate import evaluate as _evaluate
from nnrun.engine.hooks import TrainingHooks
from nnrun.engine.train import TrainResult
from nnrun.engine.train import train as _train


def train(config, *, overrides=(), run_dir=None, runs_root="runs", quiet: bool = True,
          hooks: TrainingHooks | None = None, command: str | None = None) -> TrainResult:
    """Train from a config (path, dict or Config) and write a run directory.

    ``quiet=False`` shows progress as ``nnrun train`` does; ``hooks`` receives every
    epoch instead (see :mod:`nnrun.engine.hooks`).
    """
    if hooks is None and not quiet:
        from nnrun.console.progress import make_display

        hooks = make_display(quiet=False)
        try:
            return _train(config, overrides=overrides, run_dir=run_dir, runs_root=runs_root, hooks=hooks,
                          command=command)
        finally:
            hooks.close()
    return _train(config, overrides=overrides, run_dir=run_dir, runs_root=runs_root, hooks=hooks, command=command)


def evaluate(run_dir: str | Path, split: str = "test", data: str | Path | None = None, force: bool = False) -> dict:
    """Score a run directory's weights on a split, or on a labelled file ``data``; the
    report is also written to ``eval-<split or file stem>.json`` (``report["written"]``)."""
    return _evaluate(run_dir, split, data, force)
