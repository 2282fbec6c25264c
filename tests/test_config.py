"""Config loading: short forms, defaults, overrides, safe YAML, located messages."""

from __future__ import annotations

import pytest

from nnrun.config import load_config, resolved
from nnrun.errors import ConfigError, UserError

MINIMAL = """\
data:
  source: {type: builtin, name: iris}
model:
  layers:
    - {type: dense, units: 3, activation: softmax}
loss: categorical_crossentropy
"""


def test_short_forms_and_defaults(write_config):
    config = load_config(write_config(MINIMAL + "optimizer: sgd\n", "my-exp.yaml")).config
    assert config.name == "my-exp"
    assert config.optimizer.type == "sgd" and config.optimizer.learning_rate == 0.01
    assert config.loss.type == "categorical_crossentropy"
    full = resolved(config)
    assert list(full) == ["name", "seed", "tags", "notes", "data", "model", "loss", "optimizer", "metrics", "training"]
    assert full["model"]["layers"][0]["type"] == "dense"


@pytest.mark.parametrize("file_name, name", [
    ("Größe daten.yaml", "Grosse-daten"), ("Æble ørred.yaml", "AEble-orred"), ("café—test.yaml", "cafe-test"),
    ("--exp-.yaml", "exp"), ("数据.yaml", "run")])
def test_the_run_name_from_a_file_name_keeps_its_letters_in_ascii(write_config, file_name, name):
    assert load_config(write_config(MINIMAL, file_name)).config.name == name


def test_overrides_set_nested_values_and_list_items(write_config):
    loaded = load_config(write_config(MINIMAL), [
        "training.epochs=7", "model.layers.0.units=5", "optimizer.learning_rate=0.5", "metrics=[accuracy]",
    ])
    config = loaded.config
    assert config.training.epochs == 7 and config.model.layers[0].units == 5
    assert config.optimizer.type == "adam" and config.optimizer.learning_rate == 0.5
    assert config.metrics == ["accuracy"]


def test_setting_another_type_by_its_path_replaces_the_block_as_the_mapping_does(write_config):
    path = write_config(MINIMAL + "optimizer: {type: adam, learning_rate: 0.001, beta_1: 0.8}\n")
    config = load_config(path, ["optimizer.type=sgd"]).config
    # adam's beta_1 is no sgd option and its learning rate no sgd default: both go, as with {type: sgd}.
    assert (config.optimizer.type, config.optimizer.learning_rate) == ("sgd", 0.01)
    # What the command line gave the block before or after the type stays, in any order.
    config = load_config(path, ["optimizer.learning_rate=0.2", "optimizer.type=sgd", "optimizer.momentum=0.9"]).config
    assert (config.optimizer.type, config.optimizer.learning_rate, config.optimizer.momentum) == ("sgd", 0.2, 0.9)
    config = load_config(path, ["optimizer.type=adam", "optimizer.learning_rate=0.5"]).config  # the same type: a change
    assert (config.optimizer.learning_rate, config.optimizer.beta_1) == (0.5, 0.8)
    layers = load_config(write_config(MINIMAL, "layers.yaml"), ["model.layers.0.type=dropout",
                                                                "model.layers.0.rate=0.5"]).config.model.layers
    assert (layers[0].type, layers[0].rate) == ("dropout", 0.5)  # dense's units did not follow it
    # A block that names no type keeps its options: they were given for any type.
    untyped = write_config(MINIMAL + "optimizer: {learning_rate: 0.2}\n", "untyped.yaml")
    assert load_config(untyped, ["optimizer.type=sgd"]).config.optimizer.learning_rate == 0.2
    # A layer written as its type alone gains options like any other.
    flat = write_config(MINIMAL.replace("  layers:\n", "  layers:\n    - dense\n"), "flat.yaml")
    layers = load_config(flat, ["model.layers.0.type=dropout", "model.layers.0.rate=0.2"]).config.model.layers
    assert layers[0].rate == 0.2
    # What the new type lacks is asked of the --set, not of the file's old block.
    with pytest.raises(UserError) as info:
        load_config(write_config(MINIMAL, "dense.yaml"), ["model.layers.0.type=dropout"])
    assert "model.layers.0.rate: required key is missing" in info.value.render() and \
        info.value.render().endswith("(from --set model.layers.0.type=dropout)")


def test_a_mapping_override_changes_only_the_keys_it_names_unless_it_names_another_type(write_config):
    path = write_config(MINIMAL + "training: {epochs: 9, batch_size: 16}\noptimizer: {type: adam, learning_rate: 0.5}\n")
    config = load_config(path, ["training={batch_size: 4}", "optimizer={beta_1: 0.8}"]).config
    assert (config.training.epochs, config.training.batch_size) == (9, 4)  # the file's epochs stay
    assert (config.optimizer.type, config.optimizer.learning_rate, config.optimizer.beta_1) == ("adam", 0.5, 0.8)
    config = load_config(path, ["optimizer={type: sgd, momentum: 0.9}"]).config
    assert (config.optimizer.type, config.optimizer.learning_rate) == ("sgd", 0.01)  # adam's options are gone
    short = write_config(MINIMAL + "optimizer: adam\n", "short.yaml")
    assert load_config(short, ["optimizer={learning_rate: 0.2}"]).config.optimizer.learning_rate == 0.2
    # The block's own type named alone keeps its options, as {type: adam} does; another type's name replaces it.
    config = load_config(path, ["optimizer=adam"]).config
    assert (config.optimizer.type, config.optimizer.learning_rate) == ("adam", 0.5)
    config = load_config(path, ["optimizer=sgd"]).config
    assert (config.optimizer.type, config.optimizer.learning_rate) == ("sgd", 0.01)
    weighted = write_config(MINIMAL.replace("loss: categorical_crossentropy", "loss: {type: categorical_crossentropy, "
                                            "class_weights: {'0': 2.0}}"), "weighted.yaml")
    assert load_config(weighted, ["loss.class_weights=balanced"]).config.loss.class_weights == "balanced"
    with pytest.raises(UserError) as info:
        load_config(path, ["training={batch_size: 0}"])
    assert "training.batch_size: expected a whole number of at least 1, got 0 (from --set training={batch_size: 0})" \
        in info.value.render()
    # A key the file still gives is the file's: its mistake is told at its line, not blamed on the --set.
    bad = write_config(MINIMAL + "training: {epochs: 0, batch_size: 16}\n", "bad.yaml")
    with pytest.raises(UserError) as info:
        load_config(bad, ["training={batch_size: 4}"])
    assert "bad.yaml:7:20: training.epochs: expected a whole number of at least 1, got 0" in info.value.render()
    assert "(from --set" not in info.value.render()


def test_a_set_past_the_last_item_adds_one_and_minus_one_is_the_last(write_config):
    config = load_config(write_config(MINIMAL), ["model.layers.1={type: dense, units: 3, activation: softmax}",
                                                 "model.layers.0={units: 8, activation: relu}"]).config
    assert [(layer.units, layer.activation) for layer in config.model.layers] == [(8, "relu"), (3, "softmax")]
    two = load_config(write_config(MINIMAL), ["model.layers.1={type: dense, units: 3, activation: softmax}",
                                              "model.layers.-2.units=5"]).config
    assert two.model.layers[0].units == 5


@pytest.mark.parametrize(
    "override, message",
    [
        ("training.epochs", "expected KEY.PATH=VALUE"),
        ("model.layers.3.units=2", "'model.layers.3' needs an index from 0 to 0 (or -1 to -1 from the end)"),
        ("training.epochs=-1", "training.epochs: expected a whole number of at least 1, got -1 "
                               "(from --set training.epochs=-1)"),
        ("training..epochs=1", "'training..epochs' has an empty key"),
        ("optimizer.learning_rate=!!python/name:os.system", "the YAML tag"),
        ("metrics=[accuracy", "is not valid YAML"),
        ("name=,", "the value ',' is not valid YAML: expected the node content, but found ','\n  hint: quote a value "
                   "meant as text, quotes and all: --set 'name=\",\"'"),
        ("optimizer.lr=0.1", "optimizer.lr: unknown key 'lr'"),
    ],
)
def test_bad_overrides_name_the_set(write_config, override, message):
    with pytest.raises(UserError) as info:
        load_config(write_config(MINIMAL), [override])
    assert message in info.value.render()


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", ":1:1: <root>: the config must be a mapping of sections (data:, model:, loss:, ...), got an empty file"),
        ("- 1\n- 2\n", ":1:1: <root>: the config must be a mapping of sections (data:, model:, loss:, ...), got a list"),
        (MINIMAL + "loss: mse\n", ":7:1: duplicate key 'loss' (first at line 6)"),
        (MINIMAL + "x: !!python/object/apply:os.system ['true']\n", "the YAML tag"),
        ("a: &x [1]\nb: *x\n", "anchors and aliases"),
        ("data:\n\tsource: 1\n", ":2:1: a tab in the indentation; YAML indents with spaces only"),
        ("data: [1\n", ":2:1: invalid YAML"),
        (MINIMAL.replace("name: iris", "name: irs"),
         ":2:33: data.source.name: expected one of iris, wine, breast_cancer, digits, diabetes, got 'irs'; "
         "did you mean 'iris'?"),
    ],
)
def test_unsafe_or_broken_yaml_is_refused(write_config, text, fragment):
    with pytest.raises(UserError) as info:
        load_config(write_config(text))
    assert fragment in info.value.render()


def test_schema_errors_are_located_and_collected(write_config):
    text = MINIMAL.replace("units: 3", "units: -3").replace("type: builtin", "type: bultin") + "optimizer: adamm\n"
    path = write_config(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    rendered = info.value.render()
    assert f"{path}:2:18: data.source.type: unknown type 'bultin'; did you mean 'builtin'?" in rendered
    assert f"{path}:5:28: model.layers.0.units: expected a whole number greater than 0, got -3" in rendered
    assert f"{path}:7:12: optimizer: unknown type 'adamm'; did you mean 'adam'?" in rendered
    assert "3 problems" in rendered


def test_scalars_follow_yaml_1_2(write_config):
    text = MINIMAL + "optimizer: {type: sgd, learning_rate: 1e-2}\nname: 2026-01-01\n"
    config = load_config(write_config(text)).config
    assert config.optimizer.learning_rate == 0.01  # YAML 1.1 would read '1e-2' as text
    assert config.name == "2026-01-01"  # a date stays text
    with pytest.raises(ConfigError) as info:
        load_config(write_config(MINIMAL + "training: {shuffle: no}\n"))
    assert "training.shuffle: expected true or false, got 'no'" in info.value.render()
    # Numbers as 1.2 writes them: 0o12 is octal, 010 is ten (1.1: eight), 1_000 is text (1.1: a thousand).
    assert load_config(write_config(MINIMAL + "training: {epochs: 0o12, batch_size: 010}\n")).config.training \
        .model_dump(include={"epochs", "batch_size"}) == {"epochs": 10, "batch_size": 10}
    with pytest.raises(ConfigError) as info:
        load_config(write_config(MINIMAL + "training: {epochs: 1_000}\n"))
    assert "training.epochs: expected a whole number, got '1_000'; YAML 1.2 reads digits grouped with '_' as " \
           "text: write 1000" in info.value.render()
    for tagged, said in (("!!int 0b11", "'0b11' is not a whole number"), ("!!float abc", "'abc' is not a number")):
        with pytest.raises(UserError, match=f"{said} as YAML 1.2 writes one"):  # a traceback before
            load_config(write_config(MINIMAL + f"training: {{epochs: {tagged}}}\n"))


@pytest.mark.parametrize(
    "old, new, fragment",
    [
        ("units: 3", "units: '3'", "expected a whole number, got '3'; write the number without quotes"),
        ("units: 3", "units: 3.0", "expected a whole number, got 3.0"),
        ("units: 3", "units: true", "expected a whole number, got true"),
        ("name: iris", "name: 7", "expected one of iris, wine, breast_cancer, digits, diabetes, got 7"),
        ("units: 3", "units: null", "expected a whole number, got nothing (an empty value or null)"),
        ("name: iris}", "name: iris}\n  target_scale: null",
         "expected one of none, standardize, log1p, got nothing (an empty value or null); the word none turns it off (null "
         "is no value)"),
        ("units: 3", "units: [3]", "expected a whole number, got a list of 1"),
        ("activation: softmax", "activation: null", "got nothing (an empty value or null); linear is no activation "
         "(Keras's None)"),
        ("units: 3", "units: 1.0e+30", "expected a whole number, got 1e+30"),
        ("activation: softmax", "activation: None", "got 'None'; linear is no activation (Keras's None)"),
    ],
)
def test_validation_is_strict_and_echoes_the_value(write_config, old, new, fragment):
    with pytest.raises(ConfigError) as info:
        load_config(write_config(MINIMAL.replace(old, new)))
    assert fragment in info.value.render()


def test_python_dicts_may_hold_numpy_scalars():
    import numpy as np
    import yaml

    from nnrun.engine.experiment import as_loaded

    data = yaml.safe_load(MINIMAL)
    data["training"] = {"epochs": np.int64(3)}
    assert as_loaded(data).config.training.epochs == 3


def test_messages_for_other_schema_constraints():
    import enum

    from pydantic import BaseModel, Field, ValidationError

    from nnrun.config.messages import describe

    class Colour(enum.Enum):
        red = "red"
        green = "green"

    class Extra(BaseModel):
        colour: Colour
        step: int = Field(multiple_of=4)
        tags: list[str] = Field(max_length=1)

    with pytest.raises(ValidationError) as info:
        Extra.model_validate({"colour": "gren", "step": 6, "tags": ["a", "b"]})
    messages = [describe(error, error["loc"]) for error in info.value.errors()]
    assert messages == [
        "expected one of red, green, got 'gren'; did you mean 'green'?",
        "expected a multiple of 4, got 6",
        "expected at most 1 item(s), got a list of 2",
    ]


def test_infinity_and_nan_are_refused(write_config):
    with pytest.raises(ConfigError) as info:
        load_config(write_config(MINIMAL + "optimizer: {type: sgd, learning_rate: .inf}\n"))
    assert "optimizer.learning_rate: expected a finite number, got inf" in info.value.render()


def test_what_nnrun_writes_in_yaml_it_reads_back_the_same():
    """Texts YAML 1.1 writes bare but nnrun's YAML 1.2 reader takes for numbers ('1e3',
    a column's name) are quoted, as are 1.1's words ('yes') that yaml.safe_load reads:
    config.yaml, a sweep's files and trials.csv keep the values they were given."""
    import yaml

    from nnrun.config.sweep_space import written
    from nnrun.config.yaml_reader import parse_value
    from nnrun.config.yaml_writer import dump

    odd = ["1e3", "2E-5", "-4e2", "yes", "No", "2024-01-01", "null", "~", "1.5", "0x1F", "+3", "température",
           "a: b", "#x", "", "[a]", "0o17", "010", "1_000", ".5", ".inf"]
    assert parse_value(written(odd), "x") == odd
    assert parse_value(dump(odd, default_flow_style=True), "x") == odd
    assert yaml.safe_load(dump({"features": odd})) == {"features": odd}
    assert "température" in written(odd)  # as written, not as an escape


def test_a_python_tuple_is_told_to_be_written_as_a_list(run_cli, tmp_path):
    # Keras's kernel_size=(3, 3): as text in block style, split at its comma in braces.
    (tmp_path / "t.yaml").write_text(
        "data: {source: {type: builtin, name: digits}}\nmodel:\n  layers:\n"
        "    - {type: conv2d, filters: 8, kernel_size: (5, 7)}\n"
        "    - type: conv2d\n      filters: 8\n      kernel_size: (3,3)\n"
        "    - {type: flatten}\n    - {type: dense, units: 10, activation: softmax}\nloss: categorical_crossentropy\n")
    result = run_cli("validate", "t.yaml")
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and "Traceback" not in said
    assert "kernel_size: expected a whole number or a list, got '(5'; in braces YAML split the tuple at its comma: " \
           "write it as a list, [5, ...]" in said
    assert "unknown key '7)': the end of a tuple, which YAML split at its comma; write the tuple as a list: [..., 7]" \
        in said
    assert "got '(3,3)'; YAML writes a tuple as a list: [3, 3]" in said


def test_keras_rescaling_is_told_as_the_scale_step_with_its_own_factor(run_cli, tmp_path):
    (tmp_path / "sc.yaml").write_text(
        "data: {source: {type: builtin, name: digits}, preprocess: [{type: scale, scale: 0.0625}, "
        "{type: Rescaling, scale: 0.1}]}\n"
        "model: {layers: [{type: Rescaling, scale: 0.0625}, {type: flatten}, "
        "{type: dense, units: 10, activation: softmax}]}\nloss: categorical_crossentropy\n")
    result = run_cli("validate", "sc.yaml")
    said = " ".join(result.output.split())
    assert result.exit_code == 2
    # At the key itself (the block's type, scale, is no key of the path), with Keras's word for it.
    assert "sc.yaml:1:74: data.preprocess.0.scale: unknown key 'scale'; did you mean 'factor: 0.0625'? (Keras's " \
           "Rescaling(scale) is the scale step's factor here)" in said
    assert "data.preprocess.1.type: unknown type 'Rescaling'; Keras's Rescaling(scale) is {type: scale, factor: " \
           "0.1} here" in said
    assert "model.layers.0.type: unknown type 'Rescaling'; scaling is preprocessing here: data.preprocess: " \
           "[{type: scale, factor: 0.0625}]" in said


@pytest.mark.parametrize(("metric", "said"), [
    ("{type: auc, curve: PR}", "got a mapping; a metric is named, not configured: pr_auc"),
    ("\"AUC(curve='PR')\"", "did you mean 'pr_auc'? (Keras's AUC(curve='PR') is the metric pr_auc here)"),
    ("\"AUC()\"", "did you mean 'auc'? (Keras's AUC() is the metric auc here)"),
])
def test_keras_metric_objects_are_told_by_the_metric_they_name(run_cli, metric, said):
    from conftest import ROOT

    result = run_cli("validate", ROOT / "configs" / "breast_cancer.yaml", "--set", f"metrics=[{metric}]")
    assert result.exit_code == 2 and said in " ".join(result.output.split())


def test_a_leaky_relu_slope_that_cannot_be_kept_is_said(run_cli):
    from conftest import ROOT

    result = run_cli("validate", ROOT / "configs" / "iris.yaml", "--set", "model.layers.1={type: LeakyReLU, alpha: 0.1}")
    assert result.exit_code == 2 and "(with a slope of 0.2, as Keras's leaky_relu function; 0.1, as the layer had " \
        "it, is not offered)" in " ".join(result.output.split())
    # The layer's own default, 0.3, is not nnrun's either: said too.
    result = run_cli("validate", ROOT / "configs" / "iris.yaml", "--set", "model.layers.1={type: LeakyReLU}")
    assert "0.3, as the layer had it, is not offered" in " ".join(result.output.split())
