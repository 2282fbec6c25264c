"""Which command wrote a file inside a run directory: the outputs that ``predict``,
``export``, ``evaluate`` and ``plot`` put beside the run's own files, so that none of
them ever replaces another's (see :func:`output_of`), nor the run's own record
(:func:`record_of`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from nnrun.store.rundir import RunDir


def output_of(path: Path) -> tuple[Path, str] | None:
    """The run directory whose command output ``path`` is, and which command's:
    "predict" (predictions.csv), "export" (the ONNX model and its card), "evaluate" (an
    eval-*.json report), "plot" (curves.png); None for any other file. Another command's
    output is never replaced, --force or not: predictions written over a run's
    model.onnx left a CSV file there, which export then refused to replace."""
    path = Path(os.path.abspath(path))
    run = RunDir(path.parent)
    if not run.is_run():
        return None
    exports = [onnx for half in (False, True) for onnx in (run.onnx(half), run.onnx(half).with_suffix(".json"))]
    if path in exports:
        return run.path, "export"
    if path == run.evaluation(path.stem.removeprefix("eval-")) and path.name.startswith("eval-"):
        return run.path, "evaluate"
    return {run.predictions: (run.path, "predict"), run.curves: (run.path, "plot")}.get(path)


def exported_model(path: Path) -> Path | None:
    """The ONNX model ``path`` is, or is the model card of, where nnrun exported it (its
    card beside it, as nnrun writes one): a deployment's ``model.onnx`` outside any run,
    which predictions written there (CSV into model.json) would break; else None."""
    model = Path(path).with_suffix(".onnx")
    if Path(path).suffix.lower() not in (".onnx", ".json") or not model.is_file():
        return None
    try:
        card = json.loads(model.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return model if isinstance(card, dict) and {"weights_fingerprint", "onnx"} <= card.keys() else None


def record_of(path: Path) -> Path | None:
    """The run directory whose record ``path`` is (its config.yaml, meta.json, weights,
    a checkpoint, ...), or None: a command's output must never replace one of them,
    --force or not, since the run could not be evaluated, resumed or retrained after."""
    path = Path(os.path.abspath(path))
    for folder in (path.parent, path.parent.parent):
        run = RunDir(folder)
        if not run.is_run():
            continue
        if path in (run.config, run.meta, run.metrics, run.preprocess, run.weights, run.lock_file) or \
                path.parent == run.checkpoints:
            return folder
    return None
