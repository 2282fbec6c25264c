"""`nnrun init`, `nnrun layers`, and the conventions every command follows."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from nnrun import __version__
from nnrun.commands.catalog import catalog, describe
from nnrun.config import load_config
from nnrun.data.sources import BUILTIN
from nnrun.engine.experiment import build
from nnrun.model.layers import LAYER_TYPES, LAYERS
from nnrun.model.losses import LOSSES
from nnrun.model.metrics import METRICS
from nnrun.model.optimizers import OPTIMIZERS

COMMANDS = ["train", "evaluate", "runs", "compare", "plot", "init", "layers"]


@pytest.mark.parametrize("dataset", list(BUILTIN))
def test_init_writes_a_commented_config_that_validates(run_cli, tmp_path, dataset):
    result = run_cli("init", "--dataset", dataset, "-o", f"{dataset}.yaml")
    path = tmp_path / f"{dataset}.yaml"
    if BUILTIN[dataset].shape and "flatten" not in LAYER_TYPES:
        assert result.exit_code == 2 and "no flatten layer" in result.output and not path.exists()
        return
    assert result.exit_code == 0, result.output
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=nnrun.schema.json\n"
                           "# (completion and checks in editors: nnrun schema > nnrun.schema.json)\n")
    assert f"nnrun train {dataset}.yaml" in text and text.count("#") >= 8
    experiment = build(load_config(path))  # validates, loads the data and compiles the model
    assert experiment.config.data.source.name == dataset
    classes = experiment.splits["train"].num_classes if BUILTIN[dataset].task == "classification" else None
    expected = ["mae", "r2"] if classes is None else ["accuracy", "auc"] if classes == 2 else ["accuracy"]
    assert experiment.config.metrics == expected
    # The model and training sections are the ones a CSV file's starter gets (one owner: starter.py).
    from nnrun.commands.starter import model_lines, training_lines

    names = experiment.splits["train"].class_names if classes else None
    assert "\n".join([*model_lines(names, flatten=bool(BUILTIN[dataset].shape)), *training_lines(100 if classes
                                                                                                  else 200)]) in text


def test_init_names_the_schema_file_only_where_there_is_none(run_cli, tmp_path):
    (tmp_path / "sub").mkdir()
    assert run_cli("init", "-o", "sub/a.yaml").exit_code == 0
    assert "nnrun schema > sub/nnrun.schema.json" in (tmp_path / "sub" / "a.yaml").read_text()
    (tmp_path / "sub" / "nnrun.schema.json").write_text("{}")
    assert run_cli("init", "-o", "sub/b.yaml").exit_code == 0
    assert "nnrun schema >" not in (tmp_path / "sub" / "b.yaml").read_text()


def test_init_default_trains(run_cli, tmp_path):
    result = run_cli("init")
    assert result.exit_code == 0 and "wrote iris.yaml" in result.output
    result = run_cli("train", "iris.yaml", "--set", "training.epochs=2", "--run-dir", "r", "--quiet")
    assert result.exit_code == 0, result.output


def test_init_never_overwrites(run_cli, tmp_path):
    (tmp_path / "mine.yaml").write_text("keep me")
    result = run_cli("init", "-o", "mine.yaml")
    assert result.exit_code == 2 and "mine.yaml: already exists; nnrun init never overwrites" in result.output
    assert (tmp_path / "mine.yaml").read_text() == "keep me"
    (tmp_path / "configs").mkdir()
    result = run_cli("init", "-o", "configs")  # a folder: not called a file that exists
    assert result.exit_code == 2 and "configs: is a folder; -o takes the name of the config file to write\n  " \
        "hint: -o configs/iris.yaml" in result.output


def test_init_dash_prints_the_config_and_writes_no_file(run_cli, tmp_path):
    """-o - is standard output, as for predict; the notes go to standard error."""
    result = run_cli("init", "--dataset", "wine", "-o", "-")
    assert result.exit_code == 0 and result.stdout.startswith("# yaml-language-server")
    assert "wrote" not in result.output and not (tmp_path / "-").exists()
    (tmp_path / "wine.yaml").write_text(result.stdout)
    assert run_cli("validate", "wine.yaml").exit_code == 0
    rows = [f"{i % 7},{i * 3 + 1}" for i in range(30)]
    rows[3] = "3,"  # no target: a note
    (tmp_path / "h.csv").write_text("rooms,price\n" + "\n".join(rows) + "\n")
    result = run_cli("init", "--data", "h.csv", "--target", "price", "-o", "-")
    assert result.exit_code == 0 and "    path: h.csv" in result.stdout and "name: h\n" in result.stdout
    assert "note: 1 row has no 'price'" in result.stderr and "note:" not in result.stdout


@pytest.mark.skipif(os.devnull != "/dev/null" or not Path(os.devnull).is_char_device(), reason="no /dev/null")
def test_init_writes_into_a_device_such_as_dev_null(run_cli):
    """A device is written into, not refused as a file already there (nor replaced by a rename)."""
    result = run_cli("init", "--dataset", "wine", "-o", os.devnull)
    assert result.exit_code == 0 and "wrote" not in result.output, result.output
    assert Path(os.devnull).is_char_device()


def test_init_unknown_dataset(run_cli):
    result = run_cli("init", "--dataset", "mnist")
    assert result.exit_code == 2 and "'mnist' is not a bundled data set" in result.output
    assert "hint: choose one of iris, wine" in result.output and "did you mean" not in result.output
    result = run_cli("init", "--dataset", "wines")
    assert result.exit_code == 2 and "'wines' is not a bundled data set; did you mean 'wine'?" in result.output


def test_init_takes_a_data_set_or_a_csv_file_as_its_argument(run_cli, tmp_path):
    assert run_cli("init", "wine").exit_code == 0 and "name: wine" in (tmp_path / "wine.yaml").read_text()
    (tmp_path / "houses.csv").write_text("rooms,price\n" + "".join(f"{i % 5},{100 + i}\n" for i in range(30)))
    result = run_cli("init", "houses.csv", "--target", "price")
    assert result.exit_code == 0 and "wrote houses.yaml" in result.output
    result = run_cli("init", "--data", "houses.csv", "price")
    assert result.exit_code == 2 and "price: given beside --data; the column to predict is named by --target" in \
        result.output and "hint: nnrun init --data houses.csv --target price" in result.output
    result = run_cli("init", "-d", "wine", "iris")
    assert result.exit_code == 2 and "hint: nnrun init iris, or nnrun init --dataset wine" in result.output


def test_layers_lists_every_registered_type_and_option(run_cli):
    result = run_cli("layers")
    assert result.exit_code == 0, result.output
    out = result.output
    for cls in (*LAYERS, *LOSSES, *OPTIMIZERS):
        assert cls.model_fields["type"].default in out
        for option in cls.model_fields:
            if option not in ("type", "name", "inputs"):
                assert option in out, option
    for name in METRICS:
        assert name in out
    assert "Output width." in out and "relu" in out and "integer, > 0" in out


def test_layers_filter(run_cli):
    result = run_cli("layers", "adam")
    assert result.exit_code == 0 and "beta_1" in result.output and "dense" not in result.output
    result = run_cli("layers", "losses")
    assert "mse" in result.output and "adam" not in result.output
    assert run_cli("layers", "loss").output == result.output  # the config's key names the family too
    assert run_cli("layers", "data.source").output == run_cli("layers", "sources").output  # the whole key, dotted
    # A CSV source's text block, by its name and by its key: each option with its default.
    text = run_cli("layers", "text")
    assert text.exit_code == 0 and "max_tokens (integer, >= 3, <= 1e+07; default 20000)" in text.output
    assert "length (integer, > 0, <= 100000; default 64)" in text.output
    assert "unicode (nfc | none or null; default null)" in text.output  # not none, a value of its own
    assert run_cli("layers", "data.source.text").output == text.output
    result = run_cli("layers", "conv9d")
    assert result.exit_code == 2 and "'conv9d' is not a family or type" in result.output
    for family, member in (("schedules", "cosine"), ("sources", "csv"), ("preprocessing", "standardize")):
        result = run_cli("layers", family)
        assert result.exit_code == 0 and member in result.output, result.output
    result = run_cli("layers", "reduce_on_plateau")
    assert "ReduceLROnPlateau" in result.output and "Usage Documentation" not in result.output  # its own docstring
    result = run_cli("layers", "Dense")  # Keras's name, looked up in any case: the table names it as a config does
    assert result.exit_code == 0 and result.output == run_cli("layers", "dense").output
    result = run_cli("layers", "TextVectorization")  # a Keras layer nnrun does otherwise: what to write, not spelling
    assert result.exit_code == 2 and "'TextVectorization' is not a family or type; text is read by the data source: " \
        "data.source.text: {column: ..., max_tokens: ..., length: ...}" in result.output
    result = run_cli("layers", "lsmt")
    assert result.exit_code == 2 and "'lsmt' is not a family or type; did you mean 'lstm'? Choose one of: " \
        in result.output
    assert result.output.count(" mae,") == 1  # a loss and a metric: one name in the choices
    # Keras's callbacks are settings: found by their block's key, and by the callback's name.
    early = run_cli("layers", "early_stopping")
    assert early.exit_code == 0 and "early_stopping (training.early_stopping)" in early.output
    assert "patience (integer, >= 0; default 10)" in early.output and "restore_best" in early.output
    assert run_cli("layers", "EarlyStopping").output == early.output
    assert run_cli("layers", "training.early_stopping").output == early.output
    assert "every_seconds" in run_cli("layers", "ModelCheckpoint").output
    result = run_cli("layers", "callbacks")
    assert result.exit_code == 2 and "'callbacks': Keras's callbacks are settings here" in result.output
    result = run_cli("layers", "Sequential")
    assert result.exit_code == 2 and "a model is its list of layers: model: {layers: [...]}" in result.output
    assert "exponential" not in result.output.split("choose one of")[0]
    result = run_cli("layers", "ReLU")  # an activation is an option, with the two ways to write it
    assert result.exit_code == 2 and "'ReLU' is an activation, an option of a layer, not a type of its own" in \
        result.output and "hint: write activation: relu on a layer" in result.output


def test_a_new_layer_is_described_from_its_spec():
    from typing import Literal

    from pydantic import Field

    from nnrun.model.layers.base import Layer

    class Shift(Layer):
        """Adds a constant."""

        type: Literal["shift"] = "shift"
        amount: float = Field(1.0, ge=0, description="What to add.")

    entry = describe(Shift, skip=("name", "inputs"))
    assert entry.type == "shift" and entry.summary == "Adds a constant."
    [option] = entry.options
    assert (option.name, option.kind, option.default, option.description) == ("amount", "number, >= 0", "1.0",
                                                                               "What to add.")
    assert {e.type for e in catalog()["layers"]} == set(LAYER_TYPES)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(run_cli, command):
    result = run_cli(command, "--help")
    assert result.exit_code == 0 and "Example: nnrun " in result.output


def test_version_and_completion(run_cli):
    result = run_cli("--version")
    assert result.exit_code == 0 and result.output.strip() == f"nnrun {__version__}"
    from typer.testing import CliRunner

    from nnrun.cli import app

    # The documented way to print the script; it needs no detection of the calling shell.
    result = CliRunner().invoke(app, [], env={"_NNRUN_COMPLETE": "source_bash"}, prog_name="nnrun")
    assert result.exit_code == 0 and "_NNRUN_COMPLETE=complete_bash" in result.output


def test_init_reads_padded_whole_numbers_as_token_ids_and_a_table_of_counts_as_numbers(run_cli, tmp_path):
    rng = np.random.default_rng(0)
    ids = np.zeros((120, 12), np.int32)
    for i, length in enumerate(rng.integers(2, 13, 120)):  # as pad_sequences(padding="post") writes them
        ids[i, :length] = rng.integers(1, 80, length)
    np.savez(tmp_path / "ids.npz", x=ids, y=np.arange(120) % 2)
    np.savez(tmp_path / "counts.npz", x=rng.poisson(3, (120, 12)).astype(np.int32), y=np.arange(120) % 2)
    for width in (4, 5, 6):  # flags: a fifth of the rows or so end in zeros by chance, and hold zeros elsewhere too
        np.savez(tmp_path / f"flags{width}.npz", x=rng.integers(0, 2, (120, width)).astype(np.int8),
                 y=np.arange(120) % 2)
        assert run_cli("init", "--data", f"flags{width}.npz").exit_code == 0
        assert "embedding" not in (tmp_path / f"flags{width}.yaml").read_text()
    for name in ("ids", "counts"):
        assert run_cli("init", "--data", f"{name}.npz").exit_code == 0
        trained = run_cli("train", f"{name}.yaml", "-q", "--set", "training.epochs=1", "--run-dir", f"run_{name}")
        assert trained.exit_code == 0 and "warning" not in trained.output, trained.output
    written = (tmp_path / "ids.yaml").read_text()
    largest = int(ids.max())
    assert f"- {{type: embedding, input_dim: {largest + 1}, output_dim: 32, mask_zero: true}}  # token ids 0 to " \
        f"{largest}: input_dim is the largest + 1" in written
    assert "- {type: global_average_pool1d}" in written and "preprocess" not in written  # ids are not standardized
    counts = (tmp_path / "counts.yaml").read_text()
    assert "embedding" not in counts and "preprocess: [standardize]" in counts


def test_dataset_names_complete(tmp_path):
    from typer.testing import CliRunner

    from nnrun.cli import app

    env = {"_NNRUN_COMPLETE": "complete_bash", "COMP_WORDS": "nnrun init --dataset d", "COMP_CWORD": "3"}
    result = CliRunner().invoke(app, [], env=env, prog_name="nnrun")
    assert result.output.split() == ["digits", "diabetes"]


def test_init_writes_a_model_for_an_archive_of_images_sequences_or_features(run_cli, tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "pixels.npz", x=(rng.random((60, 8, 8, 1)) * 255).astype(np.uint8), y=rng.integers(0, 3, 60))
    sequences = np.zeros((60, 6, 2), np.float32)
    for i, length in enumerate(rng.integers(2, 7, 60)):  # padded at the end with steps of 0, some of them
        sequences[i, :length] = rng.normal(size=(length, 2)) + 2
    np.savez(tmp_path / "steps.npz", x=sequences, labels=np.array(["low", "high"])[np.arange(60) % 2])
    np.savez(tmp_path / "rows.npz", x=rng.normal(size=(60, 3)), y=rng.normal(size=60))
    written = {}
    for name, extra in (("pixels", ()), ("steps", ("--target", "labels")), ("rows", ())):
        result = run_cli("init", "--data", f"{name}.npz", *extra)
        assert result.exit_code == 0, result.output
        written[name] = (tmp_path / f"{name}.yaml").read_text()
        trained = run_cli("train", f"{name}.yaml", "-q", "--set", "training.epochs=1", "--run-dir", f"run_{name}")
        assert trained.exit_code == 0 and "warning" not in trained.output, trained.output
    assert "preprocess: [{type: scale, factor: 0.00392157}]  # pixels 0..255 to 0..1" in written["pixels"]
    assert "- {type: conv2d, filters: 32, kernel_size: 3, padding: same, activation: relu}" in written["pixels"]
    assert "- {type: dense, units: 3, activation: softmax}" in written["pixels"]
    assert "source: {type: npz, path: steps.npz, y: labels}" in written["steps"]
    assert "- {type: masking}" in written["steps"] and "- {type: lstm, units: 64}" in written["steps"]
    assert "preprocess" not in written["steps"]  # standardizing would move the padding's zeros
    assert "# if the sequences are windows of one series in time order, shuffle: false in split" in written["steps"]
    assert "shuffle: false" not in written["pixels"] + written["rows"]
    # Four steps of 48 values below 0 and above: a sequence stored with its axes swapped, maybe; no image.
    np.savez(tmp_path / "swapped.npz", x=rng.normal(size=(60, 4, 48)), y=rng.normal(size=60))
    assert run_cli("init", "--data", "swapped.npz").exit_code == 0
    swapped = (tmp_path / "swapped.yaml").read_text()
    assert "- {type: lstm, units: 64}             # reads the 4 steps in order, of 48 features each (stored as " \
        "(samples, features, steps)? save x.transpose(0, 2, 1))" in swapped
    assert "gap: 48 leaves out the windows of 48 steps" in swapped  # the window's length, whichever axis holds it
    assert "loss: mse" in written["rows"] and "preprocess: [standardize]" in written["rows"]
    # PyTorch's image layout and a missing array are said before anything is written.
    np.savez(tmp_path / "nchw.npz", x=rng.random((60, 3, 16, 16)), y=np.arange(60) % 2)
    result = run_cli("init", "--data", "nchw.npz")
    assert result.exit_code == 2 and "look like images stored channels first" in result.output
    assert "hint: save them as x.transpose(0, 2, 3, 1)" in result.output and not (tmp_path / "nchw.yaml").exists()
    # A series of 128 steps of 9 channels laid out for conv2d is no such image, as training reads it too.
    np.savez(tmp_path / "series.npz", x=rng.random((60, 1, 128, 9)), y=np.arange(60) % 2)
    assert run_cli("init", "--data", "series.npz", "-o", "series.yaml").exit_code == 0
    # Samples of four axes have no starter; targets of one class have nothing to predict.
    np.savez(tmp_path / "cubes.npz", x=rng.random((60, 2, 3, 4, 5)), y=np.arange(60) % 2)
    result = run_cli("init", "--data", "cubes.npz")
    assert result.exit_code == 2 and "samples of shape (2, 3, 4, 5) in 'x' have no starter model" in result.output
    np.savez(tmp_path / "one.npz", x=rng.random((60, 3)), y=np.zeros(60, int))
    result = run_cli("init", "--data", "one.npz")
    assert result.exit_code == 2 and "'y' holds one class (0) for every sample: there is nothing to predict" in \
        " ".join(result.output.split())
    result = run_cli("init", "--data", "steps.npz")
    assert result.exit_code == 2 and "steps.npz holds no array named 'y'; the arrays are: x, labels" in result.output
    result = run_cli("init", "--data", "steps.npz", "--target", "x")
    assert result.exit_code == 2 and "--target: x holds the samples; name the array of the targets" in result.output


def test_init_of_an_archive_fits_its_targets_splits_and_padding(run_cli, tmp_path):
    rng = np.random.default_rng(1)
    wide = np.zeros((60, 30, 20), np.float32)  # 20 features a step: padded steps make it sequences, not an image
    for i, length in enumerate(rng.integers(5, 31, 60)):
        wide[i, 30 - length:] = rng.normal(size=(length, 20))  # padded at the start, as pad_sequences pads
    archives = {"targets": dict(x=rng.normal(size=(60, 4)), y=rng.normal(size=(60, 3))),
                "held": dict(x=rng.normal(size=(60, 4)), y=np.arange(60) % 2, x_test=rng.normal(size=(20, 4)),
                             y_test=np.arange(20) % 2),
                "wide": dict(x=wide, y=np.arange(60) % 2)}
    for name, arrays in archives.items():
        np.savez(tmp_path / f"{name}.npz", **arrays)
        assert run_cli("init", "--data", f"{name}.npz").exit_code == 0
        result = run_cli("validate", f"{name}.yaml")
        assert result.exit_code == 0 and "warning" not in result.output, result.output
    assert "- {type: dense, units: 3}" in (tmp_path / "targets.yaml").read_text()  # one output per target
    assert "split: {validation: 0.15, stratify: true}" in (tmp_path / "held.yaml").read_text()  # test: the archive's
    assert "- {type: masking}" in (tmp_path / "wide.yaml").read_text()
    # Rows that sum to 1: proportions to predict, or soft labels; written as the one, the other said.
    np.savez(tmp_path / "soft.npz", x=rng.normal(size=(60, 4)), y=rng.dirichlet([1, 1, 1], 60))
    result = run_cli("init", "--data", "soft.npz")
    assert result.exit_code == 0 and "note: the rows of 'y' sum to 1: the config predicts them as amounts" in \
        " ".join(result.output.split())
    assert run_cli("validate", "soft.yaml").exit_code == 0
    # Grayscale 8-bit images with dark border rows are images, and sequences starting at 0 are not padded.
    pixels = (rng.random((60, 20, 20)) * 255).astype(np.uint8)
    pixels[:30, 0] = 0
    starting = rng.normal(size=(60, 12, 3)).astype(np.float32)
    starting[:20, 0] = 0
    np.savez(tmp_path / "gray.npz", x=pixels, y=np.arange(60) % 2)
    np.savez(tmp_path / "series.npz", x=starting, y=np.arange(60) % 2)
    assert run_cli("init", "--data", "gray.npz").exit_code == 0 and run_cli("init", "--data", "series.npz").exit_code == 0
    assert "- {type: conv2d" in (tmp_path / "gray.yaml").read_text()
    assert "masking" not in (tmp_path / "series.yaml").read_text()
