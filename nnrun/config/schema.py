"""The config language: one Pydantic model per YAML section.

Every polymorphic block is a discriminated union on ``type`` whose members come from
the registries (layers, losses, optimizers, sources, preprocessing steps), and every
model forbids unknown keys. Blocks that need no options accept a bare string
(``loss: mse``, ``optimizer: adam``). Field descriptions are the user-facing help shown
by ``nnrun schema`` and editors.
"""

from __future__ import annotations

import copy
import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, WithJsonSchema, model_validator

from nnrun.config.run_names import RUN_NAME_PATTERN
from nnrun.data.preprocess import StepSpec
from nnrun.data.sources import SourceSpec
from nnrun.data.split import SplitConfig
from nnrun.model.layers import LayerSpec
from nnrun.model.losses import LOSSES, LossSpec
from nnrun.model.metrics import MetricName
from nnrun.model.optimizers import Adam, OptimizerSpec
from nnrun.model.schedules import ScheduleSpec
from nnrun.specs import SPEC

MAX_THREADS = 1024  # BLAS libraries start no more; a larger count is a typo
TASK_SOURCES = ("csv", "npz")  # file sources whose task may follow from the loss
LOSS_TASKS = {loss.model_fields["type"].default: loss.task for loss in LOSSES}


def no_items() -> list:
    """An empty list, for a field's default. Not ``default_factory=list``: Pydantic reads
    the factory's signature, which for a built-in like ``list`` compiles the tokenizer's
    regular expressions (16 ms of every ``nnrun train``'s start)."""
    return []


# A tag: one word of letters, digits and . _ : / = + - (baseline, lr-sweep, owner:ana).
TAG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/=+-]*$"
LONGEST_TAG = 64
Tag = Annotated[str, Field(pattern=TAG_PATTERN, max_length=LONGEST_TAG)]


def each_once(names: list) -> list:
    """A list of names (metrics) that names none twice: a repeat is a slip, and would
    be reported twice in every epoch's line."""
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{', '.join(map(repr, repeated))} listed more than once; list each once")
    return names


def whole_numbers_named(names):
    """Class names written as numbers ([1, 0]) named by their digits, as the classes of
    labels that are whole numbers are, and as YAML booleans ([true, false]) by the words
    a boolean target's classes have; anything else as it is (a text, or a mistake for
    the check after)."""
    if not isinstance(names, list):
        return names
    return [str(n) if isinstance(n, bool) else
            str(int(n)) if isinstance(n, (int, float)) and float(n).is_integer() else n for n in names]


# Texts, and whole numbers or booleans named as their classes are (1 as "1", true as "True").
ClassNames = Annotated[list[str], BeforeValidator(whole_numbers_named), AfterValidator(each_once),
                       WithJsonSchema({"type": "array", "items": {"type": ["string", "integer", "boolean"]}})]


class Section(BaseModel):
    model_config = SPEC


class DataConfig(Section):
    source: SourceSpec = Field(description="Where the samples come from.")
    split: SplitConfig = Field(default_factory=SplitConfig, description="Validation and test hold-outs.")
    preprocess: list[StepSpec] = Field(
        default_factory=no_items, description="Steps fitted on the training split, applied to every split."
    )
    target_scale: Literal["none", "standardize", "log1p"] = Field(
        "none", description="A regression's targets: standardize trains on them less the training split's mean, "
        "divided by its standard deviation, and turns the outputs back, so predictions, metrics and exports keep "
        "the target's units (the loss is in standardized units). log1p does the same with log(1 + target), for "
        "targets above -1 that span orders of magnitude (prices, incomes, counts): errors count in proportion.")
    classes: ClassNames | None = Field(
        None, description="A classification's class names in the order of the model's outputs (default: sorted). "
        "Of two classes, the second is the positive one: the sigmoid's probability, and what precision, recall, f1 "
        "and pr_auc score; list the class to detect last, as [legit, fraud].")


class ModelConfig(Section):
    layers: list[LayerSpec] = Field(min_length=1, description="Layers, input to output.")
    init_weights: str | None = Field(
        None,
        description="A .safetensors file of initial weights, '<layer name>.<param>' -> array (warm start); "
        "names and shapes must match the model exactly.",
    )


class EarlyStopping(Section):
    """Stop when the monitored quantity stops improving, and end with the best epoch's
    weights (Keras's EarlyStopping callback with restore_best_weights)."""

    monitor: str = Field("val_loss", description="Quantity watched: 'loss', a metric, or either with 'val_'.")
    patience: int = Field(10, ge=0, description="Epochs without improvement before stopping.")
    min_delta: float = Field(0.0, ge=0, description="Smallest change that counts as an improvement.")
    restore_best: bool = Field(True, description="End with the weights of the best epoch.")


class CheckpointConfig(Section):
    """Resumable checkpoints of the whole training state, by time or by epochs (Keras's
    ModelCheckpoint and BackupAndRestore callbacks in one)."""

    every_seconds: float = Field(
        5.0, gt=0, description="Save at the end of the first epoch that ends this many seconds after the last "
        "save (and always after the last epoch and on SIGINT/SIGTERM): a kill loses at most about this much "
        "training. Ignored when every_epochs is set.",
    )
    every_epochs: int | None = Field(
        None, ge=1, description="Save after every N epochs instead of by time (1: after each epoch)."
    )
    keep: int = Field(2, ge=1, description="How many of the newest checkpoints to keep.")


class TrainingConfig(Section):
    epochs: int = Field(10, ge=1, le=1_000_000, description="Passes over the training split.")
    batch_size: int = Field(32, ge=1, description="Samples per gradient step.")
    shuffle: bool = Field(True, description="Reshuffle the training split every epoch.")
    early_stopping: EarlyStopping | None = Field(None, description="Stop when the monitored quantity stalls.")
    schedule: ScheduleSpec | None = Field(
        None, description="Learning rate of each epoch, from optimizer.learning_rate. Default: constant."
    )
    threads: Literal["auto"] | Annotated[int, Field(ge=1, le=MAX_THREADS)] = Field(
        "auto",
        description="BLAS threads for training. auto: the cores the machine's load leaves free, looked at when "
        "the run starts and as it trains (all of them on a quiet machine, one beside a busy "
        "neighbour); a number: the same weights to the last bit whatever the load.",
    )
    checkpoint: CheckpointConfig | None = Field(
        default_factory=CheckpointConfig,
        description="Resumable checkpoints in <run>/checkpoints/ (`nnrun train --resume RUN_DIR`); null: none "
        "except on SIGINT/SIGTERM.",
    )


class Config(Section):
    name: str | None = Field(
        None,
        pattern=RUN_NAME_PATTERN,
        max_length=100,
        description="Run name, used for the run directory. Default: the config file's name.",
    )
    seed: int = Field(42, ge=0, lt=2**63, description="Seed of every random choice: split, init, shuffle, dropout.")
    tags: Annotated[list[Tag], AfterValidator(each_once)] = Field(
        default_factory=no_items,
        description="Labels to find the run by (`nnrun runs --tag baseline`); they change nothing it trains.")
    notes: str | None = Field(
        None, max_length=2000, description="What the run tries, in words; kept in its config.yaml and shown by "
        "`nnrun runs --show notes` and `nnrun compare`. It changes nothing it trains.")
    data: DataConfig = Field(description="Data source, split and preprocessing.")
    model: ModelConfig = Field(description="The network.")
    loss: LossSpec = Field(description="Loss to minimise.")
    optimizer: OptimizerSpec = Field(
        default_factory=Adam, description="Update rule."
    )
    metrics: Annotated[list[MetricName], AfterValidator(each_once)] = Field(
        default_factory=no_items, description="Metrics reported every epoch.")
    training: TrainingConfig = Field(default_factory=TrainingConfig, description="Epochs, batches, stopping.")

    @model_validator(mode="before")
    @classmethod
    def _task_from_loss(cls, values):
        """A file source without ``task`` takes it from the loss: float targets with
        ``loss: mse`` are a regression without further words. The resolved config
        then names the task."""
        data = values.get("data") if isinstance(values, dict) else None
        source = data.get("source") if isinstance(data, dict) else None
        if not isinstance(source, dict) or source.get("type") not in TASK_SOURCES or "task" in source:
            return values
        loss = values.get("loss")
        name = loss.get("type") if isinstance(loss, dict) else loss
        task = "regression" if LOSS_TASKS.get(name) == "regression" else "classification"
        return {**values, "data": {**data, "source": {**source, "task": task}}}


def json_schema() -> dict:
    """The JSON Schema of a config file, as editors and ``nnrun schema`` show it."""
    schema = Config.model_json_schema(mode="validation")
    _require_tags(schema, schema["$defs"])
    # Options without a type tune the default optimizer (see _default_optimizer).
    typeless = copy.deepcopy(schema["$defs"][Adam.__name__])
    typeless["properties"].pop("type")
    typeless["required"] = [key for key in typeless["required"] if key != "type"]
    typeless["title"] = "Options of the default optimizer, Adam"
    schema["properties"]["optimizer"]["anyOf"].append(typeless)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "nnrun config",
        "description": "A training run: data, model, loss, optimizer and schedule. Generated by `nnrun schema`.",
        **{key: value for key, value in schema.items() if key not in ("title", "description")},
    }


def _require_tags(node: Any, definitions: dict) -> None:
    """Mark ``type`` required in every member of a tagged union, as nnrun requires it
    there (Pydantic leaves it optional because the member's own field has a default)."""
    if isinstance(node, dict):
        tag = node.get("discriminator", {}).get("propertyName")
        for member in node.get("oneOf", []) if tag else []:
            member_schema = definitions[member["$ref"].rsplit("/", 1)[-1]]
            member_schema["required"] = sorted({*member_schema.get("required", []), tag})
        for child in node.values():
            _require_tags(child, definitions)
    elif isinstance(node, list):
        for child in node:
            _require_tags(child, definitions)


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
