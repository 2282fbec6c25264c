"""How a cell is matched to a category a column learned in training: by its text, by the
number it writes ('2139' for '02139', '94105.0' for '94105'), by its composed Unicode
form, and with ``fold_case`` (data.source.fold_case) in any case, its spaces tidied.
Training's encoding, ``nnrun predict``'s and a served request's all match so.

May import: the leaves and the other modules of ``nnrun.data``.
"""

from __future__ import annotations

import unicodedata

from nnrun.data.cells import tidy_label
from nnrun.data.labels import written_key

FOLDED = "\0"  # before a folded key in a category index: no cell's own text starts so


def known_category(word: str, categories: list[str], index: dict[str, int], fold: bool = False) -> str:
    """``word`` as the one of ``categories`` it is written for (see :func:`category_position`;
    ``index`` is theirs), or as it is."""
    position = category_position(word, index, fold)
    return word if position < 0 else categories[position]


def category_index(categories: list[str], fold: bool = False) -> dict[str, int]:
    """Each category's position by its text, by the number it writes ('02139' also as
    '2139') and by its Unicode composed form ('Montre\u0301al' as 'Montréal'), each
    where no other category has the same; with ``fold`` (data.source.fold_case), by its
    text in one case with its spaces tidied too."""
    index = {c: i for i, c in enumerate(categories)}
    alike: dict[str, list[int]] = {}
    for i, category in enumerate(categories):
        for key in {tidy_label(category), unicodedata.normalize("NFC", category),
                    *([FOLDED + written_key(category)] if fold else [])}:
            alike.setdefault(key, []).append(i)
    index.update({key: found[0] for key, found in alike.items() if len(found) == 1 and key not in index})
    return index


def category_position(word: str, index: dict[str, int], fold: bool = False) -> int:
    """The position of ``word`` among a column's categories (see :func:`category_index`),
    or -1. A number category also matches the same number written as a float ('94105.0'
    for '94105'), as a column with a missing value leaves pandas to write it, or without
    its leading zeros ('2139' for '02139'), as a number reader (pandas, a spreadsheet)
    writes a ZIP code. A text matches in its composed Unicode form too: an accent typed as
    a letter and a combining mark ('e\u0301') is the same text as 'é' to whoever reads it."""
    position = index.get(word)
    if position is None:
        position = index.get(tidy_label(word), -1)
    if position < 0 and not word.isascii():
        position = index.get(unicodedata.normalize("NFC", word), -1)
    if position < 0 and fold:
        position = index.get(FOLDED + written_key(word), -1)
    return position
