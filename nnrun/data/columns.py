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

from nnrun.data.number_patterns import GAP_LIKE, PLAIN, SIGNED_NUMBER
from nnrun.errors import ConfigError, Problem, UserError, closest, did_you_mean

HIGH_CARDINALITY = 200  # distinct categories above which a categorical column is suspicious...
ROWS_PER_CATEGORY = 20  # ...unless the training rows hold this many of each on average (300 ZIP codes: 6,000 rows)


def repeats_enough(categories: int, training_rows: int) -> bool:
    """Whether a column of this many categories is one to one-hot encode for a training
    split of this many rows: few categories, or each seen often enough to learn from."""
    return categories <= HIGH_CARDINALITY or training_rows >= ROWS_PER_CATEGORY * categories


def check_present(wanted: list[str], header: list[str], where: str, key: str) -> None:
    """Every name in ``wanted`` is in ``header``, or one located config error listing
    all absent names with a did-you-mean (``key`` is the config key naming them)."""
    problems = absent(wanted, header, where, key)
    if problems:
        raise ConfigError("", problems)


def absent(wanted: list[str], header: list[str], where: str, key: str, told=()) -> list[Problem]:
    """A problem for each name of ``wanted`` not in ``header`` (see check_present), but
    those ``told`` of already."""
    # Each at its own item (data.source.categorical.1), which a message then points at.
    return [Problem(f"{key}.{i}" if len(wanted) > 1 else key,
                    f"'{name}' is not {where}{did_you_mean(name, header, 'the columns are')}")
            for i, name in enumerate(wanted) if name not in header and name not in told]


def _left_out_once(source) -> list[Problem]:
    """The target, the id columns and the ignored ones are three different sets, and no
    listed feature is one of them: the target in ``id`` would be copied into predictions
    as a key, and a column both an id and ignored says two things of it."""
    the_target = f"lists '{source.target}', the target; the target is never a feature, leave it out here"
    problems = [Problem(key, the_target)
                for key, names in (("data.source.id", source.id), ("data.source.ignore", source.ignore))
                if source.target in names]
    both = [name for name in source.id if name in source.ignore]
    if both:
        problems.append(Problem("data.source.ignore", f"lists '{both[0]}', an id column already (data.source.id): "
                                "an id is left out of the features and copied into predictions; name it in one "
                                "of the two"))
    listed = [("features", i, name, len(source.features)) for i, name in enumerate(source.features or [])]
    listed += [("categorical", i, name, len(source.categorical)) for i, name in enumerate(source.categorical)]
    for field, i, name, count in listed:  # a categorical column is a feature too
        key = f"data.source.{field}.{i}" if count > 1 else f"data.source.{field}"
        if name == source.target:
            problems.append(Problem(key, the_target))
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
    problems = [*absent([source.target], header, where, "data.source.target"),
                *absent(source.id, header, where, "data.source.id"),
                *absent(source.ignore, header, where, "data.source.ignore")]
    left_out = {source.target, *source.id, *source.ignore}
    if source.features is not None:
        names = source.features
        problems += absent(names, header, where, "data.source.features")
    else:
        names = [c for c in header if c not in left_out]
    unknown = absent(source.categorical, header, where, "data.source.categorical")
    features = [n for n in names if n not in left_out]
    problems += unknown or absent(source.categorical, features, "one of the feature columns", "data.source.categorical",
                                  told=left_out)  # a column left out and listed: said by _left_out_once
    # Every problem of the column lists at once: names the file lacks, and lists that overlap.
    problems += _left_out_once(source) + _each_listed_once(source)
    if problems:
        raise ConfigError("", problems)
    if not names:
        raise UserError(f"{origin}: no feature columns besides the target '{source.target}'")
    return names


SHOWN_MISSING = 10  # missing columns named one by one; the rest counted


def accept_columns(available: list[str], features: list[str], origin: str, allowed: list[str] = (),
                   unnamed: bool = False) -> list[str]:
    """The rule for new rows given to a trained model: returns the extra columns (in
    the input's order) to leave out with a note. ``allowed`` (target, ids, ignored
    columns) may be present without a note. Absent features are one error naming
    each, with the extra column that looks like its misspelling; for a model trained on
    ``unnamed`` arrays (features x0, x1, ...), none present says what a file holds."""
    absent = [n for n in features if n not in available]
    extra = [c for c in available if c not in features and c not in allowed]
    if absent:
        if unnamed and len(absent) == len(features):
            raise UserError(f"{origin}: none of the model's columns x0 ... x{len(features) - 1}: it was trained on "
                            "arrays, whose features have no names",
                            hint=f"give a CSV file of {len(features)} numbers a row in columns x0 to "
                                 f"x{len(features) - 1}, or an .npz with the samples as x")
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
        if len(absent) == len(features) and _row_of_data(available):
            first = ", ".join(map(repr, available[:3])) + (", ..." if len(available) > 3 else "")
            hint = (f"the file's first line ({first}) is read as its header, but it looks like a row of data: add a "
                    f"first line that names the columns: {', '.join(features[:30])}")
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


def describe_classes(names: list[str], counts) -> str:
    """'4 classes: Adelie, Adelei (1 row), Chinstrap, Gentoo': every class named, the
    rare ones (under 2 rows) with their count; long lists shortened."""
    shown = [f"{n} ({c} row{'s' if c != 1 else ''})" if c < 2 else str(n) for n, c in zip(names, counts)]
    listing = ", ".join(shown[:20]) + (f", ... ({len(shown) - 20} more)" if len(shown) > 20 else "")
    return f"{len(names)} class{'es' if len(names) != 1 else ''}: {listing}"


def quoted_names(names: list[str], shown: int = 10) -> str:
    """'a', 'b', 'c' ... : the first ``shown`` names, for a warning that lists them."""
    return ", ".join(f"'{name}'" for name in names[:shown]) + (" ..." if len(names) > shown else "")


def _alike(name: str) -> str:
    """A name as it looks: its spaces any spaces (str.split takes a non-breaking one too),
    its accents composed."""
    return " ".join(unicodedata.normalize("NFC", name).split())


def class_warnings(names: list[str], counts, origin: str) -> list[str]:
    """A class of a single row is usually a typo in a label; it cannot be learned either
    way. Classes whose names differ only in case or spaces ('Basic', 'basic ') are
    usually one class written two ways, which the model would have to tell apart."""
    warnings = []
    single = [str(n) for n, c in zip(names, counts) if c == 1]
    if single:
        listing = quoted_names(single)
        warnings.append(f"{origin}: {len(single)} class{'es have' if len(single) != 1 else ' has'} a single row: "
                        f"{listing} ({describe_classes(names, counts)}); a typo in a label?")
    for group in written_alike(names)[:3]:
        warnings.append(f"{origin}: the classes {' and '.join(map(repr, group))} differ only in case or spaces: one "
                        "class written two ways? Write it one way in the file")
    return warnings


def label_slips(data) -> str | None:
    """Where a classification's classes look miscounted by a slip in the labels (two
    written alike, or a class of one row), a sentence that says so and how to fix it
    in the file, for a message about the number of classes; else None."""
    import numpy as np

    counts = np.bincount(np.asarray(data.y).reshape(-1), minlength=data.num_classes)
    alike = written_alike(data.class_names)
    if alike:
        return (f"the classes {' and '.join(map(repr, alike[0]))} differ only in case or spaces (one class written "
                "two ways?): write it one way in the file")
    single = [str(n) for n, c in zip(data.class_names, counts) if c == 1]
    if single:
        return f"{quoted_names(single)} {'is a class' if len(single) == 1 else 'are classes'} of a single row (a " \
               "typo in a label?): correct it in the file"
    return None


def written_key(name) -> str:
    """A name as it reads, to find one written two ways ('North', ' north'): its spaces
    one space, its case folded."""
    return " ".join(str(name).split()).casefold()


def written_alike(names) -> list[list[str]]:
    """The groups of names that differ only in case or spaces ('North', 'north ')."""
    alike: dict[str, list[str]] = {}
    for name in map(str, names):
        alike.setdefault(written_key(name), []).append(name)
    return [group for group in alike.values() if len(group) > 1]


def category_warnings(categories: dict[str, list[str]], rows: int) -> list[str]:
    """Categorical columns with very many distinct values (more than half the rows, or
    more than HIGH_CARDINALITY with fewer than ROWS_PER_CATEGORY rows each on average):
    an ID or a number column, rarely a real category. Categories written two ways
    ('North', 'north'), which one-hot encoding makes two inputs that each learn from
    part of the rows. And a column of one value, which tells the rows nothing."""
    warnings = [f"categorical column '{name}' has {len(values)} distinct values in {rows} training rows; one-hot "
                f"encoding makes {len(values)} inputs that the model can memorise; "
                + (f"its values are numbers with a currency or percent sign (like '{signed}'), so they are read "
                   "as text categories; write them as plain numbers in the file (and take the column out of "
                   "data.source.categorical if it is listed there) to have them read as numbers"
                   if (signed := _signed_number(values)) else
                   f"its values read as texts (like '{text}'): data.source.text: {{column: {name}}} learns from "
                   "their words, with an embedding first, as the model's only input (the other columns leave it)"
                   if (text := _free_text(values)) else "is it an ID (data.source.id) or a number column?")
                for name, values in categories.items()
                if not repeats_enough(len(values), rows) or (rows >= 10 and len(values) > rows / 2)]
    warnings += [f"categorical column '{name}' holds one value ('{values[0]}') in every training row, which tells "
                 "the rows nothing; leave it out with data.source.ignore" for name, values in categories.items()
                 if len(values) == 1 and rows > 1]
    for name, values in categories.items():
        # '-', 'None', 'n.a.': a gap written as a word, learned as a category of its own
        # ('unknown' is left out: a real answer in many surveys, such as the bank marketing data's)
        gaps = [v for v in values if GAP_LIKE.match(str(v).strip()) and str(v).strip().casefold() != "unknown"
                or str(v).strip().casefold() == "none"]
        if gaps:
            one = len(gaps) == 1
            warnings.append(f"categorical column '{name}': {', '.join(map(repr, gaps[:3]))} look{'s' if one else ''} "
                            f"like {'a mark' if one else 'marks'} for a missing value, learned as "
                            f"{'a category of its own' if one else 'categories of their own'}; to fill them as missing "
                            "cells (data.source.missing), write such cells empty or NA in the file")
        groups = written_alike(values)
        if groups:
            listing = "; ".join(", ".join(map(repr, group)) for group in groups[:3])
            more = f" and {len(groups) - 3} more groups" if len(groups) > 3 else ""
            warnings.append(f"categorical column '{name}': categories that differ only in case or spaces ({listing}"
                            f"{more}) are encoded as different inputs; if they are one category, write it one way "
                            "in the file")
    return warnings


def _signed_number(values: list[str]) -> str | None:
    """One of ``values`` when most are numbers with a currency or percent sign ('23.7%')."""
    signed = [v for v in values[:1000] if SIGNED_NUMBER.match(str(v).strip())]
    return signed[0] if len(signed) > min(len(values), 1000) / 2 else None


def _free_text(values: list[str]) -> str | None:
    """One of ``values`` when most are texts of several words (reviews, comments, titles)."""
    texts = [str(v) for v in values[:1000] if len(str(v).split()) >= 3]
    shown = texts[0] if texts and len(texts[0]) <= 40 else texts[0][:37] + "..." if texts else None
    return shown if len(texts) > min(len(values), 1000) / 2 else None


def class_list(data) -> str:
    """The classes of a classification Dataset, as :func:`describe_classes` names them."""
    import numpy as np

    counts = np.bincount(np.asarray(data.y).reshape(-1), minlength=data.num_classes)
    return describe_classes(data.class_names, counts)
