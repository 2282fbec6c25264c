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

from nnrun.commands.inputs import read_rows, read_samples, shaped
from nnrun.errors import UserError
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
    notes: tuple[str, ...] = ()  # columns left out, categories encoded as unknown


def predict(run_dir: str | Path, input_path: str | Path, output: str | Path | None = None,
            proba: bool = False, force: bool = False, keep: list[str] = ()) -> Prediction:
    """Predict every row of ``input_path``; writes ``output`` (default
    RUN_DIR/predictions.csv; ``"-"`` writes nothing, the caller prints ``text``). An
    existing different file is not replaced unless ``force``. ``keep`` columns (and
    the run's ``id`` columns) are copied in front, so each prediction keeps its key."""
    trained = TrainedRun.load(run_dir)
    source, saved = Path(input_path), trained.preprocessing
    if source.suffix.lower() == ".npz":
        if keep:
            raise UserError(f"{source}: --keep names CSV columns; an .npz input has none")
        x, kept, notes = read_samples(source, saved), {}, ()
    else:
        rows_in = read_rows(source, saved, keep=list(keep))
        x, kept, notes = shaped(rows_in.x, tuple(saved.input_shape), source), rows_in.kept, tuple(rows_in.notes)
    outputs = trained.graph.predict(trained.prepare(x))
    header, rows = _table(outputs, saved, proba)
    if kept:
        header = [*kept, *header]
        rows = [[*cells, *row] for cells, row in zip(zip(*kept.values()), rows)]
    text = _csv_text(header, rows)
    target = None if str(output) == STDOUT else Path(output) if output is not None else trained.run.predictions
    if target is not None:
        files.write_output(target, text.encode(), force, what="the predictions")
    return Prediction(target, len(rows), header, text, trained.weights_note, notes)


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
