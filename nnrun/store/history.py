"""An epoch history (``metrics.csv``): written as a run goes, read back, and what it
says: the best epoch and epoch times as people read them (its curve's sparkline and
whether the run looks like it overfits: :mod:`.curves`).

A history is a list of rows ``{"epoch": 1, "loss": ..., "val_loss": ..., ...}``, as the
training loop produces them and as ``metrics.csv`` stores them. The file is the
history's one copy on disk: checkpoints do not repeat it, and a resumed run reads its
rows back from here (:meth:`MetricsLog.resume`).
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from nnrun.errors import UserError, quoted
from nnrun.model.monitor import Monitor, default_key
from nnrun.store import files
from nnrun.store.rundir import RunDir


# metrics.csv columns that are bookkeeping, not measurements of the model.
BOOKKEEPING = ("epoch", "lr", "seconds")


def run_columns(metrics: list[str], validation: bool) -> list[str]:
    """The columns of the metrics.csv a run with ``metrics`` writes, in order."""
    scores = ["loss", *metrics]
    return ["epoch", *scores, *([f"val_{name}" for name in scores] if validation else []), "lr", "seconds"]


def metric_columns(row: dict) -> list[str]:
    """The loss and metric columns of a metrics.csv row (train and val_), in order."""
    return [key for key in row if key not in BOOKKEEPING]


class MetricsLog:
    """``metrics.csv`` as a run writes it: one line appended per epoch and flushed (so
    ``nnrun runs`` and ``plot`` see it at once), the cost of a row not growing with the
    epochs before it. The lines reach the disk (:meth:`sync`) before each checkpoint,
    so a checkpoint never runs ahead of the file; between checkpoints a power cut may
    lose rows that a resume would drop anyway. Syncing with the checkpoints' time budget
    rather than per epoch spares a run of tiny epochs a hundred disk flushes.

    The file is created atomically with its header and first row; later rows are
    appended. A process killed in the middle of a line leaves a torn last line, which
    :func:`read_metrics` ignores and :meth:`resume` removes.
    """

    def __init__(self, path: Path):
        self.path = path
        self.handle = None
        self.columns: list[str] | None = None

    def append(self, row: dict) -> None:
        if self.handle is None:
            self._rewrite([row])
            return
        try:
            self.handle.write(_csv_text([row], self.columns, header=False))
            self.handle.flush()
        except OSError as exc:
            exc.filename = str(self.path)  # a full disk's error names no file
            # Closed now, its unwritten line dropped: closing it later would try the
            # write again, and that second error would replace this one.
            handle, self.handle = self.handle, None
            try:
                handle.close()
            except OSError:
                pass
            raise

    def sync(self) -> None:
        """Make every appended line durable (before a checkpoint and at the end)."""
        if self.handle is not None:
            try:
                os.fsync(self.handle.fileno())
            except OSError as exc:
                exc.filename = str(self.path)
                raise

    def check_columns(self, columns: list[str]) -> None:
        """Before a resume: the file's rows have the run's ``columns``, in order; a header
        edited by hand is a UserError naming the file (its rows would be appended to
        under the wrong names, or not at all)."""
        rows = read_metrics(self.path)
        if rows and list(rows[0]) != columns:
            raise UserError(f"{self.path}: line 1 names the columns {','.join(rows[0])}, but this run writes "
                            f"{','.join(columns)}; the file was changed since the run wrote it",
                            hint=f"write its first line back as: {','.join(columns)}")

    def resume(self, epoch: int, origin: Path) -> list[dict]:
        """The rows of epochs 1..``epoch`` (a checkpoint's), read back exactly; the file
        is rewritten to hold only them, dropping rows a killed run wrote after its last
        checkpoint. A file that lacks any of them is a UserError naming ``origin``."""
        if self.path.is_symlink():  # rewritten below, it would stop being the file the link leads to
            link = quoted(self.path)
            raise UserError(f"{self.path}: is a symbolic link; nnrun writes only files inside the run directory",
                            hint=f"put the file itself there: cp \"$(readlink -f {link})\" {link}.copy && mv "
                            f"{link}.copy {link}")
        history = read_metrics(self.path)
        rows = [row for row in history if row["epoch"] <= epoch]
        if [row["epoch"] for row in rows] != list(range(1, epoch + 1)):
            raise HistoryShort(f"{origin}: is after epoch {epoch}, but {self.path.name} does not hold one row for "
                               f"each epoch up to it: {_what_is_wrong(self.path, history, epoch)}; the run writes "
                               "every epoch's row before its checkpoint, so the file was changed since",
                               hint=f"put {self.path} back as the run wrote it, then resume; an older checkpoint "
                               "would train the epochs since again and replace the run's weights")
        self.close()
        if rows:
            self._rewrite(rows)
        else:
            self.path.unlink(missing_ok=True)
        return rows

    def _rewrite(self, rows: list[dict]) -> None:
        self.columns = list(rows[0])
        files.atomic_write(self.path, _csv_text(rows, self.columns, header=True).encode())
        self.handle = open(self.path, "a", encoding="utf-8", newline="")

    def close(self) -> None:
        if self.handle is not None:
            self.sync()
            self.handle.close()
            self.handle = None


class HistoryShort(UserError):
    """metrics.csv lacks rows of epochs a sound checkpoint is after: taken from an
    older checkpoint instead, the resume would quietly train those epochs again."""


def _csv_text(rows: list[dict], columns: list[str], header: bool) -> str:
    """CSV lines; floats as ``repr`` so reading them back gives the very same numbers."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    if header:
        writer.writeheader()
    for row in rows:
        writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()


class History(list):
    """metrics.csv's rows, one dict per epoch, which a column's name also indexes:
    ``history["val_loss"]`` is that column's value in each epoch (Keras's
    ``history.history["val_loss"]``)."""

    def __getitem__(self, key):
        if not isinstance(key, str):
            return super().__getitem__(key)
        if key not in self.columns:
            raise KeyError(f"{key!r}: the history has no such column; it has {', '.join(self.columns) or 'no rows'}")
        return [row.get(key) for row in self]

    def __contains__(self, item) -> bool:  # "val_loss" in history, as of Keras's dict
        return item in self.columns if isinstance(item, str) else super().__contains__(item)

    @property
    def columns(self) -> list[str]:
        """The column names, as metrics.csv's header has them."""
        return list(super().__getitem__(0)) if self else []

    def keys(self) -> list[str]:
        """The column names (Keras's ``history.history.keys()``)."""
        return self.columns

    @property
    def history(self) -> dict[str, list]:
        """Each column's values by epoch, as Keras's ``History.history`` dict."""
        return {name: self[name] for name in self.columns}


def _what_is_wrong(path: Path, history: list[dict], epoch: int) -> str:
    """Why ``history`` (the rows of ``path`` that read) is not one row of each epoch
    1..``epoch``: a line that reads as no row, an epoch written twice, or the epochs that
    have none."""
    if not path.exists():
        return "the file is gone"
    try:
        whole = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"it cannot be read ({exc.strerror})"
    numbered = [number for number, line in enumerate(whole[: whole.rfind("\n") + 1].splitlines(), 1)
                if line.strip()][1:]  # the rows' line numbers, the header's left out
    if len(history) < len(numbered):
        return f"line {numbered[len(history)]} reads as no row of numbers, and the lines after it are not read"
    epochs = [row["epoch"] for row in history if row["epoch"] <= epoch]
    twice = next((e for e in epochs if epochs.count(e) > 1), None)
    if twice is not None:
        return f"epoch {twice} has {epochs.count(twice)} rows"
    missing = sorted(set(range(1, epoch + 1)) - set(epochs))
    shown = ", ".join(map(str, missing[:5])) + (f", ... ({len(missing)} in all)" if len(missing) > 5 else "")
    return f"it has no row of epoch{'s' * (len(missing) != 1)} {shown}"


def read_metrics(path: Path) -> list[dict]:
    """Rows of a ``metrics.csv``; a missing, empty or half-written file gives the rows
    that parse (a run still in its first epoch has none)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            text = handle.read()
        # Every row is written whole with its line end: a last line without one was cut
        # short by a kill, perhaps inside its last number, which would still parse.
        rows = list(csv.DictReader(text[: text.rfind("\n") + 1].splitlines()))
    except (FileNotFoundError, UnicodeDecodeError, csv.Error):
        return []
    history = []
    for row in rows:
        try:
            history.append({k: (int(v) if k == "epoch" else float(v)) for k, v in row.items() if k})
        except (TypeError, ValueError):
            break  # a torn last line; keep what came before
    return history


def monitored(history: list[dict]) -> str:
    """What "best" means for a history: validation loss when there is one."""
    return default_key(history[0]) if history else "loss"


def best_row(history: list[dict], key: str | None = None) -> dict | None:
    """The row where ``key`` (default: :func:`monitored`) is best, earliest on ties."""
    return Monitor(key or monitored(history)).best_row(history)


def epochs_trained(meta: dict | None, history: list[dict]) -> int:
    """A run's epoch count: a completed run's as meta.json records it, whatever became of
    its metrics.csv since; else the rows of metrics.csv."""
    recorded = meta.get("epochs_completed") if isinstance(meta, dict) and meta.get("status") == "completed" else None
    return recorded if isinstance(recorded, int) else len(history)


def run_best_row(run_path: Path, history: list[dict], key: str | None = None) -> dict | None:
    """A run's best epoch as its summary reported it: the epoch early stopping chose
    (``best_epoch`` in meta.json) when it ran, else, as for a run still training or
    killed, :func:`best_row` by ``key`` (default: the validation loss)."""
    meta = RunDir(run_path).read_meta_or_none()
    epoch = meta.get("best_epoch") if isinstance(meta, dict) else None
    chosen = next((row for row in history if row["epoch"] == epoch), None) if isinstance(epoch, int) else None
    return chosen or best_row(history, key)


def watched_metric(run_path: Path) -> str | None:
    """The validation metric a run's early stopping watched (``auc`` for val_auc), from
    its config.yaml; None without early stopping, or where it watched the training split."""
    from nnrun.config.yaml_reader import read_saved

    try:
        stopping = read_saved(RunDir(run_path).config)["training"]["early_stopping"]
    except (KeyError, TypeError):
        return None
    monitor = stopping.get("monitor", "val_loss") if isinstance(stopping, dict) else None
    return monitor.removeprefix("val_") if isinstance(monitor, str) and monitor.startswith("val_") else None


def format_seconds(seconds: float) -> str:
    """``0.4ms``, ``12ms``, ``3.21s``: enough digits to compare epochs, never more."""
    if seconds < 0.01:
        return f"{seconds * 1000:.1f}ms"
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.2f}s"
