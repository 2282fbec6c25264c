"""``nnrun evaluate``: a run's final weights scored on one of its splits, or on a file.

    report = evaluate("runs/iris-20260101-120000")                 # the test split
    report = evaluate(run, data="new_labelled.csv")                # a labelled file

A split is rebuilt from the run's own config and saved preprocessing and must be the
one the run trained on (its fingerprint in meta.json); a file is read through the
saved column encoding. The report (metrics, then a confusion matrix and per-class
scores, or residual statistics) is written next to the run as JSON, one file per
evaluation: ``eval-<split>.json`` or ``eval-<data file stem>.json`` (``eval-test.csv.json``
for a file named like a split; ``eval-test-threshold-0.2.json`` at a threshold), never replacing a
different report of the same weights unless ``force`` (a report of other weights, written
before a resumed run trained on, is kept under a name of its own). A run that did not
complete is scored with the weights of its newest valid checkpoint, and the report says
so (``weights_note``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnrun.commands.inputs import archive_names, check_unknown, read_labelled
from nnrun.config import anchored, load_config
from nnrun.data import Dataset
from nnrun.engine.experiment import Experiment, build, changed_splits, splits_differ
from nnrun.errors import ConfigError, UserError, did_you_mean, evaluate_command, next_evaluation, quoted
from nnrun.model.diagnostics import classification_report, residual_report
from nnrun.model.graph import Graph
from nnrun.commands.threshold import checked_threshold
from nnrun.model.scoring import score_split
from nnrun.store import files
from nnrun.store.moved import moved_data
from nnrun.store.preprocessing import read_preprocessing
from nnrun.store.rundir import RunDir
from nnrun.store.trained import TrainedRun, load_run_weights, weights_fingerprint
from nnrun.store.unedited import check_preprocessing_unedited, check_unedited


@dataclass
class RebuiltRun:
    """A run with its splits rebuilt from its data, for scoring a split."""

    run: RunDir
    experiment: Experiment
    weights_note: str | None = None  # set when the weights come from a checkpoint
    notes: tuple[str, ...] = ()  # data read from where it moved with the run (see nnrun.store.moved)


def load_run(run_dir: str | Path) -> RebuiltRun:
    """Rebuild a finished run: its config, splits, saved preprocessing and weights."""
    run = RunDir.open(run_dir)
    loaded = load_config(run.config)
    check_unedited(run, anchored(loaded.config, run.path))
    saved = read_preprocessing(run.path, loaded.config)
    check_preprocessing_unedited(run)
    read_paths, notes = moved_data(loaded.config, run)
    try:
        experiment = build(loaded, preprocess_states=saved.states, columns=saved.encoding(), warm_start=False,
                           target_scale=saved.target_scale.model_dump() if saved.target_scale else None,
                           read_paths=read_paths)
    except ConfigError as error:
        if error.data_gone():
            # The data it trained on has moved or gone: its splits cannot be rebuilt.
            error.hint = (f"put the file back where it was, or score rows you have with: nnrun evaluate "
                          f"{quoted(run.path)} --data FILE (the training columns and the target)")
        raise
    _check_same_data(run, experiment)
    note = load_run_weights(run, experiment.graph)
    return RebuiltRun(run, experiment, note, tuple(notes))


def _check_same_data(run: RunDir, experiment) -> None:
    """The rebuilt splits must be the ones the run trained on: a data file edited since
    (rows added, removed or reordered) would otherwise mix training rows into the test."""
    changed = changed_splits(run, experiment)
    if changed:
        raise UserError(
            f"{run.path}: the data no longer matches the run: {splits_differ(changed)}",
            hint=f"the data changed since training ({experiment.config.data.source.named_files()}); restore it, "
            "train a new run on the new data, or score the new file with --data FILE",
        )


def evaluate(run_dir: str | Path, split: str = "test", data: str | Path | None = None,
             force: bool = False, written: dict | None = None, unknown: str | None = None,
             named: str = "--unknown", threshold: float | None = None,
             threshold_named: str = "--threshold", data_name: str | None = None) -> dict:
    """Score a run's weights on one of its splits, or on the labelled file ``data`` (CSV
    with the training columns and the target, or NPZ with x and y; ``written``: how a
    CSV file is written where not as the training files were, see
    :func:`nnrun.commands.file_format.file_format`; ``unknown``: "ignore" or "error" for
    its categories training never saw, in place of the run's data.source.unknown);
    writes the report to ``report["written"]``. ``named``: how messages name ``unknown``
    (the option, or the Python argument). ``threshold``: of two classes, the probability
    above which class 1 is predicted (see :mod:`.threshold`; ``threshold_named`` as ``named``);
    its report has a name of its own. ``data_name``: what the report says was scored where
    ``data`` is a copy (of standard input, ``-``: the copy is gone once scored)."""
    if data is not None:
        return _evaluate_file(run_dir, Path(data), force, written, unknown, named, threshold, threshold_named,
                              data_name)
    rebuilt = load_run(run_dir)
    experiment = rebuilt.experiment
    train = experiment.splits["train"]
    threshold = checked_threshold(threshold, train.task, train.class_names, threshold_named)
    if split not in experiment.splits:
        available = ", ".join(experiment.splits)
        near = did_you_mean(split, list(experiment.splits))
        raise UserError(f"{rebuilt.run.path}: the run has no split named '{split}'{near} (it has: {available})",
                        hint=f"score it with: {next_evaluation(rebuilt.run.path, experiment.splits)}")
    part = experiment.splits[split]
    report = {"split": split, "samples": len(part), **_at(threshold), "metrics": experiment.score(split, threshold),
              **({"notes": list(rebuilt.notes)} if rebuilt.notes else {})}
    report.update(diagnose(experiment.graph, part, threshold))
    return _write(report, rebuilt.run.evaluation(split, threshold), rebuilt.weights_note, experiment.graph, force)


def _at(threshold: float | None) -> dict:
    return {} if threshold is None else {"threshold": threshold}


def _evaluate_file(run_dir, source: Path, force: bool, written: dict | None = None, unknown: str | None = None,
                   named: str = "--unknown", threshold: float | None = None,
                   threshold_named: str = "--threshold", data_name: str | None = None) -> dict:
    trained = TrainedRun.load(run_dir)
    saved, config = trained.preprocessing, trained.config
    threshold = checked_threshold(threshold, saved.task, saved.class_names, threshold_named)
    check_unknown(unknown, saved, named, run_dir)
    x, y, notes, lines = read_labelled(source, saved, trained.output_width, written, unknown,
                                       archive_names(config))
    if saved.target_scale is not None and saved.target_scale.log1p and len(y) and (low := np.asarray(y) <= -1).any():
        at = np.flatnonzero(low.reshape(len(y), -1).any(axis=1))  # a target at -1 or below has no log1p
        where = ", ".join(str(lines[i]) if lines is not None else str(i) for i in at[:5]) + (", ..." if len(at) > 5
                                                                                             else "")
        raise UserError(f"{source}: {len(at)} row{'s' * (len(at) != 1)} with a target at -1 or below "
                        f"({'line' if lines is not None else 'row'}{'s' * (len(at) != 1)} {where}), which a model "
                        "that learned log(1 + target) (data.target_scale: log1p) cannot score",
                        hint="leave those rows out, and score the others")
    data = Dataset(trained.prepare(x, source=str(source), lines=lines), y, saved.task, saved.feature_names,
                   saved.class_names, target_names=tuple(saved.target_names or ()) or None)
    scores = score_split(trained.graph, config.loss, config.metrics, data.x, data.y, threshold=threshold)
    # Absolute: a report read again from another folder still tells its file from another of that name.
    # Its bytes' hash: the same path scored again after its rows changed is another file too.
    report = {"data": data_name or str(source.resolve()), "data_sha256": files.file_hash(source),
              "samples": len(data), **_at(threshold), "metrics": scores}
    notes = [*_trained_on(trained, source, len(data)), *notes]
    if notes:  # columns left out, categories training never saw: as predict says them
        report["notes"] = notes
    report.update(diagnose(trained.graph, data, threshold))
    return _write(report, trained.run.evaluation(report_name(source), threshold), trained.weights_note,
                  trained.graph, force)


def _trained_on(trained: TrainedRun, source: Path, rows: int) -> list[str]:
    """A note when ``source`` is a file the run learned from: its training file (where
    the training split's rows are), or its validation file (which chose the best epoch)."""
    files = {key: getattr(trained.config.data.source, key, None) for key in ("path", "validation_path")}
    used = [(key, how) for key, path in files.items() if path is not None and (how := _same_file(Path(path), source))]
    if not used:
        return []
    key, how = used[0]
    what = f"{source.name} is {'a copy of ' if how == 'copy' else ''}"
    if key == "validation_path":
        return [f"{what}the run's validation file (data.source.validation_path), which the run watched while it "
                "trained: these scores are a little optimistic; its test split or file is the fair measure"]
    samples = (trained.run.read_meta_or_none() or {}).get("samples") or {}
    train = samples.get("train")
    share = f"{train:,} of its rows trained the model" if isinstance(train, int) and train <= rows else \
        "its training split's rows trained the model"
    fair = f"`{evaluate_command(trained.run.path)}` scores the test split the run held out" \
        if samples.get("test") else "a file of rows the run never saw is the fair measure"
    return [f"{what}the file the run trained on (data.source.path): {share}, so these scores are optimistic; {fair}"]


def _same_file(a: Path, b: Path) -> str | None:
    """"same": one file, by another path or a link too; "copy": the same bytes in another
    file; None otherwise, or where either is gone."""
    import filecmp

    try:
        return "same" if a.samefile(b) else "copy" if filecmp.cmp(a, b, shallow=False) else None
    except OSError:
        return None


def report_name(source: Path) -> str:
    """A data file's report name: its stem, or where that is a split's name, in any case
    (it would take the split's report), its whole name (``test.csv``:
    ``eval-test.csv.json``), or that and ``-data`` (a file named ``test``)."""
    from nnrun.data import SPLITS

    return next(name for name in (source.stem, source.name, f"{source.name}-data") if name.lower() not in SPLITS)


def _write(report: dict, target: Path, weights_note: str | None, graph: Graph, force: bool) -> dict:
    """Save the report (with the note on where its weights came from, if any, and the
    fingerprint of those weights). A report of other weights under that name (written
    before a resumed run trained on) is kept under a name of its own, not replaced and
    not in the way; so is a report from before fingerprints that differs from this one
    (one that says the same is replaced: nothing is lost), and one of another file of the
    data's name, or of the same file whose bytes changed since (a nightly ``--data
    latest.csv``). A different report of the same weights and data is replaced only if
    ``force``."""
    if weights_note:
        report["weights_note"] = weights_note
    plain = files.json_text(report).encode()  # as reports were written before fingerprints
    report["weights_fingerprint"] = weights_fingerprint(graph)
    data = files.json_text(report).encode()
    kept, why = None, "the weights before"
    existing = _read_report(target)
    force = force or existing == data  # the same report (written with a bare NaN by an older nnrun): no loss
    try:
        if not force and existing is not None and existing != data:
            recorded = _recorded(existing)
            earlier = recorded.get("weights_fingerprint")
            earlier = earlier if isinstance(earlier, str) and len(earlier) == 64 else None
            scored = recorded.get("data")
            unhashed = files.json_text({k: v for k, v in report.items() if k != "data_sha256"}).encode()
            if earlier is None and existing == plain or "data_sha256" not in recorded and existing == unhashed:
                force = True  # the same report, less the fingerprint or the data's hash (an older nnrun's)
            elif earlier != report["weights_fingerprint"]:
                kept = files.keep_aside(target, f"{target.stem}.{'weights-' + earlier[:8] if earlier else 'earlier'}"
                                                f"{target.suffix}")
            elif isinstance(scored, str) and report.get("data") is not None and \
                    Path(scored).resolve() != Path(report["data"]).resolve():  # another file
                kept = files.keep_aside(target, f"{target.stem}.other-data{target.suffix}")
                why = "another file of that name"
            elif isinstance(recorded.get("data_sha256"), str) and recorded["data_sha256"] != report.get("data_sha256"):
                kept = files.keep_aside(target, f"{target.stem}.earlier-data{target.suffix}")  # rows changed since
                why = "the file as it was then"
        files.write_output(target, data, force, other="")
    except OSError as exc:  # a run kept on a read-only disk (an archive), or a full one: the scores still stand
        where = exc.filename or target
        return {**report, "written": None, "not_written": f"{where}: {exc.strerror or exc}"}
    return {**report, "written": str(target), **({"kept": str(kept), "kept_of": why} if kept else {})}


def _read_report(path: Path) -> bytes | None:
    """The bytes of an existing report (a plain file, not a folder or a link), as this
    nnrun writes them: one an older nnrun wrote with a bare NaN reads as the same report."""
    if not path.is_file() or path.is_symlink():
        return None
    try:
        written = path.read_bytes()
    except OSError:
        return None
    try:
        return files.json_text(json.loads(written)).encode()
    except ValueError:  # not JSON: compared as it is
        return written


def _recorded(report: bytes) -> dict:
    """An existing report's top-level values; none where it is no report (not JSON, or
    not a mapping)."""
    try:
        found = json.loads(report)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def diagnose(graph: Graph, data: Dataset, threshold: float | None = None) -> dict:
    """``{"classification": ...}`` (confusion matrix, per-class scores, of two classes
    decided at ``threshold`` where given) for class labels, ``{"regression": ...}``
    (residual statistics) otherwise."""
    outputs = graph.predict(data.x)
    if data.task == "classification":
        return {"classification": classification_report(data.y, outputs, data.class_names or [], threshold)}
    report = residual_report(data.y, outputs)
    if data.target_names and "per_output" in report:  # several targets the data named: their columns say so
        report["output_names"] = list(data.target_names)
    return {"regression": report}
