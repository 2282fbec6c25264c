"""Reading a CSV file into float32 and text columns, fast, with every bad cell collected.

The parsing is pyarrow's CSV reader (imported here, only when a CSV file is read, so
``nnrun --help`` and the bundled data sets never pay for it). The reader parses the
file's blocks on every core; each number column is converted straight to float32 by
it, and only the columns asked for are converted at all. The parsed blocks are then
copied into one float32 matrix, each dropped once copied. A file whose number columns
all parse takes that fast path alone; otherwise the number columns are read again as
text, parsed by :mod:`.cells`, and every bad cell is recorded, with its line, in a
:class:`~.problems.DataProblems`.

Cells: surrounding whitespace is ignored; ``""``, ``NA``, ``N/A``, ``#N/A``, ``<NA>``,
``#NA``, ``nan``, ``null`` and ``?`` (any case) are missing (NaN in a number column, ``""`` in a text column);
with ``thousands=","`` a number may hold that separator between groups of three digits
(``" 53,697 "``). A blank line between rows is a row with an empty cell in a file of
one column, and no row in a file of several columns (its line is kept in ``blank``);
blank lines after the last row are no rows in either.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnrun.errors import UserError
from nnrun.data.arrays import floats_into, values
from nnrun.data.cells import MISSING, TextNumbers
from nnrun.data.coded import Coded, cells_of, codes_into
from nnrun.data.csvheader import not_utf8
from nnrun.data.problems import SHOWN, DataProblems
from nnrun.data.reading import (CountingFile, Progress, current_progress, first_lines, let_go, python_encoding,
                                row_lines, trailing_empty_lines)

def nulls(missing: frozenset[str]) -> list[str]:
    """The texts the typed read takes as missing: each marker as files write it (NA, na,
    Na, ...); others, padded (' NA ') or cased otherwise, send a column to the text path,
    which reads them in any case."""
    return sorted({v for m in missing for v in (m, m.upper(), m.capitalize(), m.title())} | {"NaN", "Null", "N/a"})

BLOCK = 2 << 20  # bytes per parsed block: the progress step, and the batches the table is copied in


@dataclass(frozen=True)
class CsvColumns:
    """The requested columns of one file: ``numbers`` (N, len(number_names)) float32,
    NaN where missing, in the order asked for; ``coded`` name -> the text column as
    (codes, words), codes (N,) into its distinct tidied cells ("" where missing; see
    :mod:`.coded`); ``lines`` (N,) the 1-based line of each row in the file; ``blank``
    the lines of the blank lines skipped in a file of several columns (in a file of one
    column a blank line is a row: see :func:`.reading.row_lines`)."""

    header: list[str]
    number_names: list[str]
    numbers: np.ndarray
    coded: dict[str, Coded]
    lines: np.ndarray
    blank: np.ndarray

    def number(self, name: str) -> np.ndarray:
        return self.numbers[:, self.number_names.index(name)]

    def text(self, name: str) -> np.ndarray:
        """Text column ``name`` as (N,) str objects."""
        return cells_of(self.coded[name])


def read_columns(path: Path, header: list[str], numbers: list[str], texts: list[str], problems: DataProblems,
                 thousands: str | None = None, progress: Progress | None = None, delimiter: str = ",",
                 decimal: str = ".", text_encoding: str = "utf-8", missing: frozenset[str] = MISSING,
                 signs: tuple[str, ...] = ()) -> CsvColumns:
    """Read ``numbers`` as float32 and ``texts`` coded (see :mod:`.coded`), with cells
    separated by ``delimiter`` and numbers written with ``decimal`` and ``thousands``,
    and the cells of ``missing`` (see :func:`.cells.markers`) missing, the ``signs`` around numbers
    ('$', '%') dropped; bad cells and rows
    go to ``problems`` (the caller raises once every file and column has been looked at)."""
    import pyarrow as pa

    as_text = bool(thousands)  # declared separators need the text first
    try:
        batches, counted = _batches(path, header, numbers, texts, as_text, progress, delimiter, decimal, text_encoding,
                                    not problems.scoring, missing)
    except pa.ArrowInvalid:  # a number column holds text: read it as text and find every bad cell
        as_text = True
        batches, counted = _batches(path, header, numbers, texts, as_text, progress, delimiter, decimal, text_encoding,
                                    not problems.scoring, missing)
    _hand_back_freed_arrays()  # after the parse: its own small buffers are better kept in the heap
    # Parsing numbers read as text is a second pass, of about the reading's length.
    parsing = current_progress(path, "parsing numbers in") if as_text else None
    matrix, coded, found, infinite = _convert(batches, numbers, texts, as_text, thousands, decimal, missing, parsing,
                                              tuple(signs))
    _pool().release_unused()  # the parser's last buffers
    # Blank lines after the last row are no rows, in a file of one column as in a file of
    # several; nor are lines of bare separators there (';;;;', what spreadsheets write
    # below a table's last row), which would be rows of missing values.
    trailing = trailing_empty_lines(path, delimiter, len(header))
    if trailing:
        keep = max(len(matrix) - trailing, 0)
        matrix, coded = matrix[:keep], {name: (codes[:keep], words) for name, (codes, words) in coded.items()}
    lines, blank = row_lines(path, len(matrix), len(header), problems, counted, delimiter, text_encoding)
    if len(matrix) == 0 and problems.skipped:  # bad_rows: skip left none
        raise UserError(f"{path}: every row has more or fewer cells than the header's {len(header)} (lines "
                        f"{', '.join(map(str, problems.skipped[:5]))}{', ...' * (len(problems.skipped) > 5)}), and "
                        "data.source.bad_rows: skip left none to train on", hint="check the file's delimiter and "
                        "quoting (data.source.delimiter), or fix its rows")
    if len(matrix) == 0 and not problems:
        raise UserError(f"{path}: no data rows under the header")
    commas = {name for name, cells in found.items() if cells.shows_decimal_commas()}
    for j, name in enumerate(found):
        found[name].report(matrix[:, j], name, lines, problems, commas_are_decimal=bool(commas - {name}))
    for j in np.flatnonzero(infinite):  # the typed read takes 'inf' and overflowing numbers as they come
        rows = np.flatnonzero(np.isinf(matrix[:, j]))
        shown = _file_cells(path, lines[rows[:SHOWN]], header.index(numbers[j]), delimiter, text_encoding,
                            [str(v) for v in matrix[rows[:SHOWN], j]])
        problems.add_cells("not a finite number", numbers[j], lines[rows], shown)
        matrix[rows, j] = 0  # reported, as the text path reports them
    return CsvColumns(header, list(numbers), matrix, coded, lines, blank)


def _file_cells(path: Path, lines: np.ndarray, column: int, delimiter: str, text_encoding: str,
                read: list[str]) -> list[str]:
    """The file's own text of a few cells (by line and column) for a message: the typed
    read gives '1e400' back as inf, which the user would search the file for in vain.
    ``read``: what to show for a cell not found again."""
    import csv

    wanted = {int(line): i for i, line in enumerate(lines)}
    shown = list(read)
    try:
        with open(path, newline="", encoding=python_encoding(text_encoding), errors="replace") as file:
            for line, row in first_lines(csv.reader(file, delimiter=delimiter)):
                i = wanted.get(line)
                if i is not None and column < len(row):
                    shown[i] = row[column].strip()
                if line >= max(wanted):
                    break
    except (OSError, ValueError, csv.Error):  # the message shows what was read instead
        pass
    return shown


def _batches(path: Path, header: list[str], numbers: list[str], texts: list[str], as_text: bool,
             progress: Progress | None, delimiter: str, decimal: str, text_encoding: str, settable: bool,
             missing: frozenset[str]):
    """The requested columns, parsed on every core, as a list of record batches, and
    ``(line breaks, last byte)`` of the file; rows of the wrong width, and blank lines
    in a file of several columns, are skipped here and found by
    :func:`.reading.row_lines`. The number columns come as float32, or as plain text
    (``as_text``) for :mod:`.cells` to read."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    total = path.stat().st_size
    # Text arrives dictionary-encoded: each distinct cell of a batch becomes one Python
    # string, not one per row (categories repeat; the cells of a whole file would not fit).
    words = pa.dictionary(pa.int32(), pa.string())
    types = {**{n: pa.string() if as_text else pa.float32() for n in numbers}, **{n: words for n in texts}}
    # Another encoding than UTF-8 (data.source.encoding: cp1252, ...) is decoded by the
    # reader as it goes; the line breaks counted on the way are the same bytes in each.
    read = pcsv.ReadOptions(column_names=header, skip_rows=1, block_size=BLOCK,
                            encoding="utf8" if text_encoding == "utf-8" else text_encoding)
    # In a file of one column a blank line is a row with an empty cell, not a line to skip:
    # a spreadsheet writes an empty cell so, and skipping it would shift every row below.
    parse = pcsv.ParseOptions(delimiter=delimiter, invalid_row_handler=_skip_row, ignore_empty_lines=len(header) > 1)
    # The typed read takes a decimal comma as it takes a point: "3,25" is 3.25 and "3.25" a
    # conversion error, which sends the file to the text path to find every such cell.
    convert = pcsv.ConvertOptions(column_types=types, include_columns=list(types), null_values=nulls(missing),
                                  strings_can_be_null=True, quoted_strings_can_be_null=True, decimal_point=decimal)
    # The whole-file reader parses blocks on every core at once (pyarrow's streaming
    # reader parses one block at a time: 0.45 s against 0.26 s for 61 MB on two cores).
    # It holds the parsed columns (about the float32 matrix again) until they are copied.
    try:
        with open(path, "rb", buffering=0) as handle:
            counting = CountingFile(handle, progress, total)
            with let_go(counting):
                table = pcsv.read_csv(counting, read_options=read, parse_options=parse, convert_options=convert,
                                      memory_pool=_pool())
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc):
            raise not_utf8(path, settable, text_encoding) from None
        if "conversion error" in str(exc):
            raise
        raise UserError(f"{path}: not a valid CSV file ({_arrow_reason(exc)})") from None
    return table.to_batches(), (counting.breaks, counting.last)


def _skip_row(row) -> str:
    """Rows of the wrong width are skipped by the reader and reported by row_lines.
    A module function: the reader's threads never hold its last reference."""
    return "skip"


def _hand_back_freed_arrays() -> None:
    """Keep every array over 256 KiB in its own memory mapping, handed back when freed.

    glibc raises its mapping threshold each time a large block is freed; blocks below
    it then come from the heap and, once freed, mostly stay with the process. For a
    file read, split, encoded and scaled (each step freeing the last one's arrays) that
    adds about the data's size again to the peak. Setting the threshold fixes it; where
    the C library has no ``mallopt`` (not glibc) nothing changes."""
    import ctypes

    try:
        ctypes.CDLL(None).mallopt(-3, 256 * 1024)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


def _pool():
    import pyarrow as pa

    return pa.default_memory_pool()


def _arrow_reason(exc: Exception) -> str:
    text = str(exc).split("\n")[0]
    return re.sub(r"^CSV parse error: ", "", text)


def _convert(batches, numbers: list[str], texts: list[str], as_text: bool, thousands: str | None, decimal: str,
             missing: frozenset[str], progress: Progress | None = None, signs: tuple[str, ...] = ()):
    """A (rows, len(numbers)) float32 matrix of the number columns, the text columns,
    tidied, as codes into their distinct cells, for number columns read as text
    (``as_text``) what :mod:`.cells` found in them (reported once the lines are
    known), and otherwise which number columns hold an infinite value. Each batch is
    copied in and dropped, so the peak is about the matrix and the parsed batches not
    yet copied."""
    pieces: dict[str, list] = {name: [] for name in texts}
    vocabulary: dict[str, dict[str, int]] = {name: {} for name in texts}  # distinct tidied cell -> code
    found = {name: TextNumbers(thousands, decimal, missing, signs) for name in numbers} if as_text else {}
    matrix, start = np.empty((sum(batch.num_rows for batch in batches), len(numbers)), np.float32), 0
    block = np.empty((len(numbers), 0), np.float32)  # one batch's columns, each a row
    infinite = np.zeros(len(numbers), bool)
    # Text cells are parsed by arrow's kernels, which let go of the interpreter: the
    # columns of a batch on every core at once (a 100 MB file with separators in 8.7
    # million cells: 2.4-2.8 s on two cores instead of 4.5 s).
    with ThreadPoolExecutor(_cores()) if as_text else nullcontext() as workers:
        batches.reverse()
        while batches:
            batch = batches.pop()  # dropped once copied: the parsed file and the matrix are not held twice
            stop = start + batch.num_rows
            # Each column is copied whole into a row of the block, then the block in one
            # transposing copy: written column by column, the matrix took 2 to 5 times as long.
            if numbers:
                if block.shape[1] < batch.num_rows:
                    block = np.empty((len(numbers), batch.num_rows), np.float32)
                columns = block[:, : batch.num_rows]
                parsed = workers.map(lambda name, s=start, b=batch: found[name].add(b.column(name), s), numbers) \
                    if workers else (batch.column(name) for name in numbers)
                for i, column in enumerate(parsed):
                    floats_into(column, columns[i])
                if not workers and batch.num_rows:  # along the block's rows: 3 ms for 61 MB, not 30
                    infinite |= np.isinf(np.fmax.reduce(columns, axis=1)) | np.isinf(np.fmin.reduce(columns, axis=1))
                matrix[start:stop] = columns.T
            for name in texts:
                pieces[name].append(_tidy_codes(batch.column(name), vocabulary[name], missing))
            start = stop
            if progress is not None:  # in rows
                progress(start, len(matrix))
            if len(batches) % 8 == 0:  # the copied batches' memory back to the system as the matrix fills
                del batch
                _pool().release_unused()
    coded = {name: (np.concatenate(parts) if parts else np.empty(0, np.intp), list(vocabulary[name]))
             for name, parts in pieces.items()}
    return matrix, coded, found, infinite


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _tidy_codes(column, vocabulary: dict[str, int], missing: frozenset[str]) -> np.ndarray:
    """A dictionary-encoded text column of one batch as codes into the file's
    ``vocabulary`` of tidied cells (stripped, "" where missing, also for padded 'NA '),
    which gains the batch's new cells; each distinct cell is tidied once."""
    words = [w.strip() for w in column.dictionary.to_pylist()]
    tidy = [("" if w.lower() in missing else w) for w in words] + [""]  # the last: a null cell
    ids = codes_into(vocabulary, tidy)
    codes, null = values(column.indices, np.int32)
    if null is not None:
        codes = np.where(null, len(tidy) - 1, codes)
    return ids[codes]
