"""How every table and line shows a metric's value: four decimals where they say
something (0.4123, 3419.2156), scientific notation where they would not (a loss of
2.325e-09 shown as 0.0000, or 2.208e+11 as a twelve-digit number).

May import: nothing of nnrun's.
"""

from __future__ import annotations


def number(value: float) -> str:
    """Four decimals, or scientific notation for values too large or small for them."""
    return f"{value:.4f}" if value == 0 or 1e-3 <= abs(value) < 1e6 else f"{value:.4g}"


def signed(value: float) -> str:
    """:func:`number` with its sign always shown: a difference (+0.0000 for -0.0)."""
    return "+" + number(abs(value)) if value >= 0 else number(value)
