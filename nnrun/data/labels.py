"""How a table's class labels and categories read, and the warnings about them.

Classes are named with their rare ones counted (``describe_classes``); labels or
categories written two ways ('North', 'north ') and classes of a single row are
usually slips in the file (``class_warnings``, ``label_slips``); a categorical column of
very many values, of one value, or of marks for a missing value is told
(``category_warnings``).
"""

from __future__ import annotations

import json

from nnrun.data.number_patterns import GAP_LIKE, SIGNED_NUMBER

HIGH_CARDINALITY = 200  # distinct categories above which a categorical column is suspicious...
ROWS_PER_CATEGORY = 20  # ...unless the training rows hold this many of each on average (300 ZIP codes: 6,000 rows)


def repeats_enough(categories: int, training_rows: int) -> bool:
    """Whether a column of this many categories is one to one-hot encode for a training
    split of this many rows: few categories, or each seen often enough to learn from."""
    return categories <= HIGH_CARDINALITY or training_rows >= ROWS_PER_CATEGORY * categories


def describe_classes(names: list[str], counts) -> str:
    """'4 classes: Adelie, Adelei (1 row), Chinstrap, Gentoo': every class named, the
    rare ones (under 2 rows) with their count; long lists shortened."""
    shown = [f"{n} ({c} row{'s' if c != 1 else ''})" if c < 2 else str(n) for n, c in zip(names, counts)]
    listing = ", ".join(shown[:20]) + (f", ... ({len(shown) - 20} more)" if len(shown) > 20 else "")
    return f"{len(names)} class{'es' if len(names) != 1 else ''}: {listing}"


def quoted_names(names: list[str], shown: int = 10) -> str:
    """'a', 'b', 'c' ... : the first ``shown`` names, for a warning that lists them."""
    return ", ".join(f"'{name}'" for name in names[:shown]) + (" ..." if len(names) > shown else "")


FEW_CLASS_ROWS = 5  # a class of fewer rows, among classes of many, is warned of (see class_warnings)


def too_few_rows(count: int, counts) -> bool:
    """Whether a class of ``count`` rows is a handful among classes of many (``counts``):
    too few to learn from or to score, and to weigh up (balanced class weights would
    count each of its rows a hundredfold)."""
    return count < FEW_CLASS_ROWS and count * 20 <= max(counts)


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
    # A handful of rows among hundreds (see too_few_rows): a split may hold none of them.
    few = [f"'{n}' ({c} rows)" for n, c in zip(names, counts) if c > 1 and too_few_rows(c, counts)]
    if few:
        them = "it" if len(few) == 1 else "them"
        warnings.append(f"{origin}: {', '.join(few[:10])}{' ...' if len(few) > 10 else ''} of "
                        f"{sum(int(c) for c in counts):,} rows: too few to learn from or to score; merge {them} into "
                        f"another class, or remove {'its' if len(few) == 1 else 'their'} rows")
    for group in written_alike(names)[:3]:
        ways = "two ways" if len(group) == 2 else f"{len(group)} ways"
        warnings.append(f"{origin}: the classes {_listed(group)} differ only in case or spaces: one class written "
                        f"{ways}? Write it one way in the file")
    return warnings


def label_slips(data) -> str | None:
    """Where a classification's classes look miscounted by a slip in the labels (two
    written alike, or a class of one row), a sentence that says so and how to fix it
    in the file, for a message about the number of classes; else None."""
    import numpy as np

    counts = np.bincount(np.asarray(data.y).reshape(-1), minlength=data.num_classes)
    alike = written_alike(data.class_names)
    if alike:
        if len(alike) == 1:
            return (f"the classes {_listed(alike[0])} differ only in case or spaces (one class written "
                    f"{'two' if len(alike[0]) == 2 else len(alike[0])} ways?): write it one way in the file")
        once = classes_written_once(data.class_names)
        return (f"classes differ only in case or spaces: {'; '.join(_listed(group) for group in alike)} (each one "
                f"class written several ways?): write each one way in the file, which leaves {once} classes")
    single = [str(n) for n, c in zip(data.class_names, counts) if c == 1]
    if single:
        return f"{quoted_names(single)} {'is a class' if len(single) == 1 else 'are classes'} of a single row (a " \
               "typo in a label?): correct it in the file"
    return None


def _listed(names: list[str]) -> str:
    """'a' and 'b'; 'a', 'b' and 'c'."""
    quoted = [repr(name) for name in names]
    return f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def classes_written_once(names) -> int:
    """How many classes ``names`` are once each is written one way (see :func:`written_key`)."""
    return len({written_key(name) for name in names})


def written_key(name) -> str:
    """A name as it reads, to find one written two ways ('North', ' north'): its spaces
    one space, its case folded."""
    return " ".join(str(name).split()).casefold()


def known_class_hint(unknown, classes: list[str]) -> str:
    """The hint for labels the model does not know: its classes, after :func:`written_as`."""
    known = f"the model knows {len(classes)} classes: {', '.join(classes[:20])}" + \
        (", ..." if len(classes) > 20 else "")
    slip = written_as(unknown, classes)
    return f"{slip}; {known}" if slip else known


def written_as(unknown, classes: list[str]) -> str | None:
    """Where one of the ``unknown`` labels is a class written another way ('account' for
    'Account'), a sentence that says so; else None."""
    by_key = {written_key(name): name for name in classes}
    label = next((str(label) for label in unknown if written_key(label) in by_key), None)
    if label is None:
        return None
    return f"'{label}' is the class '{by_key[written_key(label)]}' written another way (case or spaces): write " \
           "the labels as training did"


def written_alike(names) -> list[list[str]]:
    """The groups of names that differ only in case or spaces ('North', 'north ')."""
    alike: dict[str, list[str]] = {}
    for name in map(str, names):
        alike.setdefault(written_key(name), []).append(name)
    return [group for group in alike.values() if len(group) > 1]


def category_warnings(categories: dict[str, list[str]], rows: int,
                      counts: dict[str, dict[str, int]] | None = None) -> list[str]:
    """Categorical columns with very many distinct values (more than half the rows, or
    more than HIGH_CARDINALITY with fewer than ROWS_PER_CATEGORY rows each on average):
    an ID or a number column, rarely a real category. Categories written two ways
    ('North', 'north'), which one-hot encoding makes two inputs that each learn from
    part of the rows. And a column of one value, which tells the rows nothing. ``counts``:
    the training rows of each category, of the columns that hold 'none'."""
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
        # 'none' in most of the column's rows is an answer (no holiday that day), not a gap.
        rows_of = (counts or {}).get(name) or {}
        answer = {v for v, n in rows_of.items() if 2 * n > sum(rows_of.values())}
        gaps = [v for v in values if GAP_LIKE.match(str(v).strip()) and str(v).strip().casefold() != "unknown"
                or str(v).strip().casefold() == "none" and v not in answer]
        if gaps:
            one = len(gaps) == 1
            warnings.append(f"categorical column '{name}': {', '.join(map(repr, gaps[:3]))} look{'s' if one else ''} "
                            f"like {'a mark' if one else 'marks'} for a missing value, learned as "
                            f"{'a category of its own' if one else 'categories of their own'}; to fill them as missing "
                            "cells (data.source.missing), list them in data.source.missing_values: "
                            f"[{', '.join(json.dumps(str(gap)) for gap in gaps[:3])}]")
        groups = written_alike(values)
        if groups:
            listing = "; ".join(", ".join(map(repr, group)) for group in groups[:3])
            more = f" and {len(groups) - 3} more groups" if len(groups) > 3 else ""
            warnings.append(f"categorical column '{name}': categories that differ only in case or spaces ({listing}"
                            f"{more}) are encoded as different inputs; if they are one category, write it one way "
                            "in the file, or set data.source.fold_case: true")
    return warnings


def _signed_number(values: list[str]) -> str | None:
    """One of ``values`` when most are numbers with a currency or percent sign ('23.7%')."""
    signed = [v for v in values[:1000] if SIGNED_NUMBER.match(str(v).strip())]
    return signed[0] if len(signed) > min(len(values), 1000) / 2 else None


def shortened(text: str, limit: int = 40) -> str:
    """A cell as a message quotes it: on one line (a quoted cell may hold line breaks), cut to ``limit``."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _free_text(values: list[str]) -> str | None:
    """One of ``values`` when most are texts of several words (reviews, comments, titles)."""
    texts = [str(v) for v in values[:1000] if len(str(v).split()) >= 3]
    return shortened(texts[0]) if texts and len(texts) > min(len(values), 1000) / 2 else None


def class_list(data) -> str:
    """The classes of a classification Dataset, as :func:`describe_classes` names them."""
    import numpy as np

    counts = np.bincount(np.asarray(data.y).reshape(-1), minlength=data.num_classes)
    return describe_classes(data.class_names, counts)
