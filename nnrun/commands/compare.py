"""``nnrun compare RUN_A RUN_B``: what differs in the configs, beside what it did to
the metrics.

Configs are compared after resolution (``config.yaml`` in a run has every default
filled in), flattened to dotted paths such as ``optimizer.learning_rate`` or
``model.layers.0.units``, so a difference is named exactly as ``--set`` would name it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnrun.config import with_defaults
from nnrun.config.diff import MISSING, config_differences
from nnrun.config.loader import read_yaml
from nnrun.errors import UserError
from nnrun.model.metrics import POSITIVE_CLASS_METRICS
from nnrun.model.target_scale import COMPARED_WITH
from nnrun.store.history import epochs_trained, read_metrics, run_best_row
from nnrun.store.preprocessing import saved_class_names
from nnrun.store import tensorfile
from nnrun.store.rundir import RunDir
from nnrun.store.trained import unfinished
from nnrun.store.unedited import unedited


def run_metrics(path: Path) -> dict[str, float]:
    """Flat ``split.metric`` -> value from meta.json's final scores, plus the best
    epoch and the epoch count: a completed run's as meta.json records them (whatever
    became of metrics.csv since), else from metrics.csv."""
    meta = RunDir(path).read_meta()
    final = meta.get("final")
    values: dict[str, float] = {}
    for split, scores in (final or {}).items():
        for name, value in (scores or {}).items():
            values[f"{split}.{name}"] = value
    completed = meta.get("status") == "completed" and isinstance(meta.get("epochs_completed"), int)
    history = [] if completed else read_metrics(RunDir(path).metrics)
    values["epochs"] = epochs_trained(meta, history)
    best = meta.get("best_epoch") if completed else (run_best_row(path, history) or {}).get("epoch")
    if isinstance(best, int):
        values["best_epoch"] = best
    return values


@dataclass(frozen=True)
class Comparison:
    differences: list  # (dotted path, value in A, value in B), config keys that differ
    metrics_a: dict[str, float]
    metrics_b: dict[str, float]
    ran: list = ()  # (what, in A, in B): how the runs ran, where that differs (processes, BLAS threads)
    # Whether both trained on the same samples (None: not recorded, or the config's seed or data differ).
    same_data: bool | None = None
    loss_units: str | None = None  # why the two runs' losses do not compare, where they do not
    edited: list = ()  # the config.yaml files changed since their run wrote them: they no longer describe it
    # The held-out splits whose rows differ (the split or the seed differ): their scores are of other samples.
    other_rows: list = ()
    positives: str | None = None  # why their binary scores do not compare (another class order), where they do not
    # Whether the final weights (model.safetensors) are the same bit for bit; None where a
    # run has none, or either file is damaged. Where they differ, by how much (see _weights).
    same_weights: bool | None = None
    weights: str | None = None


def _loss_units(differences: list, units: list[str]) -> str | None:
    """Why the runs' loss values do not compare, where a difference in their configs
    puts them in other units: another loss, targets standardized in one run only, or
    other class weights (``units``: each run's :func:`loss_units_of`)."""
    paths = {path: (a, b) for path, a, b in differences}
    kinds = {loss_scale(v) for v in paths.get("loss", paths.get("loss.type", ()))}
    if len(kinds) > 1:
        return "the runs minimize different losses, so their loss values do not compare; compare their metrics"
    if "data.target_scale" in paths:
        own = "the target's own"
        a, b = (f"of {COMPARED_WITH.get(value, own)}" for value in paths["data.target_scale"])
        return (f"the losses are in different units: {a} in the first run, {b} in the second (data.target_scale); "
                "mae, rmse and r2 are in the target's units in both")
    if units[0] != units[1]:  # the class weights, by class: a balanced run's loss reads several times higher
        return ("the losses weigh the classes otherwise (loss.class_weights), so their loss values do not compare; "
                "compare their metrics")
    return None


def loss_units_of(path: Path) -> str:
    """What a run's loss values measure (:func:`loss_units`), from its config.yaml and its
    class names: what compare, nnrun runs and nnrun plot tell losses apart by; '?' where
    the config is unreadable."""
    from nnrun.config.yaml_reader import read_saved

    run = RunDir(Path(path))
    config = read_saved(run.config)
    if not isinstance(config, dict):
        return "?"
    return loss_units(config.get("loss"), (config.get("data") or {}).get("target_scale"), saved_class_names(run))


def loss_units(loss, target_scale: str | None = None, classes: list[str] | None = None) -> str:
    """What a run's loss values measure (``loss``: its config's loss, a name or a
    mapping), for telling apart losses that do not compare: the loss by its scale, with
    the class weights it counts each sample by (by class name where ``classes`` are
    known: the same weights listed in another class order are the same) and
    standardized targets said."""
    weights = loss.get("class_weights") if isinstance(loss, dict) else None
    if isinstance(weights, list):
        named = classes if classes and len(classes) == len(weights) else None
        shown = sorted(zip(named, weights)) if named else list(enumerate(weights))
        weighted = " weighted by class (" + ", ".join(f"{c} {w:g}" if named else f"{w:g}" for c, w in shown) + ")"
    else:
        weighted = f" weighted by class ({weights})" if weights is not None else ""
    return loss_scale(loss) + weighted + (f" of {COMPARED_WITH[target_scale]}" if target_scale in COMPARED_WITH else "")


def loss_scale(loss) -> str:
    """The loss a config names (a name, a mapping or a block), by what its values
    measure: a ``sparse_`` cross-entropy is its dense form on integer labels, one scale."""
    kind = loss.get("type") if isinstance(loss, dict) else getattr(loss, "type", loss)
    return str(kind if kind is not None else "?").removeprefix("sparse_")


# How a run ran, beside its config: each changes the rounding, so the same config can
# end with other weights (meta.json's keys; one name for the screen).
RAN = (("processes", ("world_size",)), ("BLAS threads", ("environment", "blas_threads")))


def _ran(meta: dict, keys: tuple[str, ...]):
    for key in keys:
        meta = meta.get(key) if isinstance(meta, dict) else None
    return meta


def compare(run_a: str | Path, run_b: str | Path) -> Comparison:
    runs = RunDir.open(run_a), RunDir.open(run_b)
    configs = []
    for run in runs:
        data = read_yaml(run.config)[0]
        if not isinstance(data, dict):
            raise UserError(f"{run.config}: not a config (expected a mapping of sections)")
        configs.append(with_defaults(data, run.path))  # settings added since a run was trained are no difference
    metas = [run.read_meta_or_none() or {} for run in runs]
    ran = [(what, _ran(metas[0], keys), _ran(metas[1], keys)) for what, keys in RAN]
    differences = config_differences(*configs)
    # The fingerprint is of the training split's samples: a seed or a data setting that
    # differs changes it as well, and the config table says that already. With neither,
    # the data itself changed (a file edited between the runs).
    data = [meta.get("dataset_fingerprint") for meta in metas]
    data_settings_differ = any(path == "seed" or path.startswith("data.") for path, _, _ in differences)
    same_data = data[0] == data[1] if all(isinstance(f, str) for f in data) and not data_settings_differ else None
    if same_data is False:  # the first digits name it, as git names a commit
        ran.append(("data (fingerprint)", data[0][:8], data[1][:8]))
    edited = [str(run.config) for run in runs if not unedited(run)]
    splits = [meta.get("split_fingerprints") if isinstance(meta.get("split_fingerprints"), dict) else {}
              for meta in metas]
    # Only where the seed or the split differ: an edited file or other features change the
    # fingerprints of the same rows too (said by the data note and the config table).
    split_differs = any(path == "seed" or path.startswith("data.split.") for path, _, _ in differences)
    other_rows = [name for name in ("validation", "test") if name in splits[0] and name in splits[1]
                  and splits[0][name] != splits[1][name]] if split_differs else []
    classes = [saved_class_names(run) for run in runs]
    metrics_a, metrics_b = run_metrics(runs[0].path), run_metrics(runs[1].path)
    return Comparison(differences, metrics_a, metrics_b,
                      [row for row in ran if row[1] != row[2] and None not in row[1:]], same_data,
                      _loss_units(differences, [loss_units_of(run.path) for run in runs]), edited, other_rows,
                      _positives(classes, [metrics_a, metrics_b]), *_weights(runs, metas))


def _weights(runs, metas) -> tuple[bool | None, str]:
    """Whether the runs' final weights are identical bit for bit, and the line that says
    so: where they are of one model, the largest difference and in which weight;
    reproducing a run on another machine (another BLAS) differs by rounding, 1e-7 or
    so, and an edited seed by far more."""
    read = []
    for run, meta, name in zip(runs, metas, "AB"):
        if not run.weights.is_file():
            status = meta.get("status")
            why = "deleted since it completed?" if status == "completed" else \
                f"the run is {unfinished(run, meta)}" if isinstance(status, str) else "its meta.json does not say why"
            return None, f"run {name} has no final weights (model.safetensors): {why}"
        try:
            read.append(tensorfile.read(run.weights)[0])
        except UserError as exc:
            return None, f"not compared: {exc.message}"
    a, b = read
    if sorted(a) != sorted(b) or any(a[key].shape != b[key].shape for key in a):  # (read in no set order)
        return False, "of other models (other weights or shapes)"
    if all(a[key].dtype == b[key].dtype and a[key].tobytes() == b[key].tobytes() for key in a):
        return True, "identical, bit for bit"
    for key in sorted(a):
        nan_a, nan_b = np.isnan(a[key]), np.isnan(b[key])
        if not np.array_equal(nan_a, nan_b):
            holds, other = ("A", "B") if (nan_a & ~nan_b).any() else ("B", "A")
            return False, f"differ: run {holds}'s {key} holds NaN where run {other}'s holds a number"
    with np.errstate(invalid="ignore"):  # NaN in both alike: no difference there
        gaps = {key: float(np.nanmax(np.abs(a[key].astype(np.float64) - b[key]), initial=0.0)) for key in sorted(a)}
    largest = max(gaps, key=gaps.get)
    if not gaps[largest]:  # equal values in other bits: -0.0 for 0.0, or another dtype
        return False, "differ in their bits only (the same values: -0.0 for 0.0, or another dtype)"
    return False, f"differ: by at most {gaps[largest]:.3g}, in {largest}"


def _positives(classes: list, metrics: list[dict]) -> str | None:
    """Two classes in the other order in each run (data.classes): the binary scores either
    run records (``metrics``: split.metric -> value) are of other classes."""
    a, b = classes
    scored = [name for name in POSITIVE_CLASS_METRICS if any(key.endswith(f".{name}") for m in metrics for key in m)]
    if a is None or b is None or len(a) != 2 or sorted(a) != sorted(b) or a == b or not scored:
        return None
    listed = " and ".join([", ".join(scored[:-1]), scored[-1]] if len(scored) > 1 else scored)
    return (f"the runs order the classes otherwise (data.classes): {listed} score{'s' * (len(scored) == 1)} "
            f"'{a[1]}' in A and '{b[1]}' in B, so those values do not compare")


def as_record(result: Comparison, run_a: str | Path, run_b: str | Path) -> dict:
    """The comparison as plain data (``nnrun compare --json``): each config value that
    differs (``a`` or ``b`` left out where that run's config lacks the key), each metric
    of either run with B - A, how the runs ran where that differs, and whether they
    trained on the same data (null: not known), and why their losses do not compare
    (``loss_units``; null where they do); ``same_weights`` (null: a run has no final
    weights) and ``weights``, the line that says how they differ."""
    def values(a, b) -> dict:
        return {**({"a": a} if a is not MISSING else {}), **({"b": b} if b is not MISSING else {})}

    names = [*result.metrics_a, *(name for name in result.metrics_b if name not in result.metrics_a)]
    metrics = {}
    for name in names:
        a, b = result.metrics_a.get(name), result.metrics_b.get(name)
        metrics[name] = {"a": a, "b": b, "difference": None if a is None or b is None else b - a}
    return {
        "a": str(run_a), "b": str(run_b),
        "config": [{"key": key, **values(a, b)} for key, a, b in result.differences],
        "metrics": metrics,
        "ran": [{"what": what, "a": a, "b": b} for what, a, b in result.ran],
        "same_data": result.same_data,
        "loss_units": result.loss_units,
        "edited_configs": list(result.edited),
        "other_rows": list(result.other_rows),
        "positives": result.positives,
        "same_weights": result.same_weights,
        "weights": result.weights,
    }
