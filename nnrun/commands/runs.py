"""``nnrun runs [DIR]``: a table of the run directories under DIR, newest first.

Each run is read from its ``meta.json`` and ``metrics.csv`` only, and never trusted:
a run that is still writing, was killed half-way, or a folder that is not a run at all
must not stop the listing. Folders with neither ``meta.json`` nor ``config.yaml`` are
not runs and are skipped; a run whose files do not parse is listed as ``unreadable``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nnrun.store import rundir
from nnrun.errors import UserError
from nnrun.store.history import best_row, read_metrics
from nnrun.console.progress import number

STATUS_STYLE = {"completed": "green", "failed": "red", "interrupted": "yellow", "running": "cyan", "killed": "red"}


@dataclass
class RunSummary:
    path: Path
    status: str
    started: datetime | None
    seconds: float | None
    epochs: int
    metric: str  # the metric the table shows: the first configured one, else loss
    best_validation: float | None
    best_epoch: int | None
    test: float | None


def _read_meta(path: Path) -> dict | None:
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return meta if isinstance(meta, dict) else None


def _status(path: Path, meta: dict | None, has_meta: bool) -> str:
    if not meta:
        return "unreadable" if has_meta else "incomplete"
    status = str(meta.get("status", "unknown"))
    if status == "running" and not rundir.is_writing(path):
        return "killed"  # no process holds the lock: it died without a word (SIGKILL, power cut)
    return status


def _time(text) -> datetime | None:
    """An ISO timestamp from meta.json; one without a zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def summarize(path: Path) -> RunSummary | None:
    """What the table shows for one folder; None when it is not a run directory."""
    has_meta, has_config = (path / "meta.json").is_file(), (path / "config.yaml").is_file()
    if not (has_meta or has_config) or path.is_symlink():
        return None
    meta = _read_meta(path)
    history = read_metrics(path / "metrics.csv")
    metric = _first_metric(history[0] if history else {})
    best = best_row(history, f"val_{metric}") if history and f"val_{metric}" in history[0] else None
    started = _time(meta.get("started")) if meta else None
    ended = _time(meta.get("ended")) if meta else None
    test = _final(meta, "test", metric)
    return RunSummary(
        path=path,
        status=_status(path, meta, has_meta),
        started=started,
        seconds=_duration(started, ended, history),
        epochs=len(history),
        metric=metric,
        best_validation=best[f"val_{metric}"] if best else None,
        best_epoch=best["epoch"] if best else None,
        test=test,
    )


def _first_metric(row: dict) -> str:
    """The first configured metric (a metrics.csv column that is not bookkeeping), else the loss."""
    names = [k for k in row if k not in ("epoch", "loss", "lr", "seconds") and not k.startswith("val_")]
    return names[0] if names else "loss"


def _final(meta: dict | None, split: str, metric: str) -> float | None:
    try:
        value = float(meta["final"][split][metric])
    except (TypeError, KeyError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _duration(started: datetime | None, ended: datetime | None, history: list[dict]) -> float | None:
    """Wall time from meta.json (whole seconds), up to now for a run still going;
    without timestamps, the sum of the finished epochs' seconds."""
    if started and ended:
        return (ended - started).total_seconds()
    if started:
        return (datetime.now(timezone.utc) - started).total_seconds()
    return sum(r.get("seconds", 0.0) for r in history) if history else None


def list_runs(root: str | Path = "runs") -> list[RunSummary]:
    """Every run directory directly under ``root``, newest first."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root}: no such directory", hint="`nnrun train CONFIG` writes runs under runs/")
    if (root / "meta.json").is_file():
        raise UserError(f"{root}: is a run directory itself; give the folder that holds runs",
                        hint=f"nnrun runs {root.parent}")
    runs = [s for p in root.iterdir() if p.is_dir() and (s := summarize(p)) is not None]
    return sorted(runs, key=_newest_first_key, reverse=True)


def _newest_first_key(run: RunSummary) -> tuple:
    started = run.started.timestamp() if run.started else run.path.stat().st_mtime
    return (started, run.path.name)


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return "<1s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def runs_table(runs: list[RunSummary], root: Path) -> Table:
    """One row per run: the metric shown is its first configured one, else the loss;
    "best val" is its best validation value and the epoch it was reached at."""
    table = Table(title=f"Runs in {escape(str(root))}, newest first", title_justify="left",
                  box=None, padding=(0, 1), pad_edge=False, header_style="bold underline")
    for column in ("run", "status", "epochs", "metric", "best val", "test", "time"):
        # Only the run name may wrap (it is long and unique); every other cell stays whole.
        table.add_column(column, justify="left" if column in ("run", "status", "metric") else "right",
                         no_wrap=column != "run", overflow="fold" if column == "run" else "ellipsis",
                         min_width=12 if column == "run" else None)
    for run in runs:
        best = "-" if run.best_validation is None else f"{number(run.best_validation)} @{run.best_epoch}"
        test = "-" if run.test is None else number(run.test)
        status = f"[{STATUS_STYLE.get(run.status, 'dim')}]{escape(run.status)}[/]"
        metric = escape(run.metric) if run.epochs or run.test is not None else "-"
        table.add_row(escape(run.path.name), status, str(run.epochs), metric, best, test,
                      format_duration(run.seconds))
    return table


def print_runs(console: Console, root: str | Path = "runs") -> None:
    runs = list_runs(root)
    if not runs:
        console.print(f"no runs in {root}; start one with: nnrun train CONFIG", highlight=False, markup=False)
        return
    console.print(runs_table(runs, Path(root)))
