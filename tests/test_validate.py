"""`nnrun validate`: everything short of training, then a model summary."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, run_piped

IRIS = Path(__file__).resolve().parent.parent / "configs" / "iris.yaml"

BRANCHED = """\
data:
  source: {type: builtin, name: wine}
model:
  layers:
    - {type: dense, units: 16, activation: relu, name: trunk}
    - {type: dropout, rate: 0.1, name: drop}
    - {type: dense, units: 3, activation: softmax, name: head, inputs: [drop]}
loss: categorical_crossentropy
training: {early_stopping: {monitor: loss}}
"""


def _rows(output: str) -> list[list[str]]:
    """Cells of the table rows (lines drawn with │)."""
    return [[c.strip() for c in line.split("│")[1:-1]] for line in output.splitlines() if line.startswith("│")]


def test_validate_prints_a_model_summary(run_cli, tmp_path):
    result = run_cli("validate", IRIS)
    assert result.exit_code == 0, result.output
    assert f"{IRIS}: valid" in result.output
    assert "input shape (4,), 3 classes: setosa, versicolor, virginica; 105 train, 15 validation, 30 test " \
        "(validation and test drawn at random)" in " ".join(result.output.split())
    assert _rows(result.output) == [
        ["dense_0", "dense (relu)", "(None, 64)", "320"],
        ["dense_1", "dense (softmax)", "(None, 3)", "195"],
    ]
    assert "Total params: 515 (2.0 KB, float32)" in result.output
    assert "loss: categorical_crossentropy, fused with the output softmax; optimizer: adam" in result.output
    assert not (tmp_path / "runs").exists()  # nothing is trained or written
    # A model that ends in logits has no activation for the loss to fuse: predictions apply it.
    logits = run_cli("validate", IRIS, "--set", "model.layers.1.activation=linear", "--set",
                     "loss={type: categorical_crossentropy, from_logits: true}")
    assert "loss: categorical_crossentropy, from logits (softmax for predictions); optimizer: adam" in logits.output


def test_validate_applies_overrides(run_cli):
    result = run_cli("validate", IRIS, "--set", "model.layers.0.units=10", "--set", "name=small")
    assert result.exit_code == 0, result.output
    assert ["dense_0", "dense (relu)", "(None, 10)", "50"] in _rows(result.output)
    assert "Model 'small'" in result.output and "Total params: 83 " in result.output


def test_a_graph_shows_its_inputs(run_cli, write_config):
    result = run_cli("validate", write_config(BRANCHED))
    assert result.exit_code == 0, result.output
    assert _rows(result.output) == [
        ["trunk", "dense (relu)", "input", "(None, 16)", "224"],
        ["drop", "dropout", "trunk", "(None, 16)", "0"],
        ["head", "dense (softmax)", "drop", "(None, 3)", "51"],
    ]


LONG_NAME = "a_very_long_descriptive_layer_name_for_the_hidden_units"


def test_piped_summary_keeps_long_layer_names_whole(tmp_path):
    # `nnrun validate config.yaml > log`: nothing cut, whether or not colours are forced
    # (FORCE_COLOR, often set for CI logs); an explicit COLUMNS still sets the width.
    text = BRANCHED.replace("name: trunk", f"name: {LONG_NAME}").replace("[trunk]", f"[{LONG_NAME}]")
    (tmp_path / "config.yaml").write_text(text)
    expected = [
        [LONG_NAME, "dense (relu)", "input", "(None, 16)", "224"],
        ["drop", "dropout", LONG_NAME, "(None, 16)", "0"],
        ["head", "dense (softmax)", "drop", "(None, 3)", "51"],
    ]
    for env in ({}, {"FORCE_COLOR": "1"}):
        result = run_piped("validate", "config.yaml", cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stderr
        assert _rows(re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)) == expected, result.stdout
    narrow = run_piped("validate", "config.yaml", cwd=tmp_path, env={"COLUMNS": "60"})
    assert narrow.returncode == 0, narrow.stderr
    table = [line for line in narrow.stdout.splitlines() if line[:1] in "┏┃┡│└"]
    # Past 60 only as far as its short words need (20 characters of the long name, in two
    # columns): "(softmax)" and "(None," stay whole (text with spaces may still wrap between
    # its words) ...
    assert table and max(map(len, table)) == 77 and LONG_NAME not in narrow.stdout
    assert "(softmax)" in narrow.stdout and "(None," in narrow.stdout
    # ... and the long name folds onto more lines, every letter kept, never cut short with '…'
    assert "…" not in narrow.stdout and LONG_NAME in "".join(line.split("│")[1].strip() for line in table
                                                             if line.startswith("│"))


def test_validate_reads_the_data(run_cli, write_config):
    text = BRANCHED.replace("{type: builtin, name: wine}", "{type: synthetic, samples: 3, classes: 2}")
    text = text.replace("units: 3,", "units: 2,")
    result = run_cli("validate", write_config(text))
    assert result.exit_code == 2
    assert "data.split.validation: the validation split would be empty (0.1 of 3 samples)" in result.output


def test_validate_from_python(tmp_path):
    import yaml

    from nnrun.commands.validate import layer_rows, validate

    config = yaml.safe_load(IRIS.read_text())
    experiment = validate(config, ["model.layers.0.units=8"])
    assert [row["params"] for row in layer_rows(experiment)] == [40, 27]
    assert experiment.graph.parameter_count == 67


BINARY = """\
data:
  source: {type: builtin, name: breast_cancer}
model:
  layers:
    - {type: dense, units: 8, activation: relu}
    - {type: dense, units: 1, activation: sigmoid}
loss: binary_crossentropy
metrics: [accuracy]
"""


def test_the_usual_pairs_of_output_and_loss_are_valid(run_cli, write_config):
    binary = write_config(BINARY)
    assert run_cli("validate", binary).exit_code == 0
    two_softmax = ["--set", "model.layers.1.units=2", "--set", "model.layers.1.activation=softmax"]
    assert run_cli("validate", binary, *two_softmax, "--set", "loss=categorical_crossentropy").exit_code == 0
    regression = ["--set", "data.source.name=diabetes", "--set", "loss=mse", "--set", "metrics=[]"]
    assert run_cli("validate", binary, *regression, "--set", "model.layers.1.activation=linear").exit_code == 0


def test_a_regression_output_that_cannot_reach_its_targets_is_refused(run_cli, write_config):
    """A sigmoid (or tanh, or relu for negative targets) output trained on prices learns
    nothing, and its barely moving loss would not say why."""
    regression = ["--set", "data.source.name=diabetes", "--set", "loss=mse", "--set", "metrics=[]"]
    result = run_cli("validate", write_config(BINARY), *regression)
    assert result.exit_code == 2
    assert re.search(r"model.layers.1.activation: 'sigmoid' outputs reach only 0 to 1, but the training targets "
                     r"range from \d+ to 346; use activation: linear", result.output)
    tanh = run_cli("validate", write_config(BINARY), *regression, "--set", "model.layers.1.activation=tanh")
    assert "'tanh' outputs reach only -1 to 1" in tanh.output
    # relu reaches any target of 0 and up; a standardized target is refused by its own check.
    assert run_cli("validate", write_config(BINARY), *regression, "--set", "model.layers.1.activation=relu").exit_code == 0


def test_softmax_on_a_single_unit_is_the_one_problem_reported(run_cli, write_config):
    result = run_cli("validate", write_config(BINARY.replace("activation: sigmoid", "activation: softmax")))
    assert result.exit_code == 2
    assert "1 problem in the config" in result.output
    assert ":6:43: model.layers.1.activation: softmax over 1 unit always outputs 1" in result.output


def test_validate_checks_everything_training_would(run_cli, tmp_path):
    """validate runs build() exactly as train does: warm-start weights, embedding
    indices against the data, and the output a loss needs are all checked."""
    base = (
        "data: {source: {type: builtin, name: iris}, preprocess: [standardize]}\n"
        "model:\n  layers:\n{layers}"
        "loss: categorical_crossentropy\n"
    )
    dense = "    - {type: dense, units: 3, activation: softmax}\n"
    (tmp_path / "a.yaml").write_text(base.replace("{layers}", dense) + "")
    result = run_cli("validate", tmp_path / "a.yaml", "--set", "model.init_weights=absent.safetensors")
    assert result.exit_code == 2
    assert "absent.safetensors: missing; no such file for the initial weights (model.init_weights); a relative " \
        f"model.init_weights is read from the working directory ({tmp_path}), not the config file's folder" in \
        " ".join(result.output.split())
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.safetensors").write_bytes(b"")
    result = run_cli("validate", tmp_path / "a.yaml", "--set", f"model.init_weights={run}")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert (f"model.init_weights: {run}: a folder, not a weights file; name the file in it: "
            f"{run / 'model.safetensors'}") in " ".join(result.output.split())

    embed = "    - {type: embedding, input_dim: 10, output_dim: 2}\n    - {type: flatten}\n" + dense
    (tmp_path / "b.yaml").write_text(base.replace("{layers}", embed))
    result = run_cli("validate", tmp_path / "b.yaml")
    assert result.exit_code == 2
    assert "b.yaml:4:7: model.layers.0: embedding input value" in result.output
    assert "is not an index in [0, 10)" in result.output and "(in the train split)" in result.output
    # A recurrent layer without the embedding's mask reads a text's end padding last: warned.
    result = run_cli("validate", ROOT / "configs" / "text_lstm.yaml", "--set", "model.layers.0.mask_zero=false")
    assert result.exit_code == 0 and "warning: model.layers.0: data.source.text pads each text with 0 at its end, to " \
        "40 tokens, and this embedding makes no padding mask, so model.layers.1 (bidirectional) reads the padding " \
        "after the words" in " ".join(result.output.split())
    plain = run_cli("validate", ROOT / "configs" / "text_lstm.yaml").output
    assert "pads each text" not in plain
    # The vocabulary learned is told beside max_tokens, the embedding's input_dim.
    assert "'review': a vocabulary of 73 tokens (max_tokens 1,000), [UNK] and padding included" in \
        " ".join(plain.split())
    # Followed layer by layer: an unmasked embedding that feeds only a flatten says nothing; a masked one that
    # feeds the lstm beside it is fine.
    branches = ("model.layers=[{type: embedding, input_dim: 1000, output_dim: 8, name: e1}, {type: flatten, name: f}, "
                "{type: embedding, input_dim: 1000, output_dim: 8, mask_zero: true, name: e2, inputs: [input]}, "
                "{type: lstm, units: 4, name: r}, {type: concatenate, inputs: [f, r]}, "
                "{type: dense, units: 2, activation: softmax}]")
    result = run_cli("validate", ROOT / "configs" / "text_lstm.yaml", "--set", branches)
    assert result.exit_code == 0 and "pads each text" not in result.output, result.output
    # Attention passes its query's mask on, not its value's: an unmasked query leaves the lstm after it unmasked.
    attention = ("model.layers=[{type: embedding, input_dim: 1000, output_dim: 8, name: q}, "
                 "{type: embedding, input_dim: 1000, output_dim: 8, mask_zero: true, name: v, inputs: [input]}, "
                 "{type: multi_head_attention, num_heads: 2, key_dim: 4, inputs: [q, v]}, {type: lstm, units: 4}, "
                 "{type: dense, units: 2, activation: softmax}]")
    result = run_cli("validate", ROOT / "configs" / "text_lstm.yaml", "--set", attention)
    assert result.exit_code == 0 and "this embedding makes no padding mask, so model.layers.3 (lstm) reads the " \
        "padding after the words" in " ".join(result.output.split()), result.output
    # A text column's indices a preprocessing step made into other numbers: told where the mistake is.
    result = run_cli("validate", ROOT / "configs" / "text_lstm.yaml", "--set", "data.preprocess=[standardize]")
    assert result.exit_code == 2 and "data.preprocess: standardize turns the indices that model.layers.0 (embedding) " \
        "looks up into other numbers; remove data.preprocess: the layer reads its inputs as they are" in \
        " ".join(result.output.split())

    branches = ("    - {type: dense, units: 3, name: a}\n    - {type: dense, units: 3, inputs: [input]}\n"
                "    - {type: add, inputs: [a, dense_1]}\n")
    (tmp_path / "c.yaml").write_text(base.replace("{layers}", branches))
    result = run_cli("validate", tmp_path / "c.yaml")
    assert result.exit_code == 2
    assert ("model.layers.2: categorical_crossentropy needs softmax outputs, but this 'add' layer ends the model "
            "with raw values; add {type: activation, activation: softmax} after it") in result.output


def test_saved_config_holds_the_absolute_warm_start_path(run_cli, tmp_path):
    import yaml

    iris = ROOT / "configs" / "iris.yaml"
    assert run_cli("train", iris, "--run-dir", "first", "--set", "training.epochs=1", "-q").exit_code == 0
    result = run_cli("train", iris, "--run-dir", "warm", "--set", "training.epochs=1", "-q",
                     "--set", "model.init_weights=first/model.safetensors")
    assert result.exit_code == 0, result.output
    saved = yaml.safe_load((tmp_path / "warm" / "config.yaml").read_text())
    assert saved["model"]["init_weights"] == str((tmp_path / "first" / "model.safetensors").resolve())


def test_a_sequence_layer_on_flat_features_and_a_small_vocabulary_say_what_fixes_them(run_cli, tmp_path):
    base = ("name: s\ndata:\n  source: {type: builtin, name: iris}\nmodel:\n  layers:\n{layers}"
            "    - {type: dense, units: 3, activation: softmax}\nloss: categorical_crossentropy\ntraining: {epochs: 2}\n")
    (tmp_path / "lstm.yaml").write_text(base.replace("{layers}", "    - {type: lstm, units: 4}\n"))
    result = run_cli("validate", tmp_path / "lstm.yaml")
    assert result.exit_code == 2
    assert "or {type: reshape, target_shape: [4, 1]} to read 4 numbers as 4 steps of one value" in \
        " ".join(result.output.split())
    # The fix it names works: four numbers read as four steps.
    (tmp_path / "steps.yaml").write_text(base.replace(
        "{layers}", "    - {type: reshape, target_shape: [4, 1]}\n    - {type: lstm, units: 4}\n"))
    assert run_cli("train", tmp_path / "steps.yaml", "--quiet", "--run-dir", tmp_path / "r").exit_code == 0
    # Indices of a vocabulary larger than input_dim: give input_dim enough room.
    rows = ["text,label"] + [f"{' '.join(f'w{(i * 7 + j) % 40}' for j in range(5))},{'ab'[i % 2]}" for i in range(60)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "t.yaml").write_text(
        "name: t\ndata:\n  source: {type: csv, path: t.csv, target: label, text: {column: text, max_tokens: 100, "
        "length: 5}}\nmodel:\n  layers:\n    - {type: embedding, input_dim: 10, output_dim: 4}\n"
        "    - {type: global_average_pool1d}\n    - {type: dense, units: 2, activation: softmax}\n"
        "loss: categorical_crossentropy\n")
    result = run_cli("validate", tmp_path / "t.yaml")
    assert result.exit_code == 2
    assert "is not an index in [0, 10); the inputs go up to 41: give input_dim 42 or more (for a text column, its " \
           "max_tokens)" in " ".join(result.output.split())


@pytest.mark.parametrize("layers, warned", [
    (["{type: conv1d, filters: 4, kernel_size: 3}", "{type: global_average_pool1d}"], "conv1d_1, conv1d"),
    (["{type: flatten}"], "flatten_1, flatten"),
    (["{type: lstm, units: 4}"], None),
    (["{type: dense, units: 4, activation: relu}", "{type: global_max_pool1d}"], None),  # per step: passed on
    # Attention reads the value's mask and gives the query's: an unmasked query, then flatten.
    (["{type: embedding, input_dim: 20, output_dim: 4, name: q, inputs: [input]}",
      "{type: multi_head_attention, num_heads: 1, key_dim: 4, inputs: [q, embedding_0]}", "{type: flatten}"], None),
])
def test_a_padding_mask_that_ends_unread_is_warned_about(run_cli, tmp_path, layers, warned):
    rows = ["text,label"] + [f"{' '.join(f'w{(i + j) % 9}' for j in range(1 + i % 4))},{'ab'[i % 2]}" for i in range(40)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    listed = "".join(f"    - {layer}\n" for layer in layers)
    (tmp_path / "t.yaml").write_text(
        "name: t\ndata:\n  source: {type: csv, path: t.csv, target: label, text: {column: text, max_tokens: 20, "
        "length: 6}}\nmodel:\n  layers:\n    - {type: embedding, input_dim: 20, output_dim: 4, mask_zero: true}\n"
        f"{listed}    - {{type: dense, units: 2, activation: softmax}}\nloss: categorical_crossentropy\n")
    result = run_cli("validate", tmp_path / "t.yaml")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    if warned is None:
        assert "padding mask" not in text
    else:
        assert f"({warned}): the padding mask of embedding_0 (mask_zero: true) ends here unread" in text


def test_mask_zero_on_an_input_that_is_no_sequence_of_indices_is_warned_about(run_cli, write_config):
    # The digits' (8, 8, 1) images: no (steps,) sequence to mask, so mask_zero does nothing.
    text = ("name: e\ndata: {source: {type: builtin, name: digits}}\nmodel:\n  layers:\n"
            "    - {type: embedding, input_dim: 17, output_dim: 4, mask_zero: true}\n    - {type: flatten}\n"
            "    - {type: dense, units: 10, activation: softmax}\nloss: categorical_crossentropy\n")
    result = run_cli("validate", write_config(text))
    assert result.exit_code == 0, result.output
    assert "warning: model.layers.0 (embedding_0, embedding): mask_zero makes a padding mask for a sequence of " \
           "indices, shape (steps,), but its input is (8, 8, 1), so no mask is made" in " ".join(result.output.split())


def test_a_branch_that_never_reaches_the_output_is_warned_about(run_cli, write_config):
    text = """name: dead
data: {source: {type: builtin, name: iris}}
model:
  layers:
    - {type: dense, units: 8, activation: relu, name: a}
    - {type: dense, units: 8, name: side, inputs: [a]}
    - {type: dense, units: 3, activation: softmax, inputs: [a]}
loss: categorical_crossentropy
"""
    result = run_cli("validate", write_config(text))
    assert result.exit_code == 0
    assert ("warning: model.layers.1 (side): its output never reaches the model's output (the last layer listed), "
            "so it is computed but never trained") in result.output
    connected = run_cli("validate", write_config(text.replace("inputs: [a]}\nloss", "inputs: [side]}\nloss")))
    assert "never reaches" not in connected.output


def test_an_unconnected_branchs_regularizer_neither_trains_it_nor_counts_in_the_loss(tmp_path):
    """As the warning says: its penalty would otherwise swamp the loss that early stopping
    watches, and move weights no prediction depends on."""
    import nnrun

    config = {"name": "dead", "data": {"source": {"type": "builtin", "name": "iris"}},
              "model": {"layers": [{"type": "dense", "units": 8, "activation": "relu", "name": "a"},
                                   {"type": "dense", "units": 8, "name": "side", "inputs": ["a"],
                                    "kernel_regularizer": {"l2": 100.0}},
                                   {"type": "dense", "units": 3, "activation": "softmax", "inputs": ["a"]}]},
              "loss": "categorical_crossentropy", "training": {"epochs": 3}}
    penalized = nnrun.train(config, run_dir=tmp_path / "penalized")
    plain = nnrun.train(config, overrides={"model.layers.1.kernel_regularizer": None}, run_dir=tmp_path / "plain")
    assert penalized.history == [{**row, "seconds": p["seconds"]} for row, p in zip(plain.history, penalized.history)]
    weights = [(tmp_path / name / "model.safetensors").read_bytes() for name in ("penalized", "plain")]
    assert weights[0] == weights[1]


def test_unscaled_inputs_of_very_different_spreads_are_warned_about(run_cli, write_config):
    text = (ROOT / "configs" / "breast_cancer.yaml").read_text()
    assert "  preprocess: [standardize]\n" in text
    result = run_cli("validate", write_config(text.replace("  preprocess: [standardize]\n", "")))
    assert result.exit_code == 0
    assert re.search(r"warning: data.preprocess: the features go in unscaled, and their spreads differ widely "
                     r"\('worst_area' about 571, 'smoothness_error' about 0.00272\).*add preprocess: \[standardize\]",
                     result.output)
    assert "spreads differ" in result.stderr and "spreads differ" not in result.stdout  # as train says it
    assert "unscaled" not in run_cli("validate", str(ROOT / "configs" / "breast_cancer.yaml")).output


def test_several_configs_are_each_checked_and_any_invalid_one_fails(run_cli, write_config):
    # As a pre-commit hook passes them: a bad file neither hides the others nor passes.
    bad = write_config("name: broken\nmodel: {layers: [{type: dense, units: 0}]}\n", "bad.yaml")
    good = ROOT / "configs" / "iris.yaml"
    result = run_cli("validate", good, bad, ROOT / "configs" / "wine.yaml")
    assert result.exit_code == 2
    assert f"{good}: valid" in result.stdout and f"{ROOT / 'configs' / 'wine.yaml'}: valid" in result.stdout
    assert "bad.yaml" in result.stderr and f"{bad}: not valid" in result.stdout
    assert run_cli("validate", good, ROOT / "configs" / "wine.yaml").exit_code == 0
    # A data file's error names the data alone: the list on stdout says whose it was.
    (bad.parent / "bad.csv").write_text("a,b,y\n1,2,x\n3,oops,y\n4,5,x\n6,7,y\n")
    bad.write_text("data: {source: {type: csv, path: bad.csv, target: y}, split: {validation: 0, test: 0}}\n"
                   "model: {layers: [{type: dense, units: 2, activation: softmax}]}\nloss: categorical_crossentropy\n")
    result = run_cli("validate", good, bad)
    assert result.exit_code == 2 and "bad.csv: 1 bad cell in the data" in result.stderr
    assert f"{bad}: not valid" in result.stdout


def test_early_stopping_on_a_training_quantity_beside_a_validation_split_is_warned(run_cli):
    result = run_cli("validate", IRIS, "--set", "training.early_stopping={monitor: loss, patience: 3}")
    assert result.exit_code == 0, result.output
    assert "warning: training.early_stopping.monitor: 'loss' is measured on the training split, which improves as " \
           "the model memorises it; to stop when the model stops getting better on data it does not train on, " \
           "monitor 'val_loss'" in " ".join(result.output.split())
    quiet = run_cli("validate", IRIS, "--set", "training.early_stopping={monitor: val_loss}")
    assert "measured on the training split" not in quiet.output


def test_the_training_quantity_warning_holds_for_a_validation_split_from_a_file(run_cli, tmp_path):
    rows = "".join(f"{i / 100},{'ab'[i % 2]}\n" for i in range(120))
    (tmp_path / "t.csv").write_text("x,y\n" + rows)
    (tmp_path / "v.csv").write_text("x,y\n" + rows[:200])
    (tmp_path / "c.yaml").write_text(
        "data: {source: {type: csv, path: t.csv, target: y, validation_path: v.csv}, split: {validation: 0}}\n"
        "model: {layers: [{type: dense, units: 2, activation: softmax}]}\nloss: categorical_crossentropy\n"
        "training: {early_stopping: {monitor: loss}}\n")
    result = run_cli("validate", tmp_path / "c.yaml")
    assert result.exit_code == 0, result.output
    assert "'loss' is measured on the training split" in " ".join(result.output.split())


def test_numeric_sequences_padded_at_their_end_are_warned_about_until_a_masking_layer_reads_them(run_cli, tmp_path):
    rng = np.random.default_rng(0)
    x = np.zeros((60, 8, 2), np.float32)
    for i, length in enumerate(rng.integers(3, 9, 60)):  # some end in steps of 0 (padding), not all
        x[i, :length] = rng.normal(size=(length, 2)) + 3
    np.savez(tmp_path / "seq.npz", x=x, y=np.arange(60) % 2)
    base = ("data: {source: {type: npz, path: seq.npz}}\nmodel:\n  layers:\n{first}    - {type: gru, units: 3}\n"
            "    - {type: dense, units: 2, activation: softmax}\nloss: categorical_crossentropy\n")
    (tmp_path / "s.yaml").write_text(base.replace("{first}", ""))
    result = run_cli("validate", tmp_path / "s.yaml")
    text = " ".join(result.output.split())
    assert result.exit_code == 0 and "of the training sequences end in steps of only 0, padding as " \
        "pad_sequences(padding='post') adds it, and model.layers.0 (gru) reads it after the real steps; put " \
        "{type: masking} first to skip those steps" in text, result.output
    standardized = run_cli("validate", tmp_path / "s.yaml", "--set", "data.preprocess=[standardize]")
    assert "end in steps of only 0" in standardized.output  # told of the data as stored, whatever becomes of its zeros
    (tmp_path / "m.yaml").write_text(base.replace("{first}", "    - {type: masking}\n"))
    result = run_cli("validate", tmp_path / "m.yaml")
    assert result.exit_code == 0 and "warning" not in result.output, result.output
    # Standardized, the padding is no longer 0: the masking layer would mask nothing, and says so.
    result = run_cli("validate", tmp_path / "m.yaml", "--set", "data.preprocess=[standardize]")
    assert "model.layers.0 (masking): no step of the training sequences has every feature equal to mask_value 0, " \
        "so the layer masks nothing; data.preprocess changes the values" in " ".join(result.output.split())
    # After a layer that computes new values, the padding is no longer there to find.
    (tmp_path / "late.yaml").write_text(base.replace("{first}", "    - {type: dense, units: 4}\n    - {type: masking}\n"))
    result = run_cli("validate", tmp_path / "late.yaml")
    assert result.exit_code == 0 and "model.layers.1 (masking) reads 'dense_0', not the model input: the values it " \
        "compares with mask_value 0 are that layer's, not the padding's, so it masks nothing; put {type: masking} " \
        "first, on the model input" in " ".join(result.output.split()), result.output
    # A reshape (or a dropout) passes the padding's values on: a masking layer after it is not warned about.
    np.savez(tmp_path / "flat.npz", x=x.reshape(60, 16), y=np.arange(60) % 2)
    (tmp_path / "r.yaml").write_text(base.replace("seq.npz", "flat.npz").replace(
        "{first}", "    - {type: reshape, target_shape: [8, 2]}\n    - {type: dropout, rate: 0.1}\n"
                   "    - {type: masking}\n"))
    result = run_cli("validate", tmp_path / "r.yaml")
    assert result.exit_code == 0 and "masks nothing" not in result.output, result.output
    # ... and the values it reads through them are checked: standardized, flat data masks nothing either.
    result = run_cli("validate", tmp_path / "r.yaml", "--set", "data.preprocess=[standardize]")
    assert "model.layers.2 (masking): no step of the training sequences has every feature equal to mask_value 0" \
        in " ".join(result.output.split()), result.output
    # Every sequence of full length: nothing looks padded.
    np.savez(tmp_path / "seq.npz", x=x + 1, y=np.arange(60) % 2)
    assert "warning" not in run_cli("validate", tmp_path / "s.yaml").output


def test_batches_in_order_with_splits_drawn_at_random_are_warned_about_and_the_split_is_told(run_cli):
    """Keras's shuffle=False with validation_split holds out the last rows; here the split
    is its own setting, and a time series left to the default is tested on its own past."""
    result = run_cli("validate", IRIS, "--set", "training.shuffle=false")
    text = " ".join(result.output.split())
    assert result.exit_code == 0 and "warning: training.shuffle: false keeps each epoch's batches in the rows' " \
        "order, but data.split still draws the validation and test rows at random; for rows in time order, set " \
        "data.split.shuffle: false too (training first, then validation, the test rows last)" in text, result.output
    ordered = run_cli("validate", IRIS, "--set", "training.shuffle=false", "--set", "data.split.shuffle=false",
                      "--set", "data.split.stratify=false")
    assert "training.shuffle" not in ordered.output  # (iris's rows are sorted by class: the split's own warning)
    assert "105 train, 15 validation, 30 test (validation and test from the last rows, in order)" in \
        " ".join(ordered.output.split())
    gapped = run_cli("validate", IRIS, "--set", "data.split={validation: 0, test: 0, shuffle: false, gap: 5}",
                     "--set", "training.early_stopping=null")
    assert "warning: data.split.gap: 5 leaves rows out before the held-out rows, but none are drawn from the data " \
        "(validation and test are 0, or given by data.source); leave gap out" in " ".join(gapped.output.split())
    # Nothing held out: nothing to tell.
    bare = run_cli("validate", IRIS, "--set", "training.shuffle=false", "--set", "data.split.validation=0",
                   "--set", "data.split.test=0")
    assert "warning" not in bare.output and "drawn" not in bare.output


def test_mape_over_targets_of_zero_is_warned_about(run_cli, tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "z.npz", x=rng.random((100, 3)), y=np.r_[np.zeros(10), rng.random(90) + 1])
    (tmp_path / "z.yaml").write_text("data: {source: {type: npz, path: z.npz, task: regression}}\n"
                                     "model: {layers: [{type: dense, units: 1}]}\nloss: mse\nmetrics: [mape]\n")
    result = run_cli("validate", tmp_path / "z.yaml")
    assert result.exit_code == 0 and "warning: metrics: mape divides each error by its target, and 7 of the " \
        "training targets are 0 or within 1% of the targets' median size of it: their errors weigh so much that mape " \
        "reads huge; mae or rmse measures them" in " ".join(result.output.split()), result.output
    # Near 0 without being 0 (a sine): the same.
    np.savez(tmp_path / "z.npz", x=rng.random((100, 3)), y=np.sin(np.linspace(0, 20, 100)))
    assert "mape divides each error by its target" in run_cli("validate", tmp_path / "z.yaml").output
    assert "warning" not in run_cli("validate", tmp_path / "z.yaml", "--set", "metrics=[mae]").output


def test_an_archive_that_is_not_there_is_told_at_its_config_key_with_the_near_name(run_cli, tmp_path):
    np.savez(tmp_path / "windows.npz", x=np.zeros((20, 3), np.float32), y=np.zeros(20, np.float32))
    (tmp_path / "w.yaml").write_text("data: {source: {type: npz, path: windows.np, task: regression}}\n"
                                     "model: {layers: [{type: dense, units: 1}]}\nloss: mse\n")
    result = run_cli("validate", tmp_path / "w.yaml")
    text = " ".join(result.output.split())
    assert result.exit_code == 2 and "w.yaml:1:34: data.source.path: " in text and "windows.np: no such file; did " \
        "you mean" in text and text.rstrip().endswith("windows.npz'? 1 | data: {source: {type: npz, path: " \
        "windows.np, task: regression}} | ^"), result.output
    (tmp_path / "w.yaml").write_text((tmp_path / "w.yaml").read_text().replace("windows.np", "elsewhere.npz"))
    assert "elsewhere.npz: no such file; a relative path in a config is read from the config file's folder" in \
        " ".join(run_cli("validate", tmp_path / "w.yaml").output.split())
