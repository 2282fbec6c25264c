"""The hint under a number column's bad cells: what to do, by what the cells look like.

Numbers the declared separator does not fit, numbers with separators (``thousands``)
or the other decimal mark (``decimal``), numbers with currency or percent signs, marks
for a missing value that are no missing marker ("-"), few distinct texts (categories),
a different text in every row (an ID), free text; a user is never told to make a
number column categorical. Read only when a column has bad cells.
"""

from __future__ import annotations

import json
import re

import numpy as np

from nnrun.data.cell_kinds import dates
from nnrun.data.labels import HIGH_CARDINALITY, shortened
from nnrun.data.number_patterns import (AROUND, COMMA_GROUPS, GAP_LIKE, NUMBER_WITH_DECIMAL_COMMA, NUMBER_WITH_SEPARATOR,
                                        NUMBER_WITH_SEPARATOR_AND_COMMA, NUMBER_WITH_SYMBOLS, ONE_COMMA_GROUP,
                                        PLAIN, signs_in)


def number_hint(column: str, wrong: np.ndarray, present: int, thousands: str | None = None,
                target: bool = False, decimal: str = ".", commas_are_decimal: bool = False,
                several: bool = False) -> str:
    """What to do about a number column with text in it, by what the text (``wrong``,
    the bad cells) looks like: numbers the declared separator does not fit, numbers
    with separators (``thousands``), numbers with the other decimal mark (``decimal``),
    numbers with other characters are to be cleaned; few distinct texts may be
    categories; a (nearly) different text in every row is an ID; anything else is fixed
    or left out. Number-like cells and IDs never get the categorical hint. A
    regression's ``target`` is never to be made a feature or left out: words in it are
    class labels (a classification loss), anything else is fixed. ``commas_are_decimal``:
    other columns of the file hold numbers such as '8,07', so '4,295' here has a
    decimal comma too, not a thousands one. ``several``: the target is one of several,
    each a number to regress, where class labels have no place."""
    sample = [str(c) for c in wrong[:1000]]
    # Cells that hold the separator: '1.00' in a file of decimal commas is the decimal mark's, not its.
    misfits = [c for c in sample if thousands and thousands in c and PLAIN.match(c.replace(thousands, ""))]
    if len(misfits) > len(sample) / 2:
        point = ', and with "." a number has no decimal point' if thousands == "." else ""
        shown = thousands if thousands.isprintable() and not thousands.isspace() or thousands == " " else \
            json.dumps(thousands)[1:-1]  # a no-break space as \u00a0: the quotes would hold nothing to see
        return (f"'{column}' holds numbers like '{misfits[0]}' that data.source.thousands: \"{shown}\" does not "
                f"fit: the separator holds for every column of the file and stands only between groups of three "
                f"digits{point}; fix these cells, or drop the setting and write plainly the numbers that need it")
    grouped = NUMBER_WITH_SEPARATOR_AND_COMMA if decimal == "," else NUMBER_WITH_SEPARATOR
    separated = [c for c in sample if grouped.match(c)]
    marked = _other_decimal_mark(sample, decimal)
    # "1,234" may be either; "0,126" and "3,25" can only have a decimal comma.
    comma_grouped = bool(separated) and all(ONE_COMMA_GROUP.match(c) for c in separated)
    if separated and not (marked and any(not grouped.match(c) for c in marked)) \
            and not (commas_are_decimal and comma_grouped):
        separator = separator_of(separated[0])
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
    if signs := signs_in(sample):  # '$24,114', '13.77%': the signs to drop, and the marks the numbers need
        listed = ", ".join(json.dumps(sign, ensure_ascii=False) for sign in signs)
        bare = [AROUND.match(c.strip()) for c in sample]
        bare = [re.sub(r"^[+-]?\s*(\S*?)\s*[+-]?(?=\d)|\s*\D*$", "", m.group(0)) for m in bare if m]
        grouped = [c for c in bare if NUMBER_WITH_SEPARATOR.match(c)] if not thousands else []
        separator = f', and data.source.thousands: "{separator_of(grouped[0])}"' if len(grouped) > len(bare) / 2 else ""
        return (f"'{column}' holds numbers written with signs (like '{sample[0]}'); set data.source.strip_signs: "
                f"[{listed}]{separator} to read them as numbers"
                + ("" if target else ", or leave the column out with data.source.ignore"))
    if sum(bool(NUMBER_WITH_SYMBOLS.match(c)) for c in sample) > len(sample) / 2:
        return (f"'{column}' holds numbers written with other characters (like '{sample[0]}'); {plainly}"
                + ("" if target else ", or leave the column out with data.source.ignore"))
    distinct = len(set(wrong.tolist()))
    mostly = len(wrong) > present / 2
    if target:
        if mostly and distinct <= _category_limit(present) and several:
            return (f"'{column}', one of the targets, holds words like '{sample[0]}' ({distinct} distinct): class "
                    "labels, which a regression of several targets cannot predict; leave it out of "
                    "data.source.target, and predict it with a model of its own (a classification loss)")
        if mostly and distinct <= _category_limit(present):
            return (f"'{column}', the target, holds words like '{sample[0]}' ({distinct} distinct): class labels, not "
                    "numbers to regress; for a classification use a loss such as categorical_crossentropy")
        return f"'{column}' is the target, which a regression needs as a number in every row; fix these cells"
    if mostly and dates(sample):  # before categories: the dates of a few days repeat
        return (f"'{column}' holds dates (like '{sample[0]}'); name it in data.source.dates: [{column}] to learn "
                "from its year, place in the year and weekday (and time of day), or leave it out with "
                "data.source.ignore")
    if distinct == 1 and len(wrong) == present:  # one word in every row: no input to learn from, even one-hot
        return (f"'{column}' holds one value ('{sample[0]}') in every row, which tells the rows nothing; leave it "
                "out with data.source.ignore")
    if mostly and distinct < len(wrong) and distinct <= _category_limit(present):  # values that repeat
        return (f"'{column}' looks like categories ({distinct} distinct value{'s' if distinct != 1 else ''}); "
                "list it under data.source.categorical")
    if mostly and _free_text(sample):
        return (f"'{column}' holds free text (like '{shortened(max(sample, key=len))}'); to learn from it, name it "
                f"in data.source.text: {{column: {column}}}, the model's input for an embedding layer (nnrun init "
                "--data FILE --target COLUMN writes such a config), or leave it out with data.source.ignore")
    if mostly and distinct >= 0.9 * len(wrong):
        every = "every" if distinct == len(wrong) else "nearly every"
        return f"'{column}' holds a different text in {every} row, like an ID; name it in data.source.id"
    gaps = sorted({c for c in sample if GAP_LIKE.match(c) or c.casefold() == "none"})
    if gaps:  # "-" and "." stand for a number often, but are no missing marker of their own
        listed = ", ".join(json.dumps(gap) for gap in gaps[:3])
        return (f"{', '.join(map(repr, gaps[:3]))} look{'s' if len(gaps) == 1 else ''} like a mark for a missing "
                f"value; to read {'it' if len(gaps) == 1 else 'them'} so, set data.source.missing_values: [{listed}] "
                "(data.source.missing: mean or most_frequent then fills such cells), or fix the cells in "
                f"'{column}', or leave the column out with data.source.ignore")
    return f"fix the cells in '{column}', or leave the column out with data.source.ignore"


def _free_text(sample: list[str]) -> bool:
    """Whether most cells are several words: sentences, not names or codes."""
    return sum(len(c.split()) >= 4 for c in sample) > len(sample) / 2


def _other_decimal_mark(sample: list[str], decimal: str) -> list[str]:
    """The cells of ``sample`` written with the decimal mark that is not ``decimal``,
    when they are more than half of it."""
    pattern = PLAIN if decimal == "," else NUMBER_WITH_DECIMAL_COMMA
    marked = [c for c in sample if pattern.match(c) and (decimal == "." or "." in c)]
    return marked if len(marked) > len(sample) / 2 else []


def scoring_hint(column: str, wrong: np.ndarray, thousands: str | None, decimal: str = ".",
                 options: bool = False, target: bool = False) -> str:
    """The hint for such cells in rows for a trained model, which reads the column as
    training did unless told otherwise: a file given to predict or evaluate --data
    (``options``) may be read with --decimal and --thousands; other rows (a request, a
    table in memory) are to be fixed, since a setting would need a new training run.
    ``target``: the column holds a regression's targets, which the run scores, not reads."""
    reads = f"the run scores its targets in '{column}' as numbers" if target else \
        f"the model reads numbers in '{column}'"
    sample = [str(c) for c in wrong[:1000]]
    marked = _other_decimal_mark(sample, decimal)  # first: under a decimal comma, '1.257' is no thousands
    grouped = NUMBER_WITH_SEPARATOR_AND_COMMA if decimal == "," else NUMBER_WITH_SEPARATOR
    # Grouped by another separator than the one read with ('46 552.1' for a run of '46,552.1').
    separated = [c for c in sample if grouped.match(c) and separator_of(c) != thousands] if not marked else []
    separated = separated if len(separated) > len(sample) / 2 else []
    # '50,000' under a decimal point: a comma between groups of three digits, which groups
    # thousands as often as it marks decimals; both readings are told, thousands first.
    either = decimal == "." and not thousands and marked and all(map(NUMBER_WITH_SEPARATOR.match, marked))
    if either and options:
        return (f"the file is read with a decimal point and no thousands separator, and '{marked[0]}' in '{column}' "
                "has a comma: if it groups thousands, read the file with --thousands ','; if it is a decimal comma, "
                "with --decimal ','")
    if either:
        return (f"the model reads plain numbers in '{column}' (it was trained without data.source.thousands): write "
                f"'{marked[0]}' as {marked[0].replace(',', '')}, or as {marked[0].replace(',', '.')} if its comma "
                "is a decimal mark")
    # '20,731.00' or '1,234,567' under a decimal comma: written the other way round.
    other_way = [c for c in sample if COMMA_GROUPS.match(c)] if decimal == "," else []
    if len(other_way) > len(sample) / 2:
        cell = other_way[0]
        if options:
            return (f"the file is read with a decimal comma, and '{cell}' in '{column}' groups thousands with commas: "
                    "read the file with --decimal '.' --thousands ','")
        written = cell.replace(",", " ").replace(".", ",").replace(" ", thousands or "")
        return (f"{reads} with a decimal comma, as training read them: write '{cell}' "
                f"as '{written}'")
    if options:
        return _reading_hint(column, sample, marked, separated, thousands, decimal, reads)
    if separated and thousands:
        cell = separated[0]
        return (f"{reads} with {thousands!r} between thousands, as training read them: "
                f"write '{cell}' as '{cell.replace(separator_of(cell), thousands)}'")
    if separated:
        return (f"the model reads plain numbers in '{column}' (it was trained without data.source.thousands); "
                "write them without the separator")
    if marked:
        cell = marked[0]
        mark, written = ("a decimal comma", cell.replace(".", ",")) if decimal == "," else \
            ("a decimal point", re.sub(r"[.' ]", "", cell).replace(",", "."))
        return (f"{reads} with {mark}, as training read them: write '{cell}' as "
                f"'{written}'")
    return f"{reads}; fix these cells"


def separator_of(cell: str) -> str:
    """The character between a grouped number's thousands: '1 234' -> ' ' (a file's cell, or a table's)."""
    return re.search(r"\d([,.' \u00a0\u202f])\d{3}", cell).group(1)


def _reading_hint(column: str, sample: list[str], marked: list[str], separated: list[str], thousands: str | None,
                  decimal: str, reads: str) -> str:
    """How to read a file's number cells that the decimal mark or the thousands
    separator it is read with (the training files', or --decimal's and --thousands')
    does not fit."""
    if marked and decimal == ",":
        groups = thousands != "." and bool(NUMBER_WITH_SEPARATOR_AND_COMMA.match(marked[0]))  # '30.696', not '3.25'
        grouped = "; if it groups thousands, add --thousands '.'" if groups else ""
        return (f"the file is read with a decimal comma, and '{marked[0]}' in '{column}' has a point: if it is the "
                f"decimal mark, read the file with --decimal '.'{grouped}")
    if marked and thousands == ",":  # the file's other numbers group thousands with commas: one cell is off
        return (f"the file is read with ',' between thousands, and '{marked[0]}' in '{column}' has a comma that is "
                "not between groups of three digits: fix the cell (--decimal ',' would read every number of the file "
                "with a decimal comma, '1,000' as 1)")
    if marked:
        cell = marked[0]
        points = " --thousands '.'" if any("." in c for c in marked) and thousands != "." else ""
        return (f"the file is read with a decimal point, and '{cell}' in '{column}' has a decimal comma: read the "
                f"file with --decimal ','{points}")
    if separated:
        separator = separator_of(separated[0])
        option = "space" if separator == " " else repr(separator)
        now = f"with {thousands!r} between thousands" if thousands else "without a thousands separator"
        return (f"the file is read {now}, and '{separated[0]}' in '{column}' groups them with {separator!r}: read "
                f"the file with --thousands {option}")
    if thousands == decimal == "." and sum(bool(PLAIN.match(c)) and "." in c for c in sample) > len(sample) / 2:
        # '46552.1' where a point groups thousands: whole numbers only, so no decimal point.
        return (f"the file is read with '.' between thousands, so a number has no decimal point, and "
                f"'{next(c for c in sample if PLAIN.match(c) and '.' in c)}' in '{column}' has one: read the file "
                "with --thousands none")
    return f"{reads}; fix these cells"


def _category_limit(rows: int) -> int:
    """The most distinct values a column of ``rows`` may have to look like categories:
    each value repeated (a tenth of the rows at most), and below the count that makes a
    categorical column a warning (see .columns.category_warnings)."""
    return min(max(20, rows // 10), HIGH_CARDINALITY, max(1, rows // 2))
