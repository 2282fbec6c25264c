"""Helpers for the sweep tests: a small, fast base config and sweep files beside it."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

BASE = """\
name: iris
seed: 42
data:
  source: {type: builtin, name: iris}
  split: {validation: 0.2, test: 0.2, stratify: true}
  preprocess: [standardize]
model:
  layers:
    - {type: dense, units: 8, activation: relu}
    - {type: dense, units: 3, activation: softmax}
loss: categorical_crossentropy
optimizer: {type: adam, learning_rate: 0.01}
metrics: [accuracy]
training: {epochs: EPOCHS, batch_size: 32, checkpoint: {every_epochs: 1}}
"""
# A checkpoint after every epoch (not every few seconds, the default): the kill tests wait
# for one from the first epochs of a long trial, then kill it mid-run.

SWEEP = """\
base: base.yaml
name: search
metric: val_accuracy
search: random
samples: 4
seed: 3
parameters:
  optimizer.learning_rate: {type: loguniform, low: 1.0e-3, high: 1.0e-1}
  model.layers.0.units: {type: choice, values: [4, 8]}
executor: {type: local, workers: 2}
"""


def write_sweep(folder: Path, sweep: str = SWEEP, epochs: int = 6, name: str = "sweep.yaml") -> Path:
    (folder / "base.yaml").write_text(BASE.replace("EPOCHS", str(epochs)))
    path = folder / name
    path.write_text(sweep)
    return path


def nnrun(*args, cwd: Path, **options) -> subprocess.CompletedProcess:
    """`nnrun ARGS...` as a user runs it, in its own process."""
    return subprocess.run([sys.executable, "-m", "nnrun", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, "COLUMNS": "160"}, **options)


def start(*args, cwd: Path, **options) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "nnrun", *map(str, args)], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **options)


def only_sweep(folder: Path) -> Path:
    (sweep,) = [p for p in (folder / "runs").iterdir() if p.is_dir()]
    return sweep


def trials(sweep_dir: Path) -> list[dict]:
    with open(sweep_dir / "trials.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def without_times(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


# Two short and two long trials, two at a time: the short ones finish while the long
# ones are still training, which is when the tests below stop the sweep.
MIXED = SWEEP.replace("samples: 4", "samples: 2").replace(
    "model.layers.0.units: {type: choice, values: [4, 8]}",
    "model.layers.0.units: {type: choice, values: [4, 8]}\n  training.epochs: {type: grid, values: [4, 400]}")


def children(pid: int) -> list[int]:
    """Live processes whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def wait_for(condition, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def statuses(folder: Path) -> dict[str, str]:
    runs = folder / "runs"
    if not runs.is_dir() or not any(runs.glob("*/trials.csv")):  # not yet, or just being created
        return {}
    return {row["trial"]: row["status"] for row in trials(only_sweep(folder))}


def has_checkpoint_after_first_epochs(folder: Path, trial: str) -> bool:
    checkpoints = only_sweep(folder) / "trials" / trial / "checkpoints"
    return checkpoints.is_dir() and any(p.name >= "epoch-000003" for p in checkpoints.iterdir())
