"""New rows for a trained model: a CSV file read with the run's saved column encoding.

``nnrun predict`` and ``nnrun evaluate --data`` read their file here. Columns are
accepted by :func:`.columns.accept_columns` (features required; target, ID, ignored
and kept columns allowed; anything else left out with one note), cells are read as
in training (same delimiter, missing markers and number format), and every bad cell of
the file is reported in one error. Nothing is refitted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nnrun.errors import UserError, closest, did_you_mean
from nnrun.data.cells import class_index, markers, tidy_label
from nnrun.data.coded import coded_cells, coded_matches
from nnrun.data.columns import accept_columns, extra_note
from nnrun.data.csvfile import read_columns
from nnrun.data.csvheader import read_header, starts_utf8_bom
from nnrun.data.reading import current_progress
from nnrun.data.problems import DataProblems
from nnrun.data.encoding import encode_columns, unseen_categories
from nnrun.data.features import encoded_names
from nnrun.data.labels import known_class_hint
from nnrun.data.ranges import mostly_far, range_notes, sample_notes
from nnrun.data.table import collect_missing, columns_with_gaps, table_from


@dataclass
class InputRows:
    """``x`` (N, F) float32 encoded features; ``kept`` column -> (N,) text of the
    columns to copy into the output; ``target`` (N,) raw target cells if asked for;
    ``notes``: one line each about what was left out or encoded as unknown."""

    x: np.ndarray
    kept: dict[str, np.ndarray] = field(default_factory=dict)
    target: np.ndarray | None = None
    lines: np.ndarray | None = None  # (N,) the file line of each row
    notes: list[str] = field(default_factory=list)


def reading_encoding(path: Path, trained: str, given: str | None = None) -> str:
    """The text encoding a run's new file is read in: ``given`` (``--encoding``), else
    the run's training files' (``trained``), unless the file starts with a UTF-8 byte
    order mark, which settles it (newer Excel's "CSV UTF-8" of a file trained as cp1252)."""
    if given is not None:
        return given
    return "utf-8" if trained != "utf-8" and starts_utf8_bom(path) else trained


def read_input(path: Path, encoding: dict | None, features: list[str], target_columns: list[str] = (),
               keep: list[str] = (), target: str | list[str] | None = None, classes: list[str] | None = None,
               lined_up: bool = False, written: dict | None = None, ranges: list | None = None,
               input_shape: tuple = ()) -> InputRows:
    """Read ``path`` for a run whose saved column ``encoding`` is given (None for a
    model trained on arrays: ``features`` are then plain number columns).
    ``target_columns`` (the run's) may be present and are left out; ``keep`` names columns to copy
    through (the run's ID columns are kept too when present); ``target`` names the
    column of true values (``evaluate --data``; several names: a regression's several
    targets, (N, K)), required then: read as numbers for a
    regression, or as labels of the training's ``classes`` (their indices); its empty
    cells and unknown labels are bad cells like any other. ``lined_up`` (predict: one
    output row per input row) refuses blank lines between the rows of a file of several
    columns, which training and scoring skip (see :func:`_refuse_blank_lines`).
    ``written`` (delimiter, decimal, text_encoding, thousands: "" for none) reads a
    file written otherwise than the run's training files. ``ranges``: each feature's
    training range, for a run without a column encoding, whose samples are of
    ``input_shape`` (see :func:`.ranges.sample_notes`)."""
    state = encoding or {}
    names = [c["name"] for c in state["columns"]] if state else list(features)
    strings = [c["name"] for c in state.get("columns", []) if c["kind"] != "numeric"]
    given, written = written or {}, {**state, **(written or {})}
    delimiter, decimal = written.get("delimiter", ","), written.get("decimal", ".")
    text_encoding = reading_encoding(path, state.get("text_encoding", "utf-8"), given.get("text_encoding"))
    if given.get("thousands") == decimal == ",":  # a point may group thousands of whole numbers; a comma not
        raise UserError("--thousands ',': the file is read with ',' as its decimal mark, as the run's training files "
                        "were", hint="give the file's decimal mark as well: --decimal '.'")
    thousands = written.get("thousands") or None  # "" is --thousands none
    if "thousands" not in given and "decimal" in given and thousands == decimal:
        thousands = None  # --decimal '.' for a run that grouped thousands with points: no longer a separator
    header = read_header(path, delimiter=delimiter, setting=None, decimal=decimal, text_encoding=text_encoding)
    absent = [c for c in keep if c not in header]
    if absent:
        raise UserError(f"{path}: no column '{absent[0]}' to keep{did_you_mean(absent[0], header, 'the columns are')}")
    targets = [target] if isinstance(target, str) else list(target or [])
    for name in (t for t in targets if t not in header):
        others = [c for c in header if c not in names]
        near = closest(name, others)
        raise UserError(f"{path}: no target column '{name}'; scoring needs the true values",
                        hint=f"the file has a column '{near}': name it '{name}', as the training data did"
                        if near else "`nnrun predict` makes predictions for data without targets")
    kept = list(dict.fromkeys([*[c for c in state.get("ids", []) if c in header], *keep]))
    allowed = [*target_columns, *targets, *state.get("ids", []), *state.get("ignored", []), *kept]
    unnamed = not state and names == [f"x{i}" for i in range(len(names))]  # arrays without column names
    extra = accept_columns(header, names, str(path), allowed, unnamed, tuple(input_shape or ()))
    numbers = [n for n in names if n not in strings]
    numeric = [t for t in targets if t not in names] if classes is None else []
    texts = list(dict.fromkeys([*strings, *[c for c in kept if c not in numbers],
                                *[t for t in targets if t not in names and t not in numeric]]))
    problems = DataProblems(str(path), scoring=True, columns=header, options=True, target=targets)
    columns = read_columns(path, header, [*numbers, *numeric], texts, problems, thousands, current_progress(path),
                           delimiter, decimal, text_encoding, markers(state.get("missing_values", ())),
                           tuple(state.get("strip_signs", ())))
    if lined_up:
        _refuse_blank_lines(columns, problems, delimiter)
    rows = InputRows(np.empty(0), notes=[n for n in [extra_note(extra)] if n], lines=columns.lines)
    rows.kept = {c: _as_text(columns, c) for c in kept}
    if again := [c for c in kept if c in numbers]:  # copied as the file writes them ("1,234,567.891"), not as read
        texts_of = read_columns(path, header, [], again, DataProblems(str(path), scoring=True, columns=header),
                                None, None, delimiter, decimal, text_encoding)
        rows.kept.update({c: texts_of.text(c) for c in again})
    if targets:
        found = [_targets(columns, name, classes, problems) for name in targets]
        rows.target = found[0] if isinstance(target, str) else np.column_stack(found)
    table = table_from(str(path), columns, names, strings)
    unknown = state.get("unknown", "error")
    if state:
        filled = filled_notes(table, state)  # counted before the encoding fills the cells
        rows.x = encode_columns(table, state, unseen=unknown, problems=problems)
        rows.notes += encoded_notes(table, state, rows.x, filled, unknown)
    else:
        collect_missing(table, problems, hint="the model was trained without missing values; fill the cell in")
        rows.x = table.numeric
        rows.notes += sample_notes(table.numeric, names, ranges, input_shape, table.lines, table.place, options=True)
    problems.raise_if_any()
    return rows


def _refuse_blank_lines(columns, problems: DataProblems, delimiter: str) -> None:
    """A blank line in a file of several columns holds no cells, so it is no row (in a
    file of one column it is a row with an empty cell); training skips it. Predictions
    are read against the input's lines, though (a spreadsheet shows the blank line as an
    empty row), and one skipped line would shift every prediction below it: such lines
    are refused, not skipped. Blank lines after the last row shift nothing and are left."""
    last = columns.lines.max(initial=0)
    width = len(columns.header)
    name = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "bars"}.get(delimiter, f"{delimiter!r}s")
    commas = repr(delimiter * (width - 1)) if width <= 6 else f"{width - 1} {name}"
    for line in columns.blank[columns.blank < last].tolist():
        problems.add_row(line, f"blank, but the header has {width} columns",
                         hint="the predictions line up with the rows, so a blank line is not skipped: delete it, "
                              f"or write its {width} empty cells ({commas}) to predict a row of missing values")


def _targets(columns, name: str, classes: list[str] | None, problems: DataProblems) -> np.ndarray:
    """The true values of column ``name``: float32 numbers (``classes`` None), or the
    indices of the labels in ``classes``, read as training read them ("2.0" is "2").
    Empty cells and unknown labels go to ``problems``."""
    hint = "every row scored needs its true value; fill it in or drop the row"
    if classes is None:
        values = columns.number(name)
        problems.add_cells("missing target", name, columns.lines[np.isnan(values)], hint=hint)
        return values  # infinite ones are bad cells already, as in any number column
    codes, words = columns.coded[name] if name in columns.coded else coded_cells(_as_text(columns, name))
    labels = [tidy_label(word) for word in words]
    index = class_index(classes)
    known = np.array([index.get(label, -1) for label in labels] + [-1], np.int64)[codes]
    missing = np.array([word == "" for word in words] + [False], bool)[codes]
    problems.add_cells("missing target", name, columns.lines[missing], hint=hint)
    unknown = (known < 0) & ~missing
    shown = np.array(labels + [""], dtype=object)[codes[unknown]]
    problems.add_cells("unknown class", name, columns.lines[unknown], shown, hint=known_class_hint(shown, classes))
    return known


def _as_text(columns, name: str) -> np.ndarray:
    if name in columns.coded:
        return columns.text(name)
    values = columns.number(name)  # a kept number column that is also a feature
    return np.array(["" if np.isnan(v) else f"{v:g}" for v in values], dtype=object)


def encoded_notes(table, state: dict, x: np.ndarray, filled: list[str], unknown: str, options: bool = True
                  ) -> list[str]:
    """What new rows read with a run's column encoding (``x``, from ``table``) are told,
    by predict, evaluate, serve and a loaded model alike: cells filled (``filled``,
    counted before the encoding filled them), numbers and dates far from training's,
    categories training never saw (``unknown``: ignore), texts cut, empty or of no known
    word. ``options``: the rows came from a file (see :func:`.ranges.range_notes`)."""
    notes = filled + range_notes(table, state, options=options)
    if unknown == "ignore":
        notes += unknown_notes(unseen_categories(table, state))
    return notes + text_notes(table, state, x) + date_notes(table, state, x)


def date_notes(table, state: dict, x: np.ndarray) -> list[str]:
    """For a date column: dates mostly far outside the years training saw (by the rule
    of :mod:`.ranges`), where the model's trend over the year is extrapolated."""
    notes, names = [], None
    for column in (c for c in state.get("columns", []) if c["kind"] == "date"):
        names = names or encoded_names(state)
        years = x[:, names.index(f"{column['name']}:year")].astype(np.float64)
        far = mostly_far(years, column.get("range"))
        if far is None:
            continue
        low, high = column["range"]
        first = int(np.flatnonzero(far)[0])
        codes, words = table.codes(column["name"])
        notes.append(f"{int(far.sum())} of {len(years)} dates in '{column['name']}' lie far outside the years training "
                     f"saw ({int(low)} to {int(high)}), e.g. '{words[codes[first]]}' at {table.place} "
                     f"{table.lines[first]}: the model's trend over '{column['name']}:year' is extrapolated there, "
                     "and says little")
    return notes


def text_notes(table, state: dict, x: np.ndarray) -> list[str]:
    """For a text column: the texts cut to the run's ``length`` tokens, and those with no
    word the vocabulary knows (read as [UNK] only), which a prediction is no better than
    a guess for."""
    from nnrun.data.text import token_counts

    notes, names = [], None
    for column in (c for c in state.get("columns", []) if c["kind"] == "text"):
        name, text = column["name"], column["text"]
        tokens = token_counts(table.strings[:, table.categorical.index(name)], text)
        cut = int((tokens > text["length"]).sum())
        if cut:
            notes.append(f"{cut} of {len(tokens)} texts in '{name}' are longer than the run's length of "
                         f"{text['length']} tokens; each was cut to its first {text['length']}, as in training")
        names = names or encoded_names(state)
        start = names.index(f"{name}[0]")
        ids = x[:, start : start + text["length"]]
        unknown = int(((ids.max(axis=1) == 1) & (tokens > 0)).sum())  # 1 is [UNK], 0 padding
        if unknown:
            notes.append(f"{unknown} text{'s hold' if unknown != 1 else ' holds'} no word the vocabulary of "
                         f"'{name}' knows (read as [UNK] only), so {'their predictions say' if unknown != 1 else 'its prediction says'} little")
        empty = int((tokens == 0).sum())
        if empty:  # all padding: the prediction is the model's answer to no text at all
            notes.append(f"{empty} text{'s' if empty != 1 else ''} in '{name}' {'are' if empty != 1 else 'is'} empty "
                         f"(no token), so {'their predictions say' if empty != 1 else 'its prediction says'} little")
    return notes


def filled_notes(table, state: dict) -> list[str]:
    """One line for the empty cells the run's ``missing`` rule filled with training's
    values: said, so that a column an export left empty is not predicted from silently."""
    if state.get("missing", "error") == "error":
        return []
    gaps = set(columns_with_gaps(table.numeric).tolist())
    counts = {name: int(np.isnan(table.numeric[:, j]).sum()) for j, name in enumerate(table.numeric_names)
              if j in gaps}
    # (A category whose empty cells are one of its own, missing_category: own, fills nothing.)
    texts = {c["name"] for c in state.get("columns", [])
             if c["kind"] in ("categorical", "date") and c.get("fill") != ""}
    for name in (n for n in table.categorical if n in texts):
        counts[name] = int(coded_matches(table.codes(name), "").sum())
    filled = {name: counts[name] for name in table.names if counts.get(name)}  # in the file's order
    if not filled:
        return []
    rows = len(table.lines)
    parts = [f"{n} in '{name}'" + (" (every row)" if n == rows and rows > 1 else "") for name, n in filled.items()]
    total = sum(filled.values())
    values = {"mean": "means (the most frequent category for a category)"}.get(state["missing"], "most frequent values")
    return [f"filled {total} empty cell{'s' if total != 1 else ''} with the training split's {values}, as "
            f"data.source.missing: {state['missing']} says: {', '.join(parts)}"]


def unknown_notes(unseen: dict[str, dict[str, int]]) -> list[str]:
    """One line for the categories ``unknown: ignore`` encoded as all zeros."""
    if not unseen:
        return []
    parts = [f"'{column}' " + ", ".join(f"'{v}' ({n})" for v, n in list(values.items())[:5])
             for column, values in unseen.items()]
    rows = sum(sum(values.values()) for values in unseen.values())
    return [f"{rows} cell{'s' if rows != 1 else ''} held categories training never saw, encoded as all zeros: "
            + "; ".join(parts)]
