"""What a CSV file's target column says, for a starter config (see :mod:`.init_csv`).

The target is read whole, not from the first rows: its labels and their counts decide
the task. Rows without a label, labels that are not numbers in a target of numbers, a
target that is an ID, and a target written with another decimal mark than the file
are found here and told.
"""

from __future__ import annotations

from pathlib import Path

from nnrun.commands.csv_look import ID_NAME, Columns, row_numbers
from nnrun.data.cells import markers, numbers_or_none
from nnrun.errors import UserError

def target_labels(data: Path, header: list[str], target: str, found: Columns) -> dict[str, int]:
    """Each distinct target cell of the whole file, with its count."""
    from nnrun.data.csvfile import read_columns
    from nnrun.data.problems import DataProblems

    columns = read_columns(data, header, [], [target], DataProblems(str(data)), delimiter=found.delimiter,
                           text_encoding=found.text_encoding)
    codes, words = columns.coded[target]
    found.target_cells = codes, words, columns.lines
    missing = markers(found.missing_values)  # '-' where the config init writes says so: no label, as training reads it
    empty = [code for code, word in enumerate(words) if word.strip().lower() in missing]
    if empty:  # training refuses such rows: init says so at once, not only validate
        found.unlabelled = [line for line, code in zip(columns.lines.tolist(), codes.tolist()) if code in empty]
    counts: dict[str, int] = {}
    for code in codes.tolist():
        counts[words[code]] = counts.get(words[code], 0) + 1
    for code in empty:  # no label; the rows are in found.unlabelled
        counts.pop(words[code], None)
    if not counts:
        raise UserError(f"{data}: the target column '{target}' is empty")
    return counts


def label_numbers(labels: dict[str, int], found: Columns) -> dict[str, float | None]:
    """Each of the target's labels as a number, or None for one that is not."""
    return dict(zip(labels, numbers_or_none(list(labels), found.thousands, found.decimal, found.strip_signs)))


def note_target_strays(target: str, labels: set[str], found: Columns) -> None:
    """Into ``found.strays``: the target's rows whose label is one of ``labels`` (the
    ones that are not numbers, in a target of numbers), with their lines."""
    import numpy as np

    codes, words, lines = found.target_cells
    wanted = [code for code, word in enumerate(words) if word in labels]
    rows = np.flatnonzero(np.isin(codes, wanted))
    found.strays[target] = [(int(lines[row]), words[codes[row]]) for row in rows[:5]]
    found.stray_rows[target] = len(rows)


def strays_note(column: str, found: Columns, target: bool) -> str:
    """What the user must correct: the cells of ``column`` that are not numbers."""
    count, shown = found.stray_rows[column], found.strays[column]
    cells = ", ".join(f"line {line} {cell!r}" for line, cell in shown) + (f" and {count - len(shown)} more"
                                                                          if count > len(shown) else "")
    them = "them" if count > 1 else "it"
    fix = f"correct {them} or delete {'their rows' if count > 1 else 'its row'}" if target else \
        f"correct {them}, or empty {them} (missing: mean then fills {them} in)"
    where = "" if target else f" of its first {found.rows:,} rows"
    return (f"'{column}' holds numbers, but {count} cell{'s' * (count > 1)}{where} {'is' if count == 1 else 'are'} "
            f"not ({cells}), and training refuses {them}: {fix}")


def id_target_note(target: str, labels: dict[str, int], values: list[float]) -> str | None:
    """A target that is an ID (a different value in every row, named so or counting the
    rows) is most often the wrong column: nothing in the others predicts it."""
    if len(labels) < 10 or any(count != 1 for count in labels.values()):
        return None
    counting = len(values) == len(labels) and row_numbers(values)
    if not (counting or ID_NAME.search(target)):
        return None
    return (f"'{target}' holds a different value in every row{', counting the rows' if counting else ''}, as an ID "
            "does: a model learns nothing that predicts it; to predict another column, run init again with its "
            "name after --target")


def check_one_decimal_mark(data: Path, target: str, labels: dict[str, int], numbers: dict, found: Columns) -> None:
    """A target of numbers with a decimal point in a file of decimal commas ('40.70'
    beside '39,9') would be read as words: a classification of every value. The
    reader takes one decimal mark per file, so the file must change."""
    if found.decimal != "," or sum(labels[label] for label, v in numbers.items() if v is None) <= sum(
            labels.values()) / 2:
        return
    pointed = [label for label, v in zip(labels, numbers_or_none(list(labels), None, ".")) if v is not None]
    if sum(labels[label] for label in pointed) > sum(labels.values()) / 2:
        raise UserError(f"{data}: '{target}' is written with a decimal point ({pointed[0]}), the other columns with "
                        "a decimal comma; nnrun reads one decimal mark per file",
                        hint="save the file with the same decimal mark in every column, then run init again")
