"""Text columns as int codes into their distinct cells.

The CSV reader hands each text column over twice: as str objects, one per row, and
coded, ``(codes, words)`` with ``words[codes]`` the column. Work that only counts,
matches or one-hot encodes the cells (labels, categories, empty cells) uses the codes:
an array step instead of a dictionary lookup per row.
"""

from __future__ import annotations

import numpy as np

Coded = tuple[np.ndarray, list[str]]  # a text column as int codes into its distinct cells: words[codes]


def codes_into(vocabulary: dict[str, int], words) -> np.ndarray:
    """The code of each of ``words`` in ``vocabulary`` (word -> code), which gains the
    words it lacks, numbered in the order they come."""
    return np.array([vocabulary.setdefault(word, len(vocabulary)) for word in words], np.intp)


def coded_cells(cells) -> Coded:
    """Cells given one by one, coded in one pass."""
    vocabulary: dict[str, int] = {}
    return codes_into(vocabulary, cells), list(vocabulary)


def cells_of(coded: Coded) -> np.ndarray:
    """A coded column as str objects, one per row."""
    codes, words = coded
    return np.array(words, dtype=object)[codes]


def merged_codes(parts: list[Coded]) -> Coded:
    """Coded columns (of several files) as one, with one list of distinct cells."""
    vocabulary: dict[str, int] = {}
    remapped = [codes_into(vocabulary, words)[codes] for codes, words in parts]
    return (np.concatenate(remapped) if remapped else np.empty(0, np.intp)), list(vocabulary)


def coded_matches(coded: Coded, word: str) -> np.ndarray:
    """Where a coded column holds ``word`` (a boolean per row)."""
    codes, words = coded
    return codes == words.index(word) if word in words else np.zeros(len(codes), bool)
