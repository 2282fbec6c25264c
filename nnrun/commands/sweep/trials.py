"""The sweep's one table, ``trials.csv``: one row per trial that has started.

    trial,optimizer.learning_rate,model.layers.0.units,status,val_accuracy,best_epoch,epochs,seconds,run_dir,message
    000,0.0081448869730761,32,completed,0.9333333333333333,41,100,1.92,trials/000,

Status is running, completed, pruned (stopped early by the scheduler), failed (with
its message) or interrupted. The file is rewritten whole and atomically each time a
trial changes state, so a reader (or a sweep killed mid-write) never sees half a row.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from nnrun.config.sweep_space import written
from nnrun.config.yaml_writer import one_line
from nnrun.errors import UserError
from nnrun.store import files

FINISHED = ("completed", "pruned", "failed")
STATUSES = ("running", "interrupted", *FINISHED)


@dataclass
class Trial:
    """One trial: its id, values, and how it went."""

    id: str
    values: dict
    status: str = "running"
    best: float | None = None  # the metric's best value over the epochs run
    best_epoch: int | None = None
    epochs: int = 0
    seconds: float = 0.0
    message: str = ""
    latest: float | None = None  # the metric's value in the last epoch (for the live table)
    resumed_from: int | None = None  # the epoch of the checkpoint a resumed sweep goes on from (for the screen)
    started_at: float | None = None  # time.perf_counter() when it started here (for the screen's clock)
    extra: dict = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def observe(self, epoch: int, value: float, higher_is_better: bool) -> None:
        """An epoch ended with ``value`` of the metric; keep the best and its epoch."""
        self.epochs, self.latest = epoch, value
        if not math.isfinite(value):
            return
        if self.best is None or (value > self.best if higher_is_better else value < self.best):
            self.best, self.best_epoch = value, epoch


def best_of(rows: list[dict], metric: str, higher_is_better: bool) -> tuple[float | None, int | None]:
    """The best value of ``metric`` in metrics.csv rows and the first epoch reaching it."""
    trial = Trial("", {})
    for row in rows:
        if metric in row:
            trial.observe(int(row["epoch"]), float(row[metric]), higher_is_better)
    return trial.best, trial.best_epoch


def columns(parameters: list[str], metric: str) -> list[str]:
    return ["trial", *parameters, "status", metric, "best_epoch", "epochs", "seconds", "run_dir", "message"]


def write_trials(path: Path, trials: list[Trial], parameters: list[str], metric: str) -> None:
    """Rewrite trials.csv with every started trial, in trial order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns(parameters, metric))
    for trial in sorted(trials, key=lambda t: t.id):
        writer.writerow([
            trial.id, *(_cell(trial.values.get(p)) for p in parameters), trial.status, _cell(trial.best),
            _cell(trial.best_epoch), trial.epochs, f"{trial.seconds:.2f}", f"trials/{trial.id}", trial.message,
        ])
    files.atomic_write(path, buffer.getvalue().encode())


def read_trials(path: Path, parameters: list[str], metric: str) -> list[Trial]:
    """The trials recorded in trials.csv (values parsed back as YAML scalars). The sweep
    writes the file whole each time, so one that is cut short or whose rows do not
    parse was changed since: a UserError naming the line, never a row taken for what it
    is not (a metric cut from 0.0543 to 0.0 would have ranked its trial first)."""
    from nnrun.config.yaml_reader import parse_value

    if not path.is_file():
        return []
    changed = "the sweep writes it whole each time, so it was changed or damaged since"
    hint = "put back the file the sweep wrote, or start the sweep again"
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: holds bytes that are no UTF-8 text (at byte {exc.start}); {changed}",
                        hint=hint) from None
    if text and not text.endswith("\n"):
        raise UserError(f"{path}: its last line is cut short; {changed}", hint=hint)
    reader = csv.reader(io.StringIO(text))
    header, expected = next(reader, []), columns(parameters, metric)
    if header != expected:
        raise UserError(f"{path}: line 1 names the columns {','.join(header)}, but this sweep writes "
                        f"{','.join(expected)}; {changed}", hint=hint)
    trials = []
    for cells in reader:
        row = dict(zip(header, cells))
        try:
            if len(cells) != len(header) or row["status"] not in STATUSES:
                raise ValueError
            values = {p: parse_value(row[p], str(path)) for p in parameters}
            trials.append(Trial(
                row["trial"], values, row["status"], _number(row[metric]), _whole(row["best_epoch"]),
                int(row["epochs"] or 0), float(row["seconds"] or 0), row["message"],
            ))
        except (ValueError, UserError):
            raise UserError(f"{path}, line {reader.line_num}: not a row the sweep writes ({','.join(cells)[:80]}); "
                            f"{changed}", hint=hint) from None
    return trials


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return written(value)
    if isinstance(value, str):  # quoted where YAML would read another type ('0o7', 'null'): read back as written
        return one_line(value)
    return repr(value) if isinstance(value, float) else str(value)


def _number(text: str) -> float | None:
    return float(text) if text else None


def _whole(text: str) -> int | None:
    return int(text) if text else None
