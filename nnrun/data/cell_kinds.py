"""Columns whose cells are something other than plain numbers or words, for a starter
config (see :mod:`nnrun.commands.csv_look`) and the hints under a column's bad cells
(:mod:`.cell_hints`): dates, numbers written with a unit, and codes written
with leading zeros. Each test takes a column's cells that are not missing, and is
meant to say no to ordinary data: a class column of '1st', '2nd', '3rd', times of day
('9am'), version numbers ('1.2.10') or zero-padded counts ('000150') are none of these.

May import: nothing of nnrun.
"""

from __future__ import annotations

import re
from collections import Counter

MOSTLY = 0.9  # the share of a column's cells that must fit

# 2023-01-05, 2023/1/5 12:30, 05.01.2023, 1/5/23 and such, with a time or not.
DATE = re.compile(r"^(?:(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})|"
                  r"(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})[-/.](?P<y>\d{4}|\d{2}))"
                  r"(?:[ T](?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?P<fraction>\.\d+)?)?\s*"
                  r"(?:Z|[+-]\d{2}:?\d{2}|(?P<half>[AaPp])[Mm])?)?$")
# 35 kg, 12.5cm, 3 m², 20 °C: a number and a unit of at most 6 letters; one letter only
# after a space ('5 V'), as '7A' and '12B' are more often codes than amperes.
WITH_UNIT = re.compile(r"^(?P<number>[+-]?\d+(?:[.,]\d+)?)(?:\s?(?P<unit>°?[^\W\d_]{2,6}[²³]?|°[^\W\d_]?|"
                       r"[^\W\d_][²³])|\s(?P<letter>[^\W\d_]))$")
NOT_UNITS = {"st", "nd", "rd", "th", "am", "pm"}  # 1st, 2nd, 3rd, 4th; 9am, 2pm
LEADING_ZERO = re.compile(r"^0\d+$")  # 01067
WHOLE = re.compile(r"^\d+$")


def is_date(cell: str) -> bool:
    """A date (and maybe a time) whose day and month are in range: '1.2.10' is a
    version, '05.01.23' a date, and so is '1/5/23' (day and month either way round)."""
    match = DATE.match(cell)
    if match is None:
        return False
    if match["year"]:
        return 1 <= int(match["month"]) <= 12 and 1 <= int(match["day"]) <= 31
    a, b = int(match["a"]), int(match["b"])
    if not (1 <= min(a, b) <= 12 and max(a, b) <= 31):
        return False
    # Points with a two-digit year: a date writes the day and month in two digits too.
    return not (match["sep"] == "." and len(match["y"]) == 2 and (len(match["a"]) < 2 or len(match["b"]) < 2))


def dates(values: list[str]) -> bool:
    return sum(map(is_date, values)) >= MOSTLY * len(values)


def with_units(values: list[str]) -> bool:
    """Numbers with one unit, written the same in (nearly) every cell, over more than a
    few numbers: '35 kg', '41 kg', '12 kg'. Not '4WD' and '2WD' (few values: categories),
    nor '1012 AB' and '1017 CD' (postcodes: a different suffix in each)."""
    return unit_of(values) is not None


def unit_of(values: list[str]) -> str | None:
    """The unit of numbers with units (see :func:`with_units`), as most cells write it, or None."""
    matches = [m for m in map(WITH_UNIT.match, values) if m]
    if len(matches) <= len(values) / 2:
        return None
    units = Counter((m["unit"] or m["letter"]).casefold() for m in matches)
    unit, count = units.most_common(1)[0]
    if unit in NOT_UNITS or count < MOSTLY * len(matches) or len({m["number"] for m in matches}) < 5:
        return None
    return Counter(m["unit"] or m["letter"] for m in matches if (m["unit"] or m["letter"]).casefold() == unit
                   ).most_common(1)[0][0]


def codes(values: list[str]) -> bool:
    """Digits of one fixed width of at least 4, some with a leading zero: postal or
    product codes ('01067', '80331'; Boston's are all '02...'). Zero-padded counts
    ('000150', '000007') start with two zeros or more in most cells, and are numbers."""
    zeros = [c for c in values if LEADING_ZERO.match(c)]
    if len(zeros) < 2 or sum(c.startswith("00") for c in zeros) > len(values) / 2:
        return False
    width = len(zeros[0])
    return width >= 4 and all(len(c) == width for c in values if WHOLE.match(c))
