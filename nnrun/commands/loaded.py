"""A trained run as a Python object, for notebooks and scripts: what ``nnrun.load`` returns.

    model = nnrun.load("runs/iris-20260101-120000")
    predictions, probabilities = model.predict(x)     # x: (N, features) array
    model.evaluate(x, y).metrics                      # {"loss": ..., "accuracy": ...}
    model.classes, model.history, model.config

A run trained on a CSV file takes its columns by name, as a dict of columns or a
pandas DataFrame (anything with ``columns``), a list of rows as dicts (a JSON
request's ``instances``) or one row as a pandas Series (``df.iloc[i]``), and, where
every column is a number, a 2-D array of them in the file's order; each is read as
``nnrun predict`` reads the file (:mod:`.in_memory`): the saved column encoding and
preprocessing are applied, nothing is refitted. A path (``model.predict("new.csv")``) is
read as ``nnrun predict`` reads it: a CSV file, or an .npz archive's samples; a model
whose only input is a text takes a string as that text (a ``Path`` for a file).
Bad input raises :class:`~nnrun.errors.UserError` with the message the CLI would print.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import numpy as np

from nnrun.commands.evaluate import diagnose
from nnrun.commands.frame_targets import by_class, by_target
from nnrun.commands.in_memory import (as_columns, numbers_as_columns, numeric_array, table_cells, table_samples,
                                      texts_as_column)
from nnrun.commands.inputs import (archive_names, array_notes, check_input_file, check_unknown, read_rows, read_samples,
                                   shaped, target_values)
from nnrun.commands.keras_calls import keras_arguments, missing_attribute
from nnrun.commands.model_results import Evaluation, Prediction
from nnrun.commands.threshold import checked_threshold
from nnrun.config import Config
from nnrun.data import Dataset
from nnrun.data.cells import is_boolean
from nnrun.errors import UserError
from nnrun.model.metrics import predicted_labels
from nnrun.model.scoring import score_split
from nnrun.store.history import History, read_metrics
from nnrun.store.trained import TrainedRun


# Keras's model methods that nnrun does otherwise, and what does it.
class TrainedModel:
    """A run's model with its saved preprocessing, ready to predict and score."""

    def __init__(self, trained: TrainedRun):
        self.trained = trained

    @classmethod
    def load(cls, run_dir: str | Path) -> "TrainedModel":
        """The run's model; an unfinished run's newest valid checkpoint's weights, said on
        standard error as ``nnrun predict`` says it (and kept in ``weights_note``)."""
        trained = TrainedRun.load(run_dir)
        if trained.weights_note:
            print(f"note: {trained.weights_note}", file=sys.stderr)
        return cls(trained)

    @property
    def run_dir(self) -> Path:
        return self.trained.run.path

    @property
    def config(self) -> Config:
        """The run's resolved config (``.model_dump()`` gives it as a dict)."""
        return self.trained.config

    @property
    def classes(self) -> list[str] | None:
        """Class names in the order of the probability columns; None for a regressor."""
        return self.trained.preprocessing.class_names if self.task == "classification" else None

    @property
    def task(self) -> str:
        return self.trained.preprocessing.task

    @property
    def history(self) -> list[dict]:
        """One row per epoch trained, as in metrics.csv; a run that did not complete may
        have trained past ``weights_epoch``, whose weights these are."""
        return History(read_metrics(self.trained.run.metrics))

    @property
    def weights_note(self) -> str | None:
        """Set when the run did not complete and the weights come from a checkpoint."""
        return self.trained.weights_note

    @property
    def weights_epoch(self) -> int | None:
        """The epoch of the checkpoint the weights come from (see ``weights_note``); None
        for a completed run's final weights."""
        return self.trained.weights_epoch

    @property
    def weights(self) -> dict[str, np.ndarray]:
        """The weights by name, as ``model.safetensors`` holds them; copies, so that changing
        one changes no prediction."""
        return {name: np.array(value) for name, value in self.trained.graph.state().items()}

    def summary(self, print_fn=print) -> None:
        """The layers, their output shapes and parameter counts, as ``nnrun validate``
        prints them (Keras's ``model.summary()``); ``print_fn`` takes each line."""
        from nnrun.commands.validate import graph_rows

        branched = any(spec.inputs for spec in self.config.model.layers)  # a graph's edges, as validate shows them
        rows = [{"Layer": r["name"], "Type": r["type"], **({"Inputs": r["inputs"]} if branched else {}),
                 "Output shape": r["output_shape"], "Params": f"{r['params']:,}"}
                for r in graph_rows(self.config.model.layers, self.trained.graph)]
        widths = {key: max(len(key), *(len(row[key]) for row in rows)) for key in rows[0]}
        line = lambda row: "  ".join(row[k].rjust(w) if k == "Params" else row[k].ljust(w)  # noqa: E731
                                     for k, w in widths.items()).rstrip()
        print_fn(f"Model '{self.config.name}'")
        for text in [line({k: k for k in widths}), *map(line, rows)]:
            print_fn(text)
        total = self.trained.graph.parameter_count
        print_fn(f"Total params: {total:,} ({total * self.trained.graph.dtype.itemsize / 1024:,.1f} KB, "
                 f"{self.trained.graph.dtype.name})")

    @keras_arguments
    def predict(self, x, *, unknown: str | None = None, threshold: float | None = None) -> Prediction:
        """Predictions for the samples ``x`` (see the module docstring for what ``x`` may be).
        ``unknown`` ("ignore" or "error"): for a category training never saw, all zeros
        (and a note) or an error, in place of the run's data.source.unknown.
        ``threshold``: of two classes, the probability above which the second is predicted."""
        threshold = checked_threshold(threshold, self.task, self.classes, "threshold")
        samples, notes = self._samples(x, unknown)
        outputs = self.trained.outputs(samples)
        keys = {"index": x.index} if _keyed_by_index(x, len(outputs), self.trained.preprocessing) else {}
        if self.task != "classification":
            columns = tuple(self.trained.preprocessing.value_columns(outputs.shape[1]))
            return Prediction(outputs[:, 0] if outputs.shape[1:] == (1,) else outputs, None, notes=notes,
                              value_columns=columns, **keys)
        probabilities = np.concatenate([1 - outputs, outputs], axis=1) if outputs.shape[-1] == 1 else outputs
        names = class_values(self.classes)[predicted_labels(outputs, threshold)]
        return Prediction(names, probabilities, list(self.classes), notes, **keys)

    @keras_arguments
    def evaluate(self, x, y=None, *, unknown: str | None = None, threshold: float | None = None) -> Evaluation:
        """Loss, metrics and diagnostics on samples ``x`` with true targets ``y``: class
        names, class indices or one-hot rows for a classifier, values for a regressor.
        ``unknown`` and ``threshold``: as :meth:`predict` takes them."""
        # A labelled file's targets are nnrun.evaluate's to read (a plain string is a text model's text).
        if y is None and (isinstance(x, Path) or isinstance(x, str) and Path(x).suffix.lower() in (".csv", ".npz")):
            raise UserError("y: missing; model.evaluate takes samples and their targets, evaluate(x, y)",
                            hint=f"score a labelled file with nnrun.evaluate('{self.run_dir}', data='{x}'), as nnrun "
                            "evaluate --data does")
        threshold = checked_threshold(threshold, self.task, self.classes, "threshold")
        samples, notes = self._samples(x, unknown)
        if y is None or np.ndim(y) == 0:
            raise UserError(f"y: expected one target per sample (a list, an array or a Series), got {y!r}")
        targets = target_values(by_class(by_target(y, self.trained.preprocessing.target_names), self.classes),
                                self.trained.preprocessing, "y", None,
                                self.trained.output_width)
        if len(targets) != len(samples):
            raise UserError(f"y: {len(targets)} targets for {len(samples)} samples; give one target per sample")
        config, saved = self.config, self.trained.preprocessing
        if saved.task == "regression" and not saved.target_names and len(getattr(y, "columns", ())) > 1:
            note = ("y's columns are taken in their order: the run recorded no names of its targets (an earlier "
                    "nnrun trained it), so they cannot be matched by name")
            print(f"note: {note}", file=sys.stderr)
            notes = (*notes, note)
        scores = score_split(self.trained.graph, config.loss, config.metrics, samples, targets, threshold=threshold)
        data = Dataset(samples, targets, saved.task, saved.feature_names, saved.class_names,
                       target_names=tuple(saved.target_names or ()) or None)
        return Evaluation(len(samples), scores, diagnose(self.trained.graph, data, threshold), notes)

    def samples(self, x) -> np.ndarray:
        """``x`` encoded and preprocessed as training did: what the network sees."""
        return self._samples(x)[0]

    def _samples(self, x, unknown: str | None = None) -> tuple[np.ndarray, tuple[str, ...]]:
        """The samples, and notes on what their encoding could not keep (categories
        training never saw, texts cut to the run's length or of no known word), which
        are also printed on standard error as ``nnrun predict`` prints them."""
        saved, notes = self.trained.preprocessing, []
        check_unknown(unknown, saved, "unknown", self.run_dir)
        # A file, read as `nnrun predict` reads it; for a text model a plain string is
        # the text to predict for, and only a Path names a file.
        if isinstance(x, os.PathLike) or (isinstance(x, str) and not self._takes_one_text):
            return self._file_samples(Path(x), unknown)
        if isinstance(x, str) and Path(x).suffix.lower() in (".csv", ".npz") and _is_file(x):
            raise UserError(f"x: {x!r} names a file, and a text model takes a string as the text to predict for",
                            hint=f"to read the file, pass its path as a Path: model.predict(Path({x!r}))")
        x = as_columns(texts_as_column(x, saved), saved.column_names() if saved.columns else list(saved.feature_names))
        # Columns by name (a table, or a DataFrame of a bundled set's pixel_0 ... pixel_63)
        # are flat, as a CSV file's are: rows of the right size become images again.
        by_name = isinstance(x, dict) or hasattr(x, "columns")
        if saved.columns:
            x = numbers_as_columns(x, saved)
            header, rows = table_cells(x, saved.column_names())
            encoded = table_samples(header, rows, saved, "x", notes, unknown)
        else:
            encoded = numeric_array(x, list(saved.feature_names), saved.target, notes)
            notes += array_notes(encoded, saved)
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        return self.trained.prepare(shaped(encoded, tuple(saved.input_shape), "x", flat_rows=by_name)), tuple(notes)

    @property
    def _takes_one_text(self) -> bool:
        """Whether the run's only input is one text column (a string is then a text)."""
        saved = self.trained.preprocessing
        return bool(saved.columns) and [c.kind for c in saved.columns.columns] == ["text"]

    def _file_samples(self, path: Path, unknown: str | None) -> tuple[np.ndarray, tuple[str, ...]]:
        """A CSV file's rows or an .npz archive's samples (its x, or the array the run's
        own archive named so), as ``nnrun predict`` reads them; notes printed alike."""
        saved = self.trained.preprocessing
        check_input_file(path)
        if path.suffix.lower() == ".npz":
            x = read_samples(path, saved, archive_names(self.config)[0])
            notes = tuple(array_notes(x, saved))
        else:
            rows = read_rows(path, saved, unknown=unknown)
            x, notes = shaped(rows.x, tuple(saved.input_shape), path, flat_rows=True), tuple(rows.notes)
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        return self.trained.prepare(x), notes

    def __getattr__(self, name: str):
        raise missing_attribute(name)  # only for a name the class lacks: Keras's get what does that here

    def __repr__(self) -> str:
        out = f"{len(self.classes)} classes" if self.classes else "regression"
        return f"<nnrun model '{self.config.name}': {tuple(self.trained.graph.input_shape)} -> {out}; {self.run_dir}>"


def _is_file(text: str) -> bool:
    """Whether a string names a file (a text too long for a file name names none)."""
    try:
        return Path(text).is_file()
    except OSError:
        return False


def _keyed_by_index(x, samples: int, saved) -> bool:
    """Whether ``x`` is pandas data whose index names the samples, which a prediction
    keeps: a DataFrame's rows, or a Series of one value per sample (a text model's texts),
    not a Series that is one row, indexed by the model's column names."""
    if type(x).__name__ == "DataFrame" and hasattr(x, "columns"):
        return len(x.index) == samples
    if type(x).__name__ != "Series" or len(getattr(x, "index", ())) != samples:
        return False
    columns = set(saved.column_names()) if saved.columns else set(saved.feature_names)
    return not set(map(str, x.index)) <= columns


def class_values(classes: list[str]) -> np.ndarray:
    """The class names as predictions give them: booleans for the classes False and True
    (trained on a column of booleans: the text 'False' would be true to Python); integers
    (int64) when every class is a whole number that fits one, as labels trained on as
    numbers come back; else text. ``nnrun serve`` answers with the same values."""
    if is_boolean(classes):
        return np.array([name.casefold() == "true" for name in classes])
    if all(re.fullmatch(r"-?\d+", name, re.ASCII) for name in classes):
        try:
            return np.array([int(name) for name in classes], np.int64)
        except OverflowError:  # a code of over 18 digits stays text
            pass
    return np.array(classes)
