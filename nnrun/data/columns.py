"""Which columns of a table are features, and which an input file may also carry.

Training picks the features of a CSV file: ``features`` if given, else every column
but the target, the ``id`` columns and the ``ignore`` columns. Everything that reads
new rows for a trained model (``nnrun predict``, ``nnrun evaluate --data``, and the
instances ``nnrun serve`` receives) accepts them by one rule, :func:`accept_columns`:
every feature must be there; the target, ID and ignored columns may be; any other
column is an extra, left out and named in one line, unless it looks like a misspelled
feature (then it is part of the error about the missing one).
"""

from __future__ import annotations

import unicodedata

from nnrun.data.number_patterns import PLAIN
from nnrun.errors import ConfigError, Problem, UserError, closest, did_you_mean


def check_present(wanted: list[str], header: list[str], where: str, key: str) -> None:
    """Every name in ``wanted`` is in ``header``, or one located config error listing
    all absent names with a did-you-mean (``key`` is the config key naming them)."""
    problems = absent(wanted, header, where, key)
    if problems:
        raise ConfigError("", problems)


def absent(wanted: list[str], header: list[str], where: str, key: str, told=()) -> list[Problem]:
    """A problem for each name of ``wanted`` not in ``header`` (see check_present), but
    those ``told`` of already."""
    # Each at its own item (data.source.categorical.1, data.source.dates.signup: a
    # mapping's), which a message then points at.
    return [Problem(f"{key}.{name}" if key == "data.source.dates" else f"{key}.{i}" if len(wanted) > 1 else key,
                    f"'{name}' is not {where}{did_you_mean(name, header, 'the columns are')}")
            for i, name in enumerate(wanted) if name not in header and name not in told]


def _left_out_once(source) -> list[Problem]:
    """The target, the id columns and the ignored ones are three different sets, and no
    listed feature is one of them: the target in ``id`` would be copied into predictions
    as a key, and a column both an id and ignored says two things of it."""
    targets = source.targets

    def the_target(name: str) -> str:
        one = "the" if len(targets) == 1 else "a"
        return f"lists '{name}', {one} target; {one} target is never a feature, leave it out here"

    problems = [Problem(key, the_target(next(n for n in names if n in targets)))
                for key, names in (("data.source.id", source.id), ("data.source.ignore", source.ignore))
                if any(n in targets for n in names)]
    both = [name for name in source.id if name in source.ignore]
    if both:
        problems.append(Problem("data.source.ignore", f"lists '{both[0]}', an id column already (data.source.id): "
                                "an id is left out of the features and copied into predictions; name it in one "
                                "of the two"))
    listed = [("features", i, name, len(source.features)) for i, name in enumerate(source.features or [])]
    listed += [("categorical", i, name, len(source.categorical)) for i, name in enumerate(source.categorical)]
    listed += [("dates", i, name, len(source.dates)) for i, name in enumerate(source.dates)]
    problems += [Problem(f"data.source.dates.{name}", f"'{name}' is listed in data.source.categorical too; a "
                                                       "column is encoded one way: name it in one of the two")
                 for name in source.dates if name in source.categorical]
    for field, i, name, count in listed:  # a categorical or date column is a feature too
        key = f"data.source.dates.{name}" if field == "dates" else \
            f"data.source.{field}.{i}" if count > 1 else f"data.source.{field}"
        if name in targets:
            problems.append(Problem(key, the_target(name)))
        elif name in source.id:
            problems.append(Problem(key, f"lists '{name}', an id column (data.source.id), which is copied into "
                                         "predictions, never learned; name it in one of the two"))
        elif name in source.ignore:
            problems.append(Problem(key, f"lists '{name}', which data.source.ignore leaves out; name it in one of "
                                         "the two"))
    return problems


def _each_listed_once(source) -> list[Problem]:
    """No list of columns names one twice: a feature listed twice would be two inputs of
    the same values, and in the other lists a repeat is most often a typo for another."""
    problems = []
    for key in ("features", "categorical", "id", "ignore"):
        names = getattr(source, key) or []
        for i, name in enumerate(names):
            if name in names[:i]:
                problems.append(Problem(f"data.source.{key}.{i}", f"lists '{name}' again (it is item "
                                        f"{names.index(name)} too); name each column once"))
    return problems


def feature_columns(header: list[str], source, origin: str) -> list[str]:
    """The features of a CSV source's file (``source``: target, features, categorical,
    id and ignore, as in the config)."""
    where = f"a column of {origin}"
    # Every misspelt name at once: the target, ids, left-out, feature and categorical columns.
    problems = [*absent(source.targets, header, where, "data.source.target"),
                *absent(source.id, header, where, "data.source.id"),
                *absent(source.ignore, header, where, "data.source.ignore")]
    left_out = {*source.targets, *source.id, *source.ignore}
    if source.features is not None:
        names = source.features
        problems += absent(names, header, where, "data.source.features")
    else:
        names = [c for c in header if c not in left_out]
    features = [n for n in names if n not in left_out]
    for key, listed in (("categorical", source.categorical), ("dates", list(source.dates))):
        unknown = absent(listed, header, where, f"data.source.{key}")
        problems += unknown or absent(listed, features, "one of the feature columns", f"data.source.{key}",
                                      told=left_out)  # a column left out and listed: said by _left_out_once
    # Every problem of the column lists at once: names the file lacks, and lists that overlap.
    problems += _left_out_once(source) + _each_listed_once(source)
    if problems:
        raise ConfigError("", problems)
    if not names:
        named = ", ".join(f"'{t}'" for t in source.targets)
        raise UserError(f"{origin}: no feature columns besides the target{'s' if len(source.targets) > 1 else ''} "
                        f"{named}")
    return names


SHOWN_MISSING = 10  # missing columns named one by one; the rest counted


def accept_columns(available: list[str], features: list[str], origin: str, allowed: list[str] = (),
                   unnamed: bool = False, shape: tuple[int, ...] = (), file: bool = True) -> list[str]:
    """The rule for new rows given to a trained model: returns the extra columns (in
    the input's order) to leave out with a note. ``allowed`` (target, ids, ignored
    columns) may be present without a note. Absent features are one error naming
    each, with the extra column that looks like its misspelling; for a model trained on
    ``unnamed`` arrays (features x0, x1, ...), none present says what a file holds.
    ``file``: the names are a file's first line, which may be a row of data (not so a
    dict's keys or a DataFrame's columns)."""
    absent = [n for n in features if n not in available]
    extra = [c for c in available if c not in features and c not in allowed]
    if absent:
        if unnamed and len(absent) == len(features):
            # A sample of several axes is one row too: a file of one step (one row of pixels) a line is none.
            laid = f" (each sample's values in row-major order of its shape {tuple(shape)}, one sample a row)" \
                if len(shape) > 1 else ""
            raise UserError(f"{origin}: none of the model's columns x0 ... x{len(features) - 1}: it was trained on "
                            "arrays, whose features have no names",
                            hint=f"give a CSV file of {len(features)} numbers a row in columns x0 to "
                                 f"x{len(features) - 1}{laid}, or an .npz with the samples as x"
                                 + (f" of shape (samples, {', '.join(map(str, shape))})" if len(shape) > 1 else ""))
        lines = [f"{origin}: {len(absent)} of the model's columns {'is' if len(absent) == 1 else 'are'} missing"]
        for name in absent[:SHOWN_MISSING]:
            # One that looks the same first (a non-breaking space, a combining accent): difflib
            # finds no short name ('año') written so.
            close = next((c for c in extra if _alike(c) == _alike(name)), None) or closest(name, extra)
            if close and _alike(close) == _alike(name):
                lines.append(f"  missing: '{name}'; the input has it written with other characters that look the "
                             f"same, {close!a}: write it as {name!a}")
            else:
                lines.append(f"  missing: '{name}'" + (f"; the input has '{close}': misspelled?" if close else ""))
        if len(absent) > SHOWN_MISSING:
            lines.append(f"  ... and {len(absent) - SHOWN_MISSING} more")
        listed = ", ".join(features[:30]) + (f", ... ({len(features)} in all)" if len(features) > 30 else "")
        hint = f"the training columns are: {listed}"
        alone = len(available) == len(features) == 1  # one column, not the model's: its first cell, perhaps
        if file and len(absent) == len(features) and (_row_of_data(available) or alone):
            first = ", ".join(map(repr, available[:3])) + (", ..." if len(available) > 3 else "")
            looks = "; if it is a row of data, add" if alone and not _row_of_data(available) else \
                ", but it looks like a row of data: add"
            hint = (f"the file's first line ({first}) is read as its header{looks} a first line that names the "
                    f"columns: {', '.join(features[:30])}")
            if alone and not _row_of_data(available):  # one column under another name: the model's, renamed?
                hint = f"if its column holds the model's '{features[0]}', name it so in the first line; {hint}"
        raise UserError("\n".join(lines), hint=hint)
    return extra


def _row_of_data(header: list[str]) -> bool:
    """Whether a header's cells look like data rather than names: a sentence (four words
    or more) or a number among them."""
    return any(len(cell.split()) >= 4 or PLAIN.match(cell.strip()) for cell in header)


def extra_note(extra: list[str]) -> str | None:
    """The one line about extra columns, or None when there are none."""
    if not extra:
        return None
    shown = ", ".join(f"'{c}'" for c in extra[:8]) + (f" and {len(extra) - 8} more" if len(extra) > 8 else "")
    return f"ignored {len(extra)} column{'s' if len(extra) != 1 else ''} the model was not trained on: {shown}"


def _alike(name: str) -> str:
    """A name as it looks: its spaces any spaces (str.split takes a non-breaking one too),
    its accents composed."""
    return " ".join(unicodedata.normalize("NFC", name).split())


