"""``nnrun init [--dataset NAME | --data FILE.csv --target COLUMN | --data FILE.npz] [-o FILE]``:
a commented starter config that validates.

The config is written for one of the bundled data sets (``nnrun.data.sources.BUILTIN``):
a small dense network whose output, loss and metrics fit the data set's task and
number of classes, as for one's own CSV file (:mod:`.init_csv`; both from
:mod:`.starter`). The text is checked
with the real loader before it is written, and an existing file is never overwritten.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from nnrun.commands.starter import commented, model_lines, schema_lines, training_lines
from nnrun.data.sources import BUILTIN, BuiltinSource
from nnrun.errors import UserError, did_you_mean, quoted
from nnrun.store import files

DEFAULT_DATASET = "iris"


def starter_text(dataset: str, path: str) -> str:
    """The commented YAML for a bundled data set (its model and training as for a CSV
    file of one's own, see :mod:`.starter`)."""
    info = BUILTIN[dataset]
    classes = BuiltinSource(name=dataset).load(0).class_names if info.task == "classification" else None
    stratify = "" if classes is None else ", stratify: true"
    preprocess = "scale, factor: 0.0625" if info.shape else "standardize"  # digits' pixels are 0..16
    lines = [*schema_lines(Path(path)),
             f"# Starter config for the bundled '{dataset}' data set: {info.description}.",
             f"# Train it:       nnrun train {path}", f"# Then evaluate:  nnrun evaluate runs/{dataset}-<time>",
             "# Every option:   nnrun layers", f"name: {dataset}",
             commented("seed: 42", "seeds the split, initial weights, shuffling, dropout"),
             "data:", f"  source: {{type: builtin, name: {dataset}}}",
             commented(f"  split: {{validation: 0.1, test: 0.2{stratify}}}", "held-out fractions; the rest trains"),
             commented(f"  preprocess: [{{type: {preprocess}}}]", "pixels 0..16 to 0..1" if info.shape
                       else "fitted on the training split only")]
    if classes is None:
        lines.append(commented("  target_scale: standardize", "learn the target standardized; predictions stay in "
                                                               "its units"))
    lines += [*model_lines(classes, flatten=bool(info.shape)), *training_lines(100 if classes else 200)]
    return "\n".join(lines) + "\n"


def names_a_file(word: str) -> bool:
    """Whether what was given for a data set names a file of one's own (houses.csv)."""
    return Path(word).suffix.lower() in (".csv", ".tsv", ".txt") or Path(word).is_file()


def check_dataset(dataset: str) -> None:
    if dataset not in BUILTIN:
        if names_a_file(dataset):
            raise UserError(f"--dataset: '{dataset}' is a file, not a bundled data set",
                            hint=f"for a CSV file of your own: nnrun init --data {quoted(dataset)} --target COLUMN")
        near = did_you_mean(dataset, list(BUILTIN))
        raise UserError(f"--dataset: '{dataset}' is not a bundled data set{near}",
                        hint=f"choose one of {', '.join(BUILTIN)} (nnrun datasets describes them), or for a CSV "
                             "file of your own: nnrun init --data FILE.csv --target COLUMN")
    from nnrun.model.layers import LAYER_CLASSES

    if BUILTIN[dataset].shape and "flatten" not in LAYER_CLASSES:
        raise UserError(f"--dataset: '{dataset}' holds images, and this version of nnrun has no flatten layer "
                        "to feed them to a dense network")


STANDARD_OUTPUT = "-"  # -o -: the text on standard output, as predict -o - writes its table


def write_starter(dataset: str | None = None, output: str | Path | None = None, data: str | Path | None = None,
                  target: str | None = None, notes: list[str] | None = None, stdout=None) -> Path | None:
    """Write the starter config to ``output`` (default ``<dataset>.yaml``, or the CSV
    file's name with .yaml, in the working folder) for a bundled ``dataset``, or for the
    CSV file ``data`` predicting ``target``; never overwrites. ``notes`` gains what the
    data needs fixed before training (rows without a target). With ``output`` "-" the
    text goes to ``stdout`` instead (its paths as for a file in the working folder), and
    None is returned; so it does for a device or pipe (``/dev/null``), written into."""
    if data is not None and dataset is not None:
        raise UserError("--data and --dataset: give one; --dataset names a bundled data set, --data a CSV file or "
                        "an .npz archive of one's own")
    if data is None and target is not None:
        raise UserError("--target: names a column of a CSV file (an array of an .npz archive); give the file with --data")
    if data is None:
        dataset = dataset or DEFAULT_DATASET
        check_dataset(dataset)
    stem = Path(data).stem if data is not None else dataset
    printed = output is not None and str(output) == STANDARD_OUTPUT
    # -o /dev/null, a pipe: written into as standard output is (paths as for the working folder).
    streamed = output is not None and not printed and files.is_stream(Path(output))
    path = Path(output) if output is not None and not (printed or streamed) else Path(f"{stem}.yaml")
    if data is not None or printed or streamed:  # first: a mistake in --data or --target is the one to tell
        text = _starter(dataset, data, target, path, notes)
    if printed or streamed:
        _check_valid(text)
        if streamed:
            files.write_stream(Path(output), text.encode())
        else:
            stdout.write(text)
        return None
    if path.is_dir():
        raise UserError(f"{path}: is a folder; -o takes the name of the config file to write",
                        hint=f"-o {path / (Path(stem).name + '.yaml')}")
    if path.exists() or path.is_symlink():
        raise UserError(f"{path}: already exists; nnrun init never overwrites a file",
                        hint="choose another name with -o, or -o - to print it")
    if not path.parent.is_dir():
        raise UserError(f"{path.parent}: no such directory")
    if data is None:
        text = _starter(dataset, data, target, path, notes)
    _check_valid(text)
    # O_EXCL: if the file appeared since the check above, fail rather than overwrite it.
    try:
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise UserError(f"{path}: already exists; nnrun init never overwrites a file") from None
    return path


def _starter(dataset: str | None, data: str | Path | None, target: str | None, path: Path,
             notes: list[str] | None) -> str:
    """The starter text for a bundled ``dataset`` or the CSV file ``data``, as the file ``path``."""
    if data is None:
        return starter_text(dataset, str(path))
    if Path(data).suffix.lower() == ".npz":
        from nnrun.commands.init_npz import npz_starter_text

        return npz_starter_text(Path(data), target, path, notes)
    from nnrun.commands.init_csv import csv_starter_text

    return csv_starter_text(Path(data), target, path, notes)


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
