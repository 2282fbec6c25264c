"""Progress while a large data file is read.

Nothing shows for a file read within a second; past that, a terminal gets a bar of
the bytes read (cleared when done) and a pipe gets one line saying what is being read,
so the screen never stays blank on a large file.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from nnrun.data.reading import Progress, show_progress

DELAY = 1.0  # seconds of reading before anything shows


def install() -> None:
    """Report the reading of every CSV file from now on, on standard error."""
    show_progress(_file_progress)


def _file_progress(path: str, what: str = "reading") -> Progress:
    start = time.monotonic()
    shown: dict = {}

    def update(done: int, total: int) -> None:
        if not shown:
            if time.monotonic() - start < DELAY or done >= total:
                return
            shown["bar"] = _start(path, total, what)
        bar = shown["bar"]
        if bar is not None:
            bar.update(shown.setdefault("task", bar.task_ids[0]), completed=done)
            if done >= total:
                bar.stop()

    return update


def _start(path: str, total: int, what: str):
    """A rich bar in a terminal; elsewhere one plain line and no bar (None)."""
    size = f"{total / 1e6:.1f} MB" if what == "reading" else f"{total:,} rows"
    if not sys.stderr.isatty():
        print(f"{what} {path} ({size}) ...", file=sys.stderr, flush=True)
        return None
    from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from nnrun.console.output import error_console

    amount = DownloadColumn() if what == "reading" else MofNCompleteColumn()  # bytes, or rows
    bar = Progress(f"{what} {Path(path).name}", BarColumn(), amount, TimeRemainingColumn(),
                   console=error_console(), transient=True)
    bar.add_task("read", total=total)
    bar.start()
    return bar
