"""A column of a table in memory as the numbers it holds: numbers themselves (booleans
as 1 and 0), or texts that write them, plain or with the signs and thousands separator
the source's settings name ("2,961" with ``thousands: ","``), as a file's are read.

The table is saved with its numbers written plainly ("2961"), which the source then
reads with those same settings: a thousands separator or a sign that is not there
changes nothing. A decimal comma (``decimal: ","``, or ``thousands: "."``, which goes
with one) would misread every plain number, so a table takes neither.
"""

from __future__ import annotations


import numpy as np

from nnrun.data.cell_hints import separator_of
from nnrun.data.cells import numbers_or_none
from nnrun.data.number_patterns import NUMBER_WITH_SEPARATOR, PLAIN
from nnrun.data.table import is_missing
from nnrun.errors import UserError

SEPARATOR_NAMES = {" ": "a space", "\u00a0": "a non-breaking space", "\u202f": "a narrow non-breaking space"}


def number_format(settings: dict) -> dict:
    """The number format a table's text cells are read in (thousands, signs), from the
    source's settings; a decimal comma is refused (see the module)."""
    decimal, thousands = settings.get("decimal"), settings.get("thousands")
    if decimal not in (None, ".") or thousands == ".":
        raise UserError(f"data.source: {'decimal' if decimal not in (None, '.') else 'thousands'}: "
                        f"{decimal if decimal not in (None, '.') else thousands!r} reads numbers written with a "
                        "decimal comma, as a file's may be; a table in memory is saved with plain numbers, which "
                        "that would misread", hint="convert such a column first: pd.to_numeric(df[column].str"
                        ".replace('.', '').str.replace(',', '.')), and leave decimal and thousands out")
    return {"thousands": thousands, "signs": tuple(settings.get("strip_signs") or ())}


def separator_written(cells: list[str]) -> tuple[str, str] | None:
    """(a cell, its separator) where most of a column's present ``cells`` write numbers
    with a thousands separator ("2,961"), which no setting names: taken as text, each
    would be a category of its own; None otherwise."""
    grouped = [cell for cell in cells if NUMBER_WITH_SEPARATOR.match(cell.strip()) and not PLAIN.match(cell.strip())]
    if 2 * len(grouped) <= len(cells):
        return None
    return grouped[0], separator_of(grouped[0].strip())


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
    if stray and written and (written.get("thousands") or written.get("signs")):  # as the saved file reads them
        read = numbers_or_none([cell for _, cell in present], written.get("thousands"), ".", written.get("signs"))
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
