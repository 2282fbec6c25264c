"""``mpiexec -n N nnrun train CONFIG`` and ``... --resume RUN_DIR``: one run, N processes.

Every process builds the experiment itself (same config, data and seed); a mistake
found by any of them stops all of them with one message, printed by process 0. Process
0 alone creates or reopens the run directory and writes into it; it sends its starting
state to the others (see :mod:`nnrun.engine.sharding`). An error that only one process
meets while training (a full disk under the writer, a crash) stops every process at
once, so none is left waiting for it.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager
from pathlib import Path

from nnrun.config import resolved
from nnrun.config.diff import describe_changes, listed
from nnrun.engine.distributed import Stopped, World
from nnrun.engine.hooks import SilentHooks
from nnrun.engine.record import RunRecord
from nnrun.engine.sharding import FollowerRecord, Shards
from nnrun.errors import NonFiniteError, RunInterrupted, UserError
from nnrun.store import checkpoints
from nnrun.store.rundir import RunDir

# Raised by every process at the same step, from values the processes share.
AGREED = (RunInterrupted, NonFiniteError, Stopped)


class MutedHooks(SilentHooks):
    """The hooks of a process that is not the writer: the writer says everything."""

    def warn(self, message: str) -> None:
        pass


@contextmanager
def stopping_together(world: World):
    """Errors met together leave every process normally; any other stops all of them."""
    try:
        yield
    except BaseException as exc:
        if isinstance(exc, (*AGREED, SystemExit)) or getattr(exc, "agreed", False):
            raise
        world.abort(exc)
        raise  # MPI's Abort ends the process; until it has, nothing after the block may run on


def train_together(world: World, config, overrides, run_dir, runs_root, hooks, command, started):
    from nnrun.engine.experiment import as_loaded, build
    from nnrun.engine.train import run_experiment

    with stopping_together(world):
        experiment = world.agree(lambda: build(as_loaded(config, overrides)))
        _check_split(world, experiment)
        record = world.agree(lambda: RunRecord.create(
            experiment, run_dir=run_dir, runs_root=runs_root, command=command, world_size=world.size,
        ) if world.writes else None)
        path = world.broadcast_json(str(record.path) if world.writes else None)
        _watch(world, path)
        result = run_experiment(experiment, record or FollowerRecord(path), _hooks(world, hooks), started,
                                sharding=Shards(world))
    return _finished(world, result)


def resume_together(world: World, run_dir, config, overrides, hooks, started):
    """As :func:`nnrun.engine.resume.resume_training`; every process reads the run's
    config.yaml (the run directory is on storage they share), the writer alone locks it."""
    from nnrun.config import load_config
    from nnrun.engine.experiment import build
    from nnrun.engine.resume import (_given_to_resume, check_same_splits, record_config_change, refuse_diverged,
                                     resume_warnings)
    from nnrun.engine.train import run_experiment
    from nnrun.store.moved import moved_data

    hooks = _hooks(world, hooks)
    with stopping_together(world):
        def prepare():
            run_path = RunDir.open(run_dir)
            loaded, epochs = load_config(run_path.config), None
            paths, notes = moved_data(loaded.config, run_path)  # the project moved with the run: its data too
            if config is not None or overrides:
                loaded, epochs, given = _given_to_resume(run_path, loaded, config, overrides)
                paths, notes = (given, []) if given else (paths, notes)
            refuse_diverged(run_path, loaded.config.training.epochs)
            return run_path, loaded, epochs, paths, notes

        run_path, loaded, epochs, paths, notes = world.agree(prepare)
        record = world.agree(lambda: RunRecord.reopen(run_path, extending=epochs is not None) if world.writes
                             else None)
        try:
            experiment = world.agree(lambda: build(loaded, warm_start=False, read_paths=paths))
            world.agree(lambda: check_same_splits(run_path, experiment))
            _check_split(world, experiment)
            candidates = None
            if world.writes:
                record.world_size = world.size
                record_config_change(record, loaded.config, epochs, paths, given=config is not None or bool(overrides))
                record.resume_notes = [*notes, *resume_warnings(record, run_path, loaded.config.training.threads,
                                                                world.size)]
                candidates = checkpoints.candidates(run_path.path)
            _watch(world, run_path.path)
        except BaseException:
            if record is not None:
                record.release()
            raise
        result = run_experiment(experiment, record or FollowerRecord(run_path.path), hooks, started,
                                resume_from=candidates, sharding=Shards(world))
    return _finished(world, result)


def _check_split(world: World, experiment) -> None:
    """Every process must run the same config on the same data, and every batch must have
    a row for each. (Machines that keep other copies of the config: one more epoch would
    leave process 0 waiting for a sum forever, another learning rate would train weights
    that drift apart.)"""
    fingerprints = world.allgather_json(experiment.fingerprint)
    settings = world.allgather_json(_shared_settings(experiment.config))
    samples = len(experiment.splits["train"])
    batch = min(experiment.config.training.batch_size, samples)

    def check():
        other = {rank: describe_changes(settings[0], s) for rank, s in enumerate(settings) if s != settings[0]}
        if other:
            rank, changes = next(iter(other.items()))
            said = f"processes {', '.join(map(str, other))} of {world.size} run other configs than process 0; " \
                f"process {rank}'s differs in" if len(other) > 1 else \
                f"process {rank} of {world.size} runs another config than process 0; it differs in"
            raise UserError(
                f"{said}{listed(changes)}",
                hint="start every process with the same config file and --set options (the same file on every "
                "machine)",
            )
        differing = [rank for rank, f in enumerate(fingerprints) if f != fingerprints[0]]
        if differing:
            raise UserError(
                f"processes {differing} read other training data than process 0 (the dataset fingerprints "
                "differ)", hint="give every machine the same data files and the same nnrun version",
            )
        if batch < world.size:
            raise UserError(
                f"training.batch_size: a batch of {batch} samples cannot be split over {world.size} processes; "
                "each process needs at least one sample of every batch",
                hint=f"raise training.batch_size to at least {world.size}, or start fewer processes "
                f"(mpiexec -n {batch})",
            )
        last = samples % batch
        if 0 < last < world.size:
            raise UserError(
                f"training.batch_size: with {samples} training samples, the last batch of every epoch holds "
                f"{last} sample{'s' if last > 1 else ''}, too few to split over {world.size} processes",
                hint=f"choose a batch_size that leaves a last batch of 0 or at least {world.size} samples "
                f"(for example {_fitting_batch(samples, batch, world.size)}), or start at most {last} process{'es' if last > 1 else ''}",
            )

    world.agree(check)


def _shared_settings(config) -> dict:
    """What every process's config must agree on: all of it but where each machine keeps
    the data files (their contents are compared, by the data's fingerprint) and the warm
    start's weights (made absolute from each process's working directory; process 0's
    weights reach the others before the first step)."""
    settings = resolved(config)
    for key in config.data.source.path_fields:
        settings["data"]["source"].pop(key, None)
    settings["model"].pop("init_weights", None)
    return settings


def _fitting_batch(samples: int, batch: int, processes: int) -> int:
    """The batch size nearest ``batch`` whose last batch splits over ``processes``."""
    for distance in range(1, samples):
        for size in (batch - distance, batch + distance):
            if processes <= size <= samples and (samples % size == 0 or samples % size >= processes):
                return size
    return samples


def _watch(world: World, path) -> None:
    """The writer starts the watcher that records the run as failed if the launcher
    kills it (see :mod:`nnrun.engine.watchdog`); the pipe to it lives as long as ``world``."""
    if world.writes:
        from nnrun.engine import watchdog

        world.watcher = watchdog.start(Path(path), world.size)


def _finished(world: World, result):
    """Training is over; the writer scores and saves the run alone. A Ctrl-C now is
    the writer's to answer (it stops every process): the others only wait to exit."""
    if not world.writes:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    return result


def _hooks(world: World, hooks):
    return (hooks or SilentHooks()) if world.writes else MutedHooks()
