"""Where to look when a path given as a run is not one: the runs in its folder, or the
trials of the sweep it is.

May import: the leaves.
"""

from __future__ import annotations

import re
from pathlib import Path

from nnrun.errors import quoted


def runs_hint(path: Path) -> str:
    """Where to look for the run ``path`` meant: the runs in its folder (runs/ where it has none)."""
    folder = path.parent if path.parent.is_dir() and str(path.parent) != "." else Path("runs")
    command = "nnrun runs" if folder == Path("runs") else f"nnrun runs {quoted(folder)}"  # runs/: its default
    return f"`{command}` lists the runs in {str(folder).rstrip('/')}/"


def sweep_of_trial(path: Path) -> Path | None:
    """The sweep directory a run is a trial of (SWEEP/trials/<id>, as given or resolved:
    ``nnrun export .`` from inside a trial), or None."""
    for run in (Path(path), Path(path).resolve()):
        sweep = run.parent.parent
        if run.parent.name == "trials" and (sweep / "sweep.yaml").is_file():
            return sweep
    return None


def sweep_hint(path: Path) -> str:
    """Where a sweep's runs are, its best trial first (named in best.yaml's first line)."""
    every = f"its trials' runs are in {path / 'trials'}/ (nnrun runs {path})"
    try:
        with open(path / "best.yaml", encoding="utf-8") as handle:
            best = re.match(r"# The best trial of this sweep: (\S+) ", handle.readline())
    except (OSError, UnicodeDecodeError):
        best = None
    if best is None or not (path / "trials" / best.group(1)).is_dir():
        return f"a sweep: {every}"
    return f"a sweep: its best trial is {path / 'trials' / best.group(1)}; {every}"
