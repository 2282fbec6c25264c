"""Bad cells of a data file, collected and reported together.

Reading a file records every bad cell it finds instead of stopping at the first, so
one run of ``nnrun validate`` shows all of them, the way config errors are shown:
grouped by kind (not a number, missing value, unknown category, ...), each kind with
its first few cells by line and column, a count of the rest, and one hint per column.

    error: data/people.csv: 4 bad cells in the data
      not a number (3 cells):
        line 3, column 'income': '53,697'
        line 8, column 'income': '1,204'
        line 9, column 'age': 'n.a.'
        hint: 'income' holds numbers with a thousands separator; set data.source.thousands: ","
      missing value (1 cell):
        line 5, column 'city'
        hint: fill them in, or set data.source.missing to mean or most_frequent to impute them
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nnrun.errors import UserError

SHOWN = 5  # cells listed per kind; the rest are counted


@dataclass
class _Kind:
    count: int = 0
    cells: list[tuple[int, str, str]] = field(default_factory=list)  # (line, column, shown value)
    hints: dict[str, None] = field(default_factory=dict)  # ordered set


class DataError(UserError):
    """Every bad cell of one file (or row of a predict input), in one message."""


class DataProblems:
    """Collects bad cells of the file ``origin``; :meth:`raise_if_any` reports them.

    ``add`` takes one cell; ``add_cells`` takes a whole column's bad rows at once
    (``lines`` and ``values`` (N,) arrays), keeping only the first few values, so a
    column of 200,000 bad cells costs no more to report than one of five.
    """

    def __init__(self, origin: str, scoring: bool = False, target: str | list[str] | None = None,
                 columns: list[str] | None = None, place: str = "line", options: bool = False,
                 skip_rows: bool = False) -> None:
        self.origin = origin
        # data.source.bad_rows: skip: rows of the wrong width are left out (their lines in
        # ``skipped``, for a warning), not problems. Never for rows to score: each is answered.
        self.skip_rows, self.skipped, self.width_rows = skip_rows and not scoring, [], 0
        self.place = place  # what numbers a row: a file's "line", or a table's "row" (a DataFrame's, from 0)
        # The target columns (the training file's; those scored): their hints never make one a feature.
        self.targets = (target,) if isinstance(target, str) else tuple(target or ())
        # Rows for a trained model (predict, evaluate --data, serve): hints then fix the
        # cells, not the data.source settings (those take a new training run).
        self.scoring = scoring
        # A file for predict or evaluate --data: --decimal and --thousands read it otherwise.
        self.options = options
        self.kinds: dict[str, _Kind] = {}
        # Each column's place in the file (``columns``: its header), else as first reported.
        self.order: dict[str, int] = {name: i for i, name in enumerate(columns or [])}
        self.rows: list[tuple[int, str]] = []  # whole-row problems (wrong number of cells), shown first
        self.row_hints: dict[str, None] = {}  # ordered set

    def add(self, kind: str, line: int, column: str, value: str | None = None, hint: str | None = None) -> None:
        self.add_cells(kind, column, np.array([line]), None if value is None else [value], hint)

    def add_cells(self, kind: str, column: str, lines, values=None, hint: str | None = None) -> None:
        lines = np.asarray(lines)
        if not len(lines):
            return
        entry = self.kinds.setdefault(kind, _Kind())
        entry.count += len(lines)
        shown = [] if values is None else [repr(str(v)) for v in list(values[:SHOWN])]
        self.order.setdefault(column, len(self.order))
        for i, line in enumerate(lines[:SHOWN]):
            entry.cells.append((int(line), column, shown[i] if shown else ""))
        if hint:
            entry.hints[hint] = None

    def add_row(self, line: int | None, message: str, hint: str | None = None, width: bool = False) -> None:
        """A whole row's problem; ``width``: it has more or fewer cells than the header,
        which data.source.bad_rows: skip leaves out of training (its line kept in ``skipped``)."""
        self.width_rows += width
        if width and self.skip_rows and line is not None:
            self.skipped.append(line)
            return
        self.rows.append((line or 0, f"{self.place} {line}: {message}" if line is not None else message))
        if hint:
            self.row_hints[hint] = None

    def __bool__(self) -> bool:
        return bool(self.kinds or self.rows)

    def count(self) -> int:
        return sum(k.count for k in self.kinds.values()) + len(self.rows)

    def render(self) -> str:
        total = self.count()
        noun = "problem" if self.rows else "bad cell"
        lines = [f"{self.origin}: {total} {noun}{'s' if total != 1 else ''} in the data"]
        if self.rows:
            lines.append(f"  rows with the wrong number of cells ({len(self.rows)}):")
            lines += [f"    {row}" for _, row in sorted(self.rows, key=lambda row: row[0])[:SHOWN]]  # in file order
            if len(self.rows) > SHOWN:
                lines.append(f"    ... and {len(self.rows) - SHOWN} more")
            lines += [f"    hint: {hint}" for hint in self.row_hints]
            if not self.scoring and self.place == "line":  # a training file (a row to score is always answered)
                lines.append("    hint: to train without them, set data.source.bad_rows: skip (their lines are said)")
            elif self.scoring and self.width_rows:
                lines.append("    hint: predict and evaluate --data take every row, each in its place, so none is "
                             "skipped as training's bad_rows: skip does: fix or delete these rows")
        for kind, entry in self.kinds.items():
            lines.append(f"  {kind} ({entry.count} cell{'s' if entry.count != 1 else ''}):")
            # In file order: by line, then by column as the file has them.
            cells = sorted(entry.cells, key=lambda cell: (cell[0], self.order[cell[1]]))[:SHOWN]
            lines += [f"    {self.place} {line}, column '{column}'" + (f": {value}" if value else "")
                      for line, column, value in cells]
            if entry.count > len(cells):
                lines.append(f"    ... and {entry.count - len(cells)} more")
            lines += [f"    hint: {hint}" for hint in entry.hints]
        return "\n".join(lines)

    def raise_if_any(self) -> None:
        if self:
            raise DataError(self.render())


def skipped_warning(path: str, lines: list[int], width: int) -> str:
    """The rows of the wrong width that ``data.source.bad_rows: skip`` left out."""
    shown = ", ".join(map(str, lines[:5])) + (f" and {len(lines) - 5} more" if len(lines) > 5 else "")
    rows = "1 row" if len(lines) == 1 else f"{len(lines)} rows"
    return (f"{path}: skipped {rows} with more or fewer cells than the header's {width} (line"
            f"{'s' if len(lines) > 1 else ''} {shown}), as data.source.bad_rows: skip says")


def dropped_warning(path: str, targets: list[str], lines: np.ndarray) -> str:
    """The rows without a target that ``data.source.missing_target: drop`` left out."""
    shown = ", ".join(map(str, lines[:5].tolist())) + (f" and {len(lines) - 5} more" if len(lines) > 5 else "")
    rows = "1 row" if len(lines) == 1 else f"{len(lines)} rows"
    named = f"without a '{targets[0]}'" if len(targets) == 1 else \
        "with an empty target (" + ", ".join(f"'{t}'" for t in targets) + ")"
    return (f"{path}: dropped {rows} {named} (line{'s' if len(lines) > 1 else ''} {shown}), as "
            "data.source.missing_target: drop says")
