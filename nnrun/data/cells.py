"""Text cells read as numbers; the hint for the cells that are not is :mod:`.cell_hints`'s.

A CSV column read as text (declared thousands separators, or a number column with
something else in it) comes here, a batch of cells at a time, parsed by arrow's
compute kernels rather than one Python call per cell (a 92.5 MB file: 15.5 s that way,
3.7 s now; see benchmarks/RESULTS.md).
Each cell is missing (``""``, ``NA``, ``#N/A``, ``?``, ... in any case, padded or not),
a number (``True`` and ``False``, in any case, are 1 and 0), or bad; the bad ones are
recorded with their lines, and the hint fits what they look like (``thousands``, other
characters in numbers, ``categorical``, ``id``, a missing mark, or fix them), so a user
is never told to make a number column categorical.

A declared separator is read only between groups of three digits, the first without a
leading zero: with ``thousands: ","`` the cell ``"53,697"`` is 53697, but ``"852,10"``,
``"1,2,3"``, ``",5"`` and ``"0,861"`` are bad cells, not 85210, 123, 5 and 861. With
``thousands: "."`` a cell such as ``"0.5"`` is a bad cell too: the separator holds for
every column of the file, so a decimal point can no longer be one. With ``decimal: ","``
the cell ``"3,25"`` is 3.25 and ``"3.25"`` a bad cell (in such a file a point groups
thousands, if anything), unless ``thousands: "."`` reads it between groups of three
digits (``"1.234,5"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache

import numpy as np

from nnrun.data.arrays import floats_into, indices, mask, null_string, strings
from nnrun.data.cell_hints import number_hint, scoring_hint
from nnrun.data.number_patterns import NUMBER, NUMBER_WITH_DECIMAL_COMMA, NUMBER_WITH_SEPARATOR
from nnrun.data.problems import DataProblems

# Compared stripped, in lower case: what spreadsheets (#N/A), pandas (<NA>) and R write for
# a missing cell. Not "none", which pandas reads as missing too: in a text column it is
# as often a category ("alcohol: none, light, heavy") as a gap.
MISSING = frozenset({"", "na", "n/a", "#n/a", "#na", "<na>", "nan", "null", "?"})


def markers(extra=()) -> frozenset[str]:
    """The texts a cell is missing as: MISSING, and a source's own ``missing_values``
    ('-', 'k.A.', '-999'), compared stripped and in lower case as these are. A marker
    that is a number is also written as pandas writes it in a column of floats: -999
    as '-999.0', and -999.0 as '-999'."""
    if not extra:
        return MISSING
    texts = {str(marker).strip().lower() for marker in extra}
    return MISSING | texts | {form for value in number_markers(texts)
                              for form in (repr(value), *([str(int(value))] if value.is_integer() else []))}


def number_markers(texts) -> frozenset[float]:
    """The missing markers that write a finite number as a number writes it ('-999',
    '-999.0', '0'): a number given as a number (a DataFrame's, a JSON request's) is
    missing when it equals one. '00', '-0' or '1e3' mark a cell as written, not the
    number: a column's every 0 is no gap for the marker '00'."""
    found = set()
    for text in texts:
        try:
            value = float(text)
        except ValueError:
            continue
        canonical = {repr(value), *([str(int(value))] if value.is_integer() else [])} \
            if value == value and abs(value) != float("inf") else set()
        if text in canonical:
            found.add(value)
    return frozenset(found)


@dataclass
class TextNumbers:
    """One column's cells read as numbers, batch by batch: how many were present (not
    missing), and the rows (into the whole column) and text of the cells that were
    bad or infinite, which are reported once the file's line numbers are known."""

    thousands: str | None = None
    decimal: str = "."
    missing: frozenset[str] = MISSING  # what a missing cell reads (see markers)
    signs: tuple[str, ...] = ()  # written around numbers, dropped before reading them ('$', '%', 'USD')
    present: int = 0
    rows: list[np.ndarray] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def add(self, array, offset: int):
        """Parse the arrow string ``array`` (a batch's cells, rows ``offset`` on); returns
        its values as an arrow float32 array, null where a cell is missing or bad."""
        values, odd, texts, present = _parse(array, self.thousands, self.decimal, self.missing, self.signs)
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
            # Told by the number inside its signs ('6 132,06 €': grouped with a space), as it is read.
            bare = texts[bad]
            if self.signs:
                signs = re.compile(signs_pattern(self.signs))
                bare = np.array([signs.sub(r"\1", text) for text in bare], dtype=object)
            hint = number_hint(column, bare, self.present, self.thousands, column in problems.targets,
                               self.decimal, commas_are_decimal, several=len(problems.targets) > 1) \
                if not problems.scoring else scoring_hint(column, bare, self.thousands, self.decimal,
                                                          problems.options, column in problems.targets)
            problems.add_cells("not a number", column, lines[rows[bad]], texts[bad], hint)
        values[rows] = 0


def is_boolean(classes: list[str]) -> bool:
    """Whether the classes are False and True (a column of booleans, as pandas and Excel
    write them, in any case)."""
    return sorted(name.casefold() for name in classes) == ["false", "true"]


def class_index(classes: list[str]) -> dict[str, int]:
    """Each class's index by its name, to read targets back (evaluate --data): of the
    classes False and True, also by the other ways a file writes booleans, in any case
    and as 0 and 1, as a number column reads them the other way."""
    index = {name: i for i, name in enumerate(classes)}
    if is_boolean(classes):
        for name, i in list(index.items()):
            truth = name.casefold() == "true"
            for other in ("true", "TRUE", "True", "1") if truth else ("false", "FALSE", "False", "0"):
                index.setdefault(other, i)
    return index


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


def parse_numbers(cells, column: str, lines: np.ndarray, problems: DataProblems, thousands: str | None = None,
                  decimal: str = ".", missing: frozenset[str] = MISSING, signs: tuple[str, ...] = ()) -> np.ndarray:
    """Float32 values of text cells (a request's, ...): NaN where missing (``missing``:
    see markers), ``signs`` dropped; bad cells are recorded in ``problems`` as a file's are."""
    found = TextNumbers(thousands, decimal, missing, tuple(signs))
    parsed = np.empty(len(cells), np.float32)
    floats_into(found.add(strings([str(c) for c in cells]), 0), parsed)
    found.report(parsed, column, np.asarray(lines), problems)
    return parsed


def numbers_or_none(cells: list[str], thousands: str | None = None, decimal: str = ".",
                    signs: tuple[str, ...] = ()) -> list[float | None]:
    """Each text cell as the CSV reader reads it: its number, NaN where missing, or None
    for a bad cell (what ``nnrun init`` looks at, so that it calls a column of numbers
    what training will read as one)."""
    parsed, bad, _, _ = _parse(strings(cells), thousands, decimal, MISSING, tuple(signs))
    values = np.empty(len(cells), np.float32)
    floats_into(parsed, values)
    out: list[float | None] = values.astype(np.float64).tolist()
    for row in bad.tolist():
        out[row] = None
    return out


def _parse(array, thousands: str | None, decimal: str = ".", missing: frozenset[str] = MISSING,
           signs: tuple[str, ...] = ()):
    """(float32 values, rows of bad or infinite cells, their texts, cells present).

    No Python value becomes an arrow one here (see :mod:`.arrays`); a boolean with
    nulls is made definite by Kleene logic (null and false is false)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    none = null_string()
    cells = pc.utf8_trim_whitespace(array)
    absent = pc.or_kleene(pc.is_in(pc.utf8_lower(cells), value_set=_markers(missing)), pc.is_null(cells))
    text = pc.if_else(absent, none, cells)
    # True and False, in any case (as pandas writes a boolean column), are 1 and 0, as a
    # boolean column handed over in memory is.
    for word, value in (("true", "1"), ("false", "0")):
        text = pc.replace_substring_regex(text, pattern=f"(?i)^{word}$", replacement=value)
    # Negatives as accounting writes them, '(1,234.50)' and '($ 5)', and as SAP exports
    # do, '3.565,59-': the minus in front (a cell that is no number then is still a bad one).
    text = pc.replace_substring_regex(text, pattern=ACCOUNTING_NEGATIVE, replacement=r"-\1\2")
    if signs:  # '$1,234.50', '-€ 5', '12.5 %', 'USD 69.37': the number alone, its sign kept
        text = pc.replace_substring_regex(text, pattern=signs_pattern(signs), replacement=r"\1")
        # Excel's Accounting format writes the sign outside the parentheses: '$ (5.00)'
        text = pc.replace_substring_regex(text, pattern=ACCOUNTING_NEGATIVE, replacement=r"-\1\2")
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
    return parsed, odd, texts, len(array) - int(pc.sum(absent).as_py() or 0)


# '(1,234.50)' or '3.565,59-': the number without its parentheses (\1) or trailing minus (\2);
# a digit in it ('(nan)' stays a bad cell). Its spaces written out, no-break ones too, as
# arrow's \s (RE2's) holds ASCII ones alone and Python's (the README's client) all.
_SPACE = "[ \t\u00a0\u202f]"
ACCOUNTING_NEGATIVE = (rf"^\({_SPACE}*(\d[^()]*?|[^()+-][^()]*?\d[^()]*?){_SPACE}*\)$"
                       rf"|^(\d|[^+-][^-]*?\d){_SPACE}*-$")


def _definite(booleans):
    """Null as false."""
    import pyarrow.compute as pc

    return pc.and_kleene(booleans, pc.is_valid(booleans))


@cache
def signs_pattern(signs: tuple[str, ...]) -> str:
    """A sign (any of ``signs``, in any case) at the start of a cell, after a plus or minus
    that is kept, or at its end, with the spaces beside it."""
    either = "|".join(re.escape(sign) for sign in sorted(signs, key=len, reverse=True))
    return rf"(?i)^([+-]?)\s*(?:{either})\s*|\s*(?:{either})$"


@cache
def _markers(missing: frozenset[str]):
    """The missing-cell markers as an arrow array, for ``is_in``."""
    return strings(sorted(missing))


def _grouped(separator: str, decimal: str = ".") -> str:
    """A number whose separators sit between groups of three digits, then maybe the
    ``decimal`` mark and a fraction (none when the separator is the point, the default
    decimal mark: then it is no decimal mark). No leading zero: '0,500' groups nothing."""
    decimals = "" if separator == decimal else rf"({re.escape(decimal)}\d*)?"
    return rf"^[+-]?[1-9]\d{{0,2}}({re.escape(separator)}\d{{3}})+{decimals}$"
