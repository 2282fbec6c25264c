"""``nnrun layers``: every layer, loss, optimizer, metric, learning-rate schedule, data
source and preprocessing step with its options.

Nothing here is written by hand: entries come from the registries (``LAYERS``,
``LOSSES``, ``OPTIMIZERS``, ``METRICS``, ``SCHEDULES``, the sources, ``STEPS``),
summaries from the classes' own docstrings, and options from their JSON Schema (type,
allowed values, bounds, default, description), so a newly registered layer shows up
with its options on its own.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

from pydantic_core import PydanticUndefined

from nnrun.errors import UserError

COMMON_LAYER_OPTIONS = ("name", "inputs")  # every layer has them; shown once in a note


@dataclass
class Option:
    name: str
    kind: str
    default: str
    description: str


@dataclass
class Entry:
    type: str
    summary: str
    options: list[Option] = field(default_factory=list)


def _summary(obj) -> str:
    """The first paragraph of the object's own docstring (a class's, not its base's)."""
    doc = inspect.cleandoc(obj.__dict__.get("__doc__") or "") if isinstance(obj, type) else inspect.getdoc(obj) or ""
    return " ".join(doc.split("\n\n")[0].replace("``", "").split())


def _kind(prop: dict) -> str:
    """A short human type: ``relu|tanh``, ``integer > 0``, ``number or null``."""
    if "enum" in prop:
        return " | ".join(map(str, prop["enum"]))
    if "anyOf" in prop:
        return " or ".join(_kind(p) for p in prop["anyOf"])
    kind = prop.get("type", "value")
    if kind == "array":
        kind = f"list of {_kind(prop.get('items', {}))}"
    bounds = [(k, s) for k, s in (("exclusiveMinimum", ">"), ("minimum", ">="), ("exclusiveMaximum", "<"),
                                   ("maximum", "<=")) if k in prop]
    return ", ".join([kind, *(f"{symbol} {prop[key]:g}" for key, symbol in bounds)])


def _default(info, kind: str = "") -> str:
    """The default as a config writes it: none where nothing is set, null where the word
    none is an option of its own (unicode: none), which the default is not."""
    if info.default is PydanticUndefined and info.default_factory is None:
        return "required"
    value = info.default_factory() if info.default is PydanticUndefined else info.default
    if value is None:
        return "null" if "none" in kind.replace(" or ", " | ").split(" | ") else "none"
    return str(value).lower() if isinstance(value, bool) else str(value)


def describe(cls, skip=(), name: str | None = None) -> Entry:
    """One registered class as a catalogue entry (``name``: of a block that has no type)."""
    schema = cls.model_json_schema()
    properties = schema.get("properties", {})
    options = [
        Option(name, kind := _kind(properties.get(name, {})), _default(info, kind), info.description or "")
        for name, info in cls.model_fields.items()
        if name != "type" and name not in skip
    ]
    return Entry(name or cls.model_fields["type"].default, _summary(cls), options)


def catalog() -> dict[str, list[Entry]]:
    """Family -> entries, straight from the registries."""
    from nnrun.config.schema import CheckpointConfig, EarlyStopping
    from nnrun.data.preprocess import STEPS
    from nnrun.data.sources import SOURCE_FAMILY
    from nnrun.data.text import TextSpec
    from nnrun.model.layers import LAYERS
    from nnrun.model.losses import LOSSES
    from nnrun.model.metrics import METRICS
    from nnrun.model.optimizers import OPTIMIZERS
    from nnrun.model.schedules import SCHEDULES

    metrics = [
        Entry(m.name, " ".join(filter(None, [_summary(m.fn), f"{'Higher' if m.higher_is_better else 'Lower'} is "
                                                           "better."])))
        for m in METRICS.values()
    ]
    return {
        "layers": [describe(cls, COMMON_LAYER_OPTIONS) for cls in LAYERS],
        "losses": [describe(cls) for cls in LOSSES],
        "optimizers": [describe(cls) for cls in OPTIMIZERS],
        "metrics": metrics,
        "schedules": [describe(cls) for cls in SCHEDULES],
        "sources": [describe(cls) for cls in SOURCE_FAMILY.members()],
        "preprocessing": [describe(cls) for cls in STEPS],
        "text": [describe(TextSpec, name="text")],
        # Keras's callbacks are settings here: found by those names too (see FAMILY_WORDS).
        "early_stopping": [describe(EarlyStopping, name="early_stopping")],
        "checkpoint": [describe(CheckpointConfig, name="checkpoint")],
    }


WHERE = {"layers": "model.layers", "losses": "loss", "optimizers": "optimizer", "metrics": "metrics",
         "schedules": "training.schedule", "sources": "data.source", "preprocessing": "data.preprocess",
         "text": "data.source.text", "early_stopping": "training.early_stopping",
         "checkpoint": "training.checkpoint"}


# A family asked for by one of its members, or by the config key that holds it (whole or its last part),
# or by Keras's callback that does its work.
FAMILY_WORDS = {"layer": "layers", "loss": "losses", "optimizer": "optimizers", "metric": "metrics",
                "schedule": "schedules", "source": "sources", "preprocess": "preprocessing",
                "EarlyStopping": "early_stopping", "ModelCheckpoint": "checkpoint", "BackupAndRestore": "checkpoint",
                "LearningRateScheduler": "schedules", "checkpoints": "checkpoint",
                **{key: family for family, path in WHERE.items() for key in (path, path.rpartition(".")[2])}}


def select(entries: dict[str, list[Entry]], name: str | None) -> dict[str, list[Entry]]:
    """All families, one family, or the entries of one type name (looked up in any case:
    ``nnrun layers LSTM`` shows lstm, which a config must write in lower case)."""
    if name is None:
        return entries
    name = FAMILY_WORDS.get(name) or {word.lower(): family for word, family in FAMILY_WORDS.items()}.get(
        name.lower(), name)
    known = {*entries, *(e.type for items in entries.values() for e in items)}
    if name not in known and name.lower() in known:
        name = name.lower()
    if name in entries:
        return {name: entries[name]}
    found = {family: [e for e in items if e.type == name] for family, items in entries.items()}
    found = {family: items for family, items in found.items() if items}
    if not found:
        from nnrun.config.keras_layers import keras_layer_hint
        from nnrun.config.keras_words import keras_value_hint
        from nnrun.errors import did_you_mean, hint_then_choices
        from nnrun.model.activations import ACTIVATIONS

        if name.lower() in ACTIVATIONS:  # not a type of its own: an option of most layers
            raise UserError(f"'{name}' is an activation, an option of a layer, not a type of its own",
                            hint=f"write activation: {name.lower()} on a layer (dense, conv2d, ...), or add "
                            f"{{type: activation, activation: {name.lower()}}}; every activation: "
                            f"{', '.join(ACTIVATIONS)}")
        if name.lower() in ("callbacks", "callback"):
            raise UserError(f"'{name}': Keras's callbacks are settings here", hint="nnrun layers early_stopping, "
                            "nnrun layers checkpoint and nnrun layers schedules show them; hooks= of nnrun.train "
                            "run code of one's own")
        names = list(dict.fromkeys([*entries, *(e.type for items in entries.values() for e in items)]))
        # Keras's Dense, then a Keras layer nnrun does otherwise (TextVectorization), then spelling
        hint = keras_value_hint(name, names) or keras_layer_hint(name) or did_you_mean(name, names)
        choices = hint_then_choices(hint, f"choose one of: {', '.join(names)}")
        raise UserError(f"'{name}' is not a family or type{choices}")
    return found
