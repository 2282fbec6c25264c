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
from nnrun.model.metrics import predicted_labels
from nnrun.store import files
from nnrun.store.preprocessing import SavedPreprocessing
from nnrun.store.trained import TrainedRun


STDOUT = "-"  # ``-o -``: the CSV goes to standard output, and no file is written


@dataclass(frozen=True)
class Prediction:
    output: Path | None  # the file written; None for standard output
    rows: int
    header: list[str]
    text: str  # the CSV itself
    weights_note: str | None = None  # set when the weights come from a checkpoint


def predict(run_dir: str | Path, input_path: str | Path, output: str | Path | None = None,
            proba: bool = False, force: bool = False) -> Prediction:
    """Predict every row of ``input_path``; writes ``output`` (default
    RUN_DIR/predictions.csv; ``"-"`` writes nothing, the caller prints ``text``). An
    existing different file is not replaced unless ``force``."""
    trained = TrainedRun.load(run_dir)
    x = trained.prepare(read_samples(Path(input_path), trained.preprocessing))
    outputs = trained.graph.predict(x)
    header, rows = _table(outputs, trained.preprocessing, proba)
    text = _csv_text(header, rows)
    target = None if str(output) == STDOUT else Path(output) if output is not None else trained.run.predictions
    if target is not None:
        files.write_output(target, text.encode(), force, what="the predictions")
    return Prediction(target, len(rows), header, text, trained.weights_note)


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


def _csv_text(header: list[str], rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
