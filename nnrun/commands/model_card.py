"""What a client needs to know to call a trained model, as plain JSON.

``nnrun export`` writes it into the ONNX model's metadata and beside the ``.onnx``
file; ``nnrun serve`` answers it at ``GET /metadata`` and builds its request schema
from the same columns. It is read from the run's ``preprocess.json`` and
``meta.json``:

    task            "classification" or "regression"
    class_names     the classes, in the order of the output columns (None for regression)
    target          the CSV column that held the targets, if any
    columns         the raw input columns in order: {"name", "type": "number" or
                    "category", "categories" (for a category), "missing": "error" or
                    the value that fills an empty cell}
    features        the encoded feature names, in the order of the model's input
                    (a categorical column ``color`` becomes ``color=red``, ...)
    input_shape     the shape of one encoded sample (flat rows are reshaped to it)
    preprocessing   the numeric steps after the encoding (the exported graph applies
                    them itself: give it the encoded features, not standardized ones)
    run             name, config hash, creation time and status of the run
"""

from __future__ import annotations

from pathlib import Path

from nnrun.data.table import encoded_names
from nnrun.store import rundir


def input_columns(saved: dict) -> list[dict]:
    """The raw columns a sample is given as: every CSV feature column, or for data
    without columns (bundled, NPZ) one number per feature."""
    encoding = saved.get("columns")
    if not encoding:
        return [{"name": name, "type": "number", "missing": "error"} for name in saved["feature_names"]]
    columns = []
    for column in encoding["columns"]:
        entry = {"name": column["name"], "type": "number" if column["kind"] == "numeric" else "category"}
        if column["kind"] == "categorical":
            entry["categories"] = list(column["categories"])
        entry["missing"] = "error" if column.get("fill") is None else column["fill"]
        columns.append(entry)
    return columns


def model_card(run_path: Path, config, saved: dict) -> dict:
    """The description above, for the run at ``run_path``."""
    encoding = saved.get("columns")
    return {
        "task": saved["task"],
        "class_names": saved.get("class_names") if saved["task"] == "classification" else None,
        "target": saved.get("target"),
        "columns": input_columns(saved),
        "features": encoded_names(encoding) if encoding else list(saved["feature_names"]),
        "input_shape": list(saved["input_shape"]),
        "preprocessing": [step.model_dump(mode="json") for step in config.data.preprocess],
        "run": _run_facts(run_path, config),
    }


def _run_facts(run_path: Path, config) -> dict:
    try:
        meta = rundir.read_json(run_path / "meta.json")
    except Exception:  # an unreadable meta.json leaves the facts unknown, not the model unusable
        meta = {}
    meta = meta if isinstance(meta, dict) else {}
    return {"name": config.name, "config_hash": meta.get("config_hash"), "created": meta.get("started"),
            "status": meta.get("status")}
