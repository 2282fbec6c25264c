"""Seeded train / validation / test splits, stratified by class when asked; or, with
``shuffle: false``, the rows in their order: training first, then validation, then the
test rows last (a time series tested on the days after the ones it learned from)."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field, model_validator

from nnrun.data.base import ANYWHERE, TEST, VALIDATION
from nnrun.data.dataset import Dataset
from nnrun.errors import ConfigError, Problem
from nnrun.specs import SPEC


class SplitConfig(BaseModel):
    model_config = SPEC

    validation: float = Field(0.1, ge=0, lt=1, description="Fraction held out for validation (0: none).")
    test: float = Field(0.2, ge=0, lt=1, description="Fraction held out for the test (0: none).")
    stratify: bool = Field(True, description="Keep class proportions in every split (classification). A split "
                           "of shuffle: false keeps the rows' order instead, whatever this says.")
    shuffle: bool = Field(True, description="Draw each split's rows at random (seeded). false: keep the rows' order, "
                          "training first, then validation, the test rows last, as for a time series (Keras's "
                          "validation_split takes the last rows too).")
    gap: int = Field(0, ge=0, description="With shuffle: false, rows left out before the validation rows and "
                     "before the test rows: samples that overlap across the boundary (windows of one series, of "
                     "this many steps), which would otherwise let the held-out scores see what training saw.")

    @model_validator(mode="after")
    def _leaves_training_data(self) -> "SplitConfig":
        if self.validation + self.test >= 1:
            raise ValueError(
                f"validation + test must be below 1 to leave training data, "
                f"got {self.validation} + {self.test}"
            )
        if self.gap and self.shuffle:
            raise ValueError(f"gap: {self.gap} leaves rows out between splits kept in the rows' order; set shuffle: "
                             "false as well (split at random, no row lies between two splits)")
        return self


SPLITS = ("train", "validation", "test")


def drawn_splits(config: SplitConfig) -> list[str]:
    """The held-out splits taken from the rows of the data (a split the source gives as
    files or arrays of its own has a fraction of 0 by then: see engine.experiment)."""
    return [name for name, fraction in (("validation", config.validation), ("test", config.test)) if fraction]


def how_drawn(config: SplitConfig) -> str:
    """How the held-out rows were taken, for a summary: "" when none were."""
    drawn = drawn_splits(config)
    if not drawn:
        return ""
    gap = f", each after {config.gap} rows left out" if config.gap else ""
    return f"{' and '.join(drawn)} drawn at random" if config.shuffle else \
        f"{' and '.join(drawn)} from the last rows, in order{gap}"


def split_indices(data: Dataset, config: SplitConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Indices of each split, sorted. With stratification every class is cut in the
    same proportions, so a class of 10 with test 0.2 puts exactly 2 in the test split.

    Rows a source assigned to a split (from an explicit validation or test file) go
    there; that split's fraction is then 0 and only the other rows are cut."""
    assigned = data.assigned if data.assigned is not None else np.full(len(data), ANYWHERE, np.int8)
    fixed = {name: np.flatnonzero(assigned == code) for name, code in (("validation", VALIDATION), ("test", TEST))}
    fractions = {name: 0.0 if len(fixed[name]) else getattr(config, name) for name in fixed}
    for name in fixed:
        if len(fixed[name]) and name in config.model_fields_set and getattr(config, name) > 0:
            raise ConfigError("", [Problem(f"data.split.{name}", f"the {name} split is given by data.source (a "
                                                   f"file or arrays of its own, as x_{name} in an .npz); set this to 0 "
                                                   "or leave it out")])
    pool = np.flatnonzero(assigned == ANYWHERE)
    if config.shuffle and config.stratify and data.task == "classification":
        labels = data.y[pool]
        groups = [pool[labels == c] for c in range(data.num_classes)]
    else:
        groups = [pool]
    # Each row is marked with its split, then each split's rows are read off in order:
    # sorted indices in one pass, where sorting each split's indices took longer.
    owner = np.full(len(assigned), -1, np.int8)
    emptied: set[str] = set()  # splits the gap took every row of
    for name, rows in fixed.items():
        owner[rows] = SPLITS.index(name)
    for group in groups:
        n_test = int(round(len(group) * fractions["test"]))
        n_val = int(round(len(group) * fractions["validation"]))
        if config.shuffle:
            group = rng.permutation(group)
            test, validation, train = group[:n_test], group[n_test : n_test + n_val], group[n_test + n_val :]
        else:  # in order: the held-out rows are the last ones, each after a gap left out
            kept = len(group) - n_test - n_val
            train, validation, test = group[:kept], group[kept : kept + n_val], group[kept + n_val :]
            if config.gap:
                before = {"train": len(train), "validation": len(validation)}
                train = train[: max(len(train) - config.gap, 0)] if n_val or n_test else train
                validation = validation[: max(len(validation) - config.gap, 0)] if n_test else validation
                emptied.update(name for name, part in (("train", train), ("validation", validation))
                               if before[name] and not len(part))
        owner[test], owner[validation], owner[train] = (SPLITS.index(name) for name in ("test", "validation", "train"))
    indices = {name: np.flatnonzero(owner == k) for k, name in enumerate(SPLITS)}
    _check_not_empty(indices, {"train": 1.0, **fractions}, len(assigned), config.gap, emptied)
    if data.task == "classification":
        _check_every_class_trains(data, indices["train"], config)
    return indices


def _check_not_empty(indices: dict[str, np.ndarray], wanted: dict[str, float], total: int, gap: int = 0,
                     emptied: set[str] = frozenset()) -> None:
    """A split asked for that holds no row; ``emptied``: those the ``gap`` took every row of."""
    for name, fraction in wanted.items():
        if fraction > 0 and len(indices[name]) == 0:
            key = name if name != "train" else "test"
            by_gap = name in emptied
            gapped = f" once gap: {gap} rows are left out before the next split" if by_gap else ""
            raise ConfigError("", [Problem(
                "data.split.gap" if by_gap else f"data.split.{key}",
                f"the {name} split would be empty ({fraction} of {total} samples){gapped}; "
                + (f"raise data.split.{name} or use more data" if name != "train" else "lower the held-out fractions")
                + (", or a smaller gap" if by_gap else ""),
            )])


def _check_every_class_trains(data: Dataset, train: np.ndarray, config: SplitConfig) -> None:
    """A class the model never sees in training cannot be learned (or scored fairly).
    The message says why it has none: it is only in a validation or test file, or it
    is a single row (often a typo in a label), or the split left it out."""
    counts = np.bincount(data.y[train], minlength=data.num_classes)
    absent = np.flatnonzero(counts == 0)
    if not len(absent):
        return
    totals = np.bincount(data.y, minlength=data.num_classes)
    names = [repr(str(data.class_names[c])) for c in absent]
    classes = f"class {names[0]}" if len(names) == 1 else f"classes {', '.join(names[:-1])} and {names[-1]}"
    if data.assigned is not None and all(totals[c] and (data.assigned[data.y == c] != ANYWHERE).all()
                                         for c in absent):
        files = sorted({"validation" if code == VALIDATION else "test"
                        for c in absent for code in np.unique(data.assigned[data.y == c])})
        raise ConfigError("", [Problem(
            "data.source",
            f"{classes} {'is' if len(names) == 1 else 'are'} only in the {' and '.join(files)} "
            f"file{'s' if len(files) > 1 else ''}, never in the training data: fix the "
            f"label{'' if len(names) == 1 else 's'} there, or add rows of {'it' if len(names) == 1 else 'them'} to the "
            "training file")])
    remedy = "use more data, smaller validation/test fractions" + (
        ", or shuffle: true (the split keeps the rows' order: a class only in the last rows is held out)"
        if not config.shuffle else "" if config.stratify else ", or stratify: true")
    has = "has" if len(names) == 1 else "each have"
    if all(totals[c] == 1 for c in absent):
        typo, label = ("a typo in a label", "label") if len(names) == 1 else ("typos in labels", "labels")
        what = f"{has} a single row, which the split held out ({typo}?); fix the {label}, or {remedy}"
    else:
        what = f"{'has' if len(names) == 1 else 'have'} no samples in the training split; {remedy}"
    raise ConfigError("", [Problem("data.split", f"{classes} {what}")])


MISSING_CLASSES_TOLD = 5  # classes named per split; the rest counted


def held_out_class_warnings(data: Dataset, indices: dict[str, np.ndarray], given: set[str],
                            ordered: bool = False) -> list[str]:
    """Classes a held-out split has no sample of (a rare class rounds to none: 4 rows
    with validation 0.1 leave 0.4), told because nothing else would: its scores of that
    class are undefined or zero (a binary auc or pr_auc reads NaN every epoch, which
    early stopping refuses to watch) and the split cannot show how the model does on
    it. ``ordered``: the split kept the rows' order (shuffle: false), so a class missing
    from the last rows is more likely rows sorted by class than a rare one."""
    if data.task != "classification":
        return []
    warnings = []
    totals = np.bincount(data.y, minlength=data.num_classes)
    in_use = 1 + sum(rows is not None and len(rows) > 0 for name, rows in indices.items() if name != "train")
    for name in ("validation", "test"):
        rows = indices.get(name)
        if rows is None or not len(rows):
            continue
        absent = np.flatnonzero((np.bincount(data.y[rows], minlength=data.num_classes) == 0) & (totals > 0))
        if not len(absent):
            continue
        listed = ", ".join(f"'{data.class_names[c]}' ({totals[c]} in all)" for c in absent[:MISSING_CLASSES_TOLD])
        more = f" and {len(absent) - MISSING_CLASSES_TOLD} more" if len(absent) > MISSING_CLASSES_TOLD else ""
        fix = (f"add samples of {'it' if len(absent) == 1 else 'them'} to the {name} file" if name in given
               else f"{'a class' if len(absent) == 1 else 'classes'} of so few rows cannot be in every split: merge "
                    f"{'it' if len(absent) == 1 else 'them'} into another class, or remove "
                    f"{'its' if len(absent) == 1 else 'their'} rows" if all(totals[absent] < in_use)
               else "the split keeps the rows' order (shuffle: false): if the rows are sorted by class, shuffle: "
                    "true draws every split from all of them" if ordered
               else f"raise data.split.{name}, or use more data")
        classes = f"class{'es' if len(absent) > 1 else ''} {listed}{more}"
        them = "that class" if len(absent) == 1 else "those classes"
        warnings.append(f"the {name} split ({len(rows)} samples) has no sample of {classes}: its scores of {them} "
                        f"are undefined or zero (a binary auc or pr_auc reads NaN); {fix}")
    return warnings

