"""Texts given in memory as a list, an array or a pandas Series, for a model whose only
input is a text column: as the column of a table they stand for. A loaded text model
predicts from them (:func:`one_text_column`); ``nnrun.train`` trains on them as on a
DataFrame of that one column (:func:`texts_as_table`), the config's ``data.source.text``
naming it.
"""

from __future__ import annotations

import numpy as np

from nnrun.commands.frames import table_column_names, text_column
from nnrun.data.table import is_missing
from nnrun.errors import UserError


def one_text_column(x, name: str) -> object:
    """Texts as a list, an array or a pandas Series, as the dict ``{name: texts}``;
    anything else as it is."""
    series = hasattr(x, "to_list") and getattr(x, "ndim", None) == 1 and name not in map(str, x.index)
    # A missing text (None, NaN, pd.NA, as a Series of texts with gaps holds them) is an
    # empty cell, as in a file; a number is no text (a JSON request's is refused alike).
    if not (series or isinstance(x, (list, tuple, np.ndarray))) or np.ndim(x) != 1:
        return x
    values = list(x)
    other = [i for i, text in enumerate(values) if not isinstance(text, str) and not is_missing(text)]
    if not other:
        return {name: values}
    if any(isinstance(values[i], bytes) for i in other):
        first = next(i for i in other if isinstance(values[i], bytes))
        raise UserError(f"x: item {first} is {values[first]!r:.60}, bytes, but this model reads texts (its column "
                        f"'{name}')", hint="decode the bytes first: [v.decode('utf-8') for v in x]")
    if not all(isinstance(values[i], (int, float, np.number)) for i in other):
        return x  # rows as dicts, say: read by column name
    at = f"item {other[0]} is {values[other[0]]!r}" if len(other) < len(values) else "its items are not texts"
    raise UserError(f"x: {at}, but this model reads texts (its column '{name}')",
                    hint="give each item as a string, e.g. [str(v) for v in x]; a file's cells are read as text")


def texts_as_table(pair, settings: dict | None):
    """For a text model's config (``data.source.text``), a pair whose samples are texts
    (a list, an array, a Series) as the pair of their one-column table."""
    column = text_column(settings) if settings else None
    if pair is None or column is None or table_column_names(pair[0]) is not None:
        return pair
    texts = one_text_column(pair[0], column)
    return (TextTable(texts), pair[1]) if isinstance(texts, dict) else pair


class TextTable(dict):
    """Columns of texts (:func:`one_text_column`'s), read as a DataFrame of them is: by
    its ``columns`` and its length in rows."""

    @property
    def columns(self) -> list[str]:
        return list(self)

    def __len__(self) -> int:
        return len(next(iter(self.values())))
