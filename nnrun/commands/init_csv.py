"""``nnrun init --data FILE.csv --target COLUMN``: a starter config for one's own CSV file.

The file is looked at as a person would before writing the config, and each choice is
said in a comment beside it:

- what separates the cells (a comma, a semicolon, a tab or a bar) and how its numbers
  are written (thousands separators, a decimal comma), from the header and the first
  ``SAMPLE_ROWS`` rows;
- the target, read whole: numbers with fractions or more than ``MOST_CLASSES`` values
  make a regression (mse, with the target standardized); words or a few whole numbers a
  classification (a softmax over the classes, or one sigmoid unit for two);
- every other column, from the first rows: numbers are features, a few repeating words
  are ``categorical``, a different text in (nearly) every row, a name such as
  ``customer_id``, or whole numbers that count the rows is an ``id`` (copied into
  predictions, not learned), text of several words is left out (``ignore``, or the input
  of a text model when it is the only one), as is other text; empty cells among the
  features ask for ``missing: mean``.

Nothing here is final: ``nnrun validate`` reads the whole file with these settings and
says what does not fit. The text is checked with the real loader before it is written,
and an existing file is never overwritten (see :mod:`.init`).
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from nnrun.errors import UserError, did_you_mean

SAMPLE_ROWS = 10_000
MOST_CLASSES = 20  # whole-number targets with more distinct values are a regression
MOST_CATEGORIES = 50  # text columns with more distinct values are IDs or free text, not categories
MISSING = frozenset({"", "na", "n/a", "nan", "null", "?"})  # as the CSV reader reads them (see data.cells)
ID_NAME = re.compile(r"(^|[_\s-])(id|uuid|key)$|^id[_\s-]", re.IGNORECASE)
DECIMAL_COMMA = re.compile(r"^[+-]?\d+,(\d{1,2}|\d{4,})$|^[+-]?0,\d+$")  # 3,25  0,126: no thousands separator
COMMA_GROUPS = re.compile(r"^[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d+)?$")  # 483,809
POINT_GROUPS = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3})+(,\d+)?$")  # 1.234,5


@dataclass
class Columns:
    """What the first rows say: the settings for the file, and each column's role."""

    delimiter: str = ","
    decimal: str = "."
    thousands: str | None = None
    features: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    texts: dict[str, tuple[int, int]] = field(default_factory=dict)  # free text: (distinct words, 95th % length)
    missing: dict[str, int] = field(default_factory=dict)  # column -> empty cells in the rows looked at
    rows: int = 0


def csv_starter_text(data: Path, target: str | None, path: Path) -> str:
    """The commented YAML for training on ``data`` to predict ``target``, written to
    ``path`` (the data's path in it is relative to the config's folder)."""
    from nnrun.data.csvheader import read_header

    delimiter = _delimiter(data)
    header = read_header(data, delimiter=delimiter)
    if target is None or target not in header:
        given = "" if target is None else f"no column '{target}' in {data}"
        raise UserError(f"--target: {given or 'name the column to predict'}"
                        f"{did_you_mean(target, header) if target else ''}",
                        hint=f"the columns are: {', '.join(header[:30])}{' ...' if len(header) > 30 else ''}")
    found = _look(data, header, target, delimiter)
    labels = _target_labels(data, header, target, found)
    numbers = _numbers(labels, found)
    regression = numbers is not None and (len(labels) > MOST_CLASSES or any(v != int(v) for v in numbers))
    if not found.features and not found.categorical and not found.texts:
        raise UserError(f"{data}: no column to learn from besides '{target}' (IDs are left out)",
                        hint="a feature is a column of numbers, of a few repeating words, or of text")
    return _text(data, path, target, found, labels, regression)


def _delimiter(data: Path) -> str:
    """The character that splits the header into the most columns (a comma on a tie)."""
    try:
        with open(data, encoding="utf-8-sig", errors="replace") as handle:
            first = handle.readline()
    except FileNotFoundError:
        raise UserError(f"{data}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{data}: is a folder, not a CSV file") from None
    counts = {s: len(next(csv.reader([first], delimiter=s), [])) for s in (",", ";", "\t", "|")}
    return max(counts, key=lambda s: (counts[s], s == ","))


def _look(data: Path, header: list[str], target: str, delimiter: str) -> Columns:
    found = Columns(delimiter=delimiter)
    with open(data, newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        next(reader, None)
        sample = [row for _, row in zip(range(SAMPLE_ROWS), reader) if len(row) == len(header)]
    found.rows = len(sample)
    cells = {name: [row[i].strip() for row in sample] for i, name in enumerate(header)}
    present = {name: [c for c in column if c.lower() not in MISSING] for name, column in cells.items()}
    everything = [c for name, column in present.items() if name != target for c in column]
    _number_format(everything + present[target], found)
    for name in header:
        if name == target:
            continue
        values = present[name]
        numbers = sum(_number(c, found) is not None for c in values)
        distinct = len(set(values))
        if not values:
            found.ignored.append(name)
            continue
        spaced = sum(bool(re.search(r"\S\s+\S", c)) for c in values)
        if numbers < len(values) and spaced > len(values) / 2 and distinct > MOST_CATEGORIES // 2:
            words = [len(c.split()) for c in values]
            found.texts[name] = (len({w.lower() for c in values for w in c.split()}),
                                 sorted(words)[int(0.95 * (len(words) - 1))])
            found.ignored.append(name)
            continue
        if ID_NAME.search(name) or (numbers < len(values) and len(values) >= 10 and distinct >= 0.9 * len(values)) \
                or (numbers == distinct == len(values) >= 10 and _row_numbers([_number(c, found) for c in values])):
            found.ids.append(name)
            continue
        if numbers == len(values):
            found.features.append(name)
        elif distinct <= min(MOST_CATEGORIES, max(2, len(values) // 2)):
            found.categorical.append(name)
        else:
            found.ignored.append(name)
            continue
        if len(values) < len(cells[name]):
            found.missing[name] = len(cells[name]) - len(values)
    return found


def _row_numbers(values: list[float]) -> bool:
    """Whole numbers that count the rows (1, 2, 3, ... in any order): an index, not a feature."""
    return all(v == int(v) for v in values) and max(values) - min(values) == len(values) - 1


def _number_format(cells: list[str], found: Columns) -> None:
    """A decimal comma where cells such as '3,25' outnumber cells such as '483,809';
    then the separator that groups thousands in the cells, if any."""
    comma = sum(bool(DECIMAL_COMMA.match(c)) for c in cells)
    grouped = sum(bool(COMMA_GROUPS.match(c)) for c in cells)
    if comma > grouped:
        found.decimal = ","
        found.thousands = "." if any(POINT_GROUPS.match(c) for c in cells) else None
    elif grouped:
        found.thousands = ","


def _number(cell: str, found: Columns) -> float | None:
    """The cell as a number under the file's format, or None."""
    text = cell.replace(found.thousands, "") if found.thousands else cell
    if found.decimal == ",":
        if "." in text:
            return None
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def _target_labels(data: Path, header: list[str], target: str, found: Columns) -> dict[str, int]:
    """Each distinct target cell of the whole file, with its count."""
    from nnrun.data.csvfile import read_columns
    from nnrun.data.problems import DataProblems

    columns = read_columns(data, header, [], [target], DataProblems(str(data)), delimiter=found.delimiter)
    codes, words = columns.coded[target]
    counts: dict[str, int] = {}
    for code in codes.tolist():
        counts[words[code]] = counts.get(words[code], 0) + 1
    counts.pop("", None)  # missing targets are reported by validate
    if not counts:
        raise UserError(f"{data}: the target column '{target}' is empty")
    return counts


def _numbers(labels: dict[str, int], found: Columns) -> list[float] | None:
    values = [_number(label, found) for label in labels]
    return None if any(v is None for v in values) else values


def _text(data: Path, path: Path, target: str, found: Columns, labels: dict[str, int], regression: bool) -> str:
    folder = path.parent
    relative = os.path.relpath(data.resolve(), folder.resolve())
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", path.stem).strip("-.") or "model"
    lines = [
        "# yaml-language-server: $schema=nnrun.schema.json",
        *([] if (folder / "nnrun.schema.json").exists() else
          [f"# (completion and checks in editors: nnrun schema > {'' if str(folder) == '.' else f'{folder}/'}"
           "nnrun.schema.json)"]),
        f"# Starter config for {data.name}, predicting '{target}': "
        + ("a regression." if regression else f"a classification of {len(labels)} classes."),
        f"# The settings below come from its first {found.rows:,} rows; check them against the whole file:",
        f"#   nnrun validate {path}",
        f"# Then train it:  nnrun train {path}",
        f"name: {name}",
        "seed: 42",
        "data:",
        "  source:",
        "    type: csv",
        f"    path: {_scalar(relative)}",
        _commented(f"    target: {_scalar(target)}", "numbers with fractions or many values: a regression"
                   if regression else f"{len(labels)} classes: {_labels(labels)}"),
    ]
    if found.delimiter != ",":
        written = '"\\t"' if found.delimiter == "\t" else f'"{found.delimiter}"'
        lines.append(_commented(f"    delimiter: {written}", "what separates the cells"))
    if found.decimal != ".":
        lines.append(_commented('    decimal: ","', "numbers are written 3,25"))
    if found.thousands:
        example = "1.234,5" if found.thousands == "." else "483,809"
        lines.append(_commented(f'    thousands: "{found.thousands}"', f"numbers are written {example}"))
    if found.ids:
        lines.append(_commented(f"    id: {_list(found.ids)}", "IDs: copied into predictions, not learned"))
    if found.categorical:
        lines.append(_commented(f"    categorical: {_list(found.categorical)}", "repeating words: one-hot encoded"))
    text = next(iter(found.texts), None) if not found.features and not found.categorical else None
    if text is not None:  # the text is the model's one input: word indices into a learned vocabulary
        vocabulary, length = found.texts[text]
        tokens = min(20_000, max(100, -(-(vocabulary + 2) // 100) * 100))
        lines.append(_commented(f"    text: {{column: {_scalar(text)}, tokens: word, max_tokens: {tokens}, "
                                f"length: {min(max(length, 4), 200)}, lowercase: true}}",
                                "words -> indices, padded or cut to length"))
    left_out = [name for name in found.ignored if name != text]
    if left_out:
        lines.append(_commented(f"    ignore: {_list(left_out)}", "free text or empty: left out"))
    if found.features:
        shown = ", ".join(found.features[:8]) + (f", ... ({len(found.features)} in all)" if len(found.features) > 8
                                                 else "")
        lines.append(f"    # the other columns are number features: {shown}")
    if found.missing and text is None:
        empty = ", ".join(f"{n} {c}" for n, c in list(found.missing.items())[:3])
        lines.append(_commented("    missing: mean", f"filled from the training split; empty cells: {empty}"))
    stratify = "" if regression else ", stratify: true"
    lines += [
        _commented(f"  split: {{validation: 0.15, test: 0.15{stratify}}}", "held-out fractions; the rest trains"),
    ] + ([] if text is not None else [_commented("  preprocess: [standardize]", "fitted on the training split only")])
    if regression:
        lines.append(_commented("  target_scale: standardize", "learn the target standardized; predictions "
                                                                "stay in its units"))
    lines += ["model:", "  layers:"]
    if text is not None:
        lines += [_commented(f"    - {{type: embedding, input_dim: {tokens}, output_dim: 32, mask_zero: true}}",
                             "input_dim = max_tokens"),
                  _commented("    - {type: global_average_pool1d}", "the mean of the words' vectors")]
    lines += ["    - {type: dense, units: 64, activation: relu}",
              _commented("    - {type: dropout, rate: 0.1}", "zeroes 10% of the units at random while training")]
    if regression:
        lines += [_commented("    - {type: dense, units: 1}", "one output, no activation: a real number"),
                  _commented("loss: mse", "mean squared error"),
                  "optimizer: {type: adam, learning_rate: 0.001}",
                  _commented("metrics: [mae, r2]", "mean absolute error (the target's units); R^2 (1 is perfect)")]
    elif len(labels) == 2:
        lines += [_commented("    - {type: dense, units: 1, activation: sigmoid}", "the probability of the second "
                                                                                  "class"),
                  "loss: binary_crossentropy",
                  "optimizer: {type: adam, learning_rate: 0.001}",
                  "metrics: [accuracy, auc]"]
    else:
        lines += [_commented(f"    - {{type: dense, units: {len(labels)}, activation: softmax}}",
                             f"one probability per class ({len(labels)})"),
                  "loss: categorical_crossentropy",
                  "optimizer: {type: adam, learning_rate: 0.001}",
                  "metrics: [accuracy]"]
    lines += ["training:", "  epochs: 200", "  batch_size: 32",
              "  # Stop when the validation loss has not improved for `patience` epochs; keep the best weights.",
              "  early_stopping: {monitor: val_loss, patience: 20, restore_best: true}"]
    return "\n".join(lines) + "\n"


COMMENT_COLUMN = 42  # where the comments of a starter config begin, for both kinds (see .init)


def pad(text: str) -> str:
    """Spaces that bring a line of ``text`` to the comment column (at least two)."""
    return " " * max(COMMENT_COLUMN - len(text), 2)


def _commented(line: str, comment: str) -> str:
    return f"{line}{pad(line)}# {comment}"


def _labels(labels: dict[str, int]) -> str:
    names = sorted(labels, key=lambda label: -labels[label])[:5]
    return ", ".join(names) + (", ..." if len(labels) > 5 else "")


def _scalar(text: str) -> str:
    """A YAML scalar for a name or a path: plain when YAML reads it back as that text."""
    import yaml

    plain = text and not re.search(r"[:#\[\]{},&*!|>'\"%@`]|^\s|\s$", text)
    return text if plain and yaml.safe_load(text) == text else '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _list(names: list[str]) -> str:
    return "[" + ", ".join(_scalar(name) for name in names) + "]"
