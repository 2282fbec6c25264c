"""Errors that reach the user.

Every mistake a user can make (config, data, run directory, command line) raises a
:class:`UserError`; the CLI prints its message and exits with code 2, without a
traceback. A training run that fails on its own (non-finite loss) raises
:class:`TrainingFailed` and exits with code 1.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass


class NnrunError(Exception):
    """Base of every error nnrun reports to people instead of a traceback."""

    exit_code = 2
    label = "error"  # how the CLI introduces the message

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class UserError(NnrunError):
    """Bad input: a config, a data file, a run directory, a command-line value."""


class TrainingFailed(NnrunError):
    """Training stopped on its own, e.g. on a non-finite loss."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One located mistake in a config file."""

    path: str  # dotted key path, e.g. "model.layers.0.units"
    message: str
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based

    def render(self, source: str) -> str:
        where = source
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        return f"{where}: {self.path or '<root>'}: {self.message}"


class ConfigError(UserError):
    """One or more mistakes in a config, reported together."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        # In file order, so the message reads top to bottom like the config.
        self.problems = sorted(problems, key=lambda p: (p.line or 0, p.column or 0))
        count = len(problems)
        header = f"{source}: {count} problem{'s' if count != 1 else ''} in the config"
        lines = [header] + ["  " + p.render(source) for p in self.problems]
        super().__init__("\n".join(lines))


def did_you_mean(word: str, options: list[str], listing: str | None = None) -> str:
    """``"; did you mean 'x'?"`` for a near miss; otherwise, when ``listing`` names
    them (e.g. "known layers"), the options themselves if there are not too many."""
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    if listing and 0 < len(options) <= 20:
        return f"; {listing}: {', '.join(options)}"
    return ""
