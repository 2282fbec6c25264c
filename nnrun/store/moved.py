"""A run that moved with its project (a CI job's checkout at another path, a folder
renamed or copied elsewhere): the data files its config.yaml names by absolute path,
found again where they stand to the run.

    read_paths, notes = moved_data(config, run)   # {"path": "/new/proj/clf.csv"}; {} where nothing moved
    read_paths, notes = from_a_moved_run(config, "runs/x/config.yaml")   # a new run from a moved run's config

meta.json keeps where the run directory was when its config.yaml was written
(``run_dir``); a data file that is gone from its absolute path is looked for at the
same place relative to where the run is now (``/old/proj/clf.csv`` of a run in
``/old/proj/runs/x``, now in ``/new/proj/runs/x``: ``/new/proj/clf.csv``). The config
itself is not changed: what a resume or an evaluation reads is checked against the
run's fingerprints of its data and splits, so a different file of the same name is
refused, never trained or scored on.

May import: the leaves, ``nnrun.config`` and ``nnrun.data``.
"""

from __future__ import annotations

from pathlib import Path

from nnrun.config import Config
from nnrun.store.rundir import RunDir


def moved_data(config: Config, run: RunDir) -> tuple[dict[str, str], list[str]]:
    """The data source's file paths to read the run's data from where it moved with the
    run (by key), and a note for each; ({}, []) where no file the config names is gone,
    or none was found again."""
    meta = run.read_meta_or_none()
    written_at = meta.get("run_dir") if isinstance(meta, dict) else None
    now_at = run.path.resolve()
    if not isinstance(written_at, str) or Path(written_at) == now_at:
        return {}, []
    found = config.data.source.moved(Path(written_at), now_at)
    notes = [f"data.source.{key}: {was} is gone, and the run moved from {written_at}; reading {now} instead, at "
             "the same place beside the run (checked to be the data it trained on)" for key, was, now in found]
    return {key: now for key, _, now in found}, notes


def from_a_moved_run(config: Config, source: str) -> tuple[dict[str, str], list[str]]:
    """For a new run trained from a run's own config.yaml (``source``; ``nnrun train
    RUN/config.yaml``, the README's way to reproduce a run) whose run moved with its
    project: the data files gone from their absolute paths, where they stand beside the
    run now (by key), and a note for each; ({}, []) for any other config."""
    folder = Path(source).parent
    if Path(source).name != "config.yaml" or not (folder / "meta.json").is_file():
        return {}, []
    paths, _ = moved_data(config, RunDir(folder))
    notes = [f"data.source.{key}: {getattr(config.data.source, key)} is gone, and the run {folder.resolve()} "
             f"whose config this is moved since it was written; reading {now}, at the same place beside the run"
             for key, now in paths.items()]
    return paths, notes


def read_there(config: Config, read_paths: dict[str, str]) -> Config:
    """``config`` naming its data files where they were read (``read_paths``): what a
    resume that extends a moved run writes into its config.yaml, beside meta.json's new
    ``run_dir``, so that the two agree on where the run was when the paths were written."""
    if not read_paths:
        return config
    source = config.data.source.model_copy(update=read_paths)
    return config.model_copy(update={"data": config.data.model_copy(update={"source": source})})
