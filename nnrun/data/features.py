"""The names of a table's encoded features, and where each column's features are.

A table's columns are encoded side by side in their saved order: a number is one
feature named as its column, a category one per category (``color=red``; the category
of empty cells, with ``missing_category: own``, is ``color=(missing)``), a date the
features :func:`nnrun.data.dates.feature_names` lists, a text one per token position
(``review[0]`` ...). :func:`feature_positions` gives the positions of each name, and
of each column's name all its features, as a ``select`` layer names them.
"""

from __future__ import annotations

from nnrun.data.dates import feature_names

MISSING_CATEGORY = "(missing)"  # how the category of empty cells (missing_category: own) is named in features


def column_features(column: dict) -> list[str]:
    """The encoded feature names of one column of a saved encoding."""
    if column["kind"] == "numeric":
        return [column["name"]]
    if column["kind"] == "text":
        return [f"{column['name']}[{i}]" for i in range(column["text"]["length"])]
    if column["kind"] == "date":
        return feature_names(column)
    return [f"{column['name']}={c or MISSING_CATEGORY}" for c in column["categories"]]


def encoded_names(state: dict) -> list[str]:
    return [name for column in state["columns"] for name in column_features(column)]


def feature_positions(names: list[str], state: dict | None) -> dict[str, list[int]]:
    """Each feature name's position in the model's input, and for a table each column's
    name the positions of all its features (a column named as one of another's
    features, 'color=red' beside 'color', keeps the column's meaning)."""
    positions, start = {}, 0
    for column in (state or {}).get("columns", []):  # the columns first, as a message lists the names
        width = len(column_features(column))
        positions[column["name"]] = list(range(start, start + width))
        start += width
    for i, name in enumerate(names):
        positions.setdefault(name, [i])
    return positions
