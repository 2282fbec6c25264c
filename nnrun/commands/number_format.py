"""How a CSV file writes its numbers, from the cells of its first rows: the decimal
mark and the thousands separator, for a starter config (see :mod:`.csv_look`).

May import: nothing of nnrun.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DECIMAL_COMMA = re.compile(r"^[+-]?\d+,(\d{1,2}|\d{4,})$|^[+-]?0,\d+$")  # 3,25  0,126: no thousands separator
COMMA_GROUPS = re.compile(r"^[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d+)?$")  # 483,809
POINT_GROUPS = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3})+(,\d+)?$")  # 1.234,5
ONE_POINT = re.compile(r"^[+-]?(\d*\.\d+|\d+\.)$")  # 3.25  159.176; not a date such as 01.02.2023
WHOLE = re.compile(r"^[+-]?\d+$")  # 766: a whole number without a separator
SPACE_GROUPS = re.compile(r"^[+-]?[1-9]\d{0,2}([ \u00a0\u202f])\d{3}(\1\d{3})*([.,]\d+)?$")  # 17 636  1 234,5
APOSTROPHE_GROUPS = re.compile(r"^[+-]?[1-9]\d{0,2}(['\u2019])\d{3}(\1\d{3})*(\.\d+)?$")  # 9'654.90: Swiss


@dataclass(frozen=True)
class NumberFormat:
    decimal: str = "."
    thousands: str | None = None
    # A cell such as '2.888' where a point may be a decimal or group thousands and
    # nothing settled it: read as a decimal, and said so.
    either_way: str | None = None


def number_format(columns: dict[str, list[str]], delimiter: str) -> NumberFormat:
    """The decimal mark and the thousands separator of the file's numbers.

    Some cells settle it: '3,25' and '0,126' have a decimal comma ('0,126' groups
    nothing), '1,234,567' and '1,234.5' group thousands with commas. '483,809' alone
    could be either, and so could '159.176' (a decimal point, or thousands grouped with
    points). The file's delimiter decides those: a file separated by ";" is what
    spreadsheets write where the comma is the decimal mark and the point groups
    thousands. Points group thousands only where a column shows it, though: '159.176'
    beside '766' (decimals of three places write 766.000), or '1.234.567'. A column of
    '2.888' and '10.957' alone is read as decimals, and ``either_way`` says so.
    A space (also the no-break spaces spreadsheets write) groups thousands in any file,
    and so does an apostrophe beside a decimal point (Switzerland: 9'654.90).
    Whatever is chosen, the reader refuses, by line, the cells that do not fit it."""
    cells = [c for column in columns.values() for c in column]
    spaced = [SPACE_GROUPS.match(c) for c in cells]
    spaces = [m.group(1) for m in spaced if m]
    semicolons = delimiter == ";"
    decimal_commas = sum(bool(DECIMAL_COMMA.match(c)) for c in cells) + sum(bool(m and "," in m.group(0))
                                                                              for m in spaced)
    comma_groups = [c for c in cells if COMMA_GROUPS.match(c)]
    surely_grouped = sum(c.count(",") > 1 or "." in c for c in comma_groups)
    either = len(comma_groups) - surely_grouped  # '483,809'
    decimal, thousands, either_way = ".", None, None
    if decimal_commas + (either if semicolons else 0) > surely_grouped + (0 if semicolons else either):
        decimal = ","
        thousands = "." if any(POINT_GROUPS.match(c) for c in cells) else None
    elif comma_groups:
        thousands = ","
    elif semicolons and not decimal_commas:
        # '159.176' beside '766' and no '3.25' or '0.5', which only a decimal point writes
        pointed = [c for c in cells if ONE_POINT.match(c) or POINT_GROUPS.match(c)]
        if pointed and all(POINT_GROUPS.match(c) for c in pointed):
            if any(c.count(".") > 1 for c in pointed) or any(
                    any(POINT_GROUPS.match(c) for c in column) and any(WHOLE.match(c) for c in column)
                    for column in columns.values()):
                thousands = "."
            else:
                either_way = pointed[0]
    if spaces:
        thousands = max(set(spaces), key=spaces.count)
    apostrophes = [m.group(1) for m in map(APOSTROPHE_GROUPS.match, cells) if m]
    if apostrophes and decimal == "." and thousands is None:  # where no comma or space groups them
        thousands = max(set(apostrophes), key=apostrophes.count)
    return NumberFormat(decimal, thousands, either_way)
