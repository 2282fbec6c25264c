"""``nnrun train --resume RUN_DIR``: continue a stopped run exactly where it left off.

    resume_training("runs/iris-20260101-120000")

The run directory is locked, stale temporary files are removed, and the config is the
run's own ``config.yaml``; a CONFIG or ``--set`` given as well must not change it (the
refusal names the changed keys), except where its data is now (checked by the data's
fingerprints, then written into ``config.yaml``), its tags and notes (the run's kept),
and ``training.epochs``: a new epoch count extends
(or shortens) the run, completed or not, and is written to its ``config.yaml`` once a
checkpoint has been restored; a run that early stopping ended stays ended, and extending
it is refused before anything is written. Training then restores the newest valid checkpoint,
falling back to older ones if it is damaged (see :class:`nnrun.engine.checkpointing.Checkpointer`).
On the same machine with the same BLAS and thread count, the finished run's
``model.safetensors`` and ``metrics.csv`` (the ``seconds`` column aside) are
byte-identical to a run that was never stopped; elsewhere a warning says so.
"""

from __future__ import annotations

import time
from pathlib import Path

from nnrun.config import LABELS, load_config, resolved
from nnrun.config.diff import config_differences, describe_changes, listed
from nnrun.engine.experiment import as_loaded, build, changed_splits, given_splits_unset, resolve_paths, splits_differ
from nnrun.engine.hooks import SilentHooks, TrainingHooks
from nnrun.engine.environment import environment
from nnrun.engine.record import RunRecord
from nnrun.engine.settled import unicode_unset_as
from nnrun.engine.train import run_experiment
from nnrun.errors import ConfigError, UserError, quoted, resume_command, said, setting, train_command
from nnrun.store import checkpoints
from nnrun.store.failures import DIVERGED_REMEDY, diverged_in
from nnrun.store.leftovers import leftover_refusal
from nnrun.store.moved import moved_data, read_there
from nnrun.store.rundir import RunDir
from nnrun.store.run_hints import sweep_of_trial

# What bit-identical arithmetic depends on, beyond the config and the data.
ENVIRONMENT_KEYS = ("numpy", "blas", "blas_threads", "platform")


def record_config_change(record: RunRecord, config, epochs, read_paths: dict[str, str], given: bool) -> None:
    """What a resume changes in the run's config.yaml, for the record to write: more
    ``epochs`` (from, to), or the data where a CONFIG or ``--set`` given to the resume
    said it is now (``given``), so that ``evaluate`` finds it afterwards."""
    if epochs is not None:
        record.extension = {"from": epochs[0], "to": epochs[1], "config": read_there(config, read_paths)}  # told by fit
    elif given and read_paths:
        record.relocated = read_there(config, read_paths)


def resume_training(run_dir, config=None, overrides=(), hooks: TrainingHooks | None = None, command=None):
    """Continue ``run_dir`` from its newest valid checkpoint; returns a TrainResult."""
    started = time.perf_counter()
    hooks = hooks or SilentHooks()
    if (refused := leftover_refusal(run_dir, "run")) is not None:  # killed as it started: no config need be there
        raise refused
    if (Path(run_dir) / "sweep.yaml").is_file() and (Path(run_dir) / "trials").is_dir():
        raise UserError(f"{run_dir}: a sweep directory, not a run", hint=f"finish the sweep with nnrun sweep --resume "
                        f"{quoted(run_dir)}; one of its trials alone with nnrun train --resume "
                        f"{quoted(Path(run_dir) / 'trials')}/<id>")
    run_path = RunDir.open(run_dir)
    path = run_path.path
    loaded = load_config(run_path.config)
    read_paths, moved_notes = moved_data(loaded.config, run_path)
    epochs = None
    if config is not None or overrides:
        loaded, epochs, given_paths = _given_to_resume(run_path, loaded, config, overrides)
        read_paths, moved_notes = (given_paths, []) if given_paths else (read_paths, moved_notes)
    refuse_diverged(run_path, loaded.config.training.epochs)
    record = RunRecord.reopen(run_path, extending=epochs is not None)
    record.command = command
    try:
        record_config_change(record, loaded.config, epochs, read_paths, given=config is not None or bool(overrides))
        try:
            experiment = build(loaded, warm_start=False, read_paths=read_paths)  # the checkpoint brings the weights
        except ConfigError as error:
            if error.data_gone():
                # Moved or gone: a run resumes on the very data it trained on (and checks it is).
                error.hint = (f"put the file back where it was, then resume; or resume with the path it has now, "
                              f"checked to be the same data: {setting('data.source.path', 'NEW')}")
            raise
        check_same_splits(run_path, experiment)
        record.resume_notes = [*moved_notes, *resume_warnings(record, run_path, experiment.config.training.threads, 1)]
        if not run_path.preprocess.is_file() or run_path.preprocess_edited(record.meta):
            record.lost_preprocessing = experiment  # deleted or edited: written again once a checkpoint is restored
        if epochs is not None and (sweep := sweep_of_trial(path)) is not None:
            record.resume_notes.append(
                f"{path} is trial {path.name} of the sweep {sweep}: trained on to epoch {epochs[1]}, it no longer "
                "matches the sweep's trials.csv and best.yaml, which keep what the sweep trained; to compare trials "
                "trained longer, sweep again with the new training.epochs")
        candidates = checkpoints.candidates(path)
    except BaseException:
        record.release()
        raise
    return run_experiment(experiment, record, hooks, started, resume_from=candidates)


def check_same_splits(run_path: RunDir, experiment) -> None:
    """Every split as the run recorded it, for a resume in one process or several: the
    checkpoint checks the training rows it learned from, and the run's final scores must
    be of the held-out rows it recorded too."""
    changed = changed_splits(run_path, experiment)
    if changed:
        raise UserError(f"{run_path.path}: the data no longer matches the run: {splits_differ(changed)}; resumed, "
                        "it would train or score on other rows",
                        hint=f"restore the data as the run trained on it ({experiment.config.data.source.named_files()}"
                             "), then resume; or start a new run on the new data")


def _allowed_changes(path: Path, loaded, config, overrides):
    """The config to resume with, ``(old, new)`` epochs when ``training.epochs`` changes,
    and the data files to read where the given config names them elsewhere (a project
    moved: checked against the run's fingerprints of its data); any other change is
    refused, naming each key."""
    given = as_loaded(config if config is not None else RunDir(path).config, overrides)
    # The run's config.yaml holds absolute paths, and 0 for a split its source gave as a
    # file (a test_path) where the default fraction was left: settle the given one alike.
    now = resolve_paths(given)
    split_files = now.data.source.given_splits() - now.data.split.model_fields_set
    before, after = resolved(resolve_paths(loaded)), resolved(given_splits_unset(now, split_files))
    after = _unicode_as_trained(_weights_as_trained(after, before, RunDir(path)), before)
    # Tags and notes change nothing trained, and may be edited in the run afterwards: the run's are kept.
    labels = {key for key, _, _ in config_differences(before, after) if key.split(".")[0] in LABELS}
    changed = {key for key, _, _ in config_differences(before, after)} - labels
    files = {f"data.source.{key}" for key in now.data.source.path_fields} & changed if \
        type(now.data.source) is type(loaded.config.data.source) else set()
    paths = {key.removeprefix("data.source."): getattr(now.data.source, key.removeprefix("data.source."))
             for key in files}
    if not changed - files:
        return loaded, None, paths
    if changed - files == {"training.epochs"}:
        recorded = getattr(loaded.config.data.source, "text", None)  # what an unset unicode became in the run
        unicode_unset_as(given, getattr(recorded, "unicode", None))
        given.config = given.config.model_copy(update={label: getattr(loaded.config, label) for label in LABELS})
        return given, (before["training"]["epochs"], after["training"]["epochs"]), paths
    # Where the data is: checked by its fingerprint.
    allowed = ("training.epochs ", *(f"{key} " for key in [*files, *LABELS]))
    changes = [c for c in describe_changes(before, after) if not c.startswith(allowed)]
    source = said("--set", "overrides") if config is None else f"{config} with {said('--set', 'overrides')}" \
        if overrides else str(config)
    raise UserError(
        f"{source}: differs from the config of the run {path} in {len(changes)} "
        f"place{'s' if len(changes) != 1 else ''}:{listed(changes)}",
        hint="a resumed run keeps its config, except training.epochs (to train it longer) and where its data "
        f"is now: leave out the other changes, or start a new run with `{train_command('CONFIG')}`",
    )


def _given_to_resume(run: RunDir, loaded, config, overrides):
    """:func:`_allowed_changes`, except that a diverged run given another config (a lower
    learning rate, say) is told why it is not resumed at all, rather than that its config
    differs."""
    try:
        return _allowed_changes(run.path, loaded, config, overrides)
    except UserError:
        refuse_diverged(run, epochs=None)
        raise


def refuse_diverged(run: RunDir, epochs: int | None) -> None:
    """A run whose loss or weights became NaN or infinite is not resumed to ``epochs``
    past the epoch it diverged in: from its last checkpoint, with its config (which a
    resume keeps), it would diverge again, batch for batch. A job that retries `nnrun
    train CONFIG --resume DIR` is told at once. Ended before that epoch, it completes
    (``epochs`` None: whatever the epochs)."""
    meta = run.read_meta_or_none()
    epoch = diverged_in(meta)
    if epoch is not None and (epochs is None or epochs >= epoch):
        saved = run.kept_checkpoint()
        shorter = f", or end this one before it diverged, with {resume_command(run.path, str(epoch - 1))}" \
            if epoch > 1 and saved else ""
        raise UserError(f"{run.path}: the run failed ({meta['failure'].get('message')}); resumed with its config, "
                        "which a resume keeps, it would fail the same way",
                        hint=f"{DIVERGED_REMEDY}, then train a new run: {train_command('CONFIG')}{shorter}")


def _weights_as_trained(after: dict, before: dict, run: RunDir) -> dict:
    """The given config with ``loss.class_weights`` as the run resolved them into its
    config.yaml: by class name, the list that comes to over the run's classes; balanced,
    the list recorded (the splits it came from are checked to be the run's own). The run's
    own config file then resumes it, as a list would."""
    weights = (after.get("loss") or {}).get("class_weights")
    recorded = (before.get("loss") or {}).get("class_weights")
    if not isinstance(recorded, list) or not isinstance(weights, (str, dict)):
        return after
    if isinstance(weights, dict):
        # imported here: preprocess.json's models cost every `nnrun train` about 5 ms to build
        from nnrun.store.preprocessing import saved_class_names

        names = saved_class_names(run) or []
        if set(weights) - set(names):  # a class the run never had: shown as a change
            return after
        weights = [float(weights.get(name, 1.0)) for name in names]
    else:
        weights = recorded
    return {**after, "loss": {**after["loss"], "class_weights": weights}}


def _unicode_as_trained(after: dict, before: dict) -> dict:
    """The given config with a text column's unset ``unicode`` as the run settled it in
    its config.yaml (nfc for a run of this version, unset for one trained before)."""
    given = ((after.get("data") or {}).get("source") or {}).get("text")
    recorded = ((before.get("data") or {}).get("source") or {}).get("text")
    if not isinstance(given, dict) or not isinstance(recorded, dict) or given.get("unicode") is not None:
        return after
    source = {**after["data"]["source"], "text": {**given, "unicode": recorded.get("unicode")}}
    return {**after, "data": {**after["data"], "source": source}}


def resume_warnings(record: RunRecord, run: RunDir, threads, world_size: int) -> list[str]:
    """What a resume of ``run`` by ``world_size`` processes warns of: another machine or
    library, another process count, exports, predictions and curves made before it."""
    now = environment(record.threads(threads))
    return (environment_changes(record.meta.get("environment", {}), now)
            + world_size_change(record.meta, world_size) + stale_exports(run) + stale_outputs(run))


def environment_changes(before: dict, now: dict) -> list[str]:
    """Differences in what floating-point results depend on, as sentences."""
    changed = [key for key in ENVIRONMENT_KEYS if before.get(key) != now.get(key)]
    if not changed:
        return []
    detail = "; ".join(f"{key}: {before.get(key)} -> {now.get(key)}" for key in changed)
    return [
        f"the run started under a different numeric environment ({detail}); the resumed run is not "
        "promised to be bit-identical to an uninterrupted one"
    ]


def stale_exports(run: RunDir) -> list[str]:
    """A sentence for each ONNX export in the run directory: made from the weights
    before this resume, it stops matching the run once training goes on."""
    return [
        f"{path} was exported from the weights before this resume and will not match the run's new weights: "
        f"export again with `nnrun export {quoted(run.path)}{' --float16' if float16 else ''}` once it finishes "
        "(the earlier export is then kept aside, named after its weights)"
        for float16 in (False, True) if (path := run.onnx(float16)).is_file()
    ]


def stale_outputs(run: RunDir) -> list[str]:
    """A sentence for the predictions and the learning curves in the run directory, made
    from the run as it was before this resume."""
    outputs = [(run.predictions, f"predict again once it finishes (with --force to replace {run.predictions.name})"),
               (run.curves, f"`nnrun plot {quoted(run.path)}` again once it finishes")]
    return [f"{path} was made before this resume and will not show the run's new weights and epochs: {then}"
            for path, then in outputs if path.is_file()]


def previous_world_size(meta: dict) -> int:
    """How many processes trained the run last (``mpiexec -n``; 1 before the field existed)."""
    resumes = [entry for entry in meta.get("resumes", []) if isinstance(entry, dict)]
    size = (resumes[-1] if resumes else meta).get("world_size", meta.get("world_size", 1))
    return size if isinstance(size, int) and size >= 1 else 1


def world_size_change(meta: dict, size: int) -> list[str]:
    """A sentence when the run resumes with another number of processes than it ran with."""
    before = previous_world_size(meta)
    if before == size:
        return []
    return [
        f"the run was trained by {before} process{'es' if before > 1 else ''} and resumes with {size}; "
        f"it goes on as a {size}-process run, whose rounding differs from a {before}-process run's and compounds "
        f"over the epochs: not the weights it would have reached with {before}"
    ]
