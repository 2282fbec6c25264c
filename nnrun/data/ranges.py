"""Numbers far outside what training saw, noted when a trained model reads new rows.

Training keeps each number column's range (its smallest and largest value in the
training split, :func:`feature_ranges`). A column of new rows whose values mostly lie
far beyond it was most likely written in another unit or number format: '30.696' read
with a decimal point where the file groups thousands with it (30696), grams for
kilograms. The model still predicts (an extrapolation may be meant), but a prediction
from such inputs says little, so ``predict`` and ``evaluate --data`` say which column,
how many values, and one of them with its line. A few such values among ordinary ones
are no other unit but rows apart from the rest: each is named (the first three), with
its line.

"Far" is more than the range's own width beyond either end (at least 1, so that a
column that held one value in training is not alarmed by every other), or, for a
column that was positive throughout training, under a tenth of its smallest value
(30.696 for incomes of 11,977 to 84,380): a value a little past the largest seen in
training is an ordinary new sample, one at a thousandth or a thousand times it is not.
"""

from __future__ import annotations

import warnings

import numpy as np

SHOWN_COLUMNS = 3  # columns noted one by one; the rest in one line


def feature_ranges(x: np.ndarray) -> list[list[float] | None]:
    """[smallest, largest] of each column of (N, ...) samples, images flattened, None
    for a column with no present value: a table's number columns, or the named features
    of a run without a column encoding (a bundled data set, arrays)."""
    flat = x.reshape(len(x), int(np.prod(x.shape[1:])))
    if not len(flat):
        return [None] * flat.shape[1]
    # Two passes along the rows, where a pass per feature walked the samples once each
    # (784 strided passes over the 188 MB of MNIST-sized data).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a feature missing in every row: NaN, said as None
        low, high = np.nanmin(flat, axis=0), np.nanmax(flat, axis=0)
    return [None if np.isnan(a) else [float(a), float(b)] for a, b in zip(low.tolist(), high.tolist())]


def shared_ranges(ranges: list | None, input_shape) -> list | None:
    """The ranges to judge new samples by. An input of several axes (an image's pixels
    over its channels, a sequence's steps over its features) shares one range per
    value of its last axis: a pixel never lit in training is as much a pixel as any,
    so an image that lights it is no other unit. A flat input keeps one per feature."""
    if len(input_shape) < 2 or not ranges:
        return ranges
    channels = int(input_shape[-1])
    shared = []
    for channel in range(channels):
        seen = [r for r in ranges[channel::channels] if r]
        shared.append([min(r[0] for r in seen), max(r[1] for r in seen)] if seen else None)
    return [shared[i % channels] for i in range(len(ranges))]


def range_notes(table, state: dict, options: bool = True) -> list[str]:
    """One note per number column of ``table`` (the new rows, as read) whose present
    values lie mostly far outside the range training saw (``state``: the run's saved
    column encoding; runs saved before ranges were kept have none, and get no note).
    ``options``: the rows came from a file, which --decimal and --thousands read otherwise."""
    seen = {c["name"]: c.get("range") for c in state.get("columns", [])}
    return far_notes(table.numeric, table.numeric_names, [seen.get(name) for name in table.numeric_names],
                     table.lines, table.place, options)


def mostly_far(column: np.ndarray, seen: list | None) -> np.ndarray | None:
    """Which values of ``column`` lie far from training's range ``seen`` (see the
    module), where most of its present values do; else None."""
    far = far_values(column, seen)
    return far if far is not None and int(far.sum()) * 2 > int((~np.isnan(column)).sum()) else None


def far_values(column: np.ndarray, seen: list | None) -> np.ndarray | None:
    """Which values of ``column`` lie far from training's range ``seen`` (see the
    module); None where none do, or training kept no range."""
    if not seen:
        return None
    low, high = seen
    margin = max(high - low, 1.0)
    with np.errstate(invalid="ignore"):  # NaN, a missing value: never far
        far = (column < low - margin) | (column > high + margin) | ((low > 0) & (column < low / 10))
    return far if far.any() else None


def far_notes(values: np.ndarray, names: list[str], ranges: list, lines, place: str, options: bool = False
              ) -> list[str]:
    """The notes of :func:`range_notes` for (N, features) ``values`` with a training
    range (or None) per feature, the rows numbered by ``lines`` as ``place`` says."""
    notes = []
    for j, (name, seen) in enumerate(zip(names, ranges)):
        column = values[:, j]
        far = far_values(column, seen)
        if far is None:
            continue
        low, high = seen
        present, count, at = ~np.isnan(column), int(far.sum()), np.flatnonzero(far)
        if mostly_far(column, seen) is None:  # a few rows apart from the rest: each told, not the column's unit
            shown = ", ".join(f"{column[i]:g} at {place} {lines[i]}" for i in at[:3]) + (", ..." if count > 3 else "")
            notes.append((name, f"{count} of {int(present.sum())} values in '{name}' lie far outside what training "
                                f"saw ({low:g} to {high:g}): {shown}; the model extrapolates there and says little "
                                "about such rows"))
            continue
        reading = "; --decimal and --thousands read a file written otherwise" if options else ""
        notes.append((name, f"{count} of {int(present.sum())} values in '{name}' lie far outside what training saw "
                            f"({low:g} to {high:g}), e.g. {column[at[0]]:g} at {place} {lines[at[0]]}: another "
                            f"unit or number format? The model says little about such rows{reading}"))
    if len(notes) > SHOWN_COLUMNS:  # images scaled otherwise: one line, not one per pixel
        rest = [name for name, _ in notes[SHOWN_COLUMNS:]]
        listed = ", ".join(f"'{name}'" for name in rest[:5]) + (", ..." if len(rest) > 5 else "")
        lie = "columns lie" if len(rest) != 1 else "column lies"
        notes = notes[:SHOWN_COLUMNS] + [("", f"{len(rest)} more {lie} far outside what training saw as well: {listed}")]
    return [note for _, note in notes]


def sample_notes(values: np.ndarray, names: list[str], feature_ranges: list | None, input_shape, lines,
                 place: str, options: bool = False) -> list[str]:
    """The notes on (N, features) new samples of a run without a column encoding (a
    bundled data set, arrays), judged by the ranges it kept: values far outside them
    (:func:`far_notes`, an image's pixels sharing their channel's range), and for images
    and sequences, samples scaled already (:func:`scaled_note`); none where the run kept
    no ranges, or the samples are not of its features."""
    if not feature_ranges or values.ndim != 2 or values.shape[1] != len(feature_ranges):
        return []
    ranges = shared_ranges(feature_ranges, input_shape)
    notes = far_notes(values, names, ranges, lines, place, options)
    return notes + (scaled_note(values, ranges) if len(input_shape) >= 2 else [])


def scaled_note(values: np.ndarray, ranges: list) -> list[str]:
    """A note when every value of new images (or sequences) lies within 0 to 1 (or -1 to
    1) while training saw values well above that: pixels a client divided by 255 itself,
    where the run trained on them as stored. Each pixel is inside its channel's range, so
    no value is far, yet every prediction is of an almost black image. (Not for a table,
    whose columns each have a range of their own: a row of 0/1 flags is no scaled row.)"""
    tops = [r[1] for r in ranges or () if r]
    present = values[~np.isnan(values)] if values.size else values
    if not tops or not present.size:
        return []
    top, given = max(tops), float(np.max(np.abs(present)))
    if top <= 2 or not 0 < given <= min(1.0, top / 10):
        return []
    these = "this sample" if len(values) == 1 else f"these {len(values)} samples"
    return [f"every value of {these} lies within {float(present.min()):g} to {float(present.max()):g}, while "
            f"training saw values up to {top:g}: scaled already (divided by {pixel_top(top):g})? Send the values as "
            "the training data held them"]


OUTLYING_RANGES = 10  # interquartile ranges beyond a quartile: far past what Tukey calls an extreme value (3)


def far_from_the_rest(values: np.ndarray) -> tuple[int, float, float] | None:
    """A few values (at most 1%) lying more than ``OUTLYING_RANGES`` interquartile ranges
    beyond the quartiles of (N,) ``values``: their count, the farthest of them and the
    median; None when there are none, or too few values to say (a regression target of
    houses with three mansions: a squared error would chase those three)."""
    values = np.asarray(values, np.float64)
    values = values[np.isfinite(values)]
    if len(values) < 20:
        return None
    low, median, high = np.percentile(values, (25, 50, 75))
    spread = OUTLYING_RANGES * (high - low)
    far = values[(values < low - spread) | (values > high + spread)]
    if not len(far) or len(far) > 0.01 * len(values) or not spread:
        return None
    return len(far), float(far[np.argmax(np.abs(far - median))]), float(median)


def pixel_top(top: float) -> float:
    """What a scale factor of images divides by, from their brightest value ``top``:
    255 for 8-bit pixels (the brightest above 128, up to 255), else ``top``."""
    return 255.0 if 128 < top <= 255 else top


def amount(value: float) -> str:
    """A target's value as a person reads it: 8,843,200 or 0.5312."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
