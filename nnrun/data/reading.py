"""What pyarrow's CSV reader is handed, and getting it back.

:class:`CountingFile` is the file as the reader reads it: it counts the line breaks
on the way (so the file is not read twice to number the rows) and reports progress.
:func:`let_go` waits until the reader's threads have given up the Python objects it
was handed, so none is released after the interpreter has begun to exit.
:func:`row_lines` numbers the rows read by their lines in the file, and finds the
blank lines skipped.
:func:`show_progress` sets what reports the reading's progress (the console's bar).
"""

from __future__ import annotations

import csv
import io
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import numpy as np

from nnrun.data.problems import DataProblems

Progress = Callable[[int, int], None]  # (bytes read, bytes in all)
_progress_factory: Callable[[str, str], Progress] | None = None


def show_progress(factory: Callable[[str, str], Progress] | None) -> None:
    """Set what reports reading progress: ``factory(path, what)`` returns the callback
    for one file and one pass over it, ``what`` saying which ("reading", "parsing
    numbers in"); the console's shows a bar once a pass takes more than a second.
    Set here, not beside the CSV reader, so that a run that reads no CSV file never
    imports the reader."""
    global _progress_factory
    _progress_factory = factory


def current_progress(path, what: str = "reading") -> Progress | None:
    return _progress_factory(str(path), what) if _progress_factory is not None else None


class CountingFile(io.RawIOBase):
    """The file as pyarrow reads it, counting line breaks on the way (so the file is
    not read a second time to number the rows) and reporting the bytes read."""

    def __init__(self, raw, progress: Progress | None, total: int):
        self.raw, self.progress, self.total = raw, progress, total
        self.breaks, self.last, self.done = 0, b"\n", 0
        self.found = np.empty(0, bool)  # one reused mask: a fresh one per block paid for its pages

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        # pyarrow asks for bytes: read them in one piece and count in place, with no
        # bytearray in between (io.RawIOBase.read would make one and copy it).
        data = self.raw.read(size)
        if data:
            block = np.frombuffer(data, np.uint8)
            if len(self.found) < len(block):
                self.found = np.empty(len(block), bool)
            # numpy compares and counts in half the time of bytes.count
            self.breaks += int(np.count_nonzero(np.equal(block, 10, out=self.found[: len(block)])))
            self.last, self.done = data[-1:], self.done + len(data)
            if self.progress is not None:
                self.progress(self.done, self.total)
        return data

    def readinto(self, buffer) -> int:
        target = memoryview(buffer).cast("B")
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)


@contextmanager
def let_go(*objects, seconds: float = 2.0):
    """Wait, after the block, until arrow's threads hold no reference to ``objects``.

    The reader gives up the Python file object it was handed on one of its worker
    threads, a moment after ``read_csv`` has returned, and that thread must take the
    interpreter lock to do it. If the process is already exiting by then (``nnrun predict ... -o -`` ends right after reading), Python ends the
    thread from inside arrow's C++ code and the process aborts ("terminate called
    without an active exception", exit code 134; 1 run in 40). Waiting here, with the
    lock let go, is bounded and takes a few microseconds."""
    def references() -> list[int]:  # counted alike before and after: each count includes the same temporaries
        return [sys.getrefcount(o) for o in objects]

    before = references()
    try:
        yield
    except BaseException as exc:
        traceback.clear_frames(exc.__traceback__)  # a frame of the failed read() would hold the file
        raise
    finally:
        deadline = time.monotonic() + seconds
        while any(now > then for now, then in zip(references(), before)) and time.monotonic() < deadline:
            time.sleep(0.0005)


def python_encoding(text_encoding: str) -> str:
    """The codec Python opens a CSV file with: UTF-8 skips a byte order mark."""
    return "utf-8-sig" if text_encoding == "utf-8" else text_encoding


def first_lines(reader, empty: bool = False):
    """(line, row) for each row of a csv reader that holds cells (``empty``: every row,
    a blank line's too), by the row's first line (a quoted cell may hold line breaks, an
    Excel note; the reader counts a record's last), as every message of nnrun's numbers
    a row."""
    before = reader.line_num
    for row in reader:
        line, before = before + 1, reader.line_num
        if row or empty:
            yield line, row


def row_lines(path: Path, rows: int, width: int, problems: DataProblems, counted: tuple[int, bytes],
              delimiter: str = ",", text_encoding: str = "utf-8") -> tuple[np.ndarray, np.ndarray]:
    """The file line of each parsed row, and the lines of the blank lines skipped.

    In a file of one column a blank line is a row whose one cell is empty (what a
    spreadsheet writes for it), so it is read as one; in a file of several columns it
    holds no cells and no row, and is skipped (a row of empty cells is written ",,").
    When the file has one line per row (no skipped blank lines, no line breaks inside
    quotes, no rows of the wrong width) each row's line is row + 2, known from the line
    breaks counted while reading (``counted``: breaks, last byte); otherwise the csv
    module walks the file once and rows of the wrong width are recorded."""
    breaks, last = counted
    if breaks + (last != b"\n") == rows + 1:
        return np.arange(2, rows + 2, dtype=np.int64), np.empty(0, np.int64)
    lines, blank = [], []
    with open(path, newline="", encoding=python_encoding(text_encoding)) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        next(reader, None)
        for line, row in first_lines(reader, empty=True):
            empty = not row or (len(row) == 1 and not row[0].strip())
            if empty and width > 1:
                blank.append(line)
            elif len(row) != width and not empty:
                columns = f"{width} column{'s' if width != 1 else ''}"
                more = len(row) > width  # a text with the delimiter in it, written without quotes?
                problems.add_row(line, f"{len(row)} cells, but the header has {columns}",
                                 hint=f"a row of more cells: a cell that holds the delimiter {delimiter!r} (in a "
                                      f"text, say) is written in double quotes: \"like{delimiter} this\"" if more else
                                 "a row of fewer cells: each row needs a cell for every column, empty or not",
                                 width=True)
            else:
                lines.append(line)
    return (np.asarray(lines[:rows] + [0] * max(0, rows - len(lines)), dtype=np.int64),
            np.asarray(blank, dtype=np.int64))


def trailing_empty_lines(path: Path, delimiter: str, width: int, tail: int = 1 << 16) -> int:
    """How many of the rows read are lines after the file's last line with a value: blank
    (or all-space) lines in a file of one column (``width`` 1: the reader reads each as
    a row); lines of the header's width in bare separators (';;;' under four columns) in
    a file of several, where the reader skips blank lines. A line of bare separators of
    another width is a row of the wrong width, which the reader tells (or skips) itself:
    nothing before it is counted."""
    with open(path, "rb") as handle:
        handle.seek(max(handle.seek(0, 2) - tail, 0))
        lines = handle.read().splitlines()
    separator = delimiter.encode()
    count = 0
    for line in reversed(lines):
        if width == 1:
            if line.strip():
                break
            count += 1
        elif line.strip():  # blank lines are no rows of a file of several columns
            if line.replace(separator, b"").strip() or line.count(separator) != width - 1:
                break
            count += 1
    return count
