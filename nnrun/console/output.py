"""The consoles commands print on: one whose reader may leave, and the tables' width.

A reader that leaves (``nnrun train config.yaml | head``, a closed terminal pipe) never
changes what a command does: rich's console would exit with status 1 at the next line
it prints, which in the middle of training marks the run failed after a few lines of
output. :class:`OutputConsole` drops the rest of the output instead, and the run, the
sweep or the listing carries on to its end and its usual exit code.

In a terminal, rich lays tables out to its width. Piped or redirected, rich would
assume 80 columns and wrap or cut values (a run's name over two lines, a leaderboard's
``val_accura…``, a results table's ``0.53…``), which a script reading the output cannot
put back together; there every :class:`OutputConsole` gives its tables as much width as
their values need, so each command's tables follow the one rule (also when
``FORCE_COLOR`` asks for colours in a log). ``COLUMNS`` in the environment, or a width
given to the console, still sets the width; but not to nothing: at ``COLUMNS=0`` rich
printed no line at all (error messages included), and at 1 a character a line, so a
width of 0 counts as unset and one under ``MIN_WIDTH`` as ``MIN_WIDTH``. Messages on
standard error follow the same rule (:func:`error_console`). A table never splits a
number or a name to fit that width: its lines run past it (:meth:`OutputConsole.print`).
"""

from __future__ import annotations

import os
import shutil
import sys

from rich.console import Console, Group
from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

PIPED_WIDTH = 1000  # wide enough for any table nnrun prints; a line is never cut short
MIN_WIDTH = 40  # the narrowest COLUMNS honoured as it is (see the module's docstring)
WHOLE_WORD = 20  # a table's word of up to this many characters is never split (any number, a metric's name)


class OutputConsole(Console):
    """A rich console on standard output that goes quiet when its reader leaves, lays
    its tables out at full width when piped (see the module's docstring), and reads no
    emoji codes (nnrun prints none; rich would import its table of codes, 5 ms of a
    run's start, to look for them in every line)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("emoji", False)
        super().__init__(*args, **kwargs)
        # A notebook has its own width, which rich has set already.
        # COLUMNS that is no width (abc, -5) counts as unset, as 0 does: rich ignores it too.
        columns = os.environ.get("COLUMNS", "").strip()
        chosen = kwargs.get("width") is not None or (columns.isdigit() and int(columns) > 0) or self.is_jupyter
        if not chosen and not on_screen(self.file):
            self.width = PIPED_WIDTH
        elif kwargs.get("width") is None:
            self.width = _columns_mended(self.file) or self.width

    def print(self, *objects, **kwargs) -> None:
        """As rich prints, except that a table is never laid out so narrow that it splits
        a word of up to ``WHOLE_WORD`` characters: on a narrow terminal, or at a small
        ``COLUMNS``, its lines run past the edge rather than split ``0.9892`` into
        ``0.989`` and ``2``, or ``validation`` into ``validati`` and ``on``, which a reader
        or a grep then takes for other values. Text with spaces still wraps between its
        words, and a longer name (a layer's, say) still folds."""
        tables = [t for o in objects for t in (o.renderables if isinstance(o, Group) else [o]) if isinstance(t, Table)]
        narrowest = max((self._least_width(table) for table in tables), default=0)
        if narrowest <= self.width or kwargs.get("width") is not None:
            return super().print(*objects, **kwargs)
        width = self.width
        self.width = narrowest
        try:
            super().print(*objects, **kwargs)
        finally:
            self.width = width

    def _least_width(self, table: Table) -> int:
        widths = []
        for column in table.columns:
            cells = [column.header, *column.cells]
            texts = [cell.plain if isinstance(cell, Text) else self.render_str(cell).plain if isinstance(cell, str)
                     else "" for cell in cells]
            widths.append(min(max((cell_len(word) for text in texts for word in text.split()), default=1), WHOLE_WORD))
        left, right = table.padding[3], table.padding[1]
        return sum(widths) + (left + right) * len(widths) + (len(widths) + 1 if table.box else 0)

    def on_broken_pipe(self) -> None:
        # As rich does before it exits: later writes, and Python's own flush of stdout at
        # exit, go to the null device rather than raising again.
        self.quiet = True
        to_nowhere(sys.stderr if self.stderr else sys.stdout)  # the progress of train --json is on standard error


def to_nowhere(*streams) -> None:
    """Point ``streams`` (standard output, error) at the null device, once their reader
    has left: later writes, and Python's own flush of them at exit, then go nowhere
    instead of meeting the closed pipe again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for stream in streams:
            try:
                os.dup2(devnull, stream.fileno())
            except (OSError, ValueError):  # no file behind it (a test's capture)
                pass
    finally:
        os.close(devnull)


def on_screen(file) -> bool:
    """Whether ``file`` is a terminal. Not rich's ``is_terminal``, which ``FORCE_COLOR``
    (often set for coloured CI logs) makes true: colour codes can be forced on a pipe,
    but a pipe still has no width to wrap to."""
    try:
        return file.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


def say_note(text: str, label: str = "note") -> None:
    """A note or warning beside a command's output: on standard error, as every command
    says them, so a script reading standard output gets the output alone."""
    error_console().print(f"{label}: {text}", markup=False, highlight=False, soft_wrap=True)


class MessageConsole(Console):
    """A rich console on standard error that goes quiet when its reader leaves
    (`2>&1 | head -1`), where rich would end the process with exit code 1 and so hide
    the command's own code."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        to_nowhere(sys.stderr)


def error_console() -> Console:
    """A console on standard error, for messages: errors, warnings, a file's loading
    progress; at a width it can print in (see :data:`MIN_WIDTH`)."""
    console = MessageConsole(stderr=True)
    console.width = _columns_mended(console.file) or console.width
    return console


def _columns_mended(file) -> int | None:
    """The width to use instead of ``COLUMNS`` where it asks for none (0: the terminal's,
    or the piped width) or too few (under MIN_WIDTH); None where rich reads it well
    (unset, a usable width, or no number, which rich ignores)."""
    value = os.environ.get("COLUMNS", "").strip()
    if not value.isdigit() or int(value) >= MIN_WIDTH:
        return None
    if int(value) > 0:
        return MIN_WIDTH
    return shutil.get_terminal_size().columns if on_screen(file) else PIPED_WIDTH
