"""``nnrun init [--dataset NAME | --data FILE.csv --target COLUMN] [-o FILE]``: a
commented starter config that validates.

The config is written for one of the bundled data sets (``nnrun.data.sources.BUILTIN``):
a small dense network whose output, loss and metrics fit the data set's task and
number of classes; or for one's own CSV file (:mod:`.init_csv`). The text is checked
with the real loader before it is written, and an existing file is never overwritten.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from nnrun.commands.commented import pad as _pad
from nnrun.data.sources import BUILTIN, BuiltinSource
from nnrun.errors import UserError, did_you_mean

DEFAULT_DATASET = "iris"

HEADER = """\
# yaml-language-server: $schema=nnrun.schema.json
{schema_note}# Starter config for the bundled '{name}' data set: {description}.
# Train it:       nnrun train {path}
# Then evaluate:  nnrun evaluate runs/{name}-<time>
# Every option:   nnrun layers
name: {name}
seed: 42                                  # seeds the split, initial weights, shuffling, dropout
data:
  source: {{type: builtin, name: {name}}}
  split: {{validation: 0.1, test: 0.2{stratify}}}{split_pad}# held-out fractions; the rest trains
  preprocess: [{{type: {preprocess}}}]{preprocess_pad}# fitted on the training split only
model:
  layers:                                 # input to output; shapes are checked before training
"""

FLATTEN = "    - {type: flatten}                     # images (height, width, channels) -> one vector\n"

CLASSIFIER = """\
    - {{type: dense, units: 64, activation: relu}}
    - {{type: dropout, rate: 0.1}}          # zeroes 10% of the units at random while training
    - {{type: dense, units: {units}, activation: {activation}}}{output_pad}# {why}
loss: {loss}
optimizer: {{type: adam, learning_rate: 0.001}}
metrics: [accuracy]
"""

REGRESSOR = """\
    - {type: dense, units: 64, activation: relu}
    - {type: dense, units: 32, activation: relu}
    - {type: dense, units: 1}             # one output, no activation: a real number
loss: mse                                 # mean squared error
optimizer: {type: adam, learning_rate: 0.01}
metrics: [mae, r2]                        # mean absolute error (the target's units); R^2 (1 is perfect)
"""

TRAINING = """\
training:
  epochs: {epochs}
  batch_size: 32
  shuffle: true
  # Stop when the validation loss has not improved for `patience` epochs; keep the best weights.
  early_stopping: {{monitor: val_loss, patience: 20, restore_best: true}}
"""


SCHEMA_NOTE = "# (completion and checks in editors: nnrun schema > {folder}nnrun.schema.json)\n"


def starter_text(dataset: str, path: str) -> str:
    """The commented YAML for a bundled data set; the editor line's schema file is
    named with the command that writes it when the config's folder has none."""
    info = BUILTIN[dataset]
    classifier = info.task == "classification"
    stratify = ", stratify: true" if classifier else ""
    preprocess = "scale, factor: 0.0625" if info.shape else "standardize"  # digits' pixels are 0..16
    folder = Path(path).parent
    schema_note = "" if (folder / "nnrun.schema.json").exists() else \
        SCHEMA_NOTE.format(folder="" if str(folder) == "." else f"{folder}/")
    text = HEADER.format(
        schema_note=schema_note, name=dataset, description=info.description, path=path, stratify=stratify,
        preprocess=preprocess,
        split_pad=_pad(f"  split: {{validation: 0.1, test: 0.2{stratify}}}"),
        preprocess_pad=_pad(f"  preprocess: [{{type: {preprocess}}}]"),
    )
    if info.shape:
        text += FLATTEN
    if not classifier:
        return text + REGRESSOR + TRAINING.format(epochs=200)
    classes = BuiltinSource(name=dataset).load(0).num_classes
    binary = classes == 2
    units, activation = (1, "sigmoid") if binary else (classes, "softmax")
    text += CLASSIFIER.format(
        units=units, activation=activation,
        output_pad=_pad(f"    - {{type: dense, units: {units}, activation: {activation}}}"),
        why="the probability of the second class" if binary else f"one probability per class ({classes})",
        loss="binary_crossentropy" if binary else "categorical_crossentropy",
    )
    return text + TRAINING.format(epochs=100)


def check_dataset(dataset: str) -> None:
    if dataset not in BUILTIN:
        if Path(dataset).suffix.lower() in (".csv", ".tsv", ".txt") or Path(dataset).is_file():
            raise UserError(f"--dataset: '{dataset}' is a file, not a bundled data set",
                            hint=f"for a CSV file of your own: nnrun init --data {dataset} --target COLUMN")
        near = did_you_mean(dataset, list(BUILTIN))
        raise UserError(f"--dataset: '{dataset}' is not a bundled data set{near}",
                        hint=f"choose one of {', '.join(BUILTIN)} (nnrun datasets describes them), or for a CSV "
                             "file of your own: nnrun init --data FILE.csv --target COLUMN")
    from nnrun.model.layers import LAYER_CLASSES

    if BUILTIN[dataset].shape and "flatten" not in LAYER_CLASSES:
        raise UserError(f"--dataset: '{dataset}' holds images, and this version of nnrun has no flatten layer "
                        "to feed them to a dense network")


def write_starter(dataset: str | None = None, output: str | Path | None = None, data: str | Path | None = None,
                  target: str | None = None) -> Path:
    """Write the starter config to ``output`` (default ``<dataset>.yaml``, or the CSV
    file's name with .yaml, in the working folder) for a bundled ``dataset``, or for the
    CSV file ``data`` predicting ``target``; never overwrites."""
    if data is not None and dataset is not None:
        raise UserError("--data and --dataset: give one; --dataset names a bundled data set, --data a CSV file")
    if data is None and target is not None:
        raise UserError("--target: names a column of a CSV file; give the file with --data")
    if data is None:
        dataset = dataset or DEFAULT_DATASET
        check_dataset(dataset)
    stem = Path(data).stem if data is not None else dataset
    path = Path(output) if output is not None else Path(f"{stem}.yaml")
    if data is not None:  # first: a mistake in --data or --target is the one to tell
        from nnrun.commands.init_csv import csv_starter_text

        text = csv_starter_text(Path(data), target, path)
    if path.exists() or path.is_symlink():
        raise UserError(f"{path}: already exists; nnrun init never overwrites a file", hint="choose another name with -o")
    if not path.parent.is_dir():
        raise UserError(f"{path.parent}: no such directory")
    if data is None:
        text = starter_text(dataset, str(path))
    _check_valid(text)
    # O_EXCL: if the file appeared since the check above, fail rather than overwrite it.
    try:
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise UserError(f"{path}: already exists; nnrun init never overwrites a file") from None
    return path


def _check_valid(text: str) -> None:
    """Load the text exactly as ``nnrun train`` would; a failure here is a bug in nnrun."""
    from nnrun.config import load_config

    handle, temp = tempfile.mkstemp(suffix=".yaml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        load_config(temp)
    finally:
        os.unlink(temp)
