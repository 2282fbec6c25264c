"""Mutated configs fail as config errors, never as tracebacks.

Hypothesis takes a valid config, changes one thing (a value replaced by something of
another kind, a key removed or misspelled, an unknown key, a character typed into the
text) and runs what `nnrun validate` runs. Every outcome must be a valid experiment or
a :class:`UserError` with a message.
"""

from __future__ import annotations

import copy

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnrun.config.loader import load_config
from nnrun.engine.experiment import build
from nnrun.errors import UserError

VALID = yaml.safe_load("""\
name: demo
seed: 1
data:
  source: {type: synthetic, samples: 60, features: 4, classes: 3}
  split: {validation: 0.2, test: 0.2}
  preprocess: [standardize, {type: scale, factor: 2}]
model:
  layers:
    - {type: dense, units: 8, activation: relu, name: hidden}
    - {type: dropout, rate: 0.1}
    - {type: dense, units: 3, activation: softmax, inputs: [dropout_1]}
loss: categorical_crossentropy
optimizer: {type: sgd, learning_rate: 0.01, momentum: 0.9}
metrics: [accuracy]
training: {epochs: 2, batch_size: 16, early_stopping: {monitor: val_accuracy, patience: 3}}
""")

ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 70),
    st.sampled_from([0, -1, 2**31, 2**63, 10**30, 1.5, -0.0, float("nan"), float("inf")]),
    st.floats(-10, 10),
    st.sampled_from(["", "dense", "softmax", "val_loss", "input", "hidden", "dropout_1", "yes", "1e-3", "a b"]),
    st.text(max_size=8),
    st.lists(st.sampled_from([1, "accuracy", None, {"type": "dense"}]), max_size=3),
    st.dictionaries(st.sampled_from(["type", "units", "x", "name"]), st.sampled_from(["dense", 2, None]), max_size=2),
)


def _paths(node, prefix=()):
    yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _paths(child, prefix + (key,))


PATHS = [p for p in _paths(VALID) if p]


def _mutate(config: dict, path: tuple, action: str, value) -> dict:
    config = copy.deepcopy(config)
    *parents, last = path
    node = config
    for key in parents:
        node = node[key]
    if action == "replace":
        node[last] = value
    elif action == "delete":
        del node[last]
    elif action == "misspell" and isinstance(last, str):
        node[last[:-1] or "x"] = node.pop(last)
    elif action == "add" and isinstance(node, dict):
        node[f"extra_{last}"] = value
    return config


def _check(path) -> None:
    try:
        build(load_config(path))
    except UserError as exc:
        assert exc.render().strip()


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(
    path=st.sampled_from(PATHS),
    action=st.sampled_from(["replace", "replace", "delete", "misspell", "add"]),
    value=ODD_VALUES,
)
def test_mutated_configs_fail_as_config_errors(tmp_path, path, action, value):
    config = _mutate(VALID, path, action, value)
    file = tmp_path / "mutated.yaml"
    file.write_text(yaml.safe_dump(config, sort_keys=False))
    _check(file)


@FUZZ
@given(position=st.integers(0, 10_000), typed=st.text(min_size=1, max_size=3))
def test_typing_into_the_text_fails_as_config_errors(tmp_path, position, typed):
    text = yaml.safe_dump(VALID, sort_keys=False)
    position %= len(text)
    file = tmp_path / "typed.yaml"
    file.write_text(text[:position] + typed + text[position:], encoding="utf-8", errors="surrogatepass")
    _check(file)


OVERRIDE_PATHS = st.sampled_from([".".join(map(str, p)) for p in PATHS] + ["", "x", "model.layers.9", "loss.type.x"])


@FUZZ
@given(key=OVERRIDE_PATHS, value=st.text(max_size=12), separator=st.sampled_from(["=", "", "=="]))
def test_odd_overrides_fail_as_config_errors(tmp_path, key, value, separator):
    file = tmp_path / "valid.yaml"
    file.write_text(yaml.safe_dump(VALID, sort_keys=False))
    try:
        build(load_config(file, [f"{key}{separator}{value}"]))
    except UserError as exc:
        assert exc.render().strip()
