"""Scoring a trained graph on a split, and ``nnrun evaluate`` on a run directory."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnrun.store import rundir
from nnrun.config import Config
from nnrun.config.loader import LoadedConfig
from nnrun.data import Dataset
from nnrun.data.preprocess import apply_pipeline
from nnrun.errors import UserError
from nnrun.model.graph import Graph
from nnrun.model.metrics import METRICS
from nnrun.store.preprocessing import read_preprocessing


def evaluate_split(graph: Graph, config: Config, data: Dataset, batch_size: int = 1024) -> dict[str, float]:
    """Loss and metrics of the graph in inference mode over a whole split."""
    raw = np.empty((len(data), *graph.output_shape), graph.dtype)
    for start in range(0, len(data), batch_size):
        out, _ = graph.forward(data.x[start : start + batch_size], training=False)
        raw[start : start + batch_size] = out
    loss, _ = config.loss(raw, data.y, graph.output_activation is not None)
    probs = graph.activate(raw)
    scores = {"loss": loss + graph.penalty()}  # regularization included, as in training
    scores.update({name: METRICS[name].fn(data.y, probs) for name in config.metrics})
    return scores


def load_run(run_dir: str | Path):
    """Rebuild a finished run: its config, split, saved preprocessing and weights."""
    from nnrun.engine.experiment import build

    path = rundir.open_existing(run_dir)
    loaded = _load_saved_config(path)
    saved = read_preprocessing(path, loaded.config)
    states = saved["states"]
    experiment = build(loaded, preprocess_states=states, columns=saved.get("columns"), warm_start=False)
    _check_same_data(path, experiment)
    # Checked as untrusted input: names, shapes, dtypes and the checksum (see rundir).
    weights = rundir.load_weights(path / "model.safetensors", like=experiment.graph.state())
    experiment.graph.load_state(weights, str(path / "model.safetensors"))
    return path, experiment


def _check_same_data(path: Path, experiment) -> None:
    """The rebuilt splits must be the ones the run trained on: a data file edited since
    (rows added, removed or reordered) would otherwise mix training rows into the test."""
    meta = rundir.read_json(path / "meta.json")
    recorded = meta.get("split_fingerprints") if isinstance(meta, dict) else None
    if recorded is None:
        return  # written before split fingerprints were recorded
    now = experiment.split_fingerprints or {}
    if not isinstance(recorded, dict) or set(recorded) != set(now) or not all(
        isinstance(v, str) and len(v) == 64 for v in recorded.values()
    ):
        raise UserError(f"{path / 'meta.json'}: damaged: its split_fingerprints do not describe the run's splits")
    changed = sorted(name for name in now if recorded[name] != now[name])
    if changed:
        raise UserError(
            f"{path}: the data no longer matches the run: the {', '.join(changed)} split"
            f"{'s differ' if len(changed) > 1 else ' differs'} from training (its fingerprint in meta.json)",
            hint="the data file changed since training; restore it, train a new run on the new data, "
            "or score the new file with --data FILE",
        )


def _load_saved_config(path: Path) -> LoadedConfig:
    from nnrun.config import load_config

    return load_config(path / "config.yaml")


def evaluate(run_dir: str | Path, split: str = "test", data: str | Path | None = None) -> dict:
    """Score a run's final weights on one of its splits, or on the labelled file
    ``data`` (CSV with the training columns and the target, or NPZ with x and y);
    writes ``eval.json``."""
    if data is not None:
        return _evaluate_file(run_dir, Path(data))
    path, experiment = load_run(run_dir)
    if split not in experiment.splits:
        available = ", ".join(experiment.splits)
        raise UserError(f"{path}: the run has no {split} split (it has: {available})",
                        hint="choose one with --split, or hold one out with data.split in the config")
    scores = evaluate_split(experiment.graph, experiment.config, experiment.splits[split])
    report = {"split": split, "samples": len(experiment.splits[split]), "metrics": scores}
    report.update(diagnose(experiment.graph, experiment.splits[split]))
    rundir.write_json(path / "eval.json", report)
    return report


def _evaluate_file(run_dir, source: Path) -> dict:
    from nnrun.commands.predict import load_model, read_labelled

    path, config, saved, graph = load_model(run_dir)
    x, y = read_labelled(source, saved, int(np.prod(graph.output_shape)))
    x = apply_pipeline(config.data.preprocess, saved["states"], x)
    data = Dataset(x, y, saved["task"], saved["feature_names"], saved["class_names"])
    report = {"data": str(source), "samples": len(data), "metrics": evaluate_split(graph, config, data)}
    report.update(diagnose(graph, data))
    rundir.write_json(path / "eval.json", report)
    return report


def diagnose(graph: Graph, data: Dataset) -> dict:
    """``{"classification": ...}`` (confusion matrix, per-class scores) for class
    labels, ``{"regression": ...}`` (residual statistics) otherwise."""
    from nnrun.model.diagnostics import classification_report, residual_report

    outputs = graph.predict(data.x)
    if data.task == "classification":
        return {"classification": classification_report(data.y, outputs, data.class_names or [])}
    return {"regression": residual_report(data.y, outputs)}
