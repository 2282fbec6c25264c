"""A column of a table in memory as the numbers it holds: numbers themselves (booleans
as 1 and 0), or texts that write them as the file the table is saved as will be read
(plain, or in the source's number format: "2,961" with ``thousands: ","``).
"""

from __future__ import annotations

import numpy as np

from nnrun.data.number_patterns import PLAIN
from nnrun.data.table import is_missing


def column_numbers(values: np.ndarray) -> np.ndarray | None:
    """A column as float64 (booleans as 1 and 0, missing values as NaN), or None when it
    holds anything else: text, or numbers mixed with text."""
    if values.dtype == bool or (np.issubdtype(values.dtype, np.number)
                                and not np.issubdtype(values.dtype, np.complexfloating)):
        return values.astype(np.float64)
    if values.dtype != object:
        return None
    out = np.empty(len(values), np.float64)
    for i, value in enumerate(values):
        if is_missing(value):
            out[i] = np.nan
        elif isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
            out[i] = float(value)
        else:
            return None
    return out


def written_numbers(cells: list[str | None], written: dict | None = None
                     ) -> tuple[np.ndarray | None, list[tuple[int, str]]]:
    """A text column's cells (None where missing) as the numbers they write, when every
    present one is a plain number ("1200", "-3.5e2"), or one as the source's number
    format reads it (``written``: thousands, decimal, signs; "2,961" with thousands: ",");
    else None, with the rows and texts of the cells that are no numbers when they are
    fewer than half of those present."""
    present = [(row, cell) for row, cell in enumerate(cells) if cell is not None]
    stray = [(row, cell) for row, cell in present if not PLAIN.match(cell.strip())]
    read = None
    if stray and written:  # read as the file the table is saved as will be
        from nnrun.data.cells import numbers_or_none

        read = numbers_or_none([cell for _, cell in present], written.get("thousands"), written.get("decimal", "."),
                               tuple(written.get("signs", ())))
        stray = [(row, cell) for (row, cell), value in zip(present, read) if value is None]
    if not present or 2 * len(stray) >= len(present):
        return None, []
    if stray:
        return None, stray
    if read is not None:
        out = np.full(len(cells), np.nan, np.float64)
        out[[row for row, _ in present]] = read
        return out, []
    return np.array([np.nan if cell is None else float(cell) for cell in cells], np.float64), []
