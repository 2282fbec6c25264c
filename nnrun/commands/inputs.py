"""New data for a trained run: samples (and targets) read the way training read them.

``predict`` and ``evaluate --data`` read CSV files by column name, through the run's
saved column encoding (categories, fill values), or NPZ archives (``x``, ``y``); class
labels become the training's class indices. Nothing is refitted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnrun.commands.file_format import check_written
from nnrun.data.base import check_regression_target
from nnrun.data.cells import class_index, is_boolean, tidy_label
from nnrun.data.columns import accept_columns
from nnrun.data.csvheader import read_header
from nnrun.data.formats import npz_keys, read_npz
from nnrun.data.inputs import InputRows, read_input, reading_encoding
from nnrun.data.labels import written_as
from nnrun.data.ranges import sample_notes
from nnrun.data.files import not_one_hot
from nnrun.data.table import is_missing
from nnrun.errors import UserError, listed_samples
from nnrun.store.preprocessing import SavedPreprocessing
from nnrun.store.trained import non_finite_samples


def check_unknown(unknown: str | None, saved: SavedPreprocessing, option: str, run_dir) -> None:
    """Refuse an ``unknown`` ("ignore" or "error", for categories training never saw)
    that is neither, or given for a run with no categorical column to apply it to;
    ``option`` names it as the user gave it (--unknown, unknown)."""
    if unknown not in (None, "ignore", "error"):
        raise UserError(f"{option}: expected ignore or error, got {unknown!r}")
    if unknown is not None and not any(c.kind == "categorical" for c in (saved.columns.columns if saved.columns
                                                                         else [])):
        raise UserError(f"{option}: is for a run trained on categorical CSV columns; {run_dir} has none")


def read_labelled(source: Path, saved: SavedPreprocessing, outputs: int, written: dict | None = None,
                  unknown: str | None = None, names: tuple[str, str] = ("x", "y")
                  ) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray | None]:
    """Samples, targets, notes (columns left out, unseen categories) and each sample's
    file line (None for an archive) from a CSV file with the training columns and the
    target column, or an NPZ archive with arrays ``x`` and ``y`` (or the ``names`` the
    run's own archive gave them, see :func:`archive_names`); class labels become the
    training's class indices.
    ``outputs`` is the model's output width; ``written``: see :func:`.file_format.file_format`;
    ``unknown``: see :func:`read_rows`."""
    check_input_file(source, labelled=True)
    check_written(written or {}, source)
    if source.suffix.lower() == ".npz":
        y = _array(source, [names[1], "y"], "the targets")
        x = read_samples(source, saved, names[0])
        if len(x) != len(y):
            raise UserError(f"{source}: x has {len(x)} samples but y has {len(y)}; give one target per sample")
        return x, target_values(y, saved, source, None, outputs), array_notes(x, saved), None
    file = {**(saved.encoding() or {}), **(written or {})}  # the run's training files', where not given
    trained = (saved.encoding() or {}).get("text_encoding", "utf-8")
    header = read_header(source, delimiter=file.get("delimiter", ","), setting=None, decimal=file.get("decimal", "."),
                         text_encoding=reading_encoding(source, trained, (written or {}).get("text_encoding")))
    target = _target_column(header, saved, source, outputs)
    rows = read_rows(source, saved, target=target, written=written, unknown=unknown)
    if len(rows.target) == 0:
        raise UserError(f"{source}: no samples to score")
    return shaped(rows.x, tuple(saved.input_shape), source, flat_rows=True), rows.target, list(rows.notes), rows.lines


def read_rows(source: Path, saved: SavedPreprocessing, keep: list[str] = (), target: str | list[str] | None = None,
              lined_up: bool = False, written: dict | None = None, unknown: str | None = None) -> InputRows:
    """A CSV file's rows for the run (see :func:`nnrun.data.inputs.read_input`); the
    ``target`` column, when named, as numbers or class indices; ``lined_up`` when each
    input row gets an output row; ``written``: see :func:`.file_format.file_format`; ``unknown``
    ("error" or "ignore") in place of the run's rule for categories it never saw."""
    classes = list(saved.class_names) if saved.task != "regression" else None
    encoding = saved.encoding()
    if unknown is not None and encoding:
        encoding = {**encoding, "unknown": unknown}
    return read_input(source, encoding, list(saved.feature_names), saved.target_columns, keep, target, classes,
                      lined_up, written, saved.feature_ranges, tuple(saved.input_shape))


def array_notes(x: np.ndarray, saved: SavedPreprocessing, place: str = "row") -> list[str]:
    """The notes on samples of a run without a column encoding, given as arrays (an
    ``.npz`` archive, arrays in Python, a served request): see :func:`.ranges.sample_notes`."""
    if saved.columns:
        return []
    flat = x.reshape(len(x), int(np.prod(x.shape[1:])))  # -1 cannot be told for no rows
    return sample_notes(flat, list(saved.feature_names), saved.feature_ranges, tuple(saved.input_shape),
                        range(len(flat)), place)


def _target_column(header: list[str], saved: SavedPreprocessing, source: Path, outputs: int) -> str | list[str]:
    """The run's target column (its columns, of several named targets); for data sets
    that did not name theirs, the one column that is no feature (a file without the
    features is another data set's)."""
    names = saved.column_names()
    others = [h for h in header if h not in names]
    # The features first, told as predict tells them (a misspelt one named): without them nothing is scored.
    try:
        unnamed = not saved.columns and names == [f"x{i}" for i in range(len(names))]  # arrays without names
        accept_columns(header, names, str(source), unnamed=unnamed, shape=tuple(saved.input_shape))
    except UserError as missing:  # scoring needs the true values too
        targets = saved.target_columns
        missing.hint = f"{missing.hint}; and the target{'s' * (len(targets) != 1)} beside them" + \
            (f" ({', '.join(targets)})" if targets else "")
        raise
    if saved.target_names:
        return list(saved.target_names)
    if saved.target:
        return saved.target
    if saved.task == "regression" and outputs != 1:  # several targets, trained from arrays without names
        raise UserError(f"{source}: the model predicts {outputs} targets, which its training data did not name, so "
                        "a file's columns cannot say which is which", hint="score an .npz archive with arrays x and "
                        "y (samples, targets) instead")
    if len(others) != 1:
        raise UserError(f"{source}: cannot tell which column holds the targets "
                        f"({'none' if not others else ', '.join(others)} besides the features)",
                        hint="the file needs the run's feature columns and exactly one more, the target")
    return others[0]


def target_values(values: np.ndarray, saved: SavedPreprocessing, source: Path, lines, outputs: int) -> np.ndarray:
    """Float targets for a regressor; class indices (by the training's class names) for
    a classifier, from labels or one-hot rows (column j: the class training named j)."""
    if len(values) == 0:
        raise UserError(f"{source}: no samples to score")
    if saved.task == "regression":
        targets = check_regression_target(values, str(source))
        if int(np.prod(targets.shape[1:])) != outputs:
            raise UserError(f"{source}: {'one target' if targets.ndim == 1 else f'targets of shape {targets.shape[1:]}'}"
                            f" per sample, but the model has {outputs} outputs",
                            hint=f"give the targets as (samples, {outputs}), one column per output")
        return targets
    classes = saved.class_names
    if values.dtype == bool and values.ndim == 2:  # pd.get_dummies(labels).to_numpy(): True and False are 1 and 0
        values = values.astype(np.int8)
    if values.ndim == 2 and values.shape[1] > 1:  # one-hot rows
        if values.shape[1] != len(classes) or not np.issubdtype(values.dtype, np.number):
            raise UserError(f"{source}: one-hot targets need {len(classes)} numeric columns, got {values.shape[1]}")
        bad = not_one_hot(values)
        if len(bad):
            where = f"line {lines[bad[0]]}" if lines is not None else f"row {bad[0]}"
            raise UserError(f"{source}, {where}: targets of {len(classes)} columns must be one-hot rows (one 1, the "
                            f"rest 0), as training takes them ({len(bad)} row{'s are' if len(bad) > 1 else ' is'} "
                            "not)", hint="give each target as its class (a name or an index), or as a one-hot row")
        named = sorted(classes) == sorted(str(j) for j in range(len(classes)))  # data.classes may have moved j
        return (np.array([classes.index(str(j)) for j in range(len(classes))]) if named else
                np.arange(len(classes)))[values.argmax(axis=1)].astype(np.int64)
    index = class_index(classes)
    # Whole numbers are the classes' positions only where no class is named by a number:
    # for classes 1, 2, 3 the target 2 is the class "2" whichever other targets come with it.
    # Of the classes False and True, True and 1 name True, whatever order data.classes gave them.
    numbered = any(name.lstrip("-").isdigit() for name in classes) or is_boolean(classes)
    if values.dtype == bool and not is_boolean(classes):
        values = values.astype(np.int64)  # True and False are 1 and 0, as booleans are in the features
    if np.issubdtype(values.dtype, np.number) and np.all(values == np.round(values)):
        values = values.astype(np.int64)  # 2.0 is the label "2"
        if not numbered and values.size and values.min() >= 0 and values.max() < len(classes):
            return values.reshape(-1)  # class indices, in the order of the class names
        if not numbered and values.size:  # positions, one out of range: that one is the mistake
            flat = values.reshape(-1)
            bad = int(np.flatnonzero((flat < 0) | (flat >= len(classes)))[0])
            where = f"line {lines[bad]}" if lines is not None else f"row {bad}"
            raise UserError(f"{source}, {where}: class index {flat[bad]} is out of range: the model has "
                            f"{len(classes)} classes, 0 to {len(classes) - 1} ({', '.join(classes)})",
                            hint="give each target as a class index from 0, or as the class's name")
    flat = values.reshape(-1)
    gaps = [i for i, v in enumerate(flat.tolist()) if is_missing(v)]  # None, NaN, pandas' NA
    if gaps:
        where = f"line {lines[gaps[0]]}" if lines is not None else f"row {gaps[0]}"
        raise UserError(f"{source}, {where}: missing target ({len(gaps)} in all); every sample scored needs its "
                        "class", hint="drop the samples without a target, or fill them in")
    labels = [tidy_label(str(v)) for v in flat]  # as training read them: "2.0" is "2"
    unknown = next((i for i, label in enumerate(labels) if label not in index), None)
    if unknown is not None:
        where = f"line {lines[unknown]}" if lines is not None else f"row {unknown}"
        # Said only of a number: a text label is no position whatever the classes are named.
        number = labels[unknown].lstrip("-").replace(".", "", 1).isdigit()
        raise UserError(f"{source}, {where}: unknown class '{labels[unknown]}'; the model knows "
                        f"{', '.join(classes)}", hint="targets that are numbers are class names here, not "
                        "positions, since the classes are named by numbers" if numbered and number else
                        written_as([labels[unknown]], classes))
    return np.array([index[label] for label in labels], np.int64)


def archive_names(config) -> tuple[str, str]:
    """The names of the samples and targets arrays in the run's own NPZ archive
    (``data.source.x`` and ``y``), which new archives for it may use as well as x and y."""
    source = config.data.source
    return (source.x, source.y) if source.type == "npz" else ("x", "y")


def _array(source: Path, names: list[str], what: str) -> np.ndarray:
    """The first of ``names`` an archive holds."""
    names = list(dict.fromkeys(names))
    arrays = read_npz(source, names)
    found = next((name for name in names if name in arrays), None)
    if found is None:
        named = " or ".join(repr(n) for n in names)
        held = ", ".join(npz_keys(source)) or "none"
        raise UserError(f"{source}: no array named {named} with {what} (the archive holds: {held}); save them under "
                        f"{names[-1]!r} (numpy.savez(path, {names[-1]}=...))")
    return arrays[found]


def read_samples(source: Path, saved: SavedPreprocessing, name: str = "x") -> np.ndarray:
    """Float32 samples (N, *input_shape) from an NPZ archive (array ``name``, else
    ``x``), or from a CSV file by column name (:func:`read_rows`)."""
    if source.suffix.lower() != ".npz":
        return shaped(read_rows(source, saved).x, tuple(saved.input_shape), source, flat_rows=True)
    if saved.columns:
        raise UserError(f"{source}: this model was trained on CSV columns; give a CSV file with them")
    x = _array(source, [name, "x"], "the samples")
    if not np.issubdtype(x.dtype, np.number):
        raise UserError(f"{source}: the samples must be a numeric array, got {x.dtype}")
    with np.errstate(over="ignore"):  # a value beyond float32 becomes infinite, and is refused as one
        x = x.astype(np.float32)
    return shaped(x, tuple(saved.input_shape), source)


def shaped(x: np.ndarray, shape: tuple[int, ...], source: Path, flat_rows: bool = False) -> np.ndarray:
    """Samples of the model's input shape, every value finite. With ``flat_rows`` (a
    CSV file's columns, which can only be flat) rows of the right size become images
    again (row-major, as the bundled digits are stored). Arrays must have the shape
    itself: (3, 4, 16) for (8, 8, 1) holds the right count of values in another
    layout, and reshaping it would predict on scrambled pixels."""
    if x.shape[1:] != shape:
        flat = x.ndim == 2 and x.shape[1] == int(np.prod(shape))
        if not (flat_rows and flat):
            raise UserError(f"{source}: samples of shape {x.shape[1:]}, but the model takes {shape}",
                            hint=_shape_hint(x.shape, shape))
        x = x.reshape((len(x), *shape))
    _check_finite_samples(x, source)
    return x


def _shape_hint(given: tuple[int, ...], shape: tuple[int, ...]) -> str | None:
    """What a wrong shape most often is: one sample without its batch axis, or
    sequences of another length than training's; ``given`` includes the batch axis."""
    if given == shape:
        dims = ", ".join(map(str, shape))
        return f"that is one sample: give it with a batch axis, shape (1, {dims}) (x[None] in NumPy)"
    if len(shape) == 2 and len(given) == 3 and given[2] == shape[1]:
        return (f"the model reads sequences of {shape[0]} steps, as it trained on; cut or pad each one to "
                f"{shape[0]} steps")
    if shape[-1:] == (1,) and given[1:] == shape[:-1]:  # images without their channel axis, as Keras users slip
        return f"add the channel axis: shape ({given[0]}, {', '.join(map(str, shape))}) (x[..., None] in NumPy)"
    if given[1:] == (*shape, 1):  # a channel axis the model's own data had not (init's reshape adds it)
        return f"drop the channel axis: shape ({given[0]}, {', '.join(map(str, shape))}) (x[..., 0] in NumPy)"
    if len(shape) == 3 and given[1:] == (shape[2], shape[0], shape[1]):  # PyTorch's layout
        return "these are channels first, (channels, height, width); the model takes channels last: " \
               "x.transpose(0, 2, 3, 1)"
    if len(given) == 2 and len(shape) > 1 and given[1] == int(np.prod(shape)):  # each sample flattened
        return f"if each row is a sample's values flat, in row-major order: x.reshape(len(x), " \
               f"{', '.join(map(str, shape))})"
    if len(shape) == 2 and given[1:] == shape[::-1]:  # (features, steps) for (steps, features)
        return f"these are (features, steps); the model reads {shape[0]} steps of {shape[1]} features: " \
               "x.transpose(0, 2, 1)"
    if len(given) == len(shape) + 1 and given[1:-1] == shape[:-1]:  # another count on the last axis
        what = "features a step" if len(shape) == 2 else "channels" if len(shape) == 3 else "features"
        return f"the model trained on {shape[-1]} {what}, and these have {given[-1]}: give the same {what}, in the " \
               "order training had them"
    return None


def _check_finite_samples(x: np.ndarray, source) -> None:
    """A NaN or an infinity in a sample makes its outputs NaN, and the class read off
    them meaningless: such samples are refused, all named at once (a CSV file's cells
    are checked as they are read; arrays are checked here)."""
    bad = non_finite_samples(x)
    if not len(bad):
        return
    # 1e39 is finite, but beyond float32 it is infinite by the time it is checked here.
    raise UserError(f"{source}: {len(bad)} sample{'s hold' if len(bad) != 1 else ' holds'} NaN, infinity or a number "
                    f"beyond float32's range, 3.4e38 ({listed_samples(bad)}, counted from 0); the model needs a "
                    "finite number in every input", hint="fill or drop those samples before predicting")


def check_input_file(source: Path, labelled: bool = False) -> None:
    """``predict`` and ``evaluate --data`` (``labelled``) read a CSV file or an NPZ
    archive; a config given in their place is said to be one, not read as a CSV file
    with odd columns."""
    if source.suffix.lower() in (".yaml", ".yml", ".json"):
        wanted = "the training columns and the target, or an .npz archive with arrays x and y" if labelled else \
            "the training columns, or an .npz archive with an array x"
        usage = "nnrun evaluate RUN_DIR --data DATA.csv" if labelled else "nnrun predict RUN_DIR DATA.csv"
        raise UserError(f"{source}: a {source.suffix[1:].upper()} file, not data; give a CSV file with {wanted}",
                        hint=f"the run's own config is used already: {usage}")
