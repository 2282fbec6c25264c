"""``nnrun predict``: a trained run's model on new samples from a CSV or NPZ file.

The input goes through exactly what training did, read from the run directory: the
column encoding (categories, fill values) and the preprocessing steps saved in
``preprocess.json``, then the weights in ``model.safetensors``. Nothing is refitted.
The output is a CSV file with one row per input row: ``prediction`` (a class name,
or a value for regression) and, with ``proba``, one ``proba_<class>`` column per class.
No row is left out: in a file of one column a blank line is a row with an empty cell,
and in a file of several columns a blank line between rows is refused, not skipped.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnrun.commands.file_format import check_written
from nnrun.commands.inputs import (archive_names, array_notes, check_input_file, check_unknown, read_rows,
                                   read_samples, shaped)
from nnrun.errors import UserError
from nnrun.commands.threshold import checked_threshold
from nnrun.model.metrics import predicted_labels
from nnrun.store import files
from nnrun.store.preprocessing import SavedPreprocessing
from nnrun.store.outputs import exported_model, output_of, record_of
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
            proba: bool = False, force: bool = False, keep: list[str] = (), written: dict | None = None,
            unknown: str | None = None, threshold: float | None = None) -> Prediction:
    """Predict every row of ``input_path``; writes ``output`` (default
    RUN_DIR/predictions.csv; ``"-"`` writes nothing, the caller prints ``text``). An
    existing different file is not replaced unless ``force``. ``keep`` columns (and
    the run's ``id`` columns) are copied in front, so each prediction keeps its key.
    ``written``: how a CSV input is written, where not as the training files were
    (see :func:`nnrun.commands.file_format.file_format`). ``unknown``: "ignore" encodes a
    category training never saw as all zeros (and says so), "error" refuses it; None
    keeps the run's ``data.source.unknown``. ``threshold``: of two classes, the
    probability above which the second is predicted (see :mod:`.threshold`)."""
    trained = TrainedRun.load(run_dir)
    source, saved = Path(input_path), trained.preprocessing
    threshold = checked_threshold(threshold, saved.task, saved.class_names)
    check_input_file(source)
    target = None if str(output) == STDOUT else Path(output) if output is not None else trained.run.predictions
    if target is not None:
        _check_not_kept(target, source)
    check_written(written or {}, source)
    check_unknown(unknown, saved, "--unknown", run_dir)
    if source.suffix.lower() == ".npz":
        if keep:
            raise UserError(f"{source}: --keep names CSV columns; an .npz input has none")
        x, kept, encoded, lines = read_samples(source, saved, archive_names(trained.config)[0]), {}, False, None
        notes = tuple(array_notes(x, saved))
    else:
        rows_in = read_rows(source, saved, keep=list(keep), lined_up=True, written=written, unknown=unknown)
        x = shaped(rows_in.x, tuple(saved.input_shape), source, flat_rows=True)
        kept, notes, lines = rows_in.kept, tuple(rows_in.notes), rows_in.lines
        encoded = True  # the file's features, a fresh matrix: preprocessed in place
    if proba and saved.task == "regression":
        notes += ("--proba adds a probability per class, and this run is a regression: its predictions are values, "
                  "written without probabilities",)
    header = _header(saved, proba, trained.output_width)
    twice = [name for name in kept if name in header]
    if twice:  # found before predicting: the output would hold that column twice
        hint = "rename that column in the input file, or leave it out of --keep" if twice[0] in keep else \
            "rename that column in the input file (the run's data.source.id copies it into the predictions)"
        raise UserError(f"{source}: the column '{twice[0]}' has the name of a column the predictions are written "
                        f"in ({', '.join(header)}), so the output would hold it twice", hint=hint)
    outputs = trained.outputs(trained.prepare(x, owned=encoded, source=str(source), lines=lines), str(source), lines)
    columns = _columns(outputs, saved, proba, threshold)
    if kept:
        header = [*kept, *header]
        columns = [[str(cell) for cell in cells] for cells in kept.values()] + columns
    text = _csv_text(header, columns)
    if target is not None:
        # The default file may hold another input's predictions: name a file for these.
        own = trained.run.path / f"predictions-{source.stem}.csv"
        elsewhere = f", or write these to a file of their own: -o {own}" if output is None else \
            ", or choose another file with -o"
        try:
            files.write_output(target, text.encode(), force, what="the predictions", other=elsewhere)
        except OSError as exc:  # a run kept where it cannot be written (a read-only archive, another user's)
            if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
            raise UserError(f"{target}: cannot write the predictions ({exc.strerror})",
                            hint="give -o FILE in a folder you can write to, or -o - to print them") from None
    rows = len(outputs)
    return Prediction(target, rows, header, text, trained.weights_note, notes)


def _check_not_kept(target: Path, source: Path) -> None:
    """Refuse an output file that is the input itself or part of a run's record: no
    --force replaces those, since nothing could be predicted, evaluated or resumed after."""
    if target.exists() and source.exists() and os.path.samefile(target, source):  # a link to it too
        raise UserError(f"{target}: is the input file; nnrun does not write predictions over the data they come from",
                        hint="choose another file with -o")
    run = record_of(target)
    if run is not None:
        raise UserError(f"{target}: is part of the run {run} (its weights, config or records); nnrun never "
                        "writes predictions over it, --force or not", hint="choose another file with -o, e.g. "
                        f"-o {run / 'predictions.csv'}")
    if (model := exported_model(target)) is not None:
        raise UserError(f"{target}: is {'the model card of ' if target.suffix.lower() == '.json' else ''}the ONNX "
                        f"model {model} that nnrun export wrote; nnrun never writes predictions over it, --force or "
                        "not", hint="choose another file with -o, e.g. -o predictions.csv")
    output = output_of(target)
    if output is not None and output[1] != "predict":
        raise UserError(f"{target}: is where nnrun {output[1]} writes for the run {output[0]}; nnrun never writes "
                        "predictions there, --force or not", hint="choose another file with -o, e.g. "
                        f"-o {output[0] / 'predictions.csv'}")


def _header(saved: SavedPreprocessing, proba: bool, width: int) -> list[str]:
    """The names of the prediction columns: ``prediction`` (one per output of several
    regression outputs, see SavedPreprocessing.value_columns), and with ``proba`` one
    ``proba_<class>`` per class."""
    if saved.task != "classification":
        return saved.value_columns(width)
    return ["prediction", *([f"proba_{c}" for c in saved.class_names] if proba else [])]


def _columns(outputs: np.ndarray, saved: SavedPreprocessing, proba: bool,
             threshold: float | None = None) -> list[list[str]]:
    """The prediction columns (each a list of cells), in :func:`_header`'s order."""
    if saved.task != "classification":
        flat = outputs.reshape(len(outputs), -1)
        if flat.dtype == np.float32:  # the shortest text that reads back as the same float32: 3.6332452, not
            return [_positional(column.astype(str).tolist(), column) for column in flat.T]  # 3.6332452297210693
        return [list(map(repr, column)) for column in flat.T.astype(np.float64).tolist()]
    classes = saved.class_names
    columns = [[classes[i] for i in predicted_labels(outputs, threshold).tolist()]]
    if proba:
        probs = np.concatenate([1 - outputs, outputs], axis=1) if outputs.shape[-1] == 1 else outputs
        columns += [[f"{p:.6f}" for p in column] for column in probs.T.tolist()]
    return columns


def _positional(cells: list[str], values: np.ndarray) -> list[str]:
    """``cells`` with the large numbers NumPy writes with an exponent (1.1126335e+06, a
    price) written out (1112633.5), as a spreadsheet shows them; still the shortest text
    that reads back as the same float32."""
    for i, cell in enumerate(cells):
        if "e+" in cell:
            cells[i] = np.format_float_positional(values[i], unique=True, trim="-")
    return cells


def _csv_text(header: list[str], columns: list[list[str]]) -> str:
    """CSV text, as ``csv.writer`` writes it (a cell quoted only when it holds a comma,
    a quote or a line break), built column by column: a column with none of those
    characters anywhere is joined as it is, which for a large file is most of the time."""
    rows = "\n".join(map(",".join, zip(*map(_escaped, columns))))  # no list, no added string per row
    return ",".join(_escaped(header)) + "\n" + (rows + "\n" if columns and columns[0] else "")


def _escaped(cells: list[str]) -> list[str]:
    joined = "".join(cells)
    if not any(special in joined for special in SPECIAL):
        return cells
    return [f'"{c.replace(chr(34), chr(34) * 2)}"' if any(s in c for s in SPECIAL) else c for c in cells]


SPECIAL = (",", '"', "\r", "\n")  # what makes csv.writer quote a cell
