"""What a client needs to know to call a trained model, as plain JSON.

``nnrun export`` writes it into the ONNX model's metadata and beside the ``.onnx``
file; ``nnrun serve`` answers it at ``GET /metadata`` and builds its request schema
from the same columns. It is read from the run's ``preprocess.json`` and
``meta.json`` (through :class:`~nnrun.store.trained.TrainedRun`):

    task            "classification" or "regression"
    class_names     the classes, in the order of the output columns (None for regression)
    target          the CSV column that held the targets, if any
    target_names    several regression targets' names, in the order of the outputs,
                    where the data named them (a DataFrame of several columns)
    ids             ID columns (data.source.id): accepted with a sample and given back
                    with its prediction, never a feature
    ignored         columns training left out (data.source.ignore): accepted, unused
    missing_values  cell texts read as missing besides "", NA, N/A, #N/A, nan, null and ?
                    (data.source.missing_values; in any case)
    columns         the raw input columns in order: {"name", "type": "number",
                    "category", "date" or "text", "categories" (for a category;
                    "fold_case": true where a value matches one in any case, its
                    spaces tidied: data.source.fold_case),
                    "format" and "time" (for a date: ymd, dmy, mdy or a strptime
                    format, and whether the time of day is a feature), "text" (for
                    a text: tokens, length, vocabulary, ...), "missing": "error" or
                    the value that fills an empty cell ("" for a category whose
                    empty cells are a category of their own, listed last in its
                    "categories": missing_category: own), "unknown" (for a category:
                    "error", or "ignore": an unseen one is all zeros), "thousands"
                    (for a number, when training read a thousands separator),
                    "decimal" (for a number, when training read a decimal comma),
                    "strip_signs" (for a number, the signs training dropped: "$", "%")}
    features        the encoded feature names, in the order of the model's input
                    (a categorical column ``color`` becomes ``color=red``, ...)
    input_shape     the shape of one encoded sample (flat rows are reshaped to it)
    preprocessing   the numeric steps after the encoding (the exported graph applies
                    them itself: give it the encoded features, not standardized ones)
    input_values    what the model's input may hold where not any number: token ids
                    for an embedding ("whole numbers from 0 to 49, ..."); else None
    padding         how a padded step of a sequence is written, where the model masks
                    padding: {"value": 0, "means": "..."} (an embedding's mask_zero:
                    index 0; a masking layer: a step whose every feature is
                    mask_value, after the preprocessing); else None
    run             name, folder's name, config hash, creation time and status of the run (killed for
                    one that died), and for a run without final weights the epoch of
                    the checkpoint used (``weights_epoch``, 0: untrained) and a note;
                    ``scores``: the final weights' loss and metrics on each split, as
                    training recorded them (None for a run that did not complete);
                    a sweep's trial also ``sweep`` (its folder's name) and ``trial``
    weights_fingerprint  SHA-256 of the weights, as ``nnrun evaluate`` reports record it:
                    the same fingerprint, the same weights
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnrun.commands.runs import status_of
from nnrun.data.features import encoded_names
from nnrun.data.labels import quoted_names
from nnrun.model.inputs import input_readers, positions_read
from nnrun.store.preprocessing import SavedPreprocessing
from nnrun.store.run_hints import sweep_of_trial
from nnrun.store.trained import TrainedRun, weights_fingerprint


KINDS = {"numeric": "number", "categorical": "category", "text": "text", "date": "date"}


SHOWN_COLUMNS = 12  # a model of more (an image's pixels) is listed by its first and last columns


def columns_listed(names: list[str]) -> str:
    """A model's columns as a message lists them: a table's all, an image's
    ``pixel_0, pixel_1, pixel_2, ... pixel_63``."""
    return ", ".join(names) if len(names) <= SHOWN_COLUMNS else f"{', '.join(names[:3])}, ... {names[-1]}"


def input_columns(saved: SavedPreprocessing) -> list[dict]:
    """The raw columns a sample is given as: every CSV feature column, or for data
    without columns (bundled, NPZ) one number per feature."""
    if saved.columns is None:
        return [{"name": name, "type": "number", "missing": "error"} for name in saved.feature_names]
    columns = []
    for column in saved.columns.columns:
        entry: dict = {"name": column.name, "type": KINDS[column.kind]}
        if column.kind == "categorical":
            entry["categories"] = list(column.categories or [])
            entry["unknown"] = saved.columns.unknown  # an unseen category: refused, or encoded as all zeros
            if column.fold_case:  # 'DOWNTOWN' is 'Downtown': matched with its case folded and spaces tidied
                entry["fold_case"] = True
        if column.kind == "numeric" and saved.columns.thousands:
            entry["thousands"] = saved.columns.thousands  # a number sent as text may hold it ("53,697")
        if column.kind == "numeric" and saved.columns.decimal != ".":
            entry["decimal"] = saved.columns.decimal  # and is written with it ("3,25")
        if column.kind == "numeric" and saved.columns.strip_signs:
            entry["strip_signs"] = list(saved.columns.strip_signs)  # and with signs around it ("$1,234.50")
        if column.kind == "date":  # how its cells are written, and whether the time of day is a feature
            entry["format"], entry["time"] = column.format, bool(column.time)
        if column.kind == "text":  # how the text becomes token indices (nnrun.data.text)
            entry["text"] = column.text.model_dump()
            entry["missing"] = ""  # an empty text is all padding
        else:
            entry["missing"] = "error" if column.fill is None else column.fill
        columns.append(entry)
    return columns


def model_card(trained: TrainedRun) -> dict:
    """The description above, for a loaded run."""
    saved, config = trained.preprocessing, trained.config
    encoding = saved.encoding()
    meta = trained.run.read_meta_or_none() or {}  # an unreadable meta.json leaves these facts unknown
    return {
        "task": saved.task,
        "class_names": list(saved.class_names or []) if saved.task == "classification" else None,
        "target": saved.target,
        "target_names": saved.target_names,
        "ids": list(saved.columns.ids) if saved.columns else [],
        "ignored": list(saved.columns.ignored) if saved.columns else [],
        "missing_values": list(saved.columns.missing_values) if saved.columns else [],
        "columns": input_columns(saved),
        "features": encoded_names(encoding) if encoding else list(saved.feature_names),
        "input_shape": list(saved.input_shape),
        "preprocessing": [step.model_dump(mode="json") for step in config.data.preprocess],
        **input_rules(trained.graph, [step.type for step in config.data.preprocess], encoded_names(encoding) if
                      encoding else list(saved.feature_names)),
        "run": {"name": config.name, "folder": trained.run.path.resolve().name, "config_hash": meta.get("config_hash"),
                "created": meta.get("started"),
                "status": status_of(trained.run.path, meta) if meta else None,
                # Set when the run has no final weights: the checkpoint's epoch (0: untrained), and why.
                "weights_epoch": trained.weights_epoch, "weights_note": trained.weights_note,
                "scores": meta.get("final") if meta.get("status") == "completed" else None,
                **_trial_of(trained.run.path)},
        "weights_fingerprint": weights_fingerprint(trained.graph),
    }


def _trial_of(path) -> dict:
    """A sweep's trial names its sweep and trial ({"sweep": "iris-search-...", "trial":
    "003"}): its config's name is the base config's, which every trial shares, and a
    shipped model is traced back to the trial that made it."""
    sweep = sweep_of_trial(path)
    return {"sweep": sweep.resolve().name, "trial": Path(path).resolve().name} if sweep is not None else {}


def input_rules(graph, preprocess: list[str] = (), names: list[str] | None = None) -> dict:
    """``input_values`` and ``padding`` (see above) from the layers that read the model
    input's values (directly, or through a select or reshape): nothing in the encoded
    features says either, and a client that pads with another value, or sends an index
    out of range, gets answers with no error. ``preprocess``: the steps before the graph;
    ``names``: the features', to say which a rule is of where it is not of them all."""
    width, accepted, padding = int(np.prod(graph.input_shape)), [], None
    for node in input_readers(graph):
        layer, read = node.layer, sorted(set(positions_read(graph, node)))
        of = f"{quoted_names([names[p] for p in read], SHOWN_COLUMNS)}: " if names and len(read) < width else ""
        if (text := layer.accepted_inputs()) != "any number":
            accepted.append(of + text)
        if layer.type == "embedding" and layer.mask_zero:
            padding = {"value": 0, "means": f"{of}a token index of 0 is padding: the layers after the embedding "
                                            "leave it out"}
        elif layer.type == "masking":
            after = (f"after data.preprocess ({', '.join(preprocess)}; write the value it becomes, as the exported "
                     "graph applies it first)") if preprocess else "as given"
            padding = {"value": layer.mask_value,
                       "means": f"{of}a step whose every feature is {layer.mask_value:g} {after} is padding: the "
                                "layers after the masking layer leave it out"}
    return {"input_values": "; ".join(sorted(set(accepted))) or None, "padding": padding}
