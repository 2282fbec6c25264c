"""How the settings of a ``csv`` source are written in a config: each value as its
validator reads it (a name or a list of names, one delimiter character, a missing-value
marker as a cell's text), for :mod:`.csvsource`'s fields and the options of ``predict``.
"""

from __future__ import annotations

def column_names(value):
    """``id: customer_id`` is short for ``id: [customer_id]``; ``id: null``, for none."""
    return [value] if isinstance(value, str) else [] if value is None else value


# Columns of one-hot rows are one classification target written out; said wherever a
# list of target columns meets class labels.
ONE_HOT_COLUMNS = ("For one-hot columns, write the class names into one column (pandas: "
                   "df[columns].idxmax(axis=1)) and name that one")


def target_columns(value):
    """``target: price`` names the column to predict; a list names several, a regression
    of several targets (one output each, in the list's order). A list of one is that
    name; an empty list, or a column named twice, is refused."""
    if not isinstance(value, list):
        return value
    if not value:
        raise ValueError("expected the column to predict, or a list of the columns to predict; got an empty list")
    twice = [name for i, name in enumerate(value) if name in value[:i]]
    if twice:
        raise ValueError(f"names '{twice[0]}' twice; name each column to predict once")
    return value[0] if len(value) == 1 else value


TEXT_ENCODINGS = ("utf-8", "cp1252", "latin-1", "iso-8859-15", "cp1250")


def csv_delimiter(value):
    """One character; ``'\\t'`` (a backslash and a t, as single quotes in YAML keep them)
    and the word ``tab`` are a tab."""
    if isinstance(value, str) and value.lower() in ("\\t", "tab"):
        return "\t"
    if isinstance(value, str) and (len(value) != 1 or value in '"\r\n' or not value.isascii()):
        # The reader (pyarrow's) splits cells at one ASCII character: '§' stopped it with a traceback.
        raise ValueError(f"expected one ASCII character that is not a quote or a line break, got {value!r}; "
                         'for example ";" or "|", and for tabs "\\t" (in double quotes) or tab')
    return value


def number_sign(value):
    """A text written around numbers ('$', '%', 'USD'): no digit, and none of the marks a
    number holds itself."""
    if not isinstance(value, str):
        return value
    sign = value.strip()
    if not sign or any(c.isdecimal() for c in sign) or sign in ("+", "-", ".", ","):
        raise ValueError(f"{value!r} is no sign to drop from numbers; give what is written beside them, such as "
                         "'$', '€', '%' or 'USD' (no digits, and not the number's own +, -, . or ,)")
    return sign


def missing_marker(value):
    """A missing-value marker as the text of a cell: -999 (a YAML number) is the cell '-999'."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, str) and not value.strip():
        raise ValueError("an empty cell is missing already; give the text that stands for a missing value")
    return value
