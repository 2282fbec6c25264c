"""The column encoding learned on the training split, and applied to any table.

After the split, :func:`fit_columns` learns the categories and the fill values from the
training rows only (a :class:`~.table.Table`), and :func:`encode_columns` turns any
table (training, validation, test, or a file given to ``nnrun predict``) into the
model's float32 features. The fitted state is plain JSON, saved in ``preprocess.json``.
A text column (kept with the string columns) becomes ``length`` token indices,
``review[0]`` ..., and a date column the features of its dates, ``signup:year`` ...
(see :mod:`.dates`).

Encoded features keep the column order of the table; a categorical column ``city``
with categories ``[Lyon, Paris]`` becomes the two 0/1 features ``city=Lyon`` and
``city=Paris``.
"""

from __future__ import annotations

import numpy as np

from nnrun.data.categories import category_index, category_position
from nnrun.data.coded import Coded, coded_matches
from nnrun.data.labels import written_key
from nnrun.data.dates import encode_dates, feature_names, fit_date
from nnrun.data.features import MISSING_CATEGORY, encoded_names
from nnrun.data.problems import DataProblems
from nnrun.data.ranges import feature_ranges
from nnrun.data.table import Table, columns_with_gaps
from nnrun.data.text import TextSpec, fit_vocabulary, vectorize
from nnrun.errors import UserError, said


def _most_frequent(values: np.ndarray):
    uniques, counts = np.unique(values, return_counts=True)
    return uniques[np.argmax(counts)] if len(uniques) else None


def _most_frequent_text(counts: dict[str, int]):
    """The most frequent of counted strings, the first in sorted order among ties
    (what ``_most_frequent`` gives), or None."""
    return min(counts, key=lambda value: (-counts[value], value)) if counts else None


def fit_columns(table: Table, missing: str, text: TextSpec | None = None, dates: dict[str, str] | None = None,
                fold_case: bool = False, **options) -> dict:
    """Learn categories and fill values from the training rows (JSON-able state); a
    ``text`` column learns its vocabulary (see :mod:`nnrun.data.text`), a date column
    its format (``dates``: column -> format, see :mod:`nnrun.data.dates`); with
    ``fold_case``, a categorical column's cells that differ only in case or spaces are one
    category (saved with the column, for every reader to match them so). ``options``
    (thousands, unknown, ids, ...) are saved with it for ``nnrun predict``."""
    columns, dates = [], dates or {}
    if text is not None:
        texts = table.strings[:, table.categorical.index(text.column)]
        columns.append({"name": text.column, "kind": "text", "text": fit_vocabulary(texts, text)})
    ranges = feature_ranges(table.numeric)  # two passes along the rows, not one per column
    for j, name in enumerate(table.numeric_names):
        fill = None
        if missing != "error":  # fill values only where they are used: each is a pass over a column
            present = table.numeric[:, j][~np.isnan(table.numeric[:, j])]
            fill = float(present.mean(dtype=np.float64)) if missing == "mean" and len(present) else None
            if missing == "most_frequent" and len(present):
                fill = float(_most_frequent(present))
        # The range lets predict tell a column read in another unit or format (see .ranges).
        columns.append({"name": name, "kind": "numeric", "fill": fill, "range": ranges[j]})
    for name in table.categorical:
        if text is not None and name == text.column:
            continue
        if name in dates:
            columns.append(fit_date(name, table.codes(name), dates[name], missing))
            continue
        counts = _folded(table.counts(name)) if fold_case else table.counts(name)
        # missing_category: own: the empty cell, "", is the last category, its own column; only
        # where the training rows have one (a column never empty there would add a feature that
        # is always 0 in training, whose weights stay as initialised, to decide an empty cell).
        folded = {"fold_case": True} if fold_case else {}
        if options.get("missing_category") == "own" and coded_matches(table.codes(name), "").any():
            columns.append({"name": name, "kind": "categorical", "categories": [*sorted(counts), ""], "fill": "",
                            **folded})
            continue
        fill = _most_frequent_text(counts) if missing != "error" else None
        columns.append({"name": name, "kind": "categorical", "categories": sorted(counts), "fill": fill, **folded})
    order = {name: i for i, name in enumerate(table.names)}
    return {"missing": missing, **options, "columns": sorted(columns, key=lambda c: order[c["name"]])}


def _folded(counts: dict[str, int]) -> dict[str, int]:
    """Counts of the cells that differ only in case or spaces merged (data.source.fold_case),
    each group under the spelling most of its cells have (the first in sorted order among ties)."""
    groups: dict[str, dict[str, int]] = {}
    for word, count in counts.items():
        groups.setdefault(written_key(word) if word else word, {})[word] = count
    return {_most_frequent_text(spellings): sum(spellings.values()) for spellings in groups.values()}


def _features_matrix(rows: int, state: dict, origin: str) -> np.ndarray:
    """The zeros the encoded features fill; where they do not fit in memory, the
    columns of most categories are named, as the one-hot width is theirs."""
    width = len(encoded_names(state))
    try:
        return np.zeros((rows, width), np.float32)
    except MemoryError:
        widest = sorted(((len(c.get("categories") or ()), c["name"]) for c in state["columns"]
                         if c["kind"] == "categorical"), reverse=True)[:3]
        named = ", ".join(f"'{name}' {count} categories" for count, name in widest if count > 50)
        raise UserError(f"{origin}: {rows} rows of {width} encoded features ({rows * width * 4 / 2**30:.1f} GiB) do "
                        f"not fit in memory" + (f"; one-hot, the widest columns are {named}" if named else ""),
                        hint="list a column of that many categories (a code, a name) in data.source.id or "
                        "data.source.ignore, or use fewer rows") from None


def encode_columns(table: Table, state: dict, unseen: str = "ignore", problems: DataProblems | None = None
                   ) -> np.ndarray:
    """Float32 features (N, F) from a table with the saved state.

    A category the training rows never had is all zeros (``unseen="ignore"``) or a
    bad cell (``unseen="error"``, the default of ``nnrun predict``). Empty cells the
    state has no fill value for are bad cells too. Bad cells go to ``problems``, or
    are raised at once when no collector is given."""
    own = problems is None
    problems = problems if problems is not None else DataProblems(table.origin, columns=table.names,
                                                                  place=table.place)
    out = _features_matrix(len(table.lines), state, table.origin)
    numeric_names, position, numeric_at = table.numeric_names, 0, []
    policy = state.get("missing", "error")  # how the fill values were fitted, for what an empty cell is told
    for column in state["columns"]:
        if column["kind"] == "numeric":
            numeric_at.append((position, numeric_names.index(column["name"]), column))
            position += 1
        elif column["kind"] == "text":  # token indices (N, length); an empty cell is all padding
            length = column["text"]["length"]
            out[:, position : position + length] = vectorize(
                table.strings[:, table.categorical.index(column["name"])], column["text"])
            position += length
        elif column["kind"] == "date":  # an empty cell given the fill's text, then read as the others
            width = len(feature_names(column))
            encode_dates(_filled_codes(table.codes(column["name"]), column, table, problems, policy), column,
                         table.lines, problems, out[:, position : position + width])
            position += width
        else:
            told = "own" if state.get("missing_category") == "own" else policy  # how its empty cells are told
            coded = _filled_codes(table.codes(column["name"]), column, table, problems, told)
            width = len(column["categories"])
            _one_hot(coded, column, table, unseen, problems, out[:, position : position + width])
            position += width
    for target, source, width in _runs([(t, s) for t, s, _ in numeric_at]):  # side-by-side columns in one copy
        out[:, target : target + width] = table.numeric[:, source : source + width]
    if numeric_at:  # then only the columns with empty cells again
        gaps = set(columns_with_gaps(table.numeric).tolist())
        for target, source, column in numeric_at:
            if source not in gaps:
                continue
            empty = np.isnan(table.numeric[:, source])
            if empty.any():
                out[:, target] = _filled(table.numeric[:, source], empty, column, table, problems, policy)
    if own:
        problems.raise_if_any()
    return out


def _runs(pairs: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """(target, source) column pairs as runs (target, source, width) that advance
    together, so each run is one slice copy with no temporary array."""
    runs = []
    for target, source in pairs:
        if runs and runs[-1][0] + runs[-1][2] == target and runs[-1][1] + runs[-1][2] == source:
            runs[-1] = (runs[-1][0], runs[-1][1], runs[-1][2] + 1)
        else:
            runs.append((target, source, 1))
    return runs


def _needs_fill(missing: np.ndarray, column: dict, table: Table, problems: DataProblems, policy: str) -> bool:
    """Whether a column's empty cells (``missing``) are to be given its fill value:
    not when it has none (they are bad cells, reported) or there are none. ``policy``:
    data.source.missing, under which the column was fitted."""
    if not missing.any():
        return False
    if column["fill"] is None and policy == "own":  # missing_category: own, and no empty cell in training
        problems.add_cells("missing value", column["name"], table.lines[missing], hint=(
            "the run learned no category of empty cells here (missing_category: own learns one only where the "
            "training split has an empty cell); fill the cell in" if problems.scoring else
            f"the training split has no empty '{column['name']}' cell, so missing_category: own learned no category "
            "of them, and only held-out rows have some; fill them in, or set data.source.missing to most_frequent "
            "to fill such cells"))
        return False
    if column["fill"] is None:
        name = column["name"]
        # Filling was asked for, but the training rows held no value of this column to
        # take a mean or most frequent value from (its few values fell in held-out rows).
        hint = (f"'{name}' has no value in the training rows, so missing: {policy} has nothing to fill it with; "
                f"add it to data.source.ignore, or fill the column in") if policy != "error" else \
            "fill it in, or train with data.source.missing set to mean or most_frequent"
        problems.add_cells("missing value", name, table.lines[missing], hint=hint)
        return False
    return True


def _filled(values: np.ndarray, missing: np.ndarray, column: dict, table: Table, problems: DataProblems,
            policy: str):
    if not _needs_fill(missing, column, table, problems, policy):
        return values
    values = values.copy()
    values[missing] = column["fill"]
    return values


def _filled_codes(coded: Coded, column: dict, table: Table, problems: DataProblems, policy: str) -> Coded:
    """A categorical column's empty cells given the column's fill value, or reported."""
    empty = coded_matches(coded, "")
    if not _needs_fill(empty, column, table, problems, policy):
        return coded
    codes, words = coded
    words = words if column["fill"] in words else [*words, column["fill"]]
    return np.where(empty, words.index(column["fill"]), codes), words


def _one_hot(coded: Coded, column: dict, table: Table, unseen: str, problems: DataProblems,
             out: np.ndarray) -> None:
    """Write the one-hot code of a coded column into ``out`` (N, categories)."""
    codes, words = coded
    categories = column["categories"]
    fold = column.get("fold_case", False)
    index = category_index(categories, fold)
    known = [category_position(word, index, fold) for word in words]
    category = np.array(known, np.intp)[codes]
    absent = category < 0
    if not absent.any():  # every cell a known category: the common case, no row list to build
        out[np.arange(len(category)), category] = 1.0
        return
    unknown = np.array([k < 0 and word != "" for k, word in zip(known, words)], bool)[codes]
    if unseen == "error" and unknown.any():
        trained_on = ", ".join(c or MISSING_CATEGORY for c in categories[:10]) + (", ..." if len(categories) > 10
                                                                                    else "")
        # 'Yes' for 'yes': the likeliest unseen category, and the one fix in the cells most want.
        folded = {written_key(c): c for c in categories}
        alike = {w: folded[written_key(w)] for k, w in zip(known, words) if k < 0 and w and written_key(w) in folded}
        written = "; ".join(f"'{w}' is '{c}' written otherwise" for w, c in list(alike.items())[:3])
        # For one file or call, in the caller's words (a Python caller's hint was reworded into neither).
        once = said("nnrun predict and evaluate --data also take --unknown ignore for one file, and a loaded "
                    "model's predict and evaluate unknown=\"ignore\"",
                    "nnrun.evaluate and a loaded model's predict and evaluate also take unknown=\"ignore\" for one "
                    "call")
        problems.add_cells("unknown category", column["name"], table.lines[unknown],
                           np.array(words, dtype=object)[codes[unknown]],
                           hint=f"'{column['name']}' was trained on {trained_on}{f' ({written})' if written else ''}; "
                                "fix the cells, or encode unseen categories as all zeros: train with "
                                f"data.source.unknown: ignore ({once})")
    rows = np.flatnonzero(~absent)
    out[rows, category[rows]] = 1.0



def unseen_categories(table: Table, state: dict) -> dict[str, dict[str, int]]:
    """Per categorical column, the values the state does not know, with their row counts."""
    found = {}
    for column in state["columns"]:
        if column.get("kind") != "categorical":
            continue
        fold = column.get("fold_case", False)
        index, counts = category_index(column["categories"], fold), table.counts(column["name"])
        extra = {name: counts[name] for name in sorted(counts) if category_position(name, index, fold) < 0}
        if extra:
            found[column["name"]] = extra
    return found
