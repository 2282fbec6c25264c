"""A trained run, loaded back: its config, saved preprocessing and graph with weights.

    trained = TrainedRun.load("runs/iris-20260101-120000")
    probabilities = trained.outputs(trained.prepare(x))

``evaluate --data``, ``predict`` and the Python API all start here, and need nothing
of the training data: the column encoding and the fitted preprocessing come from
``preprocess.json``, the weights from ``model.safetensors``, or, for a run that did not
complete (interrupted, failed, killed, still training), from its newest valid checkpoint,
with a note saying so (:func:`run_weights`). Every file is read as untrusted input
(names, shapes, dtypes and checksums are checked before use).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnrun.config import Config, anchored, load_config
from nnrun.errors import UserError, listed_samples, resume_command, train_command
from nnrun.data.preprocess import apply_pipeline
from nnrun.model.graph import Graph, compile_graph
from nnrun.model.inputs import input_readers, values_read
from nnrun.model.target_scale import TargetScale
from nnrun.seeding import stream
from nnrun.store import checkpoints, files
from nnrun.store.preprocessing import SavedPreprocessing, check_outputs, read_preprocessing
from nnrun.store.rundir import RunDir
from nnrun.store.tensorfile import check_like, load_weights, read
from nnrun.store.unedited import check_preprocessing_unedited, check_unedited


@dataclass
class TrainedRun:
    run: RunDir
    config: Config
    preprocessing: SavedPreprocessing
    graph: Graph  # with the run's final weights loaded
    weights_note: str | None = None  # set when the weights come from a checkpoint (see run_weights)
    weights_epoch: int | None = None  # that checkpoint's epoch

    @classmethod
    def load(cls, run_dir) -> "TrainedRun":
        run = RunDir.open(run_dir)
        config = anchored(load_config(run.config).config, run.path)
        check_unedited(run, config)
        saved = read_preprocessing(run.path, config)
        graph = compile_graph(config.model.layers, tuple(saved.input_shape), config.loss,
                              rng=stream(config.seed, "init"), features=saved.feature_positions())
        check_outputs(run.path, saved, int(np.prod(graph.output_shape)))
        check_preprocessing_unedited(run)
        if saved.target_scale is not None:
            graph.target_scale = TargetScale.of(saved.target_scale.model_dump(), graph.dtype, graph.output_shape)
        found = run_weights(run, graph.state())
        graph.load_state(found.weights, str(found.source))
        return cls(run, config, saved, graph, found.note, found.epoch)

    def require_trained(self, doing: str) -> None:
        """Refuse to ship weights no epoch trained (``doing``: "export", "serve"): a run
        killed or failed before its first checkpoint after an epoch holds only those it
        started from, which evaluate and predict may look at, with a note."""
        if self.weights_epoch == 0:
            meta = self.run.read_meta()
            raise UserError(f"{self.run.path}: nothing to {doing}: the run is {unfinished(self.run, meta)} and no "
                            "epoch of it trained the weights (it kept only the checkpoint saved as it began)",
                            hint=_what_next(self.run, meta))

    @property
    def output_width(self) -> int:
        return int(np.prod(self.graph.output_shape))

    def prepare(self, x: np.ndarray, owned: bool = False, source: str = "x", lines=None) -> np.ndarray:
        """Apply the saved preprocessing to encoded samples (N, *input_shape); with
        ``owned`` (the caller's fresh matrix) they are overwritten, not copied. A sample
        that leaves float32's range on the way (3e38 standardized), or that a layer
        cannot read (a token index beyond an embedding's vocabulary), is refused, naming
        ``source`` (and the sample's file line, by ``lines``, where they came from a file)."""
        with np.errstate(over="ignore", invalid="ignore"):  # reported below, not as a NumPy warning
            prepared = apply_pipeline(self.config.data.preprocess, self.preprocessing.states, x, owned)
        if self.config.data.preprocess:
            refuse_non_finite(prepared, source, "once preprocessed as in training", self.preprocessing.feature_names,
                              lines=lines)
        refuse_unreadable(self.graph, prepared, source)
        return prepared

    def outputs(self, prepared: np.ndarray, source: str = "x", lines=None) -> np.ndarray:
        """The model's outputs for prepared samples, refusing any that are not finite
        (inputs so far beyond training's that a product overflowed float32)."""
        with np.errstate(over="ignore", invalid="ignore"):
            outputs = self.graph.predict(prepared)
        refuse_non_finite(outputs, source, "in the model's outputs", unit="output", lines=lines)
        return outputs


def refuse_unreadable(graph: Graph, x: np.ndarray, source: str) -> None:
    """A UserError naming the samples of ``x`` that a layer reading the input's values
    cannot take (an embedding: a token index beyond the vocabulary it learned)."""
    for node in input_readers(graph):
        wrong = node.layer.wrong_inputs(values := values_read(graph, node, x))  # the values it reads of x
        if wrong is None:
            continue
        bad = np.flatnonzero(wrong.reshape(len(x), -1).any(axis=1))
        first = int(bad[0])
        value = float(values[first][wrong[first]].flat[0])
        error = UserError(f"{source}: {len(bad)} sample{'s hold values' if len(bad) != 1 else ' holds a value'} the "
                          f"model's {node.layer.type} layer cannot look up ({listed_samples(bad)}, counted from 0; "
                          f"sample {first} holds {value:g}); it takes {node.layer.accepted_inputs()}",
                          hint="write such values as one the model trained with (the index your tokenizer gave "
                               "unknown words, say), or leave those samples out")
        error.details = {"sample": first, "feature": None}  # for an answer that names them (serve)
        raise error


def refuse_non_finite(values: np.ndarray, source: str, where: str, names: list[str] | None = None,
                      unit: str = "value", lines=None) -> None:
    """A UserError naming the samples of ``values`` that hold NaN or infinity (by their
    file ``lines`` where given), and the first one's feature (by ``names``, for flat
    samples, else its ``unit`` by position); nothing when all are finite."""
    bad = non_finite_samples(values)
    if not len(bad):
        return
    first = int(bad[0])
    column = int(np.flatnonzero(~np.isfinite(values[first].reshape(-1)))[0])
    feature = names[column] if names and values.ndim == 2 and column < len(names) else None
    at = f"feature '{feature}'" if feature is not None else f"{unit} {column}"
    listed = listed_samples(bad, lines) + (", counted from 0" if lines is None else "")
    listed += f", at {at}" if len(bad) == 1 else f"; the first at {at}"
    error = UserError(f"{source}: {len(bad)} sample{'s go' if len(bad) != 1 else ' goes'} beyond float32's range "
                      f"{where} ({listed}), so the model could only answer NaN",
                      hint="such values lie far outside what the model trained on: check them (a unit, a misplaced "
                           "decimal point?) or leave those samples out")
    error.details = {"sample": first, "feature": feature}  # for an answer that names them (serve)
    raise error


def non_finite_samples(values: np.ndarray) -> np.ndarray:
    """The indices of the samples (first axis) holding NaN or infinity; usually none,
    found in one pass without a copy (a finite sum proves every value finite)."""
    with np.errstate(over="ignore", invalid="ignore"):  # inf - inf: NaN, no warning
        if np.isfinite(np.add.reduce(values.reshape(-1), dtype=np.float64)):
            return np.empty(0, np.int64)
    return np.flatnonzero(~np.isfinite(values.reshape(len(values), -1)).all(axis=1))


def load_run_weights(run: RunDir, graph: Graph) -> str | None:
    """Copy a run's weights into ``graph`` (see :func:`run_weights`); returns the note."""
    found = run_weights(run, graph.state())
    graph.load_state(found.weights, str(found.source))
    return found.note


@dataclass(frozen=True)
class RunWeights:
    weights: dict[str, np.ndarray]  # checked against the graph's names, shapes and dtypes
    source: Path  # model.safetensors or a checkpoint file
    epoch: int | None  # the checkpoint's epoch; None for model.safetensors
    note: str | None  # for people, when the weights are not the run's final ones


def run_weights(run: RunDir, like: dict[str, np.ndarray]) -> RunWeights:
    """The weights of a run: ``model.safetensors`` once it has completed; otherwise those
    of its newest valid checkpoint (a damaged one is skipped for the one before it), with
    a note naming it, and ``model.safetensors`` only if no checkpoint is usable.

    ``evaluate``, ``predict``, ``export`` and ``nnrun.load`` all ask here, so an
    interrupted or killed run can be scored and used without being resumed first.
    """
    meta = run.read_meta()  # without it, a checkpoint's weights could pass for the final ones
    if meta.get("status") == "completed" or not checkpoints.candidates(run.path):
        if meta.get("status") not in (None, "completed") and not run.weights.exists():  # checkpoints off
            live = run.is_writing()
            raise UserError(f"{run.path}: the run is {unfinished(run, meta)} and {'has saved' if live else 'saved'} "
                            "no weights: it has no model.safetensors, and no checkpoint to take them from",
                            hint="wait for it to finish (training.checkpoint is off, so it saves none before)" if live
                            else f"train it again with: {train_command(run.config)}")
        return RunWeights(load_weights(run.weights, like=like), run.weights, None, None)
    skipped = []
    for path in checkpoints.candidates(run.path):
        try:
            weights, epoch = _checkpoint_weights(path, like)
        except UserError as exc:
            skipped.append(exc.message)
            continue
        if epoch == 0:  # saved as training began: what it scores is the initializers' guess
            # A live run may be thousands of epochs in: checkpoints follow a time budget.
            when = (f" and has written no checkpoint after an epoch yet (it writes one {_cadence(run)})"
                    if unfinished(run, meta) == "still training" else " before its first checkpoint after an epoch")
            note = (f"untrained weights: the run is {unfinished(run, meta)}{when}, so the weights are those it "
                    f"started from ({path}); {_what_next(run, meta)}")
        else:
            note = (f"the run is {unfinished(run, meta)} and has no final weights; using those of its newest valid "
                    f"checkpoint, {path} (after epoch {epoch})")
        if skipped:
            note += f"; skipped: {'; '.join(skipped)}"
        return RunWeights(weights, path, epoch, note)
    if run.weights.exists():
        return RunWeights(load_weights(run.weights, like=like), run.weights, None, None)
    raise UserError(f"{run.path}: the run is {unfinished(run, meta)}, has no model.safetensors and no valid "
                    f"checkpoint" + "".join(f"\n  {reason}" for reason in skipped),
                    hint=f"train it again with: {train_command(run.config)}")


def _checkpoint_weights(path: Path, like: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], int]:
    """The model's tensors of one checkpoint (``model/<name>``), checked like weights."""
    arrays, metadata = read(path)
    if metadata.get("format") != checkpoints.FORMAT:
        raise UserError(f"{path}: not an nnrun checkpoint (format {metadata.get('format')!r})")
    weights = {name.removeprefix("model/"): value for name, value in arrays.items() if name.startswith("model/")}
    check_like(path, weights, like)
    epoch = metadata.get("epoch", "")
    if not epoch.isdigit():
        raise UserError(f"{path}: the checkpoint's metadata is incomplete (no epoch)")
    return weights, int(epoch)


def _cadence(run: RunDir) -> str:
    """How often a live run writes checkpoints, from its config.yaml."""
    try:
        every = load_config(run.config).config.training.checkpoint
    except UserError:  # its config.yaml unreadable: the run still trains by the one it read
        every = None
    if every is None:
        return "as its training.checkpoint says"
    if every.every_epochs is not None:
        return f"every {every.every_epochs} epoch{'s' if every.every_epochs > 1 else ''}"
    return f"every {every.every_seconds:g} s"


def _what_next(run: RunDir, meta: dict) -> str:
    """How to get trained weights from a run that has none yet."""
    if meta.get("status") == "running" and run.is_writing():
        return "wait for its next checkpoint"
    if meta.get("status") == "failed":  # resumed, it would fail the same way
        return f"fix what failed (meta.json says what), then train it again: {train_command(run.config)}"
    return f"train it on with: {resume_command(run.path)}"


def unfinished(run: RunDir, meta: dict) -> str:
    """How a run that did not complete ended, in words."""
    status = meta.get("status")
    if status == "running":
        return "still training" if run.is_writing() else "killed (it stopped without a word)"
    return {"interrupted": "interrupted", "failed": "one that failed", "pruned": "pruned"}.get(status, "unfinished")


def weights_fingerprint(graph: Graph) -> str:
    """SHA-256 of every weight (trainable or not), in the graph's order: what an evaluation
    report, an export and a served model's card say they scored or hold."""
    return files.bytes_hash(np.ascontiguousarray(graph.weight_buffer))
