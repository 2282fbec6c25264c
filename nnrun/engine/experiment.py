"""Everything a run needs before its first step: config -> data -> preprocessing -> graph.

``train``, ``evaluate`` and ``validate`` all start here, so they see the same split,
the same preprocessing and the same model. Problems that need both the config and the
data (output width against the classes, loss against the task) are found here,
before any training.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnrun.config import Config, LoadedConfig, load_config
from nnrun.config.loader import apply_overrides, validate
from nnrun.data import Dataset, load_splits
from nnrun.data.features import feature_positions
from nnrun.data.preprocess import apply_pipeline, fit_pipeline
from nnrun.data.ranges import feature_ranges
from nnrun.engine.advice import (idle_settings, scale_rows, text_without_embedding, unscaled_images, unscaled_inputs,
                                 unused_layers)
from nnrun.engine.checks import check_against_data, check_sizes
from nnrun.engine.monitor_checks import unmeasurable_monitors
from nnrun.engine.mask_advice import nothing_masked, padded_numbers, sequence_padding, unmasked_padding, unread_masks
from nnrun.engine.settled import class_weights_resolved, unicode_resolved
from nnrun.errors import ConfigError, Problem, UserError
from nnrun.model.graph import Graph, compile_graph
from nnrun.model.inputs import index_positions
from nnrun.model.layers.base import channels_first
from nnrun.model.target_scale import TargetScale, fit_target_scale
from nnrun.model.scoring import score_split
from nnrun.seeding import stream
from nnrun.store.moved import from_a_moved_run, read_there


@dataclass
class Experiment:
    loaded: LoadedConfig
    splits: dict[str, Dataset]  # preprocessed; "train" always, "validation"/"test" if held out
    fingerprint: str  # of the raw training split
    preprocess_states: list[dict]
    graph: Graph
    columns: dict | None = None  # fitted column encoding of a CSV source, saved in preprocess.json
    target_scale: dict | None = None  # data.target_scale's fitted mean and std, saved in preprocess.json
    # Each named feature's training range where no column encoding keeps it (a bundled
    # data set, arrays), saved in preprocess.json: predict notes values far outside it.
    feature_ranges: list | None = None
    split_fingerprints: dict[str, str] | None = None  # of every raw split, for meta.json
    # About the data (single-row classes, odd categories) and settings it leaves idle;
    # shown by validate and train.
    warnings: tuple[str, ...] = ()

    @property
    def config(self) -> Config:
        return self.loaded.config

    @property
    def features(self) -> dict[str, list[int]]:
        """The input's feature positions by name, as the graph was compiled with."""
        return feature_positions(self.splits["train"].feature_names or [], self.columns)

    def score(self, split: str, threshold: float | None = None) -> dict[str, float]:
        """Loss and the configured metrics of the current weights on one split (of two
        classes, decided at ``threshold`` where given: see commands.threshold)."""
        part = self.splits[split]
        return score_split(self.graph, self.config.loss, self.config.metrics, part.x, part.y, threshold=threshold)


def as_loaded(config, overrides=()) -> LoadedConfig:
    """Accept a path, a plain dict, a Config or an already loaded config."""
    if isinstance(config, LoadedConfig):
        return config
    if isinstance(config, (str, os.PathLike)):
        return load_config(Path(config), overrides)
    if isinstance(config, Config):
        config = config.model_dump(mode="json", exclude_unset=True)  # what the caller set, as a file says it
    if isinstance(config, dict):
        data = copy.deepcopy(config)
        applied = apply_overrides(data, overrides)
        if data.get("name") is None:  # left out, or a Config's unset name (dumped as None)
            data["name"] = "run"
        loaded = LoadedConfig(None, "<config>", overrides=applied)  # type: ignore[arg-type]
        loaded.config = validate(data, loaded)
        return loaded
    raise UserError(f"config: expected the path of a YAML file, a dict or a Config, got {type(config).__name__}",
                    hint="e.g. nnrun.train(\"configs/iris.yaml\")")


def build(
    loaded: LoadedConfig, preprocess_states: list[dict] | None = None, columns: dict | None = None,
    warm_start: bool = True, target_scale: dict | None = None, read_paths: dict | None = None,
) -> Experiment:
    """Load and split the data, fit (or reuse) the column encoding, preprocessing and
    target scale, compile the graph, and load ``model.init_weights`` (unless
    ``warm_start`` is False: a saved run brings its own weights). ``read_paths``: the data
    source's files to read a saved run's data from, where they moved (see nnrun.store.moved)."""
    resolve_paths(loaded)
    moved = []
    if warm_start and read_paths is None:  # a moved run's config.yaml, trained or checked anew: its data beside it
        paths, moved = from_a_moved_run(loaded.config, loaded.source)
        loaded.config = read_there(loaded.config, paths)  # and the new run's config.yaml says so
    config = unicode_resolved(loaded, new_run=warm_start)
    data = read_there(config, read_paths or {}).data
    try:
        splits = load_splits(data, config.seed, columns)
    except ConfigError as exc:
        raise loaded.locate(exc) from None
    config = _given_splits_unset(loaded, config.data.source.given_splits())  # once the split did without them
    raw_train = splits.parts["train"]
    config = class_weights_resolved(loaded, raw_train)
    names = raw_train.feature_names or []
    ranges = feature_ranges(raw_train.x) if splits.columns is None and len(names) and \
        len(names) == int(np.prod(raw_train.input_shape)) else None
    steps = config.data.preprocess
    padding = sequence_padding(raw_train.x)  # as stored: standardizing moves the padding's zeros
    if preprocess_states is None:
        preprocess_states = fit_pipeline(steps, raw_train.x)
    parts = {}
    for name in list(splits.parts):  # preprocessed in place: each split's samples are this run's own
        part = splits.parts.pop(name)
        parts[name] = part.with_x(apply_pipeline(steps, preprocess_states, part.x, owned=True))
    del part
    scale_sample = scale_rows(raw_train.x) if not steps else None  # a few rows, to warn of unscaled inputs
    # The checks need its shape, classes and targets; an empty array of its own, as a
    # slice would keep the samples' memory.
    raw_train = raw_train.with_x(np.empty((0, *raw_train.input_shape), raw_train.x.dtype))
    try:
        check_sizes(config.model.layers)
        graph = compile_graph(config.model.layers, raw_train.input_shape, config.loss, rng=stream(config.seed, "init"),
                              features=feature_positions(names, splits.columns))
        check_against_data(config, graph, raw_train, parts)
        ranges = _without_index_ranges(graph, ranges, splits.columns)
        if warm_start and (unmeasurable := unmeasurable_monitors(config, parts)):  # a new run's, not a saved one's
            raise ConfigError("", unmeasurable)
        if config.data.target_scale != "none":
            target_scale = target_scale or fit_target_scale(raw_train.y, config.data.target_scale == "log1p")
            graph.target_scale = TargetScale.of(target_scale, graph.dtype, graph.output_shape)
    except MemoryError as exc:
        problem = Problem("model.layers", f"the model does not fit in memory ({exc})")
        raise loaded.locate(ConfigError("", [problem])) from None
    except ConfigError as exc:
        problems = exc.problems
        transposed = channels_first(raw_train.input_shape, config.model.layers)
        if transposed is not None:  # images stored channels first: why the layers do not fit them
            problems = [*problems, Problem("data.source", transposed)]
        raise loaded.locate(ConfigError("", problems)) from None
    if warm_start:
        load_initial_weights(loaded, graph)
    fingerprints = splits.fingerprints
    return Experiment(loaded, parts, fingerprints["train"], preprocess_states, graph, splits.columns,
                      target_scale if config.data.target_scale != "none" else None, ranges, fingerprints,
                      # A resumed run's (warm_start False) data and settings were warned of as it began: the
                      # data is checked to be the same, and advice to change a setting it keeps cannot be
                      # followed (its config.yaml sets every field, the defaults too).
                      (*moved, *(splits.warnings if warm_start else ()),
                       *(idle_settings(config, raw_train, "validation" in parts) if warm_start else ()),
                       *text_without_embedding(config, graph), *unmasked_padding(config, graph),
                       *unread_masks(graph), *padded_numbers(graph, padding),
                       *filter(None, [channels_first(graph.input_shape, config.model.layers)]),
                       *nothing_masked(graph, parts["train"].x, bool(steps)),
                       *unscaled_images(graph, parts["train"].x, bool(steps)),
                       *unused_layers(graph), *unscaled_inputs(graph, scale_sample, raw_train.feature_names)))


def resolve_paths(loaded: LoadedConfig) -> Config:
    """Make relative file paths absolute: the data source's, read from the config
    file's folder (the working directory for a config given as a dict), and
    ``model.init_weights``, read from the working directory. The run directory's
    config.yaml then holds absolute paths and finds the same files from anywhere.

    A source path typed in ``--set`` (or the API's ``overrides``) is read from the
    working directory, as the shell completes it; a sweep's parameter, like the file,
    from the config's folder."""
    folder = Path(loaded.source).resolve().parent if Path(loaded.source).is_file() else Path.cwd()
    config = loaded.config
    there, here = config.data.source.resolve(folder), config.data.source.resolve(Path.cwd())
    typed = [name for name in type(there).model_fields
             if getattr(there, name) != getattr(here, name) and _typed(loaded, ("data", "source", name))]
    source = there.model_copy(update={name: getattr(here, name) for name in typed})
    if source != config.data.source:
        config = config.model_copy(update={"data": config.data.model_copy(update={"source": source})})
    weights = config.model.init_weights
    if weights is not None and not Path(weights).is_absolute():
        model = config.model.model_copy(update={"init_weights": str(Path(weights).resolve())})
        config = config.model_copy(update={"model": model})
    loaded.config = config
    return config


def _typed(loaded: LoadedConfig, parts: tuple) -> bool:
    """Whether the value at ``parts`` came from a setting typed by the user (``--set``,
    ``overrides``), not from the file or a sweep's parameter."""
    return any(parts[: len(path)] == path and not origin.startswith("parameter ")
               for path, origin in loaded.overrides.items())


def _without_index_ranges(graph: Graph, ranges: list | None, columns: dict | None) -> list | None:
    """The training ranges less those of features an embedding reads as token ids (in
    ``ranges``, and the number columns of a table's ``columns``, changed in place): a 0
    of padding where training's texts were all long, or a rare word's id, is no value
    far from training's."""
    indices = index_positions(graph)
    at = feature_positions([], columns)  # each column's positions, by its name
    for column in (columns or {}).get("columns", []):
        if column.get("range") is not None and indices >= set(at[column["name"]]):
            column["range"] = None
    return [None if i in indices else r for i, r in enumerate(ranges)] if ranges and indices else ranges


def _given_splits_unset(loaded: LoadedConfig, given: frozenset[str]) -> Config:
    """The config with a fraction of 0 for each split the source gave as a file or
    arrays of its own (test_path, x_test), as the split was made: the run's
    config.yaml then trains, evaluates and resumes as it is, where the default
    fraction written there would ask for a split the file already fills."""
    loaded.config = given_splits_unset(loaded.config, given)
    return loaded.config


def given_splits_unset(config: Config, given: frozenset[str]) -> Config:
    """``config`` with a fraction of 0 for each of the ``given`` splits."""
    split = config.data.split
    if any(getattr(split, name) for name in given):
        split = split.model_copy(update={name: 0.0 for name in given})
        config = config.model_copy(update={"data": config.data.model_copy(update={"split": split})})
    return config


def load_initial_weights(loaded: LoadedConfig, graph: Graph) -> None:
    """Warm start: copy ``model.init_weights`` into the graph, by parameter name."""
    from nnrun.errors import UserError
    from nnrun.store.tensorfile import load_weights

    path = loaded.config.model.init_weights
    if path is None:
        return
    from nnrun.store.checkpoints import model_arrays

    try:
        weights = load_weights(Path(path), require_checksum=False, what="initial weights (model.init_weights)")
        # A checkpoint (of a run stopped early or interrupted) warm-starts from its model's weights.
        graph.load_state(model_arrays(weights) or weights, path)
    except UserError as exc:
        # Unlike a data path, read from the working directory: said where it looked.
        where = f"; a relative model.init_weights is read from the working directory ({Path.cwd()}), not the " \
            "config file's folder: give the path from there, or in full" if not Path(path).exists() else ""
        raise loaded.locate(ConfigError("", [Problem("model.init_weights", exc.message + where)])) from None


def changed_splits(run, experiment: Experiment) -> list[str]:
    """The splits whose rows differ from those the run ``run`` (a RunDir) recorded in its
    meta.json (its data file edited since: rows added, removed or changed), by name;
    none for a run written before split fingerprints were recorded."""
    from nnrun.errors import UserError

    recorded = run.read_meta().get("split_fingerprints")
    if recorded is None:
        return []
    now = experiment.split_fingerprints or {}
    if not isinstance(recorded, dict) or set(recorded) != set(now) or not all(
        isinstance(v, str) and len(v) == 64 for v in recorded.values()
    ):
        raise UserError(f"{run.meta}: damaged: its split_fingerprints do not describe the run's splits")
    return sorted(name for name in now if recorded[name] != now[name])


def splits_differ(changed: list[str]) -> str:
    """'the test split differs from training (its fingerprint in meta.json)', of the
    splits :func:`changed_splits` found."""
    return (f"the {', '.join(changed)} split{'s differ' if len(changed) > 1 else ' differs'} from training (its "
            "fingerprint in meta.json)")
