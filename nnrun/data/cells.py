"""Text cells read as numbers, and the hint for the cells that are not.

A CSV column read as text (declared thousands separators, or a number column with
something else in it) comes here: every cell is parsed, the bad ones are recorded with
their lines, and the hint fits what the bad cells look like (``thousands``, ``id``,
``categorical``, or fix them), so a user is never told to make a number column
categorical.
"""

from __future__ import annotations

import re

import numpy as np

from nnrun.data.problems import DataProblems

NUMBER_WITH_SEPARATOR = re.compile(r"^[+-]?\d{1,3}([,.' ]\d{3})+(\.\d+)?$")


def parse_numbers(cells: np.ndarray, column: str, lines: np.ndarray, problems: DataProblems,
                  thousands: str | None = None) -> np.ndarray:
    """Float32 values of stripped text cells ("" missing -> NaN); cells that are not
    finite numbers are recorded with a hint that fits what they look like."""
    values = np.full(len(cells), np.nan, np.float32)
    bad = np.zeros(len(cells), bool)
    for i, cell in enumerate(cells):
        if cell == "":
            continue
        try:
            values[i] = float(cell.replace(thousands, "") if thousands else cell)
        except ValueError:
            bad[i] = True
    infinite = np.isinf(values)
    if infinite.any():
        problems.add_cells("not a finite number", column, lines[infinite], cells[infinite])
    if bad.any():
        problems.add_cells("not a number", column, lines[bad], cells[bad], number_hint(column, cells, bad))
    values[bad | infinite] = 0  # reported already: not missing as well
    return values


def number_hint(column: str, cells: np.ndarray, bad: np.ndarray) -> str:
    """What to do about a number column with text in it, by what the text looks like:
    numbers with separators get ``thousands``; a different text in every row is an ID;
    a column of few distinct values may be categorical; anything else is fixed or left
    out. Number-like cells and IDs never get the categorical hint."""
    wrong = [str(c) for c in cells[bad][:1000]]
    separated = [c for c in wrong if NUMBER_WITH_SEPARATOR.match(c)]
    if separated:
        separator = re.search(r"\d([,.' ])\d{3}", separated[0]).group(1)
        rest = "" if len(separated) == len(wrong) else " (and fix the cells that are no numbers)"
        return f"'{column}' holds numbers with a thousands separator; set data.source.thousands: \"{separator}\"{rest}"
    present = cells[cells != ""]
    distinct = len(set(present.tolist()))
    if bad.sum() > len(present) / 2 and distinct == len(present):
        return f"'{column}' holds a different text in every row, like an ID; name it in data.source.id"
    if bad.sum() > len(present) / 2 and distinct <= max(20, len(present) // 50):
        return f"'{column}' looks like categories ({distinct} distinct values); list it under data.source.categorical"
    return f"fix the cells in '{column}', or leave the column out with data.source.ignore"
