"""The config as a run writes it: every default filled in (``resolved``), its hash, its
YAML text (config.yaml), and its data files named within the run directory."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from nnrun.config.schema import Config
from nnrun.config.yaml_writer import dump


def resolved(config: Config) -> dict:
    """The config with every default filled in, as plain data, ``type`` first."""
    return _type_first(config.model_dump(mode="json"))


def _type_first(value):
    if isinstance(value, dict):
        ordered = {"type": value["type"]} if "type" in value else {}
        ordered.update((k, _type_first(v)) for k, v in value.items() if k != "type")
        return ordered
    if isinstance(value, list):
        return [_type_first(v) for v in value]
    return value


def config_hash(config: Config) -> str:
    canonical = json.dumps(config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def dump_yaml(config: Config, folder: Path | None = None) -> str:
    """The config as a run keeps it (config.yaml): letters beyond ASCII as they are, not
    as escapes, so a path or a name reads and greps as the user wrote it. With
    ``folder`` (the one it is written in), as :func:`portable` gives it."""
    config = portable(config, folder) if folder is not None else config
    return dump(resolved(config), sort_keys=False, default_flow_style=False, allow_unicode=True)


def run_config_hash(config: Config, folder: Path) -> str:
    """The hash of a run's config as the run in ``folder`` keeps it (meta.json's
    ``config_hash``): the same wherever the run is moved (:func:`portable`)."""
    return config_hash(portable(config, folder))


LABELS = ("tags", "notes")  # they change nothing trained: a run's may be edited afterwards


def trained_config_hash(config: Config, folder: Path) -> str:
    """:func:`run_config_hash` of the settings that train, the labels left out (meta.json's
    ``trained_config_hash``): a run tagged ``promoted`` afterwards still describes its weights."""
    unlabelled = {label: Config.model_fields[label].get_default(call_default_factory=True) for label in LABELS}
    return run_config_hash(config.model_copy(update=unlabelled), folder)


def portable(config: Config, folder: Path) -> Config:
    """``config`` with the data files inside the run directory ``folder`` (arrays given
    in memory, saved there) named relative to it: what the run's config.yaml, meta.json
    and checkpoints keep, so that the run evaluates and resumes wherever it is moved."""
    source = config.data.source.within(folder)
    return config if source is config.data.source else \
        config.model_copy(update={"data": config.data.model_copy(update={"source": source})})


def anchored(config: Config, folder: Path) -> Config:
    """``config`` with relative data paths read from ``folder``: a run's config.yaml, whose
    own data files it names within the run (:func:`portable`), read as it was trained."""
    source = config.data.source.resolve(Path(folder).resolve())
    return config.model_copy(update={"data": config.data.model_copy(update={"source": source})})


def with_defaults(saved: dict, folder: Path | None = None) -> dict:
    """A config a run or sweep saved (config.yaml, base.yaml, a checkpoint's), with the
    defaults of settings added since it was written (data.split.shuffle, a CSV source's
    delimiter, ...) filled in, so that they do not count as changes, and, given the run's
    ``folder``, its own data files named within it (an older nnrun saved their absolute
    paths); as it was where it no longer validates."""
    try:
        config = Config.model_validate(saved)
    except (ValueError, TypeError):
        return saved
    return resolved(portable(config, folder) if folder is not None else config)
