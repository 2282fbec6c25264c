"""What a CSV file says about itself, for a starter config (see :mod:`.init_csv`).

From the header and the first ``SAMPLE_ROWS`` rows: what separates the cells (a comma, a
semicolon, a tab or a bar), how numbers are written (see :mod:`.number_format`), and
each column's role. Numbers are features; a few repeating words are categorical (and
ones written two ways, 'North' and 'north', are noted); a different text in (nearly)
every row, a name such as ``customer_id``, or whole numbers that count the rows make
an ID (copied into predictions, not learned); text of several words is free text;
dates are dates (``data.source.dates``); numbers written with currency or percent signs or
with units, and codes with leading zeros too many to be categories are left out and said to be; other
text is left out; a feature with empty cells is noted. A column of numbers with a few
cells that are not (``MOSTLY_NUMBERS``: '€ 271.356,12', 'k.A.', 'abc') stays a column
of numbers, and those cells are listed to be corrected: as categories or an ID they
would have taught the model nothing of the numbers. The target column is read whole
(:mod:`.csv_target`).

May import: :mod:`nnrun.errors`, :mod:`nnrun.data` (its :mod:`~nnrun.data.cell_kinds` too), :mod:`.number_format`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from nnrun.commands.number_format import number_format
from nnrun.commands.starter import HELD_OUT
from nnrun.data import cell_kinds
from nnrun.data.labels import ROWS_PER_CATEGORY, written_alike
from nnrun.data.cells import MISSING, markers, numbers_or_none, signs_pattern  # missing cells
from nnrun.data.dates import time_order
from nnrun.data.number_patterns import GAP_LIKE, SIGNED_NUMBER, signs_in  # -, n.a.;  $3,545.76  14%
from nnrun.data.reading import first_lines, python_encoding, trailing_empty_lines
from nnrun.errors import UserError

SAMPLE_ROWS = 10_000
TRAINING_SHARE = 1 - 2 * HELD_OUT  # of the rows, in the training split of the config init writes
MOST_CATEGORIES = 50  # text columns with more distinct values are IDs or free text, not categories
MOSTLY_NUMBERS = 0.9  # a column whose cells are numbers but for a tenth at most: numbers, and mistakes
ID_NAME = re.compile(r"(^|[_\s-])(id|uuid|key)$|^id[_\s-]", re.IGNORECASE)
# "Account Number", "order_no", "AccountNo", "CustomerId": an ID when every row holds
# a different whole number (a "room number" of a few values stays a feature).
NUMBER_NAME = re.compile(r"(^|[_\s-])(?i:number|no|num|nr|#)\.?$|(?<=[a-z])(Number|No|Num|Nr|Id|ID)$")


@dataclass
class Columns:
    """What the first rows say: the settings for the file, and each column's role."""

    delimiter: str = ","
    text_encoding: str = "utf-8"
    decimal: str = "."
    thousands: str | None = None
    features: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    texts: dict[str, tuple[int, int]] = field(default_factory=dict)  # free text: (distinct words, 95th % length)
    symbols: list[str] = field(default_factory=list)  # numbers with currency or percent signs: left out, and said
    dates: dict[str, str] = field(default_factory=dict)  # dates and times: features, by format (auto: as inferred)
    mixed_dates: dict[str, str] = field(default_factory=dict)  # dates that read day or month first alike: a guess
    missing_values: list[str] = field(default_factory=list)  # '-', 'none': gaps in columns of numbers
    strip_signs: list[str] = field(default_factory=list)  # '$', '%', 'kg': written around numbers, dropped
    dated: list[str] = field(default_factory=list)  # every column of dates, one in every row (an ID) too
    time_ordered: str | None = None  # a column of dates whose rows looked at are in time order: a series
    newest_first: str | None = None  # one whose rows run backward in time: a series to sort first
    units: list[str] = field(default_factory=list)  # numbers with units (35 kg): left out, and said
    points: list[str] = field(default_factory=list)  # '80.50' in a file of decimal commas: left out, and said
    codes: list[str] = field(default_factory=list)  # many codes with leading zeros (01067): left out, and said
    constants: list[str] = field(default_factory=list)  # one value wherever there is one: left out, and said
    alike: dict[str, list[list[str]]] = field(default_factory=dict)  # categories written two ways, by column
    missing: dict[str, int] = field(default_factory=dict)  # column -> empty cells in the rows looked at
    siblings: list[str] = field(default_factory=list)  # 0/1 columns one-hot with the target: left out
    rows: int = 0  # of the header's width, in the rows looked at
    widths: list[int] = field(default_factory=list)  # the cell counts of the rows looked at
    unlabelled: list[int] = field(default_factory=list)  # the lines of the whole file whose target cell is empty
    # Column -> its cells that are not numbers in a column of numbers, as (line, cell), and how many.
    strays: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    stray_rows: dict[str, int] = field(default_factory=dict)
    target_cells: tuple | None = None  # the target's (codes, words, lines), read by target_labels
    points_either_way: str | None = None  # '2.888' where the points may group thousands: read as a decimal, said
    file_rows: int = 0  # the whole file's, estimated from the rows looked at where those are not all
    target_notes: list[str] = field(default_factory=list)  # of the target's classes: rare, or written two ways
    ragged: list[tuple[int, int]] = field(default_factory=list)  # rows of another width: (line, cells)
    beside_text: list[str] = field(default_factory=list)  # features left out for a text model's one input


def text_encoding_of(data: Path) -> str:
    """UTF-8 where the file decodes so or holds UTF-8 text at all (a bad line in it is
    then for validate to name); else cp1252, what Excel on Windows saves as 'CSV', which
    decodes nearly any bytes. UTF-16 is refused."""
    from nnrun.data.csvheader import UTF8_HINT, has_utf8_text, reads_as, utf16

    if data.is_file() and utf16(data):
        raise UserError(f"{data}: UTF-16 text, which nnrun does not read", hint=UTF8_HINT)
    return "utf-8" if reads_as(data, "utf-8-sig") or not data.is_file() or has_utf8_text(data) else "cp1252"


def delimiter_of(data: Path, text_encoding: str) -> str:
    """The character that splits the header into the most columns (a comma on a tie)."""
    try:
        with open(data, encoding=python_encoding(text_encoding), errors="replace") as handle:
            first = handle.readline()
    except FileNotFoundError:
        raise UserError(f"{data}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{data}: is a folder, not a CSV file") from None
    counts = {s: len(next(csv.reader([first], delimiter=s), [])) for s in (",", ";", "\t", "|")}
    return max(counts, key=lambda s: (counts[s], s == ","))


def look(data: Path, header: list[str], target: str, delimiter: str, text_encoding: str) -> Columns:
    """The file's settings and every column's role but the target's, from its first rows."""
    found = Columns(delimiter=delimiter, text_encoding=text_encoding)
    with open(data, newline="", encoding=python_encoding(text_encoding), errors="replace") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        next(reader, None)
        rows = [pair for _, pair in zip(range(SAMPLE_ROWS), first_lines(reader))]
    if len(rows) < SAMPLE_ROWS:  # ';;;;' below the last row, as spreadsheets write: no rows, as the reader reads them
        rows = rows[:len(rows) - trailing_empty_lines(data, delimiter, len(header))] if len(header) > 1 else rows
    sample = [row for _, row in rows if len(row) == len(header)]
    lines = [line for line, row in rows if len(row) == len(header)]
    found.rows = len(sample)
    sampled = sum(len(delimiter.join(row)) + 1 for _, row in rows) or 1  # characters, about bytes, of the rows
    found.file_rows = found.rows if len(rows) < SAMPLE_ROWS else int(data.stat().st_size / sampled * found.rows)
    found.ragged = [(line, len(row)) for line, row in rows if len(row) != len(header)]
    found.widths = sorted({len(row) for _, row in rows})
    cells = {name: [row[i].strip() for row in sample] for i, name in enumerate(header)}
    present = {name: [c for c in column if c.lower() not in MISSING] for name, column in cells.items()}
    present = _without_signs(present, target, found)  # '$24,114', '13.77%', '35 kg': numbers once the signs go
    written = number_format(present, delimiter)
    found.decimal, found.thousands, found.points_either_way = written.decimal, written.thousands, written.either_way
    found.missing_values = _gap_marks({name: values for name, values in present.items() if name != target}, found)
    if found.missing_values:  # read as missing from here on, as training will with data.source.missing_values
        missing = markers(found.missing_values)  # from the cells read so far: their signs stay dropped
        present = {name: [c for c in column if c.lower() not in missing] for name, column in present.items()}
    for name in (name for name in header if name != target):
        values = present[name]
        role = _role(name, values, found)
        if role == "dates":
            found.dates[name] = _date_format(name, values, found)
        else:
            {"feature": found.features, "categorical": found.categorical, "id": found.ids}.get(
                role, found.ignored).append(name)
        if role in ("symbols", "units", "codes", "constants", "points"):
            getattr(found, role).append(name)
        if role in ("dates", "id") and cell_kinds.dates(values):
            found.dated.append(name)
            order = time_order(values, name) if len(values) == len(cells[name]) else None
            if order == "forward" and found.time_ordered is None:
                found.time_ordered = name
            elif order == "backward" and found.newest_first is None:
                found.newest_first = name
        if role == "categorical" and (alike := written_alike(sorted(set(values)))):
            found.alike[name] = alike
        if role == "text":
            words = sorted(len(c.split()) for c in values)
            vocabulary = {w.lower() for c in values for w in c.split()}
            found.texts[name] = (len(vocabulary), words[int(0.95 * (len(words) - 1))])
        if role in ("feature", "categorical", "dates") and len(values) < len(cells[name]):
            found.missing[name] = len(cells[name]) - len(values)
        if role == "feature":
            _note_strays(name, cells[name], lines, found)
    found.siblings = _one_hot_siblings(cells, target, found.features)
    found.features = [name for name in found.features if name not in found.siblings]
    found.ignored += found.siblings
    return found


def _one_hot_siblings(cells: dict[str, list[str]], target: str, features: list[str]) -> list[str]:
    """0/1 feature columns that with a 0/1 target make one-hot rows (exactly one 1 in
    every row): the other classes of the target's own category, which give it away
    (cat_books as the target, cat_garden and cat_toys beside it, predict it perfectly)."""
    def bits(column: list[str]) -> list[int] | None:
        return [int(c) for c in column] if column and all(c in ("0", "1") for c in column) else None

    wanted = bits(cells[target])
    if wanted is None or len(set(wanted)) < 2:
        return []
    others = {name: bits(cells[name]) for name in features}
    exclusive = [name for name, column in others.items()
                 if column is not None and not any(w and c for w, c in zip(wanted, column))]
    rows = zip(wanted, *(others[name] for name in exclusive))
    return exclusive if exclusive and all(sum(row) == 1 for row in rows) else []


def _role(name: str, values: list[str], found: Columns) -> str:
    """feature, categorical, id, text (several words a cell), symbols (numbers with currency
    or percent signs, which the reader takes as text), units (numbers with a unit, '35 kg',
    text to the reader too), codes (digits with leading zeros, '01067', too many to be
    categorical), constants (one value wherever there is one), dates (that repeat; a date
    in every row is an ID) or ignored, for a column's cells that are not missing."""
    if not values:
        return "ignored"
    if len(set(values)) == 1 and found.rows > 1:
        # The same cell in every row that has one: nothing to learn, and as a category it
        # would make every input file and request carry the column with that one value.
        return "constants"
    if sum(bool(SIGNED_NUMBER.match(c)) for c in values) > len(values) / 2:
        return "symbols"
    if not ID_NAME.search(name) and cell_kinds.with_units(values):
        return "units"
    numeric = numbers_or_none(values, found.thousands, found.decimal)
    numbers, distinct = sum(v is not None for v in numeric), len(set(values))
    if found.decimal == "," and numbers < MOSTLY_NUMBERS * len(values) and sum(
            v is not None for v in numbers_or_none(values, None, ".")) >= MOSTLY_NUMBERS * len(values):
        # '80.50' in a file whose other numbers have decimal commas: as an ID or text it
        # would teach the model nothing of the numbers, which the reader cannot take so.
        return "points"
    dates = cell_kinds.dates(values)  # "2023-01-05 12:30" too
    if not dates and numbers < len(values) and sum(bool(re.search(r"\S\s+\S", c)) for c in values) > len(values) / 2 \
            and distinct > MOST_CATEGORIES // 2:
        return "text"
    every_row = numbers == distinct == len(values) >= 10 and all(v == int(v) for v in numeric if v is not None)
    if ID_NAME.search(name) or (every_row and (row_numbers(numeric) or NUMBER_NAME.search(name))):
        return "id"
    if numbers >= MOSTLY_NUMBERS * len(values) and cell_kinds.codes(values):
        # Codes: as numbers, 01067 and 01069 would be near neighbours, 99999 far from both.
        # Codes that repeat as often as training asks in the split init's config makes: categories.
        few = distinct <= min(MOST_CATEGORIES, max(2, len(values) // 2))
        often = int(max(found.file_rows, len(values)) * TRAINING_SHARE) >= ROWS_PER_CATEGORY * distinct
        return "categorical" if few or often else "codes"
    if numbers >= MOSTLY_NUMBERS * len(values):
        return "feature"  # the cells that are not numbers, if any, are listed to be corrected
    if dates:  # a different one in every row too: timestamps have a time of day, a weekday, a trend
        return "dates"
    if len(values) >= 10 and distinct >= 0.9 * len(values):
        return "id"  # a different text in (nearly) every row
    return "categorical" if distinct <= min(MOST_CATEGORIES, max(2, len(values) // 2)) else "ignored"


def _without_signs(present: dict[str, list[str]], target: str, found: Columns) -> dict[str, list[str]]:
    """The cells with the signs around their numbers dropped, in the columns mostly of
    such numbers (currency and percent signs, currency codes, a unit), as training reads
    them with data.source.strip_signs (noted in ``found.strip_signs``)."""
    signs = {name: signs_in(values) or [unit for unit in [cell_kinds.unit_of(values)] if unit and
                                        (name == target or not ID_NAME.search(name))]
             for name, values in present.items()}
    found.strip_signs = list(dict.fromkeys(sign for listed in signs.values() for sign in listed))
    if not found.strip_signs:
        return present
    pattern = re.compile(signs_pattern(tuple(found.strip_signs)))
    return {name: [pattern.sub(r"\1", v) for v in values] if signs[name] else values
            for name, values in present.items()}


def _gap_marks(present: dict[str, list[str]], found: Columns) -> list[str]:
    """Texts that stand for a missing number ('-', '--', 'n.a.', 'k.A.', 'none', ...; see
    GAP_LIKE) in columns that otherwise hold numbers, as the file writes them, each once
    whatever its case: the markers for data.source.missing_values."""
    marks: dict[str, str] = {}
    for values in present.values():
        gaps = [v for v in values if GAP_LIKE.match(v) or v.casefold() == "none"]
        others = [v for v in values if not (GAP_LIKE.match(v) or v.casefold() == "none")]
        numbers = sum(v is not None for v in numbers_or_none(others, found.thousands, found.decimal))
        if gaps and others and numbers >= MOSTLY_NUMBERS * len(others):
            for gap in gaps:
                marks.setdefault(gap.casefold(), gap)
    return list(marks.values())


def _date_format(name: str, values: list[str], found: Columns) -> str:
    """``auto`` where the cells say how they are written (year first, or a day over 12);
    else a guess of ``dmy`` or ``mdy``, noted in ``found.mixed_dates``: day first in a file of
    decimal commas or dates with points (15.03.2024), as Europe writes them."""
    from nnrun.data.dates import infer_format
    from nnrun.errors import ConfigError

    try:
        infer_format(values, name)
        return "auto"
    except ConfigError as error:
        guess = "dmy" if found.decimal == "," or any("." in v.split()[0] for v in values[:100]) else "mdy"
        found.mixed_dates[name] = error.problems[0].message
        return guess


def _note_strays(name: str, column: list[str], lines: list[int], found: Columns) -> None:
    """Into ``found.strays``: the cells of a column of numbers that are not numbers
    (and not missing), with their lines."""
    missing = markers(found.missing_values)  # '-' in a column of numbers: a gap, no stray
    numbers = iter(numbers_or_none([c for c in column if c.lower() not in missing], found.thousands, found.decimal,
                                   found.strip_signs))
    strays = [(line, cell) for line, cell in zip(lines, column)
              if cell.lower() not in missing and next(numbers) is None]
    if strays:
        found.strays[name], found.stray_rows[name] = strays[:5], len(strays)


def row_numbers(values: list[float]) -> bool:
    """Whole numbers that count the rows (1, 2, 3, ... in any order): an index, not a feature."""
    return all(v == int(v) for v in values) and max(values) - min(values) == len(values) - 1
