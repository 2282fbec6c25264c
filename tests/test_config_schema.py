"""The JSON Schema: printed by `nnrun schema`, kept in configs/, used by editors."""

from __future__ import annotations

import json

import pytest
import yaml

from nnrun.config.schema import json_schema, json_schema_text

SCHEMA_LINE = "# yaml-language-server: $schema=nnrun.schema.json"


def test_checked_in_schema_is_current(configs):
    saved = (configs / "nnrun.schema.json").read_text()
    assert saved == json_schema_text(), (
        "configs/nnrun.schema.json is stale; regenerate it with: nnrun schema > configs/nnrun.schema.json"
    )


def test_schema_command_prints_it(run_cli):
    result = run_cli("schema")
    assert result.exit_code == 0
    assert json.loads(result.output) == json_schema()


def test_schema_is_valid_and_describes_fields():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    dense = schema["$defs"]["Dense"]["properties"]
    assert dense["units"]["description"] == "Output width." and dense["units"]["exclusiveMinimum"] == 0
    assert schema["properties"]["seed"]["description"].startswith("Seed of every random choice")
    # Short forms are part of the language, so editors accept them too.
    from nnrun.model.optimizers import OPTIMIZERS

    names = [cls.model_fields["type"].default for cls in OPTIMIZERS]
    assert {"type": "string", "enum": names} in schema["properties"]["optimizer"]["anyOf"]


def _config_files(configs):
    return sorted(configs.glob("*.yaml"))


def test_every_config_names_the_schema_first(configs):
    assert _config_files(configs)
    for path in _config_files(configs):
        assert path.read_text().splitlines()[0] == SCHEMA_LINE, path.name


def test_every_config_validates_against_the_schema(configs):
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json.loads((configs / "nnrun.schema.json").read_text()))
    for path in _config_files(configs):
        config = yaml.safe_load(path.read_text())
        errors = [f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(config)]
        assert not errors, f"{path.name}: {errors}"


def test_schema_accepts_the_short_forms(configs):
    jsonschema = pytest.importorskip("jsonschema")
    config = yaml.safe_load((configs / "iris.yaml").read_text())
    for optimizer in ("sgd", {"learning_rate": 0.01}, {"type": "sgd", "momentum": 0.9}):
        jsonschema.validate(config | {"optimizer": optimizer, "loss": "mse"}, json_schema())


@pytest.mark.parametrize(
    "change",
    [
        {"seed": -1},
        {"trainning": {}},
        {"loss": "crossentropy"},
        {"optimizer": {"learning_rate": 0.01, "momentum": 0.9}},
        {"model": {"layers": [{"type": "dense", "unit": 3}]}},
    ],
)
def test_schema_rejects_what_nnrun_rejects(configs, change):
    jsonschema = pytest.importorskip("jsonschema")
    config = yaml.safe_load((configs / "iris.yaml").read_text()) | change
    assert list(jsonschema.Draft202012Validator(json_schema()).iter_errors(config))


def test_the_sweep_files_schema_is_checked_in_named_and_met(configs):
    # As for configs: an editor finds the schema from the first line of each sweep file.
    from nnrun.config.sweep import json_schema as sweep_schema

    sweeps = configs / "sweeps"
    saved = json.loads((sweeps / "nnrun-sweep.schema.json").read_text())
    assert saved == sweep_schema(), ("configs/sweeps/nnrun-sweep.schema.json is stale; regenerate it with: "
                                     "nnrun schema --sweep > configs/sweeps/nnrun-sweep.schema.json")
    files = sorted(sweeps.glob("*.yaml"))
    assert files
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(saved)
    for path in files:
        assert path.read_text().splitlines()[0] == "# yaml-language-server: $schema=nnrun-sweep.schema.json"
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
        assert not errors, f"{path.name}: {errors}"
