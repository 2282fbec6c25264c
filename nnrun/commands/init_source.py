"""The ``data:`` section of a starter config for a CSV file (see :mod:`.init_csv`):
the source's settings, each with the comment that says why, down to the target scale.

Columns left out for what they hold (``LEFT_OUT_KINDS``) are named on the ``ignore``
line, and each kind is told below it with how to learn from it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from nnrun.commands.csv_look import Columns
from nnrun.commands.starter import HELD_OUT, commented, name_list, scalar, target_lines, tokens_for

# Columns left out for what they hold, one entry a kind: the ``Columns`` field, its name on
# the ``ignore`` line, what the refusal of a file of nothing else says, and the comment
# on how to learn from them.
LEFT_OUT_KINDS = [
    ("symbols", "numbers with signs", "numbers with currency or percent signs, which nnrun reads as text: save them "
     "as plain numbers", "numbers written with currency or percent signs ($3.50, 14%), which nnrun reads as text; "
     "save them as plain numbers to learn from them"),
    ("codes", "codes", "codes with leading zeros, too many to be categories", "codes written with leading zeros "
     "(01067), not quantities, and too many to one-hot; a coarser code (its first digits, in a column of its own) can "
     "be categorical"),
    ("units", "numbers with units", "numbers with units, which nnrun reads as text: save them as plain numbers",
     "numbers written with units (35 kg, 12 cm), which nnrun reads as text; save them as plain numbers, the unit in "
     "the column's name, to learn from them"),
    ("points", "decimal points", "numbers with a decimal point in a file of decimal commas: write them with commas",
     "numbers written with a decimal point ('80.50') in a file whose numbers have decimal commas, so the reader "
     "cannot take them as numbers; write them with decimal commas, as the other columns are, to learn from them"),
    ("constants", "one value", "one value in every row that has one, which tells the rows nothing apart",
     "one value in every row that has one: nothing to learn from, and every file to predict would need the column; "
     "move it out of ignore if other rows of the file hold other values"),
]


OWN_CATEGORY = 0.05  # of the rows looked at: a category empty this often gets missing_category: own


def source_lines(data: Path, path: Path, target: str, found: Columns, classes: list[str] | None,
            text: str | None) -> list[str]:
    """The ``data:`` section, down to the target scale."""
    if classes is None:
        about = "numbers with fractions or many values: a regression"
    else:
        counts = " (whole numbers; to predict a count, use loss: mse and one linear output)" \
            if all(re.fullmatch(r"[+-]?\d+", c) for c in classes) and len(classes) > 2 else ""
        about = f"{len(classes)} classes: {', '.join(classes[:5])}{', ...' if len(classes) > 5 else ''}{counts}"
    lines = ["data:", "  source:", "    type: csv",
             f"    path: {scalar(os.path.relpath(data.resolve(), path.parent.resolve()))}",
             commented(f"    target: {scalar(target)}", about), *(f"    # {note}" for note in found.target_notes)]
    if found.text_encoding != "utf-8":
        lines.append(commented(f"    encoding: {found.text_encoding}", "not UTF-8: as Excel on Windows saves 'CSV'"))
    if found.delimiter != ",":
        written = '"\\t"' if found.delimiter == "\t" else f'"{found.delimiter}"'
        lines.append(commented(f"    delimiter: {written}", "what separates the cells"))
    if found.decimal != ".":
        lines.append(commented('    decimal: ","', "the file's numbers have a decimal comma: 3,25 is 3.25"))
    if found.thousands:
        shown = {".": '"."', ",": '","', " ": '" "', "\u00a0": '"\\u00a0"', "\u202f": '"\\u202f"',
                 "'": '"\'"', "\u2019": '"\\u2019"'}
        example = {".": "points: 1.234.567,5", ",": "commas: 1,234,567", "'": "apostrophes: 1'234'567.5",
                   "\u2019": "apostrophes: 1\u2019234\u2019567.5"}.get(found.thousands, "spaces: 1 234 567")
        lines.append(commented(f"    thousands: {shown.get(found.thousands, repr(found.thousands))}",
                               f"the file's numbers group thousands with {example}"))
    if found.strip_signs:
        listed = ", ".join(json.dumps(sign, ensure_ascii=False) for sign in found.strip_signs)
        lines.append(commented(f"    strip_signs: [{listed}]", "written around numbers: dropped to read them"))
    if found.points_either_way:
        example = found.points_either_way
        lines.append(f"    # {example} and the like are decimals here; if the point groups thousands "
                     f"({example.replace('.', '')}), add thousands: \".\"")
    if found.ids:
        lines.append(commented(f"    id: {name_list(found.ids)}", "IDs: copied into predictions, not learned"))
    if found.categorical:
        lines.append(commented(f"    categorical: {name_list(found.categorical)}", "repeating words: one-hot encoded"))
        for name, groups in found.alike.items():
            listing = "; ".join(", ".join(group) for group in groups[:3])
            lines.append(f"    # {name}: {listing} differ only in case or spaces: read as one category "
                         "(fold_case below); set it false if they are different categories")
        if found.alike:
            lines.append(commented("    fold_case: true", "a category written in several cases is one"))
    if found.dates and text is None:
        written = name_list(list(found.dates)) if set(found.dates.values()) == {"auto"} else \
            "{" + ", ".join(f"{scalar(name)}: {form}" for name, form in found.dates.items()) + "}"
        lines.append(commented(f"    dates: {written}", "year, place in the year, weekday (and time of day)"))
        for name, why in found.mixed_dates.items():
            lines.append(f"    # {name}: {found.dates[name]} is a guess: {why.split('; say which')[0]}; check it")
    if text is not None:  # the text is the model's one input: word indices into a learned vocabulary
        vocabulary, length = found.texts[text]
        lines.append(commented(f"    text: {{column: {scalar(text)}, tokens: word, "
                               f"max_tokens: {tokens_for(vocabulary)}, length: {min(max(length, 4), 200)}, "
                               "lowercase: true}",
                               "words -> indices, padded or cut to length"))
    left_out = [name for name in found.ignored if name != text]
    if left_out:
        lines.append(commented(f"    ignore: {name_list(left_out)}", _left_out_why(left_out, found)))
    if found.siblings:
        lines.append(f"    # {', '.join(found.siblings)} and {target} are one-hot columns of one category (one of "
                     f"them is 1 in every row): as features they would give {target} away. To predict the category, "
                     "write its name into one column (pandas: df[columns].idxmax(axis=1)) and make that the target")
    for field, _, _, advice in LEFT_OUT_KINDS:  # the columns left out for what they hold: how to learn from them
        if columns := getattr(found, field):
            lines.append(f"    # {', '.join(columns[:5])}{', ...' if len(columns) > 5 else ''}: {advice}")
    if found.beside_text:
        others = ", ".join(found.beside_text)
        lines.append(f"    # {others}: left out, as a text model takes {text} as its only input; to learn from "
                     f"{'them' if len(found.beside_text) > 1 else 'it'} instead, run nnrun init on a copy of the file "
                     f"without {text}")
    if text is None and (texts := [name for name in found.texts if name in left_out]):
        first = texts[0]
        lines.append(f"    # {', '.join(texts[:5])}: free text; to learn from {first} instead, a text model takes it "
                     f"as its only input: text: {{column: {scalar(first)}}}, the other features in ignore (nnrun "
                     f"init on a file of {first} and {target} alone writes one)")
    if found.features:
        more = f", ... ({len(found.features)} in all)" if len(found.features) > 8 else ""
        lines.append(f"    # the other columns are number features: {', '.join(found.features[:8])}{more}")
    for name in sorted(found.strays, key=target.__ne__):
        line, cell = found.strays[name][0]
        count = found.stray_rows[name]
        lines.append(f"    # {name}: {count} cell{'s' * (count > 1)} not a number (line {line}: {cell!r}"
                     f"{', ...' if count > 1 else ''}); correct {'them' if count > 1 else 'it'} before training")
    if found.ragged:
        count, shown = len(found.ragged), ", ".join(str(line) for line, _ in found.ragged[:3])
        lines.append(commented("    bad_rows: skip", f"{count} row{'s' * (count != 1)} of another width (line"
                               f"{'s' * (count != 1)} {shown}{', ...' if count > 3 else ''}): left out"))
    if found.unlabelled:
        count, shown = len(found.unlabelled), ", ".join(map(str, found.unlabelled[:3]))
        lines.append(commented("    missing_target: drop", f"{count} row{'s' * (count != 1)} without a {target} "
                               f"(line{'s' * (count != 1)} {shown}{', ...' if count > 3 else ''}): left out"))
    if found.missing_values and text is None:
        listed = ", ".join(json.dumps(mark, ensure_ascii=False) for mark in found.missing_values)
        lines.append(commented(f"    missing_values: [{listed}]", "cells that mean no value in columns of numbers"))
    if found.missing and text is None:
        gaps = list(found.missing.items())
        empty = ", ".join(f"{n} {c}" for n, c in gaps[:5]) + (f", ... ({len(gaps)} columns)" if len(gaps) > 5 else "")
        lines.append(commented("    missing: mean", f"filled from the training split; empty cells: {empty}"))
        # A category empty in many rows (no plan chosen) says something: kept as itself, not filled.
        many = [name for name, count in gaps if name in found.categorical and count >= OWN_CATEGORY * found.rows]
        if many:
            lines.append(commented("    missing_category: own", "an empty category cell is a category of its own "
                                   f"(empty in many rows: {', '.join(many[:3])}{', ...' * (len(many) > 3)})"))
    if found.time_ordered:  # a series: tested on its last rows, the days after those it learned from
        lines.append(commented(f"  split: {{validation: {HELD_OUT}, test: {HELD_OUT}, shuffle: false}}",
                               f"the rows run forward in time ({found.time_ordered}): the last ones are held out, "
                               "the days after those the model learns from"))
    else:
        stratify = "" if classes is None else ", stratify: true"
        split = f"  split: {{validation: {HELD_OUT}, test: {HELD_OUT}{stratify}}}"
        lines.append(commented(split, "held-out fractions; the rest trains"))
    if found.newest_first:  # a series written newest first: held out in order, its oldest rows would be the test
        lines.append(f"  # {found.newest_first} runs backward in time, newest first: sort the rows oldest first, then "
                     "shuffle: false in split tests on the last rows, the days after the ones the model learned from")
    elif found.dated and not found.time_ordered:  # in time order further on? A random split tests on days between
        lines.append(f"  # {found.dated[0]} holds dates: if the rows are in time order, shuffle: false in split tests "
                     "on the last rows, the days after the ones the model learned from (stratify then has no say)")
    if text is None:
        lines.append(commented("  preprocess: [standardize]", "fitted on the training split only"))
    return lines + target_lines(classes)


def _left_out_why(left_out: list[str], found: Columns) -> str:
    """The comment on ``ignore``: each kind of column it holds ('dates, numbers with
    units: left out (see below)'), the ones explained below first."""
    explained = [(getattr(found, field), name) for field, name, _, _ in LEFT_OUT_KINDS]
    explained.append((found.siblings, "one-hot with the target"))
    explained.append((found.beside_text, "beside the text"))
    kinds = [kind for columns, kind in explained if set(columns) & set(left_out)]
    rest = set(left_out) - {name for columns, _ in explained for name in columns}
    if rest:
        kinds.append("free text (see below), or empty" if found.texts else "text or empty")
    return ", ".join(kinds) + (": left out (see below)" if len(kinds) > 1 or not rest else ": left out")
