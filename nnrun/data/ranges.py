"""Numbers far outside what training saw, noted when a trained model reads new rows.

Training keeps each number column's range (its smallest and largest value in the
training split, :func:`training_range`). A column of new rows whose values mostly lie
far beyond it was most likely written in another unit or number format: '30.696' read
with a decimal point where the file groups thousands with it (30696), grams for
kilograms. The model still predicts (an extrapolation may be meant), but a prediction
from such inputs says little, so ``predict`` and ``evaluate --data`` say which column,
how many values, and one of them with its line.

"Far" is more than the range's own width beyond either end (at least 1, so that a
column that held one value in training is not alarmed by every other), or, for a
column that was positive throughout training, under a tenth of its smallest value
(30.696 for incomes of 11,977 to 84,380): a value a little past the largest seen in
training is an ordinary new sample, one at a thousandth or a thousand times it is not.
"""

from __future__ import annotations

import numpy as np


def training_range(values: np.ndarray) -> list[float] | None:
    """[smallest, largest] of a number column's present values, or None if it has none."""
    present = values[~np.isnan(values)]
    return [float(present.min()), float(present.max())] if len(present) else None


def range_notes(table, state: dict, options: bool = True) -> list[str]:
    """One note per number column of ``table`` (the new rows, as read) whose present
    values lie mostly far outside the range training saw (``state``: the run's saved
    column encoding; runs saved before ranges were kept have none, and get no note).
    ``options``: the rows came from a file, which --decimal and --thousands read otherwise."""
    notes = []
    for j, name in enumerate(table.numeric_names):
        column = next((c for c in state.get("columns", []) if c["name"] == name), None)
        seen = column.get("range") if column else None
        if not seen:
            continue
        values = table.numeric[:, j]
        present = ~np.isnan(values)
        low, high = seen
        margin = max(high - low, 1.0)
        far = present & ((values < low - margin) | (values > high + margin) | ((low > 0) & (values < low / 10)))
        count = int(far.sum())
        if not count or count * 2 <= int(present.sum()):
            continue
        first = int(np.flatnonzero(far)[0])
        reading = "; --decimal and --thousands read a file written otherwise" if options else ""
        notes.append(f"{count} of {int(present.sum())} values in '{name}' lie far outside what training saw "
                     f"({low:g} to {high:g}), e.g. {values[first]:g} at {table.place} {table.lines[first]}: another "
                     f"unit or number format? The model says little about such rows{reading}")
    return notes
