"""How the settings of a ``csv`` source are written in a config: each value as its
validator reads it (a name or a list of names, one delimiter character, a missing-value
marker as a cell's text), for :mod:`.csvsource`'s fields and the options of ``predict``.
"""

from __future__ import annotations

def column_names(value):
    """``id: customer_id`` is short for ``id: [customer_id]``; ``id: null``, for none."""
    return [value] if isinstance(value, str) else [] if value is None else value


SEVERAL_TARGETS = ("For several values to predict (a regression of several targets), give the data as an .npz "
                   "with y of shape (samples, targets), or train from Python with those columns as y: "
                   "nnrun.train(config, data=(df[features], df[targets]))")


def one_column(value):
    """A list of target columns: one-hot columns, or several values to predict. Say what
    to do instead of each."""
    if isinstance(value, list):
        names = ", ".join(map(str, value))
        raise ValueError(f"expected one column name, got a list ({names}); a CSV file's target is one column of "
                         "labels or values. For one-hot columns, write the class names into one column and name it "
                         f"here. {SEVERAL_TARGETS}")
    return value


TEXT_ENCODINGS = ("utf-8", "cp1252", "latin-1", "iso-8859-15", "cp1250")


def csv_delimiter(value):
    """One character; ``'\\t'`` (a backslash and a t, as single quotes in YAML keep them)
    and the word ``tab`` are a tab."""
    if isinstance(value, str) and value.lower() in ("\\t", "tab"):
        return "\t"
    if isinstance(value, str) and (len(value) != 1 or value in '"\r\n'):
        raise ValueError(f"expected one character that is not a quote or a line break, got {value!r}; "
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
