"""Reading a run's ``preprocess.json`` back, as untrusted input.

``evaluate`` and ``predict`` reapply exactly what training fitted; a file that was
edited or damaged must fail with a message naming it, not with a KeyError deep inside
the preprocessing. The shape of the file is checked by a Pydantic model, and the
fitted statistics by applying them once to a sample of zeros.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from . import rundir
from .data.preprocess import apply_pipeline
from .errors import UserError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SavedColumn(_Strict):
    name: str
    kind: Literal["numeric", "categorical"]
    fill: float | str | None = None
    categories: list[str] | None = None


class SavedColumns(_Strict):
    missing: str
    columns: list[SavedColumn]


class SavedPreprocessing(_Strict):
    steps: list[str]
    states: list[dict]
    feature_names: list[str]
    class_names: list[str] | None
    input_shape: list[int]
    task: Literal["classification", "regression"]
    columns: SavedColumns | None = None
    target: str | None = None


def read_preprocessing(run_path: Path, config) -> dict:
    """The saved preprocessing of a run, checked against its config; plain data."""
    path = run_path / "preprocess.json"
    raw = rundir.read_json(path)
    try:
        saved = SavedPreprocessing.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UserError(f"{path}: damaged ({where}: {first['msg']})") from None
    steps = config.data.preprocess
    if saved.steps != [step.type for step in steps]:
        raise UserError(f"{path}: its steps {saved.steps} do not match the run's config.yaml")
    try:
        apply_pipeline(steps, saved.states, np.zeros((1, *saved.input_shape), np.float32))
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{path}: damaged: its fitted statistics do not fit the data ({type(exc).__name__}: {exc})") from None
    return raw
