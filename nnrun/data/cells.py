"""Text cells read as numbers, and the hint for the cells that are not.

A CSV column read as text (declared thousands separators, or a number column with
something else in it) comes here, a batch of cells at a time, parsed by arrow's
compute kernels rather than one Python call per cell (a 92.5 MB file: 15.5 s that way,
3.7 s now; see benchmarks/RESULTS.md).
Each cell is missing (``""``, ``NA``, ``?``, ... in any case, padded or not), a number
(``True`` and ``False``, in any case, are 1 and 0), or bad; the bad ones are recorded with their lines, and the hint fits what they look
like (``thousands``, other characters in numbers, ``categorical``, ``id``, or fix them),
so a user is never told to make a number column categorical.

A declared separator is read only between groups of three digits, the first without a
leading zero: with ``thousands: ","`` the cell ``"53,697"`` is 53697, but ``"852,10"``,
``"1,2,3"``, ``",5"`` and ``"0,861"`` are bad cells, not 85210, 123, 5 and 861. With ``thousands: "."`` a cell such as ``"0.5"`` is a
bad cell too: the separator holds for every column of the file, so a decimal point
can no longer be one. With ``decimal: ","`` the cell ``"3,25"`` is 3.25 and ``"3.25"``
a bad cell (in such a file a point groups thousands, if anything), unless ``thousands:
"."`` reads it between groups of three digits (``"1.234,5"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache

import numpy as np

from nnrun.data.arrays import floats_into, indices, mask, null_string, strings
from nnrun.data.problems import DataProblems

MISSING = frozenset({"", "na", "n/a", "nan", "null", "?"})  # compared stripped, in lower case
# What arrow reads as a float (its cast is the same parser as the CSV reader's typed columns).
NUMBER = r"^[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|(?i:inf|infinity|nan))$"
PLAIN = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
NUMBER_WITH_SEPARATOR = re.compile(r"^[+-]?[1-9]\d{0,2}([,.' \u00a0\u202f]\d{3})+(\.\d+)?$")
# The same where the decimal mark is a comma: 1.234  1 234,5
NUMBER_WITH_SEPARATOR_AND_COMMA = re.compile(r"^[+-]?[1-9]\d{0,2}([.' \u00a0\u202f]\d{3})+(,\d+)?$")
ONE_COMMA_GROUP = re.compile(r"^[+-]?\d{1,3},\d{3}$")  # '4,295': a decimal comma, or a thousands one
NUMBER_WITH_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}([.' ]\d{3})+|\d+),\d+$")  # 3,25  1.234,5
# $85,210  12%  (a currency or percent sign)  852,10  1.234,5  (a decimal comma); not
# dates, versions or addresses such as 01.02.2023 and 10.0.0.1
SIGNED_NUMBER = re.compile(r"^[+-]?[$€£¥]\s?[+-]?\d[\d.,' ]*$|^[+-]?\d[\d.,' ]*\s?[%$€£¥]$")  # $85,210  12%
NUMBER_WITH_SYMBOLS = re.compile(SIGNED_NUMBER.pattern + r"|^[+-]?\d{1,3}(\.\d{3})*,\d+$|^[+-]?\d+,\d{1,2}$")


@dataclass
class TextNumbers:
    """One column's cells read as numbers, batch by batch: how many were present (not
    missing), and the rows (into the whole column) and text of the cells that were
    bad or infinite, which are reported once the file's line numbers are known."""

    thousands: str | None = None
    decimal: str = "."
    present: int = 0
    rows: list[np.ndarray] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def add(self, array, offset: int):
        """Parse the arrow string ``array`` (a batch's cells, rows ``offset`` on); returns
        its values as an arrow float32 array, null where a cell is missing or bad."""
        values, odd, texts, present = _parse(array, self.thousands, self.decimal)
        self.present += present
        self.rows.append(odd + offset)
        self.texts += texts
        return values

    def shows_decimal_commas(self) -> bool:
        """Whether some bad cell can only have a decimal comma ('8,07', '15,4'): that settles
        what '4,295' in another column of the file is (alone it could group thousands)."""
        ungrouped = (text for text in self.texts[:1000] if not NUMBER_WITH_SEPARATOR.match(text))
        return self.decimal == "." and not self.thousands and any(map(NUMBER_WITH_DECIMAL_COMMA.match, ungrouped))

    def report(self, values: np.ndarray, column: str, lines: np.ndarray, problems: DataProblems,
               commas_are_decimal: bool = False) -> None:
        """Record the column's bad and infinite cells in ``problems``; both become 0 in
        ``values`` (reported already: not missing as well). ``commas_are_decimal``: the
        file's other columns show decimal commas."""
        rows = np.concatenate(self.rows) if self.rows else np.empty(0, np.intp)
        texts = np.array(self.texts, dtype=object)
        infinite = np.isinf(values[rows])
        if infinite.any():
            problems.add_cells("not a finite number", column, lines[rows[infinite]], texts[infinite])
        bad = ~infinite
        if bad.any():
            hint = number_hint(column, texts[bad], self.present, self.thousands, column == problems.target,
                               self.decimal, commas_are_decimal) \
                if not problems.scoring else scoring_hint(column, texts[bad], self.thousands, self.decimal)
            problems.add_cells("not a number", column, lines[rows[bad]], texts[bad], hint)
        values[rows] = 0


def tidy_label(name: str) -> str:
    """'1.0' -> '1', '01' -> '1': a label that is a whole number is named by its digits.

    Read as a decimal, not a float: a float has no room for every digit of a long code
    (9007199254740993 would become ...992). Numbers with over 40 digits keep their text."""
    try:
        value = Decimal(name)
    except (InvalidOperation, TypeError, ValueError):
        return str(name)
    if value.is_finite() and value == value.to_integral_value() and value.adjusted() < 40:
        return str(int(value))
    return str(name)


def parse_numbers(cells, column: str, lines: np.ndarray, problems: DataProblems,
                  thousands: str | None = None, decimal: str = ".") -> np.ndarray:
    """Float32 values of text cells (a request's, ...): NaN where missing; bad cells are
    recorded in ``problems`` as a file's are."""
    found = TextNumbers(thousands, decimal)
    parsed = np.empty(len(cells), np.float32)
    floats_into(found.add(strings([str(c) for c in cells]), 0), parsed)
    found.report(parsed, column, np.asarray(lines), problems)
    return parsed


def numbers_or_none(cells: list[str], thousands: str | None = None, decimal: str = ".") -> list[float | None]:
    """Each text cell as the CSV reader reads it: its number, NaN where missing, or None
    for a bad cell (what ``nnrun init`` looks at, so that it calls a column of numbers
    what training will read as one)."""
    parsed, bad, _, _ = _parse(strings(cells), thousands, decimal)
    values = np.empty(len(cells), np.float32)
    floats_into(parsed, values)
    out: list[float | None] = values.astype(np.float64).tolist()
    for row in bad.tolist():
        out[row] = None
    return out


def _parse(array, thousands: str | None, decimal: str = "."):
    """(float32 values, rows of bad or infinite cells, their texts, cells present).

    No Python value becomes an arrow one here (see :mod:`.arrays`); a boolean with
    nulls is made definite by Kleene logic (null and false is false)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    none = null_string()
    cells = pc.utf8_trim_whitespace(array)
    missing = pc.or_kleene(pc.is_in(pc.utf8_lower(cells), value_set=_markers()), pc.is_null(cells))
    text = pc.if_else(missing, none, cells)
    # True and False, in any case (as pandas writes a boolean column), are 1 and 0, as a
    # boolean column handed over in memory is.
    for word, value in (("true", "1"), ("false", "0")):
        text = pc.replace_substring_regex(text, pattern=f"(?i)^{word}$", replacement=value)
    if thousands:
        separated = _definite(pc.match_substring(text, thousands))
        grouped = _definite(pc.match_substring_regex(text, _grouped(thousands, decimal)))
        # Well-grouped cells lose their separators; any other cell holding one is bad.
        text = pc.if_else(grouped, pc.replace_substring(text, thousands, ""), pc.if_else(separated, none, text))
        bad = mask(pc.and_(separated, pc.invert(grouped)))
    else:
        bad = np.zeros(len(array), bool)
    if decimal != ".":
        # A point left (not read as the thousands separator) is a bad cell; the decimal
        # mark becomes the point arrow's parser reads.
        pointed = _definite(pc.match_substring(text, "."))
        bad |= mask(pointed)
        text = pc.replace_substring(pc.if_else(pointed, none, text), decimal, ".")
    try:
        parsed = pc.cast(text, pa.float32())
    except pa.ArrowInvalid:  # some cell is no number: find every one
        number = pc.or_kleene(pc.match_substring_regex(text, NUMBER), pc.is_null(text))
        bad |= ~mask(number)
        parsed = pc.cast(pc.if_else(number, text, none), pa.float32())
    infinite = mask(_definite(pc.is_inf(parsed)))
    odd = np.flatnonzero(bad | infinite)
    texts = pc.take(cells, indices(odd)).to_pylist() if len(odd) else []
    return parsed, odd, texts, len(array) - int(pc.sum(missing).as_py() or 0)


def _definite(booleans):
    """Null as false."""
    import pyarrow.compute as pc

    return pc.and_kleene(booleans, pc.is_valid(booleans))


@cache
def _markers():
    """The missing-cell markers as an arrow array, for ``is_in``."""
    return strings(sorted(MISSING))


def _grouped(separator: str, decimal: str = ".") -> str:
    """A number whose separators sit between groups of three digits, then maybe the
    ``decimal`` mark and a fraction (none when the separator is the point, the default
    decimal mark: then it is no decimal mark). No leading zero: '0,500' groups nothing."""
    decimals = "" if separator == decimal else rf"({re.escape(decimal)}\d*)?"
    return rf"^[+-]?[1-9]\d{{0,2}}({re.escape(separator)}\d{{3}})+{decimals}$"


def number_hint(column: str, wrong: np.ndarray, present: int, thousands: str | None = None,
                target: bool = False, decimal: str = ".", commas_are_decimal: bool = False) -> str:
    """What to do about a number column with text in it, by what the text (``wrong``,
    the bad cells) looks like: numbers the declared separator does not fit, numbers
    with separators (``thousands``), numbers with the other decimal mark (``decimal``),
    numbers with other characters are to be cleaned; few distinct texts may be
    categories; a (nearly) different text in every row is an ID; anything else is fixed
    or left out. Number-like cells and IDs never get the categorical hint. A
    regression's ``target`` is never to be made a feature or left out: words in it are
    class labels (a classification loss), anything else is fixed. ``commas_are_decimal``:
    other columns of the file hold numbers such as '8,07', so '4,295' here has a
    decimal comma too, not a thousands one."""
    sample = [str(c) for c in wrong[:1000]]
    misfits = [c for c in sample if thousands and PLAIN.match(c.replace(thousands, ""))]
    if len(misfits) > len(sample) / 2:
        point = ', and with "." a number has no decimal point' if thousands == "." else ""
        return (f"'{column}' holds numbers like '{misfits[0]}' that data.source.thousands: \"{thousands}\" does not "
                f"fit: the separator holds for every column of the file and stands only between groups of three "
                f"digits{point}; fix these cells, or drop the setting and write plainly the numbers that need it")
    grouped = NUMBER_WITH_SEPARATOR_AND_COMMA if decimal == "," else NUMBER_WITH_SEPARATOR
    separated = [c for c in sample if grouped.match(c)]
    marked = _other_decimal_mark(sample, decimal)
    # "1,234" may be either; "0,126" and "3,25" can only have a decimal comma.
    comma_grouped = bool(separated) and all(ONE_COMMA_GROUP.match(c) for c in separated)
    if separated and not (marked and any(not grouped.match(c) for c in marked)) \
            and not (commas_are_decimal and comma_grouped):
        separator = re.search(r"\d([,.' \u00a0\u202f])\d{3}", separated[0]).group(1)
        instead = f' instead of "{thousands}"' if thousands and thousands != separator else ""
        rest = "" if len(separated) == len(sample) else " (and fix the cells that are not numbers)"
        written = {"\u00a0": "\\u00a0", "\u202f": "\\u202f"}.get(separator, separator)  # no-break spaces, escaped
        return (f"'{column}' holds numbers with a thousands separator; "
                f"set data.source.thousands: \"{written}\"{instead}{rest}")
    if marked:
        if decimal == ",":
            return (f"'{column}' holds numbers with a decimal point (like '{marked[0]}'), but data.source.decimal "
                    "is \",\", which holds for every column of the file; fix these cells, or drop the setting")
        point = ' and thousands: "."' if any("." in c for c in marked) and thousands != "." else ""
        return (f"'{column}' holds numbers with a decimal comma (like '{marked[0]}'); "
                f"set data.source.decimal: \",\"{point}")
    mark = "a decimal comma" if decimal == "," else "a decimal point"
    plainly = f"write them as plain numbers ({mark}, no currency or percent signs)"
    if sum(bool(NUMBER_WITH_SYMBOLS.match(c)) for c in sample) > len(sample) / 2:
        return (f"'{column}' holds numbers written with other characters (like '{sample[0]}'); {plainly}"
                + ("" if target else ", or leave the column out with data.source.ignore"))
    distinct = len(set(wrong.tolist()))
    mostly = len(wrong) > present / 2
    if target:
        if mostly and distinct <= _category_limit(present):
            return (f"'{column}', the target, holds words like '{sample[0]}' ({distinct} distinct): class labels, not "
                    "numbers to regress; for a classification use a loss such as categorical_crossentropy")
        return f"'{column}' is the target, which a regression needs as a number in every row; fix these cells"
    if mostly and distinct < len(wrong) and distinct <= _category_limit(present):  # values that repeat
        return (f"'{column}' looks like categories ({distinct} distinct value{'s' if distinct != 1 else ''}); "
                "list it under data.source.categorical")
    if mostly and _free_text(sample):
        return (f"'{column}' holds free text (like '{_shortened(max(sample, key=len))}'); to learn from it, name it "
                f"in data.source.text: {{column: {column}}}, the model's input for an embedding layer (nnrun init "
                "--data FILE --target COLUMN writes such a config), or leave it out with data.source.ignore")
    if mostly and distinct >= 0.9 * len(wrong):
        every = "every" if distinct == len(wrong) else "nearly every"
        return f"'{column}' holds a different text in {every} row, like an ID; name it in data.source.id"
    return f"fix the cells in '{column}', or leave the column out with data.source.ignore"


def _free_text(sample: list[str]) -> bool:
    """Whether most cells are several words: sentences, not names or codes."""
    return sum(len(c.split()) >= 4 for c in sample) > len(sample) / 2


def _shortened(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _other_decimal_mark(sample: list[str], decimal: str) -> list[str]:
    """The cells of ``sample`` written with the decimal mark that is not ``decimal``,
    when they are more than half of it."""
    pattern = PLAIN if decimal == "," else NUMBER_WITH_DECIMAL_COMMA
    marked = [c for c in sample if pattern.match(c) and (decimal == "." or "." in c)]
    return marked if len(marked) > len(sample) / 2 else []


def scoring_hint(column: str, wrong: np.ndarray, thousands: str | None, decimal: str = ".") -> str:
    """The hint for such cells in rows for a trained model, which reads the column as
    training did: the cells are to be fixed (a setting would need a new training run)."""
    sample = [str(c) for c in wrong[:1000]]
    marked = _other_decimal_mark(sample, decimal)  # first: under a decimal comma, '1.257' is no thousands
    if not marked and not thousands and sum(bool(NUMBER_WITH_SEPARATOR.match(c)) for c in sample) > len(sample) / 2:
        return (f"the model reads plain numbers in '{column}' (it was trained without data.source.thousands); "
                "write them without the separator")
    if marked:
        cell = marked[0]
        mark, written = ("a decimal comma", cell.replace(".", ",")) if decimal == "," else \
            ("a decimal point", re.sub(r"[.' ]", "", cell).replace(",", "."))
        other = "." if decimal == "," else ","
        return (f"the model reads numbers in '{column}' with {mark}, as training read them: write '{cell}' as "
                f"'{written}' (a file written so is read with --decimal '{other}')")
    return f"the model reads numbers in '{column}'; fix these cells"


def _category_limit(rows: int) -> int:
    """The most distinct values a column of ``rows`` may have to look like categories:
    each value repeated (a tenth of the rows at most), and below the count that makes a
    categorical column a warning (see .columns.category_warnings)."""
    from nnrun.data.columns import HIGH_CARDINALITY

    return min(max(20, rows // 10), HIGH_CARDINALITY, max(1, rows // 2))
