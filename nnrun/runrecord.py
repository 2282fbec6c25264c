"""What a training run writes into its directory, and when.

At the start: ``config.yaml`` (resolved), ``preprocess.json``, ``meta.json`` (running).
After each epoch: ``metrics.csv``. At the end: ``model.safetensors`` and ``meta.json``
(completed or failed). Every file is replaced atomically.
"""

from __future__ import annotations

import csv
import io
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import __version__, rundir
from .config import config_hash, dump_yaml
from .errors import NnrunError


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def environment() -> dict:
    """Versions, BLAS and thread settings: what bit-identical results depend on."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = {"name": blas.get("name"), "version": blas.get("version")}
    except Exception:  # the layout of numpy's build info is not a stable API
        blas = {}
    threads = {k: v for k, v in os.environ.items() if k.endswith("_NUM_THREADS")}
    return {
        "nnrun": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "blas": blas,
        "cpu_count": os.cpu_count(),
        "thread_settings": threads,
    }


class RunRecord:
    def __init__(self, path: Path, meta: dict, columns: list[str] | None = None):
        self.path = path
        self.meta = meta
        self.rows: list[dict] = []

    @classmethod
    def create(cls, experiment, run_dir=None, runs_root="runs", command=None) -> "RunRecord":
        config = experiment.config
        path = rundir.create(config.name, explicit=run_dir, root=runs_root)
        rundir.atomic_write(path / "config.yaml", dump_yaml(config).encode())
        train = experiment.splits["train"]
        rundir.write_json(path / "preprocess.json", {
            "steps": [step.type for step in config.data.preprocess],
            "states": experiment.preprocess_states,
            "feature_names": train.feature_names,
            "class_names": train.class_names,
            "input_shape": list(train.input_shape),
            "task": train.task,
            "columns": experiment.columns,
            "target": getattr(config.data.source, "target", None),
        })
        meta = {
            "status": "running",
            "started": _now(),
            "ended": None,
            "command": command or " ".join(sys.argv),
            "seed": config.seed,
            "config_hash": config_hash(config),
            "dataset_fingerprint": experiment.fingerprint,
            "split_fingerprints": experiment.split_fingerprints,
            "samples": {name: len(part) for name, part in experiment.splits.items()},
            "parameters": experiment.graph.parameter_count,
            "environment": environment(),
        }
        record = cls(path, meta)
        record._write_meta()
        return record

    def _write_meta(self) -> None:
        rundir.write_json(self.path / "meta.json", self.meta)

    def append_metrics(self, row: dict) -> None:
        """Rewrite metrics.csv with the new row; it is small, and a reader never sees
        half a line."""
        self.rows.append(row)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(self.rows[0]), lineterminator="\n")
        writer.writeheader()
        for r in self.rows:
            writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in r.items()})
        rundir.atomic_write(self.path / "metrics.csv", buffer.getvalue().encode())

    def complete(self, graph, final: dict, best_epoch: int | None, stopped_early: bool) -> None:
        rundir.save_weights(self.path / "model.safetensors", graph.state(), {"format": "nnrun-weights-1"})
        self.meta.update(
            status="completed",
            ended=_now(),
            epochs_completed=len(self.rows),
            best_epoch=best_epoch,
            stopped_early=stopped_early,
            final=final,
        )
        self._write_meta()

    def fail(self, exc: BaseException) -> None:
        interrupted = isinstance(exc, KeyboardInterrupt)
        self.meta.update(
            status="interrupted" if interrupted else "failed",
            ended=_now(),
            epochs_completed=len(self.rows),
            failure={"type": type(exc).__name__, "message": exc.message if isinstance(exc, NnrunError) else str(exc)},
        )
        self._write_meta()
