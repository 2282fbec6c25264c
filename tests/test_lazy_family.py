"""Layers and data sources load on demand: a config imports only the modules it names,
and validates exactly as one discriminated union of every member would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError, create_model, field_validator, model_validator
from pydantic_core import PydanticCustomError

from nnrun.data.sources import SOURCE_CLASSES, SOURCES, SourceSpec
from nnrun.model.layers import LAYER_CLASSES, LAYERS, LayerSpec
from nnrun.specs import SPEC, LazyFamily, tagged_union
from conftest import run_python

ROOT = Path(__file__).resolve().parents[1]


def holder(field: str, item: Any) -> type[BaseModel]:
    """A config block with one field, a list of ``item``."""
    return create_model(f"{field.title()}Holder", __config__=SPEC, **{field: (list[item], ...)})


LazyModel, EagerModel = holder("layers", LayerSpec), holder("layers", tagged_union(LAYERS))
LazySources, EagerSources = holder("sources", SourceSpec), holder("sources", tagged_union(SOURCES))


SOURCE_LISTS = [
    [{"type": "builtin", "name": "iris"}, {"type": "csv", "path": "a.csv", "target": "y", "ignore": ["id"]}],
    [{"type": "csv", "path": "a.csv"}, {"type": "npz", "path": 3}, {"type": "csv", "path": "a.csv", "target": "y",
                                                                    "thousands": ",,", "pathh": 1}],
    [{"type": "synthetic", "task": "regression", "samples": 0}, "csvv", {"name": "iris"}],
]

MODES = ["json", "json lax", "python", "python strict"]

LAYER_LISTS = [
    [{"type": "dense", "units": 3}, "flatten", {"type": "conv2d", "filters": 2, "kernel_size": 3}],
    [{"type": "dense", "units": "three", "unitz": 1}],  # a bad value and an unknown key
    [{"type": "dense"}],  # a missing key
    [{"type": "dens", "units": 3}],  # an unknown type
    [{"units": 3}],  # no type
    [{"type": 5}],  # a type that is not a name
    ["lstn"],  # an unknown short form
    [7, None, ["dense"]],  # neither a name nor a mapping
    [{"type": "bidirectional", "layer": {"type": "lstm", "units": 0}}],  # an error two families deep
    [{"type": "dropout", "rate": 1.5}, {"type": "max_pool2d", "pool_size": 0}],
    [{"type": "dense", "units": 2, "kernel_regularizer": {"type": "l2", "l2": -1}}],
    [{"type": "dense", "units": "3"}, {"type": "dropout", "rate": "0.5"}],  # numbers as text: lax only
]


def outcome(model: type[BaseModel], items: list, mode: str) -> Any:
    """The validated items as data, or every error (type, location, input, context)."""
    data = {next(iter(model.model_fields)): items}
    strict = not mode.endswith("lax")  # a config file: strict JSON; the API: lax Python
    try:
        if mode.startswith("json"):
            result = model.model_validate_json(json.dumps(data), strict=strict)
        else:
            result = model.model_validate(data, strict=mode == "python strict")
    except ValidationError as exc:
        return [(e["type"], e["loc"], repr(e["input"]), repr(e.get("ctx"))) for e in exc.errors(include_url=False)]
    return result.model_dump(mode="json")


@pytest.mark.parametrize("layers", LAYER_LISTS, ids=range(len(LAYER_LISTS)))
@pytest.mark.parametrize("mode", MODES)
def test_lazy_layers_validate_as_the_whole_union_does(layers, mode):
    assert outcome(LazyModel, layers, mode) == outcome(EagerModel, layers, mode)


@pytest.mark.parametrize("sources", SOURCE_LISTS, ids=range(len(SOURCE_LISTS)))
@pytest.mark.parametrize("mode", MODES)
def test_lazy_sources_validate_as_the_whole_union_does(sources, mode):
    assert outcome(LazySources, sources, mode) == outcome(EagerSources, sources, mode)


def test_a_layer_built_in_python_is_taken_as_it_is():
    dense, flatten = LAYERS[0](units=3), LAYERS[5]()
    assert LazyModel(layers=[dense, flatten]).layers == [dense, flatten]
    assert outcome(LazyModel, [dense, 7], "python") == outcome(EagerModel, [dense, 7], "python")


def test_pairs_are_lists_in_a_config_file(tmp_path):
    """Strict JSON validation of one union of every layer refused ``kernel_size: [3, 3]``
    ("expected a list, got a list of 2"); each layer validated on its own takes it."""
    from nnrun.config import load_config

    path = tmp_path / "pairs.yaml"
    path.write_text("data: {source: {type: builtin, name: digits}}\nloss: categorical_crossentropy\nmodel:\n"
                    "  layers:\n    - {type: reshape, target_shape: [8, 8, 1]}\n"
                    "    - {type: conv2d, filters: 4, kernel_size: [3, 3], strides: [1, 1]}\n"
                    "    - {type: max_pool2d, pool_size: [2, 2]}\n    - flatten\n"
                    "    - {type: dense, units: 10, activation: softmax}\n")
    conv, pool = load_config(path).config.model.layers[1:3]
    assert (conv.kernel_size, conv.strides, pool.pool_size) == ((3, 3), (1, 1), (2, 2))
    with pytest.raises(ValidationError) as caught:  # and a list of three is too long, not "not a list"
        LazyModel.model_validate_json('{"layers": [{"type": "max_pool2d", "pool_size": [2, 2, 2]}]}', strict=True)
    assert "too_long" in {error["type"] for error in caught.value.errors()}


@pytest.mark.parametrize("where, members", [(LAYER_CLASSES, LAYERS), (SOURCE_CLASSES, SOURCES)],
                         ids=["layers", "sources"])
def test_registry_names_each_class_by_its_own_type(where, members):
    for tag, cls in zip(where, members):
        assert cls.model_fields["type"].default == tag, where[tag]
    assert len(set(members)) == len(where)


def test_the_json_schema_lists_every_layer():
    schema = TypeAdapter(LazyModel).json_schema()
    assert {ref["$ref"].rsplit("/", 1)[-1] for ref in schema["properties"]["layers"]["items"]["anyOf"][1]["oneOf"]} \
        == {cls.__name__ for cls in LAYERS}


def test_a_dense_config_on_bundled_data_imports_neither_other_layers_nor_file_readers(tmp_path):
    code = ("import sys\nfrom nnrun.engine.experiment import build\nfrom nnrun.config import load_config\n"
            f"build(load_config({str(ROOT / 'configs' / 'iris.yaml')!r}))\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('nnrun.model.layers.'))))\n"
            "print(' '.join(m for m in ('nnrun.data.files', 'nnrun.data.csvsource', 'nnrun.data.table') "
            "if m in sys.modules))\n")
    result = run_python(code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    layers, readers = result.stdout.split("\n")[:2]
    assert (layers, readers) == ("nnrun.model.layers.base nnrun.model.layers.core", "")


class Raises(BaseModel):
    """A member whose validators raise the errors a plugin's block might."""

    model_config = SPEC
    type: Literal["raises"] = "raises"
    kind: int = 0

    @field_validator("kind")
    @classmethod
    def _fail(cls, value):
        if value == 1:
            raise PydanticCustomError("my_error", "kind is {what} here", {"what": "bad"})
        if value == 2:
            raise PydanticCustomError("value_error", "a message of its own")  # a built-in name, without its context
        if value == 3:
            raise PydanticCustomError("greater_than", "another message of its own")
        if value == 4:
            raise ValueError("plain")
        return value

    @model_validator(mode="after")
    def _whole(self):
        if self.kind == 5:
            raise PydanticCustomError("model_bad", "the block is {how}", {"how": "wrong"})
        return self


LazyRaises = holder("items", Annotated[BaseModel, LazyFamily({"raises": f"{__name__}:Raises"})])
EagerRaises = holder("items", tagged_union((Raises,)))


@pytest.mark.parametrize("mode", MODES)
def test_a_members_own_errors_keep_their_message_and_context(mode):
    items = [{"type": "raises", "kind": kind} for kind in range(6)]
    assert outcome(LazyRaises, items, mode) == outcome(EagerRaises, items, mode)

