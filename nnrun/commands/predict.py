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

from nnrun.store import rundir
from nnrun.data.base import check_regression_target, tidy_label
from nnrun.data.formats import read_npz
from nnrun.data.preprocess import apply_pipeline
from nnrun.data.table import build_table, encode_columns, read_csv
from nnrun.errors import UserError, did_you_mean
from nnrun.model.metrics import predicted_labels
from nnrun.store.preprocessing import check_outputs, read_preprocessing


@dataclass(frozen=True)
class Prediction:
    output: Path
    rows: int
    header: list[str]


def predict(run_dir: str | Path, input_path: str | Path, output: str | Path | None = None,
            proba: bool = False) -> Prediction:
    """Predict every row of ``input_path``; writes ``output`` (default
    RUN_DIR/predictions.csv)."""
    path, config, saved, graph = load_model(run_dir)
    x = apply_pipeline(config.data.preprocess, saved["states"], read_samples(Path(input_path), saved))
    outputs = graph.predict(x)
    header, rows = _table(outputs, saved, proba)
    target = Path(output) if output is not None else path / "predictions.csv"
    _write_csv(target, header, rows)
    return Prediction(target, len(rows), header)


def load_model(run_dir: str | Path):
    """A run's config, saved preprocessing and trained graph, without its training
    data: ``(path, config, saved preprocessing, graph)``."""
    from nnrun.config import load_config
    from nnrun.model.graph import compile_graph
    from nnrun.seeding import stream

    path = rundir.open_existing(run_dir)
    config = load_config(path / "config.yaml").config
    saved = read_preprocessing(path, config)
    shape = tuple(saved["input_shape"])
    graph = compile_graph(config.model.layers, shape, config.loss, rng=stream(config.seed, "init"))
    check_outputs(path, saved, int(np.prod(graph.output_shape)))
    weights = rundir.load_weights(path / "model.safetensors", like=graph.state())  # untrusted: checked first
    graph.load_state(weights, str(path / "model.safetensors"))
    return path, config, saved, graph


def read_labelled(source: Path, saved: dict, outputs: int) -> tuple[np.ndarray, np.ndarray]:
    """Samples and targets from a CSV file with the training columns and the target
    column, or an NPZ archive with arrays ``x`` and ``y``; class labels become the
    training's class indices. ``outputs`` is the model's output width."""
    if source.suffix.lower() == ".npz":
        arrays = read_npz(source, ["y"])
        if "y" not in arrays:
            raise UserError(f"{source}: no array named 'y' with the targets; save them as y")
        x, y = read_samples(source, saved), arrays["y"]
        if len(x) != len(y):
            raise UserError(f"{source}: x has {len(x)} samples but y has {len(y)}; give one target per sample")
        return x, _targets(y, saved, source, None, outputs)
    header, _, _ = read_csv(source)
    target = saved.get("target") or _target_column(header, saved, source)
    if target not in header:
        raise UserError(f"{source}: no target column '{target}'; scoring needs the true values",
                        hint="`nnrun predict` makes predictions for data without targets")
    _, rows, lines = read_csv(source)
    column = header.index(target)
    labels = np.array([row[column].strip() for row in rows])
    return read_samples(source, saved, target), _targets(labels, saved, source, lines, outputs)


def _target_column(header: list[str], saved: dict, source: Path) -> str:
    """For data sets that did not name their target: the one column that is no feature."""
    names = [c["name"] for c in saved["columns"]["columns"]] if saved.get("columns") else saved["feature_names"]
    others = [h for h in header if h not in names]
    if len(others) != 1:
        raise UserError(f"{source}: cannot tell which column holds the targets "
                        f"({'none' if not others else ', '.join(others)} besides the features)")
    return others[0]


def _targets(values: np.ndarray, saved: dict, source: Path, lines, outputs: int) -> np.ndarray:
    """Float targets for a regressor; class indices (by the training's class names) for
    a classifier, from labels or from one-hot rows."""
    if len(values) == 0:
        raise UserError(f"{source}: no samples to score")
    if saved["task"] == "regression":
        targets = check_regression_target(values, str(source))
        if int(np.prod(targets.shape[1:])) != outputs:
            raise UserError(f"{source}: targets of shape {targets.shape[1:]}, but the model has {outputs} outputs")
        return targets
    classes = saved["class_names"]
    if values.ndim == 2 and values.shape[1] > 1:  # one-hot (or probability) rows
        if values.shape[1] != len(classes) or not np.issubdtype(values.dtype, np.number):
            raise UserError(f"{source}: one-hot targets need {len(classes)} numeric columns, got {values.shape[1]}")
        return values.argmax(axis=1).astype(np.int64)
    index = {name: i for i, name in enumerate(classes)}
    if np.issubdtype(values.dtype, np.number) and np.all(values == np.round(values)):
        values = values.astype(np.int64)  # 2.0 is the label "2"
        named = all(str(v) in index for v in values.reshape(-1))
        if not named and values.size and values.min() >= 0 and values.max() < len(classes):
            return values.reshape(-1)  # class indices, in the order of the class names
    labels = [tidy_label(str(v)) for v in values.reshape(-1)]  # as training read them: "2.0" is "2"
    unknown = next((i for i, label in enumerate(labels) if label not in index), None)
    if unknown is not None:
        where = f"line {lines[unknown]}" if lines is not None else f"row {unknown}"
        raise UserError(f"{source}, {where}: unknown class '{labels[unknown]}'; the model knows "
                        f"{', '.join(classes)}")
    return np.array([index[label] for label in labels], np.int64)


def read_samples(source: Path, saved: dict, target: str | None = None) -> np.ndarray:
    """Float32 samples (N, *input_shape) from a CSV file (by column name; the
    ``target`` column, if there, is left out) or an NPZ archive (array ``x``)."""
    if source.suffix.lower() == ".npz":
        if saved.get("columns"):
            raise UserError(f"{source}: this model was trained on CSV columns; give a CSV file with them")
        arrays = read_npz(source, ["x"])
        if "x" not in arrays:
            raise UserError(f"{source}: no array named 'x'; save the samples as x (numpy.savez(path, x=...))")
        x = arrays["x"]
        if not np.issubdtype(x.dtype, np.number):
            raise UserError(f"{source}: 'x' must be a numeric array, got {x.dtype}")
        x = x.astype(np.float32)
    else:
        x = _csv_samples(source, saved, target or saved.get("target"))
    return _shaped(x, tuple(saved["input_shape"]), source)


def _csv_samples(source: Path, saved: dict, target: str | None) -> np.ndarray:
    header, rows, lines = read_csv(source)
    columns = saved.get("columns")
    if columns:
        names = [c["name"] for c in columns["columns"]]
        categorical = [c["name"] for c in columns["columns"] if c["kind"] == "categorical"]
    else:
        names, categorical = saved["feature_names"], []
    check_input_columns(header, names, target, str(source))
    table = build_table(str(source), header, rows, names, categorical, lines)
    if columns:
        return encode_columns(table, columns, unseen="error")
    missing = np.isnan(table.numeric)
    if missing.any():
        row, col = np.argwhere(missing)[0]
        raise UserError(f"{source}, line {lines[row]}, column '{names[col]}': missing value",
                        hint="the model was trained without missing values; fill the cell in")
    return table.numeric.astype(np.float32)


def check_input_columns(header: list[str], names: list[str], target: str | None, origin: str) -> None:
    """The input must have the training columns; the target column may be present."""
    absent = [n for n in names if n not in header]
    extra = [h for h in header if h not in names and h != target]
    if not absent and not extra:
        return
    lines = [f"{origin}: the columns do not match the ones the model was trained on"]
    if absent:
        lines.append(f"  missing: {', '.join(repr(n) for n in absent)}")
    for name in extra:
        close = did_you_mean(name, absent, "the columns are") if absent else ""
        lines.append(f"  unexpected column '{name}'{close if 'did you mean' in close else ''}")
    raise UserError("\n".join(lines), hint=f"the training columns are: {', '.join(names)}")


def _shaped(x: np.ndarray, shape: tuple[int, ...], source: Path) -> np.ndarray:
    """Flat rows become images again (row-major, as the bundled digits are stored)."""
    if x.shape[1:] == shape:
        return x
    if x.ndim >= 2 and int(np.prod(x.shape[1:])) == int(np.prod(shape)):
        return x.reshape((len(x), *shape))
    raise UserError(f"{source}: samples of shape {x.shape[1:]}, but the model takes {shape}")


def _table(outputs: np.ndarray, saved: dict, proba: bool) -> tuple[list[str], list[list]]:
    if saved["task"] != "classification":
        flat = outputs.reshape(len(outputs), -1)
        header = ["prediction"] if flat.shape[1] == 1 else [f"prediction_{i}" for i in range(flat.shape[1])]
        return header, [[repr(float(v)) for v in row] for row in flat]
    classes = saved["class_names"]
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
    rundir.atomic_write(target, buffer.getvalue().encode())
