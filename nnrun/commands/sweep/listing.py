"""A sweep directory, summarised from its files alone for ``nnrun runs`` and ``nnrun plot``.

Like a run's files, a sweep's are never trusted: a folder whose sweep.yaml or
trials.csv does not parse is reported as unreadable, not as an error.
"""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

import yaml

from nnrun.store.rundir import RunDir, meta_time


def read_sweep(path: Path) -> tuple[dict, list[dict]] | None:
    """The recorded sweep (plain data) and trials.csv's rows (none before the first
    trial starts, when there is no trials.csv yet); None when unreadable, as a
    trials.csv without the columns every sweep writes is, or none beside trial folders
    (deleted: not a sweep of no trials)."""
    try:
        sweep = yaml.safe_load((path / "sweep.yaml").read_text(encoding="utf-8"))
        if not (path / "trials.csv").exists():
            if (path / "trials").is_dir() and any((path / "trials").iterdir()):
                return None
            reader, rows = None, []
        else:
            with open(path / "trials.csv", newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                rows = list(reader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, csv.Error):
        return None
    if not isinstance(sweep, dict) or not isinstance(sweep.get("parameters"), dict) or "metric" not in sweep:
        return None
    if reader is not None and not {"trial", "status"} <= set(reader.fieldnames or ()):
        return None
    return sweep, rows


def read_sweep_summary(path: Path) -> dict | None:
    """Trials started, still running, and the best completed one (id and value)."""
    read = read_sweep(path)
    if read is None:
        return None
    sweep, rows = read
    metric, higher = sweep["metric"], sweep.get("mode") == "max"
    scored = []
    for row in rows:
        try:
            if row.get("status") == "completed" and row.get(metric):
                scored.append((float(row[metric]), row["trial"]))
        except ValueError:
            continue
    best = (max if higher else min)(scored, key=lambda s: s[0]) if scored else None
    count = {status: sum(r.get("status") == status for r in rows) for status in ("running", "interrupted", "completed")}
    return {"trials": len(rows), **count, "planned": planned_count(sweep), "metric": metric,
            "best": best[0] if best else None, "best_trial": best[1] if best else None}


def planned_count(sweep: dict) -> int | None:
    """How many trials the recorded sweep runs in all (:attr:`SweepConfig.trial_count`),
    or None where its file no longer reads as a sweep (an older nnrun's, or edited)."""
    from pydantic import ValidationError

    from nnrun.config.sweep import SweepConfig

    try:
        return SweepConfig.model_validate(sweep).trial_count
    except (ValidationError, ValueError, TypeError):
        return None


def sweep_times(path: Path) -> tuple[datetime, datetime]:
    """A sweep's start and end: its trials' first start and last end, as their meta.json
    files record them, to the second (a copy of the folder keeps them, where it changes
    every file's time; an end before its own start is no end); the files' times for a
    sweep none of whose trials recorded any."""
    starts, ends = [], []
    for meta_path in (path / "trials").glob("*/meta.json"):
        meta = RunDir(meta_path.parent).read_meta_or_none() or {}
        started, ended = meta_time(meta.get("started")), meta_time(meta.get("ended"))
        starts += [started] if started else []
        ends += [moment for moment in (started, ended) if moment and (not started or moment >= started)]
    if starts:
        return min(starts), max(ends)
    written = path / "trials.csv" if (path / "trials.csv").is_file() else path / "sweep.yaml"  # before any trial
    return (datetime.fromtimestamp(int((path / "sweep.yaml").stat().st_mtime), timezone.utc),
            datetime.fromtimestamp(written.stat().st_mtime, timezone.utc))


def sweep_row(path: Path, metric: str | None = None) -> dict:
    """A sweep directory's row of ``nnrun runs``, as RunEntry's fields: trials finished
    of all, its metric (without val_, as a run's), the best trial; none where another
    ``metric`` is asked for, since the sweep ranked its trials by its own."""
    summary = read_sweep_summary(path)
    if summary is None:
        return dict(status="unreadable", started=None, seconds=None, epochs=0, metric="-", best_validation=None,
                    best_epoch=None, test=None)
    started, ended = sweep_times(path)
    writing = RunDir(path).is_writing()
    # Its trials count shows as its epochs. Interrupted: stopped by a signal, its trials
    # saying so (one about to start may still say running); killed: with trials running
    # or still to start, as a run is. Either way nnrun sweep --resume goes on. Failed:
    # every trial ran, and none completed.
    unstarted = summary["planned"] is not None and summary["trials"] < summary["planned"]
    # Every trial done but best.yaml not written (stopped as it was about to be): not done either.
    unwritten = not (path / "best.yaml").is_file()
    state = ", running" if writing else ", interrupted" if summary["interrupted"] else \
        ", killed" if summary["running"] or unstarted else ", failed" if not summary["completed"] else \
        ", interrupted" if unwritten else ""
    status = "sweep" + state
    ranked_by = str(summary["metric"])  # val_accuracy shows as accuracy, as a run's; a training metric says so
    own = ranked_by[4:] if ranked_by.startswith("val_") else f"{ranked_by} (training)"
    ranked = metric in (None, own)
    return dict(status=status, started=started, seconds=(ended - started).total_seconds(), epochs=summary["trials"],
                metric=own if ranked else metric, best_validation=summary["best"] if ranked else None,
                best_epoch=None, test=None, best_trial=summary["best_trial"] if ranked else None, recorded=(own,),
                planned=summary["planned"])
