"""What a training run writes into its directory, and when.

At the start: ``config.yaml`` (resolved), ``preprocess.json``, ``meta.json`` (running).
After each epoch: a line appended to ``metrics.csv``. At the end: ``model.safetensors`` and ``meta.json``
(completed, failed or interrupted). Every file is replaced atomically, and the record
holds the run directory's lock from creation (or reopening, to resume) to the end.
"""

from __future__ import annotations

import shlex
import sys
from datetime import datetime, timezone
from pathlib import Path

from nnrun.config import dump_yaml, run_config_hash, trained_config_hash
from nnrun.engine.environment import environment
from nnrun.engine.threads import run_threads
from nnrun.errors import AlreadyDone, NnrunError, RunInterrupted, next_evaluation, resume_command, setting
from nnrun.store import files
from nnrun.store.history import MetricsLog
from nnrun.store.lock import RunLock
from nnrun.store.rundir import RunDir
from nnrun.store.tensorfile import save_weights


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class RunRecord:
    writes = True  # this process writes the run directory (see nnrun.engine.sharding.FollowerRecord)

    def __init__(self, run: RunDir, meta: dict, lock: RunLock | None = None, world_size: int = 1):
        self.run, self.path, self.meta = run, run.path, meta
        self.world_size = world_size  # processes training the run together (mpiexec -n)
        self.metrics = MetricsLog(run.metrics)
        self.epochs = 0  # rows in metrics.csv
        self.lock = lock
        self.training_threads: int | None = None  # BLAS threads of this process's training, once chosen
        self.active = True  # False while a reopened run has not yet restored a checkpoint
        self.extension: dict | None = None  # {"from", "to", "config"}: a resume that changes training.epochs
        self.relocated = None  # the config with its data where a resume was told it is now: config.yaml says so
        self.command: str | None = None  # a resume's command line, where not this process's (a sweep's trial)
        # A resume's warnings (stale exports, another machine), told by fit once a checkpoint
        # is restored: a resume refused there has changed nothing to warn of.
        self.resume_notes: list[str] = []
        self.lost_preprocessing = None  # a resumed run's experiment, where its preprocess.json is gone

    @classmethod
    def create(cls, experiment, run_dir=None, runs_root="runs", command=None, run: RunDir | None = None,
               world_size: int = 1) -> "RunRecord":
        config = experiment.config
        created_here = run is None
        run = run or RunDir.create(config.name, explicit=run_dir, root=runs_root)
        lock = run.lock()
        try:
            record = cls(run, cls._start_meta(experiment, run, command, world_size), lock, world_size)
            cls._write_start_files(run, experiment)
            record.hash_files()
            record._write_meta()
        except BaseException:
            # A failed start (a full disk) leaves no half-made run, removed while still locked so that no
            object.__setattr__(run, "claim", lock)  # one else's files go with it: here, or by the caller
            if created_here:  # whose claim it was (a folder of saved arrays)
                run.remove_if_unstarted()
            raise
        return record

    def hash_files(self) -> None:
        """Into meta.json: the hashes of config.yaml and preprocess.json as the run wrote
        them, which evaluate, predict, export and serve check them by (store.trained)."""
        self.meta["config_file_hash"] = files.file_hash(self.run.config)
        self.meta["preprocess_hash"] = files.file_hash(self.run.preprocess)

    @staticmethod
    def _write_start_files(run: RunDir, experiment) -> None:
        files.atomic_write(run.config, dump_yaml(experiment.config, run.path).encode())
        RunRecord.write_preprocessing(run, experiment)

    @staticmethod
    def write_preprocessing(run: RunDir, experiment) -> None:
        """``preprocess.json``: what predict and evaluate need to read new data as the
        run read its own (the fitted preprocessing, columns, classes, target scale)."""
        config = experiment.config
        train = experiment.splits["train"]
        target = getattr(config.data.source, "target", None)
        files.write_json(run.preprocess, {
            "steps": [step.type for step in config.data.preprocess],
            "states": experiment.preprocess_states,
            "feature_names": train.feature_names,
            "class_names": train.class_names,
            "input_shape": list(train.input_shape),
            "task": train.task,
            "columns": experiment.columns,
            # The one target column's name; several are target_names, in the outputs' order.
            "target": (target if isinstance(target, str) else None) or train.target_name,
            "target_names": list(train.target_names) if train.target_names else None,
            "target_scale": experiment.target_scale,
            "feature_ranges": experiment.feature_ranges,
        })

    @staticmethod
    def _start_meta(experiment, run: RunDir, command, world_size: int) -> dict:
        config = experiment.config
        return {
            "status": "running",
            "started": _now(),
            "ended": None,
            "command": command or shlex.join(sys.argv),
            "seed": config.seed,
            "config_hash": run_config_hash(config, run.path),
            "trained_config_hash": trained_config_hash(config, run.path),
            "run_dir": str(run.path.resolve()),  # where config.yaml's paths were written: see store.moved
            "dataset_fingerprint": experiment.fingerprint,
            "split_fingerprints": experiment.split_fingerprints,
            "samples": {name: len(part) for name, part in experiment.splits.items()},
            "parameters": experiment.graph.parameter_count,
            "world_size": world_size,
            "environment": environment(run_threads(config.training.threads, world_size,
                                                   work=experiment.graph.trainable.size * config.training.batch_size)),
        }

    @classmethod
    def reopen(cls, run: RunDir, extending: bool = False) -> "RunRecord":
        """Lock an existing run directory to resume it (a completed one only to extend
        it); removes stale temporary files."""
        made = not run.lock_file.exists()
        lock = run.lock()
        try:
            meta = run.read_meta()
            if meta.get("status") == "completed" and not extending and not run.paused(meta):
                # Early stopping's end is final: more epochs are refused (see EarlyStopper.ended_run).
                by_stopper = meta.get("stopped_early") and meta.get("stopped_by") != "hook"
                # Without a checkpoint (training.checkpoint: null) there is no state to train on from.
                kept = run.kept_checkpoint()
                warm = f"warm start one from its weights with {setting('model.init_weights', run.weights)}"
                longer = f"start a new run with a larger training.early_stopping.patience, or {warm}" if by_stopper \
                    else f"train it longer with: {resume_command(run.path, 'N')}" if kept \
                    else f"train on from its weights in a new run: {warm} (it kept no checkpoint to resume from)"
                raise AlreadyDone(f"{run.path}: the run has completed; there is nothing to resume",
                                hint=f"evaluate it with: {next_evaluation(run.path, meta.get('final'))}, or {longer}")
        except BaseException:
            if made:  # a folder that is no run to resume (no meta.json) is left as it was, without a lock file
                run.lock_file.unlink(missing_ok=True)
            lock.release()
            raise
        for folder in (run.path, run.checkpoints):
            if folder.is_dir() and not folder.is_symlink():
                files.remove_stale_temporaries(folder)
        record = cls(run, meta, lock)
        record.active = False
        return record

    def history_until(self, epoch: int, checkpoint: Path) -> list[dict]:
        """A resumed run's history: the rows of metrics.csv up to ``checkpoint``'s
        ``epoch``; rows of epochs after it, written before the run stopped, are dropped."""
        rows = self.metrics.resume(epoch, checkpoint)
        self.epochs = len(rows)
        return rows

    def threads(self, setting: int | str) -> int:
        """The BLAS threads this run trains with: ``training.threads``, or with ``auto``
        the count recorded when the run started, so that a resumed run multiplies
        matrices exactly as the run did (see :mod:`nnrun.engine.threads`)."""
        recorded = self.meta.get("environment", {}).get("blas_threads")
        return run_threads(setting, self.world_size, recorded)

    def epochs_change_note(self, epoch: int) -> str | None:
        """What a resume that changes training.epochs does, told once the checkpoint it
        continues from (at ``epoch``) is known; None when the count is unchanged."""
        if not self.extension:
            return None
        before, after = self.extension["from"], self.extension["to"]
        does = (f"this trains the run on from epoch {epoch} to {after}" if after > before
                else f"this ends the run at epoch {after} instead of {before} (it continues from epoch {epoch})")
        return (f"training.epochs {before} -> {after}: {does}, in place; its config.yaml, metrics.csv and "
                "model.safetensors will say so")

    def resumed(self, checkpoint: Path, epoch: int, skipped: list[str]) -> None:
        """A checkpoint was restored (and its history read back): the run is running
        again, under its new epoch count if it is being extended."""
        self.active = True
        entry = {"started": _now(), "checkpoint": checkpoint.name, "epoch": epoch, "skipped": skipped,
                 "command": self.command or shlex.join(sys.argv), "world_size": self.world_size,
                 "environment": environment(self.training_threads)}
        if self.lost_preprocessing is not None:  # fitted again on the same data (its fingerprint checked)
            what = "changed since the run wrote it" if self.run.preprocess.is_file() else "missing"
            RunRecord.write_preprocessing(self.run, self.lost_preprocessing)
            self.resume_notes.append(f"{self.run.preprocess} was {what}; it is written again from the run's data, "
                                     "as the run first wrote it")
        if self.extension or self.relocated is not None:
            config = self.extension["config"] if self.extension else self.relocated
            files.atomic_write(self.run.config, dump_yaml(config, self.run.path).encode())
            self.meta["config_hash"] = run_config_hash(config, self.run.path)
            self.meta["trained_config_hash"] = trained_config_hash(config, self.run.path)
            self.meta["run_dir"] = str(self.run.path.resolve())  # where config.yaml's paths were written
        if self.extension:
            entry["epochs"] = {"from": self.extension["from"], "to": self.extension["to"]}
        if self.extension or self.meta.get("stopped_by") == "hook":  # an end it trains on past: no longer the run's
            for key in ("final", "best_epoch", "stopped_early", "stopped_by"):
                self.meta.pop(key, None)
        self.hash_files()  # of the files as this resume left them (an extension rewrote config.yaml)
        self.meta.setdefault("resumes", []).append(entry)
        self.meta.update(status="running", ended=None)
        self.meta.pop("failure", None)
        self._write_meta()

    def release(self) -> None:
        self.metrics.close()
        if self.lock is not None:
            self.lock.release()

    def _write_meta(self) -> None:
        self.run.write_meta(self.meta)

    def append_metrics(self, row: dict) -> None:
        """Append the epoch's row to metrics.csv (made durable by the next checkpoint's
        :meth:`sync_metrics`, or at the end)."""
        self.metrics.append(row)
        self.epochs += 1

    def sync_metrics(self) -> None:
        """metrics.csv on disk up to the last row: called before each checkpoint."""
        self.metrics.sync()

    def complete(self, graph, final: dict, best_epoch: int | None, stopped_early: bool,
                 stopped_by: str | None = None) -> None:
        save_weights(self.run.weights, graph.state(), {"format": "nnrun-weights-1"})
        self.meta.update(status="completed", ended=_now(), epochs_completed=self.epochs, best_epoch=best_epoch,
                         stopped_early=stopped_early, final=final, **({"stopped_by": stopped_by} if stopped_by else {}))
        self._write_meta()

    def fail(self, exc: BaseException) -> None:
        """Record why the run stopped (with epoch, batch and reason where known); best
        effort, since the disk may be what failed."""
        if not self.active:
            return
        interrupted = isinstance(exc, (KeyboardInterrupt, RunInterrupted))
        failure = {"type": type(exc).__name__, "message": exc.message if isinstance(exc, NnrunError) else str(exc)}
        failure.update(exc.details if isinstance(exc, NnrunError) else {})
        self.meta.update(
            # A caller's own reason to stop (a sweep's scheduler: "pruned") names itself.
            status=getattr(exc, "run_status", None) or ("interrupted" if interrupted else "failed"),
            ended=_now(),
            epochs_completed=self.epochs,
            failure=failure,
        )
        try:
            self._write_meta()
        except OSError:
            pass
