"""Small trained runs for the tests of the commands that read run directories."""

from __future__ import annotations

from pathlib import Path

import nnrun

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def train_iris(run_dir: Path, *overrides: str, epochs: int = 5) -> Path:
    """Train configs/iris.yaml into ``run_dir`` quietly; returns the run directory."""
    result = nnrun.train(CONFIGS / "iris.yaml", overrides=[f"training.epochs={epochs}", *overrides],
                         run_dir=run_dir, quiet=True)
    return result.run_dir


def train_diabetes(run_dir: Path, epochs: int = 3) -> Path:
    """A small regression run on the bundled diabetes data."""
    config = {
        "name": "diabetes",
        "data": {"source": {"type": "builtin", "name": "diabetes"}, "split": {"validation": 0.1, "test": 0.2},
                 "preprocess": [{"type": "standardize"}]},
        "model": {"layers": [{"type": "dense", "units": 16, "activation": "relu"}, {"type": "dense", "units": 1}]},
        "loss": "mse",
        "optimizer": {"type": "adam", "learning_rate": 0.05},
        "training": {"epochs": epochs},
    }
    return nnrun.train(config, run_dir=run_dir, quiet=True).run_dir
