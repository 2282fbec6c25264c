"""``nnrun predict``: a trained run's model on new samples from a CSV or NPZ file.

The input goes through exactly what training did, read from the run directory: the
column encoding (categories, fill values) and the preprocessing steps saved in
``preprocess.json``, then the weights in ``model.safetensors``. Nothing is refitted.
The output is a CSV file with one row per input row: ``prediction`` (a class name,
or a value for regression) and, with ``proba``, one ``proba_<class>`` column per class.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnrun.commands.inputs import read_samples
from nnrun.errors import UserError
from nnrun.model.metrics import predicted_labels
from nnrun.store import files
from nnrun.store.preprocessing import SavedPreprocessing
from nnrun.store.trained import TrainedRun


@dataclass(frozen=True)
class Prediction:
    output: Path
    rows: int
    header: list[str]


def predict(run_dir: str | Path, input_path: str | Path, output: str | Path | None = None,
            proba: bool = False) -> Prediction:
    """Predict every row of ``input_path``; writes ``output`` (default
    RUN_DIR/predictions.csv)."""
    trained = TrainedRun.load(run_dir)
    x = trained.prepare(read_samples(Path(input_path), trained.preprocessing))
    outputs = trained.graph.predict(x)
    header, rows = _table(outputs, trained.preprocessing, proba)
    target = Path(output) if output is not None else trained.run.predictions
    _write_csv(target, header, rows)
    return Prediction(target, len(rows), header)


def _table(outputs: np.ndarray, saved: SavedPreprocessing, proba: bool) -> tuple[list[str], list[list]]:
    if saved.task != "classification":
        flat = outputs.reshape(len(outputs), -1)
        header = ["prediction"] if flat.shape[1] == 1 else [f"prediction_{i}" for i in range(flat.shape[1])]
        return header, [[repr(float(v)) for v in row] for row in flat]
    classes = saved.class_names
    labels = predicted_labels(outputs)
    header, rows = ["prediction"], [[classes[i]] for i in labels]
    if proba:
        probs = np.concatenate([1 - outputs, outputs], axis=1) if outputs.shape[-1] == 1 else outputs
        header += [f"proba_{c}" for c in classes]
        rows = [row + [f"{p:.6f}" for p in ps] for row, ps in zip(rows, probs)]
    return header, rows


def _write_csv(target: Path, header: list[str], rows: list[list]) -> None:
    if target.is_dir():
        raise UserError(f"{target}: is a folder; give a file name for the predictions, e.g. {target / 'predictions.csv'}")
    if not target.parent.is_dir():
        raise UserError(f"{target}: the folder {target.parent} does not exist")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    files.atomic_write(target, buffer.getvalue().encode())
