"""Date columns (``data.source.dates``): cells such as ``2024-03-15`` or ``15/03/2024 14:30``
turned into numbers a model learns from.

Each cell becomes the features of its date and time as written (the wall-clock time:
a zone such as ``Z`` or ``+02:00`` is read and not applied), named after the column:

    signup:year                      the year with its fraction (2024-07-02 is 2024.5): a trend
    signup:year_sin, signup:year_cos the place in the year on a circle: seasons, with
                                     31 December next to 1 January
    signup:weekday=Mon ... =Sun      the day of the week, one-hot
    signup:day_sin, signup:day_cos   the time of day on a circle, where a training cell has a time

How a column writes its dates is learned on the training split (its ``format``): year
first (``ymd``), or the day and the month in either order, told apart by a cell whose day
is over 12 (``dmy``, ``mdy``); a cell that reads both ways in a column that never tells is
an error that asks which. A format the config gives (``dmy``, or a ``strptime`` format
such as ``%d %b %Y``) is used as it is. Cells are parsed once per distinct text.

May import: :mod:`.cell_kinds`, :mod:`.problems`, :mod:`nnrun.errors`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np

from nnrun.data.cell_kinds import DATE
from nnrun.errors import ConfigError, Problem

ORDERS = {"ymd": "year first (2024-03-15, 2024/03/15 14:30)", "dmy": "day first (15/03/2024, 15.03.2024)",
          "mdy": "month first (03/15/2024)"}
EPOCH = datetime(1970, 1, 1)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def check_format(form: str) -> str:
    """``auto``, an order of ORDERS, or a strptime format that writes and reads back a date
    with its year; else a ValueError that says what is taken."""
    if form in ("auto", *ORDERS):
        return form
    if "%" in form:
        sample = datetime(2024, 3, 15, 14, 45, 30)
        try:
            back = datetime.strptime(sample.strftime(form), form)
        except ValueError:
            back = None
        if back is not None and back.year == 2024:
            return form
        if back is not None:
            raise ValueError(f"the format {form!r} has no year (%Y, or %y for two digits); a date needs one")
    raise ValueError(f"{form!r} is no date format; give auto (the default: learned from the training cells), ymd, "
                     "dmy or mdy (the order of year, month and day), or a strptime format such as '%d %b %Y'")


def parse(word: str, form: str) -> datetime | None:
    """The wall-clock time ``word`` writes, read as ``form`` says (see the module), or None."""
    if "%" in form:
        try:
            return datetime.strptime(word, form).replace(tzinfo=None)
        except ValueError:
            return None
    match = DATE.match(word)
    if match is None:
        return None
    if match["year"]:  # year first reads one way only, whatever the column's order
        year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    elif form == "ymd":
        return None
    else:
        a, b, year = int(match["a"]), int(match["b"]), int(match["y"])
        day, month = (a, b) if form == "dmy" else (b, a)
        if len(match["y"]) == 2:  # as strptime's %y reads them: 69-99 the 1900s, 00-68 the 2000s
            year += 1900 if year >= 69 else 2000
    hour, minute, second = int(match["hour"] or 0), int(match["minute"] or 0), int(match["second"] or 0)
    micro = min(round(float(match["fraction"] or 0) * 1e6), 999_999)
    if match["half"]:  # 12:30 AM is 00:30, 12:30 PM is 12:30
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match["half"] in "Pp" else 0)
    try:
        return datetime(year, month, day, hour, minute, second, micro)
    except ValueError:  # 31 February, hour 25
        return None


def infer_format(words: list[str], column: str) -> str:
    """The order of a column's dates from its training cells: ``dmy`` where a cell's first
    number can only be a day, ``mdy`` where its second can, else ``ymd``; a column that
    writes day and month first but never says which is a config error asking for it."""
    day_first, month_first, either = None, None, None
    for word in words:
        match = DATE.match(word)
        if match is None or match["year"]:
            continue
        a, b = int(match["a"]), int(match["b"])
        if a > 12 >= b:
            day_first = day_first or word
        elif b > 12 >= a:
            month_first = month_first or word
        either = either or word
    key = f"data.source.dates.{column}"
    if day_first and month_first:
        raise ConfigError("", [Problem(key, f"'{column}' writes dates day first ('{day_first}') and month first "
                                            f"('{month_first}'); write them one way in the file")])
    if day_first or month_first:
        return "dmy" if day_first else "mdy"
    if either:
        raise ConfigError("", [Problem(key, f"'{column}' writes dates such as '{either}', which read day first or "
                                            "month first alike, and no training cell tells which (no day over 12); "
                                            f"say which: data.source.dates: {{{column}: dmy}} (or mdy)")])
    return "ymd"


def time_order(words: list[str], column: str, form: str | None = None) -> str | None:
    """"forward" where a column's dates (``words``, every row's) run forward, as a series' rows do:
    at least ten different moments, never one earlier than the row before; "backward"
    where they run the other way (newest first); else None."""
    try:
        form = form or infer_format(words, column)  # the column's own format where the config gives one
    except ConfigError:  # day or month first, undecided: no order to read
        return None
    moments = [parse(word, form) for word in words]
    if None in moments or len(set(moments)) < 10:
        return None
    pairs = list(zip(moments, moments[1:]))
    return "forward" if all(a <= b for a, b in pairs) else "backward" if all(a >= b for a, b in pairs) else None


def described(form: str) -> str:
    """How a format reads a cell, for a hint: 'day first (15/03/2024, ...)'."""
    return ORDERS.get(form) or f"as {form!r} (like '{example(form)}')"


def example(form: str, time: bool = False) -> str:
    """A cell as a column of this format writes 15 March 2024 (at 14:30, with ``time``)."""
    written = {"ymd": "%Y-%m-%d", "dmy": "%d/%m/%Y", "mdy": "%m/%d/%Y"}.get(form, form)
    return datetime(2024, 3, 15, 14, 30).strftime(written + (" %H:%M" if time and form in ORDERS else ""))


def feature_names(column: dict) -> list[str]:
    """The features of a fitted date column, in the order they are encoded."""
    name = column["name"]
    names = [f"{name}:year", f"{name}:year_sin", f"{name}:year_cos", *(f"{name}:weekday={d}" for d in WEEKDAYS)]
    return names + ([f"{name}:day_sin", f"{name}:day_cos"] if column["time"] else [])


def fit_date(name: str, coded, form: str, missing: str) -> dict:
    """A date column's state from its training cells (``coded``: codes into the distinct
    cells): its format, whether it holds times, its training range in years, and the value
    that fills an empty cell (``missing``: mean, most_frequent, or error for none), written
    year first."""
    codes, words = coded
    form = infer_format(words, name) if form == "auto" else form
    moments = [parse(word, form) if word else None for word in words]
    counts = np.bincount(codes, minlength=len(words))
    present = [(moment, int(count)) for moment, count in zip(moments, counts) if moment is not None and count]
    time = any(m.hour or m.minute or m.second or m.microsecond for m, _ in present)
    years = [_year(m) for m, _ in present]
    fill = None
    if present and missing == "mean":
        seconds = np.array([(m - EPOCH).total_seconds() for m, _ in present])  # wall clock: no zone, no DST
        weights = np.array([count for _, count in present], np.float64)
        fill = EPOCH + timedelta(seconds=round(float(np.dot(seconds, weights) / weights.sum())))
    elif present and missing == "most_frequent":
        fill = min(present, key=lambda pair: (-pair[1], pair[0]))[0]  # the earliest of the most frequent
    if fill is not None and not time:  # dates alone: the mean's day, not a time no cell has
        fill = datetime(fill.year, fill.month, fill.day)
    return {"name": name, "kind": "date", "format": form, "time": time,
            "fill": None if fill is None else fill.isoformat(sep=" "),
            "range": [min(years), max(years)] if years else None}


def _year(moment: datetime) -> float:
    """The year with its fraction: 2024-07-02 00:00 is 2024.5 (183 of 366 days)."""
    start = datetime(moment.year, 1, 1)
    days = (datetime(moment.year + 1, 1, 1) - start).days
    return moment.year + (moment - start).total_seconds() / 86400 / days


def encode_dates(coded, column: dict, lines: np.ndarray, problems, out: np.ndarray) -> None:
    """Write a date column's features into ``out`` (N, its features); cells that are no
    date in the column's format go to ``problems``. Empty cells, already reported where
    they have no fill, are left all zeros; ``coded`` gives them the fill (written year
    first) where there is one."""
    codes, words = coded
    form, width = column["format"], out.shape[1]
    rows = np.zeros((len(words), width), np.float32)
    bad = np.zeros(len(words), bool)
    for i, word in enumerate(words):
        if word == "":
            continue
        moment = parse(word, form) or (parse(word, "ymd") if word == column.get("fill") else None)
        if moment is None:
            bad[i] = True
            continue
        year = _year(moment)
        angle = 2 * math.pi * (year - moment.year)
        rows[i, :3] = (year, math.sin(angle), math.cos(angle))
        rows[i, 3 + moment.weekday()] = 1.0
        if column["time"]:
            day = 2 * math.pi * (moment.hour * 3600 + moment.minute * 60 + moment.second
                                 + moment.microsecond / 1e6) / 86400
            rows[i, 10:12] = (math.sin(day), math.cos(day))
    out[:] = rows[codes]
    wrong = bad[codes]
    if wrong.any():
        problems.add_cells("not a date", column["name"], lines[wrong], np.array(words, dtype=object)[codes[wrong]],
                           hint=f"'{column['name']}' holds dates written {described(form)}, as training read them; "
                                "fix these cells (a day and a month that exist)")


def date_columns(value):
    """``dates: [signup]`` is short for ``dates: {signup: auto}``; each format is checked."""
    if value is None:
        return {}
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        repeated = next((name for i, name in enumerate(value) if name in value[:i]), None)
        if repeated is not None:
            raise ValueError(f"lists '{repeated}' twice; name each date column once")
        value = {name: "auto" for name in value}
    if isinstance(value, dict):
        return {name: check_format(form) if isinstance(form, str) else form for name, form in value.items()}
    return value
