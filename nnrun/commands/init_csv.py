"""``nnrun init --data FILE.csv --target COLUMN``: a starter config for one's own CSV file.

The file is looked at as a person would before writing the config (:mod:`.csv_look`),
and each choice is said in a comment beside it: the delimiter and the number format,
the task, and every column's role. The target's labels decide the task: numbers with
fractions or more than ``MOST_CLASSES`` values make a regression (mse, with the target
standardized), even with some labels that are not numbers, which are listed to be
corrected; words or a few whole numbers a classification (a softmax over the classes,
or one sigmoid unit for two). A file whose input is a column of free text, beside at
most ``FEW_BESIDE_TEXT`` other feature columns, gets a word-embedding model of the text
(the others left out, and said: a text model reads its text alone).

Nothing here is final: ``nnrun validate`` reads the whole file with these settings and
says what does not fit. The text is checked with the real loader before it is written,
and an existing file is never overwritten (see :mod:`.init`).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from nnrun.commands.init_source import LEFT_OUT_KINDS, source_lines
from nnrun.commands.starter import class_order, model_lines, positive_last, schema_lines, tokens_for, training_lines
from nnrun.commands.csv_look import Columns, delimiter_of, look, text_encoding_of
from nnrun.commands.csv_target import (check_one_decimal_mark, id_target_note, label_numbers, note_target_strays,
                                       strays_note, target_labels)
from nnrun.config.run_names import default_name
from nnrun.data.csv_settings import ONE_HOT_COLUMNS
from nnrun.data.labels import class_warnings
from nnrun.data.number_patterns import SIGNED_NUMBER
from nnrun.data.ranges import amount, far_from_the_rest
from nnrun.errors import UserError, did_you_mean, quoted

MOST_CLASSES = 20  # whole-number targets with more distinct values are a regression
MIN_ROWS = 20  # fewer, and a split of 15% for validation and test each holds out two rows or none


FEW_BESIDE_TEXT = 2  # other feature columns a text model may leave out; with more, they are the model's input


def csv_starter_text(data: Path, target: str | None, path: Path, notes: list[str] | None = None) -> str:
    """The commented YAML for training on ``data`` to predict ``target``, written to
    ``path`` (the data's path in it is relative to the config's folder). ``notes``
    gains what the user must fix in the data before training."""
    from nnrun.config.yaml_reader import DATA_FILES, source_hint
    from nnrun.data.csvheader import read_header

    if data.suffix.lower() in (".yaml", ".yml", ".json") and data.is_file():
        raise UserError(f"--data: {data} is a {data.suffix[1:].upper()} file, not data; init --data reads a CSV file "
                        "and writes a config for it", hint="to train from a config you have: nnrun train CONFIG")
    kind = DATA_FILES.get(data.suffix.lower(), "csv")
    if kind != "csv" and data.is_file():  # read as text, its bytes are not UTF-8: say what it is instead
        what = "gzip-compressed" if data.suffix.lower() == ".gz" else f"an {kind.upper()} file"
        raise UserError(f"--data: {data} is {what}; init --data reads plain CSV files", hint=source_hint(data))
    text_encoding = text_encoding_of(data)
    delimiter = delimiter_of(data, text_encoding)
    header = read_header(data, delimiter=delimiter, text_encoding=text_encoding)
    if target is None or target not in header:
        raise UserError(f"--target: {_unknown(target, header, data)}",
                        hint=f"the columns are: {', '.join(name or repr(name) for name in header[:30])}"
                             f"{' ...' if len(header) > 30 else ''}")  # an empty name (a trailing column) as ''
    found = look(data, header, target, delimiter, text_encoding)
    if not found.widths:
        raise UserError(f"{data}: no data rows under the header",
                        hint="init --data reads a CSV file of a header line, then one line per sample")
    if not found.rows:
        cells = " or ".join(map(str, found.widths[:3]))
        raise UserError(f"{data}: the first rows have {cells} cells, but the header has {len(header)} columns",
                        hint="a row that ends with an extra separator, or a cell holding one without quotes, "
                             "adds a cell; the header and the rows need as many")
    if not found.features and not found.categorical and not found.texts:
        signed = "".join(f"; {', '.join(columns[:5])} hold{'s' * (len(columns) == 1)} {what}"
                         for field, _, what, _ in LEFT_OUT_KINDS if (columns := getattr(found, field)))
        raise UserError(f"{data}: no column to learn from besides '{target}' (IDs are left out){signed}",
                        hint="a feature is a column of numbers, of a few repeating words, or of text")
    labels = target_labels(data, header, target, found)
    numbers = label_numbers(labels, found)
    check_one_decimal_mark(data, target, labels, numbers, found)
    values = [v for v in numbers.values() if v is not None]
    if notes is not None and (note := id_target_note(target, labels, values)):
        notes.append(note)
    strays = {label for label, v in numbers.items() if v is None}
    # A regression when most rows' labels are numbers, with fractions or of many values;
    # the labels that are not numbers ('€ 271.356,12', 'k.A.') are then mistakes to
    # correct, not classes of their own among a hundred prices.
    regression = (len(values) > MOST_CLASSES or any(v != int(v) for v in values)) and \
        sum(labels[label] for label in strays) < sum(labels.values()) / 2
    # '$101,817', '12%': numbers with a currency or percent sign, not a hundred classes.
    signed = sorted(label for label in strays if SIGNED_NUMBER.match(label))
    if not regression and sum(labels[label] for label in signed) > sum(labels.values()) / 2:
        regression, strays = True, strays - set(signed)  # the signed ones are told here, once
        if notes is not None:
            plain = re.sub(r"[^\d.+-]", "", signed[0]) if found.decimal == "." and found.thousands != "." else None
            notes.append(f"'{target}' holds numbers written with a currency or percent sign (like '{signed[0]}'), "
                         f"which training does not read: write them as plain numbers"
                         f"{f' ({plain})' if plain else ''} in {data.name}, and the config trains as a regression")
    if regression and strays:
        note_target_strays(target, strays, found)
    classes = None if regression else class_order(list(labels))
    if len(labels) < 2:  # a class or a number alike
        raise UserError(f"{data}: '{target}' holds one value ({next(iter(labels), 'none')}) in every row: there is "
                        "nothing to predict", hint="name the column to predict with --target")
    if found.rows < MIN_ROWS:
        raise UserError(f"{data}: {found.rows} row{'s' * (found.rows != 1)} of data; a model learns from more, and "
                        f"the validation and test splits hold some of them out (at least {MIN_ROWS} rows)")
    # A free-text column beside a few other columns (a ticket's text and its price) is
    # what the rows say most: a text model reads it alone, the others left out and said.
    beside = [*found.features, *found.categorical, *found.dates]
    text = next(iter(found.texts), None) if len(beside) <= FEW_BESIDE_TEXT else None
    if text is not None and beside:
        found.beside_text, found.ignored = beside, [*found.ignored, *beside]
        found.features, found.categorical, found.dates = [], [], {}
    tokens = tokens_for(found.texts[text][0]) if text is not None else None
    if found.unlabelled and notes is not None:
        count, shown = len(found.unlabelled), ", ".join(map(str, found.unlabelled[:5]))
        more = f" and {count - 5} more" if count > 5 else ""
        rows = "1 row has" if count == 1 else f"{count} rows have"
        notes.append(f"{rows} no '{target}' in {data} (line{'s' if count > 1 else ''} {shown}{more}): the config "
                     f"leaves {'it' if count == 1 else 'them'} out (missing_target: drop); fill in the target to "
                     f"learn from {'it' if count == 1 else 'them'}")
    if found.ragged and notes is not None:
        (line, cells), more = found.ragged[0], len(found.ragged) - 1
        widths = {cells for _, cells in found.ragged}
        fixes = ([f"a cell that holds the delimiter {found.delimiter!r} is written in double quotes (a row of more "
                  "cells)"] if max(widths) > len(header) else []) + \
            (["each row needs a cell for every column, empty or not"] if min(widths) < len(header) else [])
        others = f" (and {more} more row{'s' if more != 1 else ''} of another width)" if more else ""
        notes.append(f"line {line} of {data} has {cells} cells, but the header has {len(header)} columns{others}; "
                     f"the config leaves such rows out (bad_rows: skip); to learn from them, {'; '.join(fixes)}")
    if found.points_either_way and notes is not None:
        notes.append(f"numbers such as {found.points_either_way} are read as decimals; if their point groups "
                     f"thousands ({found.points_either_way.replace('.', '')}), add thousands: \".\" to "
                     f"data.source in {path.name}")
    for name in found.mixed_dates if notes is not None else ():  # a guess the terminal says, not only the file
        first = "day" if found.dates[name] == "dmy" else "month"
        notes.append(f"the dates in '{name}' read day first or month first alike (no day above 12): they are read "
                     f"{first} first ({found.dates[name]}), a guess; check data.source.dates in {path.name}")
    if notes is not None:  # the target first: the model learns it
        notes += [strays_note(name, found, target=name == target) for name in sorted(found.strays, key=target.__ne__)]
    # Said where the target is, as validate says it: a class of one row, one written two ways.
    found.target_notes = class_warnings(classes, [labels[c] for c in classes], f"'{target}'") if classes else []
    if notes is not None:  # on the terminal too: a label to fix in the file before training
        notes += found.target_notes
    # A rare class of two is made the positive one (the sigmoid's probability; what precision and pr_auc score).
    classes = positive_last(classes, [labels[c] for c in classes]) if classes else None
    # A few targets far from the rest (three mansions among houses): huber, which mse would chase.
    told = [label for label in labels if numbers[label] is not None]
    far = far_from_the_rest(np.repeat([numbers[t] for t in told], [labels[t] for t in told])) if regression else None
    far = (far[0], amount(far[1]), amount(far[2])) if far else None
    lines = [*_head(data, path, target, found, classes), *source_lines(data, path, target, found, classes, text),
             *model_lines(classes, text_tokens=tokens, counts=[labels[c] for c in classes or ()], far=far),
             *training_lines(200)]
    return "\n".join(lines) + "\n"


def _unknown(target: str | None, header: list[str], data: Path) -> str:
    if target is None:
        return "name the column to predict"
    several = [name.strip() for name in target.split(",")]
    if len(several) > 1 and all(name in header for name in several):
        return (f"'{target}' names {len(several)} columns; init writes a config for one target column. "
                f"{ONE_HOT_COLUMNS}. For several values to predict (a regression of several targets), write it for "
                f"one of them, then list them all in the config: data.source.target: [{', '.join(several)}]")
    near = did_you_mean(target, header)
    if target.strip() == target and target.isprintable():
        return f"no column '{target}' in {data}{near}"
    # A name from a shell substitution over a file of Windows line ends ends in '\r', which
    # prints as nothing: shown escaped, the difference said.
    shown = target.encode("unicode_escape").decode("ascii")
    return f"no column '{shown}' in {data} (the name given has spaces or control characters that do not show){near}"


def _head(data: Path, path: Path, target: str, found: Columns, classes: list[str] | None) -> list[str]:
    task = "a regression" if classes is None else f"a classification of {len(classes)} classes"
    return [
        *schema_lines(path),
        f"# Starter config for {data.name}, predicting '{target}': {task}.",
        f"# The settings below come from its first {found.rows:,} rows; check them against the whole file:",
        f"#   nnrun validate {quoted(path)}",
        f"# Then train it:  nnrun train {quoted(path)}",
        f"name: {default_name(path)}",
        "seed: 42",
    ]
