"""The training loop's side of checkpoints: save, prune, save on a signal, load to resume.

    keeper = Checkpointer(record, experiment, components)
    keeper.begin(resume_from)        # restore a checkpoint, or save epoch 0
    ... each epoch ...
    keeper.epoch_end(epoch)          # snapshot in memory; written every few seconds
    keeper.finish()                  # the last epoch, always written

The latest epoch's snapshot stays in memory, so a signal mid-epoch saves the state of
the last finished epoch without waiting: resuming redoes the partial epoch exactly,
because the random generators are restored too.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from nnrun.config import LABELS, config_hash, portable, resolved, with_defaults
from nnrun.config.diff import describe_changes
from nnrun.errors import (
    CheckpointWriteFailed,
    ConfigChanged,
    NonFiniteError,
    RunEnded,
    RunInterrupted,
    UserError,
    resume_command,
    train_command,
)
from nnrun.store import checkpoints, files
from nnrun.store.failures import free_space_hint
from nnrun.store.history import HistoryShort, run_columns
from nnrun.store.rundir import CHECKPOINT_FILE, checkpoint_name
from nnrun.store.tensorfile import encode, read


class Checkpointer:
    def __init__(self, record, experiment, components: dict[str, checkpoints.Stateful]):
        self.record = record
        self.folder = record.run.checkpoints
        self.settings = experiment.config.training.checkpoint
        self.components = components
        config = portable(experiment.config, record.run.path)  # the same wherever the run is moved
        self.config = resolved(config)
        self.data_files = experiment.config.data.source.path_fields
        self.columns = run_columns(experiment.config.metrics, "validation" in experiment.splits)
        self.identity = {
            "format": checkpoints.FORMAT,
            "config_hash": config_hash(config),
            "dataset_fingerprint": experiment.fingerprint,
        }
        self.latest: checkpoints.Snapshot | None = None
        self.saved: Path | None = None  # the file holding self.latest, once written
        self.saved_at = time.monotonic()  # when the last checkpoint was written
        self.set_aside: list[tuple[str, Path | None]] = []  # (why, where to) for each file a resume could not read

    def begin(self, resume_from: list[Path] | None) -> None:
        """Restore the newest valid checkpoint of ``resume_from`` (newest first), or save
        the initial state so a run killed in its first epoch can be resumed too."""
        if resume_from is not None:
            self._resume(resume_from)
            return
        self.latest = checkpoints.capture(self.components, 0)
        if self.settings is not None:
            self.save()

    def epoch_end(self, epoch: int, batches: int) -> None:
        self.components["progress"].epoch = epoch
        weights = self.components["model"].graph.weight_buffer
        if not np.isfinite(weights.sum(dtype=np.float64)):
            raise NonFiniteError(
                f"the weights became non-finite (NaN or inf) in epoch {epoch}, batch {batches}; training stopped",
                epoch, batches, "non-finite weights",
            )
        self.latest, self.saved = checkpoints.capture(self.components, epoch), None
        if self._due(epoch):
            self.save()

    def _due(self, epoch: int) -> bool:
        """Every ``every_epochs`` epochs when set, else once ``every_seconds`` have passed
        since the last save: a run of tiny epochs does not write and fsync a file per
        epoch, and a kill still loses at most the budget (plus the epoch in progress)."""
        if self.settings is None:
            return False
        if self.settings.every_epochs is not None:
            return epoch % self.settings.every_epochs == 0
        return time.monotonic() - self.saved_at >= self.settings.every_seconds

    def finish(self) -> None:
        """After the last epoch (or an early stop): save it unless it is on disk, so that
        the run can be extended from where it ended."""
        if self.settings is not None and self.saved is None and self.latest is not None:
            self.save()

    def save(self) -> Path:
        """Write the latest snapshot atomically, then delete all but the newest ``keep``."""
        snapshot = self.latest
        path = self.folder / checkpoint_name(snapshot.epoch)
        metadata = {
            **self.identity,
            "epoch": str(snapshot.epoch),
            "config": json.dumps(self.config, sort_keys=True),
            "state": json.dumps(snapshot.state),
        }
        try:
            self.record.sync_metrics()  # a checkpoint never runs ahead of metrics.csv on disk
            self.folder.mkdir(exist_ok=True)
            files.atomic_write(path, encode(snapshot.arrays, metadata))
        except OSError as exc:
            previous = checkpoints.candidates(self.record.path)
            kept = f"the previous checkpoint {previous[0].name} is intact" if previous else "no checkpoint was saved"
            raise CheckpointWriteFailed(
                f"could not write the checkpoint {path}: {exc.strerror or exc}; {kept}",
                hint=free_space_hint(self.record.path, previous[0] if previous else None),
            ) from None
        self.saved, self.saved_at = path, time.monotonic()
        self._prune(keep=self.settings.keep if self.settings else 1)
        return path

    def _prune(self, keep: int) -> None:
        for old in checkpoints.candidates(self.record.path)[keep:]:
            if old != self.saved:
                old.unlink(missing_ok=True)

    def interrupted(self, signal_name: str, where: str) -> RunInterrupted:
        """Save the last finished epoch (unless it is on disk already) and describe how to go on."""
        path = self.saved or self.save()
        epoch = self.latest.epoch
        return RunInterrupted(
            f"stopped by {signal_name} {where}; saved the state after epoch {epoch} to {path}",
            hint=f"resume with: {resume_command(self.record.path)}",
            details={"signal": signal_name, "where": where, "checkpoint": path.name, "epoch": epoch},
        )

    def stopped_at_once(self) -> RunInterrupted:
        """A second Ctrl-C stops without saving: say where a resume starts and what is lost."""
        newest = next(iter(checkpoints.candidates(self.record.path)), None)
        done = self.latest.epoch if self.latest is not None else 0
        if newest is None:  # training.checkpoint: null (else one is written as training begins)
            where = "no checkpoint is on disk (training.checkpoint is off), so the run cannot be resumed"
        else:
            epoch = int(CHECKPOINT_FILE.fullmatch(newest.name).group(1))
            lost = "" if done <= epoch else f"; epoch {done} is lost" if done == epoch + 1 else \
                f"; epochs {epoch + 1} to {done} are lost"
            where = f"the newest checkpoint on disk is {newest}, after epoch {epoch}{lost}"
        return RunInterrupted(
            f"stopped at once by a second Ctrl-C, without saving: {where}",
            hint=f"resume with: {resume_command(self.record.path)} (one Ctrl-C saves the last finished epoch "
                 "before stopping)" if newest else f"train it again: {train_command(self.record.run.config)}",
            details={"signal": "SIGINT", "where": "a second Ctrl-C", "epoch": done,
                     "checkpoint": newest.name if newest else None},
        )

    def _resume(self, paths: list[Path]) -> None:
        self.record.metrics.check_columns(self.columns)  # the run's own file, whichever checkpoint it resumes from
        skipped, unreadable = [], []
        for path in paths:
            try:
                contents = self._read(path)
            except UserError as exc:  # the file itself: damaged, or not a checkpoint
                skipped.append(exc.message)
                unreadable.append((len(skipped) - 1, path))
                continue
            try:
                self._restore(path, *contents)
            except UserError as exc:
                if isinstance(exc, (ConfigChanged, RunEnded, HistoryShort)):  # older ones would train those again
                    raise
                skipped.append(exc.message)  # the file is sound (its dataset differs, say): it stays
                continue
            progress = self.components["progress"]
            self.latest, self.saved = checkpoints.capture(self.components, progress.epoch), path
            for i, unusable in unreadable:  # said aloud by the training loop, recorded in meta.json
                where = _set_aside(unusable)
                self.set_aside.append((skipped[i], where))
                skipped[i] += f"; renamed {where.name}" if where else "; it could not be renamed aside"
            self.record.resumed(path, progress.epoch, skipped)
            return
        detail = "".join(f"\n  {reason}" for reason in skipped) or " (there are none)"
        raise UserError(
            f"{self.record.path}: no valid checkpoint to resume from{detail}",
            hint=f"start the run again, as a new run, with: {train_command(self.record.run.config)}",
        )

    def _read(self, path: Path) -> tuple[dict, dict, object, dict]:
        """A checkpoint file's arrays, metadata, saved config and state."""
        arrays, metadata = read(path)
        if metadata.get("format") != checkpoints.FORMAT:
            raise UserError(f"{path}: not an nnrun checkpoint (format {metadata.get('format')!r})")
        try:
            return arrays, metadata, json.loads(metadata["config"]), json.loads(metadata["state"])
        except (KeyError, json.JSONDecodeError):
            raise UserError(f"{path}: the checkpoint's metadata is incomplete") from None

    def _restore(self, path: Path, arrays: dict, metadata: dict, saved_config, state: dict) -> None:
        if metadata.get("config_hash") != self.identity["config_hash"]:
            # training.epochs may differ: a resume may extend the run (see nnrun.engine.resume);
            # and its labels, which change nothing trained, and where its data files are (the
            # data itself is checked just below).
            files = tuple(f"data.source.{key} " for key in self.data_files)
            changed = [c for c in describe_changes(with_defaults(saved_config, self.record.run.path), self.config)
                       if not c.startswith(("training.epochs ", *(f"{label} " for label in LABELS), *files))]
            if changed or not isinstance(saved_config, dict):
                raise ConfigChanged(path, changed)
        if metadata.get("dataset_fingerprint") != self.identity["dataset_fingerprint"]:
            raise ConfigChanged(path, None)
        checkpoints.restore(self.components, arrays, state, path)
        progress = self.components["progress"]
        epochs = self.config["training"]["epochs"]
        if progress.epoch > epochs:
            raise ConfigChanged(path, [f"training.epochs: {epochs} is fewer than the {progress.epoch} epochs "
                                       "this checkpoint has trained"],
                                hint=f"give training.epochs of {progress.epoch} or more to train the run on, or "
                                     "start a new run with `nnrun train CONFIG`")
        self._check_not_ended(progress.epoch)
        progress.history[:] = self.record.history_until(progress.epoch, path)

    def _check_not_ended(self, epoch: int) -> None:
        """Refuse to extend a run that early stopping ended, before metrics.csv, config.yaml
        or meta.json is touched: resumed, it would train nothing and only rewrite them."""
        stopper = self.components.get("early_stopping")
        if stopper is not None and stopper.stopped and getattr(self.record, "extension", None):
            raise stopper.ended_run(self.record.path, epoch)


def _set_aside(path: Path) -> Path | None:
    """Rename a checkpoint file a resume could not read so that it is no longer one: left
    as it was, it counted toward ``keep`` (pruning a good checkpoint in its place), and
    the run could write its epoch's file over it on the way past. Kept, not deleted: it
    is the user's evidence of what went wrong. A hard link, then the old name removed,
    so that no file of the same name is replaced; None where that cannot be done."""
    for number in range(1, 100):
        target = path.with_name(path.name + (".damaged" if number == 1 else f".damaged-{number}"))
        try:
            os.link(path, target)
        except FileExistsError:
            continue
        except OSError:
            return None
        try:
            path.unlink()
        except OSError:
            target.unlink(missing_ok=True)
            return None
        return target
    return None
