"""The console a command prints its tables on.

In a terminal, rich lays tables out to its width. Piped or redirected, rich would
assume 80 columns and wrap or cut values (a run's name over two lines, a leaderboard's
``val_accura…``), which a script reading the output cannot put back together; there the
tables get as much width as their values need. ``COLUMNS`` in the environment still
sets the width.
"""

from __future__ import annotations

import os

from rich.console import Console

PIPED_WIDTH = 1000  # wide enough for any table nnrun prints; a line is never cut short


def table_console() -> Console:
    console = Console()
    if console.is_terminal or os.environ.get("COLUMNS"):
        return console
    return Console(width=PIPED_WIDTH)
