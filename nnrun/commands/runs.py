"""``nnrun runs [DIR]``: a table of the run directories under DIR, newest first.

Each run is read from its ``meta.json`` and ``metrics.csv`` only, and never trusted:
a run that is still writing, was killed half-way, or a folder that is not a run at all
must not stop the listing. Folders with neither ``meta.json`` nor ``config.yaml`` are
not runs and are skipped; a run whose files do not parse is listed as ``unreadable``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from nnrun.errors import UserError, quoted
from nnrun.store.checkpoints import newest_epoch
from nnrun.store.history import best_row, epochs_trained, metric_columns, read_metrics, run_best_row, watched_metric
from nnrun.store.rundir import RunDir, meta_time


@dataclass
class RunEntry:
    path: Path
    status: str
    started: datetime | None
    seconds: float | None
    epochs: int
    metric: str  # the metric the table shows: asked for, else early stopping's, else the first, else loss
    best_validation: float | None
    best_epoch: int | None
    test: float | None
    best_trial: str | None = None  # a sweep's best trial; its row shows trials (epochs: those started, of planned)
    planned: int | None = None
    # A run that died or was stopped (killed, failed, interrupted) after epochs no checkpoint
    # holds: the epoch it resumes from (-1: none, it cannot resume).
    saved_epochs: int | None = None
    values: dict | None = None  # a sweep's trial: the values of the swept parameters, as trials.csv holds them
    config: dict | None = None  # its settings by dotted path, once nnrun runs --show or --params read them
    recorded: tuple[str, ...] = ()  # the loss and metrics it records (without val_), any of which it may show


def status_of(path: Path, meta: dict | None, has_meta: bool = True) -> str:
    """The run's status as meta.json says it, but killed for a run that says running
    with no process holding its lock."""
    if not meta:
        return "unreadable" if has_meta else "incomplete"
    status = str(meta.get("status", "unknown"))  # running with no process holding the lock: died without a word
    return "killed" if status == "running" and not RunDir(path).is_writing() else status


def _saved_epochs(path: Path, epochs: int) -> int | None:
    """The epoch of the newest checkpoint of a run that died or was stopped, where it
    trained past it (-1: it has none, as with checkpoints off); None when it is that far,
    or unknown. (An older nnrun stopped by a hook as an epoch ended saved the one before.)"""
    try:
        saved = newest_epoch(path)
    except UserError:  # a checkpoints folder that is a link: not the listing's to refuse
        return None
    saved = -1 if saved is None else saved
    return saved if epochs and saved < epochs else None


def listed_as(path: Path) -> str | None:
    """"sweep" or "run" for a folder ``nnrun runs`` lists, by its files alone; None for
    any other (a link, or a folder that merely holds a config.yaml: nnrun locks a run
    before it writes one)."""
    if path.is_symlink():
        return None
    if (path / "sweep.yaml").is_file() and ((path / "trials.csv").is_file() or (path / "trials").is_dir()):
        return "sweep"
    run = RunDir(path)
    return "run" if run.is_run() and (run.meta.is_file() or run.lock_file.exists()) else None


def summarize(path: Path, metric: str | None = None, by_value: bool = False) -> RunEntry | None:
    """What the table shows for one folder; None when it is not a run directory.
    ``metric`` (a sweep's, or nnrun runs --metric's, without ``val_``) is shown in place
    of the one its early stopping watched, else its first one."""
    kind = listed_as(path)
    if kind == "sweep":
        from nnrun.commands.sweep.listing import sweep_row

        return RunEntry(path=path, **sweep_row(path, metric))
    if kind != "run":
        return None
    run = RunDir(path)
    has_meta = run.meta.is_file()
    meta = run.read_meta_or_none()
    history = read_metrics(run.metrics)
    # The metric names, in order: metrics.csv's, or, where it was deleted, meta.json's final scores.
    scores = (meta or {}).get("final")
    final = next(iter(scores.values()), None) if isinstance(scores, dict) and scores else None
    names = history[0] if history else final if isinstance(final, dict) else {}
    # Asked for (a sweep's, --metric's), else the one early stopping watched, whose best epoch is
    # the run's own (meta.json's best_epoch, with min_delta) unless ``by_value`` (a sweep's
    # trials, ranked by their best value), else the first; a run without the metric asked
    # for shows none rather than another.
    watched = None if by_value else watched_metric(path)
    if metric is None:
        metric = watched if watched and f"val_{watched}" in names else _first_metric(names)
    key = f"val_{metric}"
    best = (run_best_row(path, history, key) if metric == watched else best_row(history, key)) \
        if history and key in history[0] else None
    started = meta_time(meta.get("started")) if meta else None
    ended = meta_time(meta.get("ended")) if meta else None
    test = _final(meta, "test", metric)
    status = status_of(path, meta, has_meta)
    return RunEntry(
        path=path,
        status=status,
        saved_epochs=_saved_epochs(path, len(history)) if status in ("killed", "failed", "interrupted") else None,
        started=started,
        seconds=_duration(started, ended, history),
        epochs=epochs_trained({**(meta or {}), "status": status}, history),
        metric=metric,
        best_validation=best[f"val_{metric}"] if best else None,
        best_epoch=best["epoch"] if best else None,
        test=test,
        recorded=tuple(dict.fromkeys(name.removeprefix("val_") for name in metric_columns(names))),
    )


def as_records(entries: list[RunEntry], settings: list[str] = ()) -> list[dict]:
    """The listing as plain data (``nnrun runs --json``): one object per run or sweep,
    with what the table shows, unrounded but the seconds; a sweep counts ``trials`` instead of epochs.
    ``settings``: the dotted paths of the config values each object's ``config`` gives, where it has them."""
    records = []
    for entry in entries:
        sweep = entry.status.startswith("sweep")
        # A sweep's status in the words of a run's ("sweep, killed" -> "killed"); its kind says it is a sweep.
        status = (entry.status.removeprefix("sweep").removeprefix(", ") or "completed") if sweep else entry.status
        records.append({
            "path": str(entry.path), "kind": "sweep" if sweep else "run", "status": status,
            "started": entry.started.isoformat() if entry.started else None,
            "seconds": None if entry.seconds is None else round(entry.seconds, 3),  # to the millisecond
            ("trials" if sweep else "epochs"): entry.epochs, "metric": entry.metric,
            "best_validation": entry.best_validation,
            # A run's saved_epochs: the epochs its files hold, all it trained, or for a run killed
            # past its newest checkpoint, that checkpoint's epoch (null: it has none).
            **({"best_trial": entry.best_trial, "planned_trials": entry.planned} if sweep else
               {"best_epoch": entry.best_epoch, "test": entry.test, "saved_epochs": entry.epochs if
                entry.saved_epochs is None else None if entry.saved_epochs < 0 else entry.saved_epochs}),
            **({"values": entry.values} if entry.values is not None else {}),  # a sweep's trial: what it tried
            # A setting the run's config lacks (a layer the others have, a block it leaves null) is left out.
            **({"config": {path: entry.config[path] for path in settings if path in (entry.config or {})}}
               if settings else {}),
        })
    return records


def _first_metric(row: dict) -> str:
    """The first configured metric (a metrics.csv column that is not bookkeeping), else the loss."""
    names = [k for k in metric_columns(row) if k != "loss" and not k.startswith("val_")]
    return names[0] if names else "loss"


def _final(meta: dict | None, split: str, metric: str) -> float | None:
    try:
        value = float(meta["final"][split][metric])
    except (TypeError, KeyError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _duration(started: datetime | None, ended: datetime | None, history: list[dict]) -> float | None:
    """The training time the run recorded: the sum of metrics.csv's per-epoch seconds.
    It does not grow with the clock for a run that was killed, nor count the time
    between a stop and a resume; a run with no finished epoch falls back on meta.json's
    start and end (whole seconds), and on None while it has no end."""
    if history:
        return sum(r.get("seconds", 0.0) for r in history)
    if started and ended:
        return (ended - started).total_seconds()
    return None


def folders_of_runs(root: str | Path) -> list[Path]:
    """The folders directly under ``root`` that are no run or sweep but hold runs (or
    sweeps) of their own, which ``list_runs(root)`` does not go into: ``runs/exp1/a``."""
    def holds_runs(folder: Path) -> bool:
        try:
            return any(inner.is_dir() and listed_as(inner) for inner in folder.iterdir())
        except OSError:  # a folder that cannot be read: not this note's to refuse
            return False

    root = Path(root)
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if root.is_dir() and not listed_as(root) else []
    return [folder for folder in folders if not listed_as(folder) and not folder.is_symlink() and holds_runs(folder)]


def given_runs(paths: list[Path], metric: str | None = None) -> list[RunEntry]:
    """The run (and sweep) directories named one by one (``nnrun runs runs/lr-*``, the
    shell's list), newest first; every path that is none is said, all at once."""
    problems = [f"{path}: " + ("is a symbolic link; nnrun lists only real run directories" if path.is_symlink() else
                               "no such directory" if not path.exists() else "not a run directory")
                for path in paths if listed_as(path) is None]
    if problems:
        raise UserError("\n".join(problems), hint="give run directories, or one folder that holds runs")
    unique = {path.resolve(): path for path in reversed(paths)}  # runs/a and its absolute path: one run
    entries = [summarize(path, metric) for path in reversed(unique.values())]
    return sorted((entry for entry in entries if entry is not None), key=_newest_first_key, reverse=True)


def list_runs(root: str | Path = "runs", metric: str | None = None) -> list[RunEntry]:
    """Every run directory directly under ``root``, newest first; for a sweep's folder,
    its trials, best first by the sweep's metric, with the status the sweep gave each
    (a pruned trial's run completed). ``metric``: the one each run shows where it records
    it (a sweep's trials otherwise show the sweep's), else its first."""
    root = Path(root)
    if root.is_file():
        raise UserError(f"{root}: a file; nnrun runs lists the runs in a folder",
                        hint="nnrun runs (the runs/ folder), or nnrun runs FOLDER")
    if not root.is_dir():
        raise UserError(f"{root}: no such directory", hint="`nnrun train CONFIG` writes runs under runs/")
    statuses, values, row_seconds, sweep_writing, maximize = {}, {}, {}, False, False
    if listed_as(root) == "sweep":
        from nnrun.commands.sweep.listing import read_sweep

        sweep, rows = read_sweep(root) or ({}, [])
        statuses = {row.get("trial"): row.get("status") for row in rows}
        row_seconds = {row.get("trial"): _number(row.get("seconds")) for row in rows}
        values = {row.get("trial"): {path: _cell_value(row.get(path)) for path in sweep.get("parameters", {})}
                  for row in rows}
        ranks_by = str(sweep.get("metric", "")).removeprefix("val_") or None  # shown, unless another is asked for
        from nnrun.model.metrics import higher_is_better  # numpy: only for a sweep's folder

        maximize = sweep.get("mode") == "max" if metric in (None, ranks_by) else higher_is_better(metric)
        metric = metric or ranks_by
        sweep_writing = RunDir(root).is_writing()
        root = root / "trials"
    if RunDir(root).meta.is_file():
        raise UserError(f"{root}: is a run directory itself; give the folder that holds runs",
                        hint=f"nnrun runs {quoted(root.parent)}")
    # A dot folder is hidden on purpose: a sweep's trial set aside before it began (.000-abandoned-...).
    runs = [s for p in root.iterdir()
            if p.is_dir() and not p.name.startswith(".")
            and (s := summarize(p, metric, by_value=bool(statuses))) is not None]
    # A trial the sweep stopped before its run began has a row in trials.csv and no folder;
    # it is listed all the same (it starts again on resume), so the trials add up to the sweep's count.
    runs += [_unstarted_trial(root / trial, status, row_seconds.get(trial), sweep_writing)
             for trial, status in statuses.items() if trial and not (root / trial).exists()]
    for run in runs:
        run.values = values.get(run.path.name) if statuses else None
        # Ray ends a pruned trial's worker before its run records an end: killed, to the run.
        said = statuses.get(run.path.name)
        if said in ("pruned", "interrupted") and run.status in ("completed", "interrupted", "killed"):
            # Ended by the sweep, as it says; an interrupted trial that Ray ended before its run saved its
            # last epochs still shows the epoch its resume starts from (a pruned one is never resumed).
            run.status, run.saved_epochs = said, run.saved_epochs if said == "interrupted" else None
    runs = sorted(runs, key=_newest_first_key, reverse=True)
    if statuses:  # a sweep's trials: its leaderboard, best first (unscored ones after, newest first)
        # The completed trials first, as the sweep's best is the best completed one (the sweep's row
        # names it); a pruned or interrupted trial's value is of fewer epochs.
        sign = -1 if maximize else 1
        # A tie goes to the lowest trial id, as the sweep names its best.
        runs.sort(key=lambda run: (run.best_validation is None, run.status != "completed",
                                   sign * (run.best_validation or 0.0),
                                   run.path.name if run.best_validation is not None else ""))
    return runs


def _unstarted_trial(path: Path, status: str | None, seconds: float | None, sweep_writing: bool) -> RunEntry:
    """A sweep's trial with no run folder: stopped (or killed) before its run began."""
    if status == "running" and not sweep_writing:
        status = "killed"  # as a run that says running when nothing writes it
    elif status in ("completed", "pruned"):
        status = "missing"  # it ran, and its folder has since gone
    return RunEntry(path, status or "unknown", None, seconds, 0, "-", None, None, None)


def _number(cell: str | None) -> float | None:
    try:
        return float(cell) if cell else None
    except ValueError:
        return None


def _cell_value(cell: str | None):
    """A value of trials.csv as the sweep reads it back (16, 1e-05, relu, true, null)."""
    from nnrun.config.yaml_reader import parse_value
    from nnrun.errors import UserError

    try:
        return parse_value(cell, "trials.csv") if cell else None
    except UserError:
        return cell


def _newest_first_key(run: RunEntry) -> tuple:
    started = run.started.timestamp() if run.started else run.path.stat().st_mtime if run.path.exists() else 0.0
    # meta.json's start is to the second: runs started in one second go by when each
    # wrote its config (at its start, and never again unless extended), then by name.
    try:
        written = (run.path / "config.yaml").stat().st_mtime_ns
    except OSError:  # no config (a sweep), or one deleted as the runs are listed
        written = 0
    return (started, written, run.path.name)
