"""The layout of a starter config's lines: the value, then a comment in one column.

May import: nothing of nnrun's.
"""

from __future__ import annotations

COMMENT_COLUMN = 42


def pad(text: str) -> str:
    """Spaces that bring a line of ``text`` to the comment column (at least two)."""
    return " " * max(COMMENT_COLUMN - len(text), 2)


def commented(line: str, comment: str) -> str:
    return f"{line}{pad(line)}# {comment}"
