"""A sweep directory moved with its project (a CI job's checkout elsewhere): its base
config and data found where they stand to it now, as a moved run's are (see
:mod:`nnrun.store.moved`). A resume then checks them against the sweep's record (the
base config's text, each data file's hash) as it would at their old place.
"""

from __future__ import annotations

import json
from pathlib import Path

from nnrun.config.sweep import LoadedSweep
from nnrun.data.base import found_beside


def moved_paths(sweep_dir: Path):
    """For a sweep directory moved with its project (a CI job's checkout elsewhere): a
    function giving each recorded absolute path that is gone where it now stands to the
    directory, if a file is there; None where the directory did not move. Its old places
    are its trials' (each run records the folder it was written to, or last resumed in)."""
    here = Path(sweep_dir).resolve()
    places = []
    for meta in sorted((here / "trials").glob("*/meta.json")):
        try:
            was = Path(json.loads(meta.read_text())["run_dir"]).parent.parent
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if was != here and was not in places:
            places.append(was)
    if not places:
        return None

    def now(value: str) -> str:
        found = (found_beside(value, was, here) for was in places)
        return next((beside for beside in found if beside is not None), value)
    return now


def with_moved_base(located: LoadedSweep, now) -> LoadedSweep:
    """A moved sweep directory's recorded sweep file, its base config found where it
    stands to the directory now (``now``: what :func:`moved_paths` gave, or None)."""
    if now is None or located.sweep is None or now(located.sweep.base) == located.sweep.base:
        return located
    located.sweep = located.sweep.model_copy(update={"base": now(located.sweep.base)})
    located.base_path = Path(located.sweep.base)
    return located


def moved_data(base: dict, moved) -> dict:
    """A recorded base config's data files where they stand now (see :func:`moved_paths`)."""
    source = (base.get("data") or {}).get("source") if isinstance(base, dict) else None
    if moved is None or not isinstance(source, dict):
        return base
    # Every text (only a gone absolute path moves): each source names its files its own way (idx: images).
    found = {key: moved(value) for key, value in source.items() if isinstance(value, str)}
    model = base.get("model")
    weights = model.get("init_weights") if isinstance(model, dict) else None  # a warm start's file
    model = {**model, "init_weights": moved(weights)} if isinstance(weights, str) else model
    return {**base, "data": {**base["data"], "source": {**source, **found}}, "model": model}
