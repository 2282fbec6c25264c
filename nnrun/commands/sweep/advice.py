"""What makes a sweep waste its time or rank its trials misleadingly, warned by
``nnrun validate`` and ``nnrun sweep`` before the first trial: trials that repeat
others, more trials at once than CPUs, trials scored on different validation rows,
trials ranked by how well they fit their training rows; and an optional package the
sweep needs that is not installed here (``nnrun sweep`` refuses to start without it).

    for warning in sweep_warnings(sweep): ...
"""

from __future__ import annotations

import importlib.util

from nnrun.commands.sweep.local import crowded_workers
from nnrun.commands.sweep.space import repeated_draws
from nnrun.config.sweep import SweepConfig

# Parameters that change which rows the validation split holds: trials that set them
# differently are scored on different rows, and their metrics do not compare. Not the
# settings that only encode each row's columns (a text's tokens, the categories, the
# fill of a missing cell): the split is cut from the seed and the targets alone.
SPLIT_PATHS = ("seed", "data.split", "data.source")
ENCODING_PATHS = tuple(f"data.source.{key}" for key in ("text", "categorical", "dates", "features", "id", "ignore",
                                                       "missing", "missing_category", "missing_values", "unknown",
                                                       "thousands", "strip_signs"))


def sweep_warnings(sweep: SweepConfig, workers_given: int | None = None) -> list[str]:
    """``workers_given``: the trials at once came from ``--workers``, not the file."""
    warnings = [repeated_draws(sweep), crowded_workers(sweep.executor, sweep.trial_count, workers_given),
                _moving_yardstick(sweep),
                _loss_of_other_units(sweep), _training_metric(sweep), _missing_extra(sweep)]
    return [warning for warning in warnings if warning]


def _installed(package: str) -> bool:
    try:  # found without importing it (Ray takes a second)
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):  # a package whose import failed half-way
        return False


def _missing_extra(sweep: SweepConfig) -> str | None:
    """The extra a sweep needs and this machine lacks: told by validate, which checks the
    file (it may run elsewhere), where ``nnrun sweep`` would refuse to start."""
    needs = []
    if sweep.search == "tpe" or sweep.scheduler is not None and sweep.executor.type == "local":
        needs.append(("optuna", "Optuna", "search: tpe, or a scheduler", "sweep"))
    if sweep.executor.type == "ray":
        needs.append(("ray", "Ray Tune", "executor: ray", "ray"))
    missing = [need for need in needs if not _installed(need[0])]
    if not missing:
        return None
    return "; ".join(f"this sweep needs {name} ({why}), which is not installed here: pip install 'nnrun[{extra}]'"
                     for _, name, why, extra in missing)


def _moving_yardstick(sweep: SweepConfig) -> str | None:
    """A val_ metric with parameters that move the validation split: the best trial may
    only have drawn the easiest rows (a validation fraction of 0.05 scores on a handful)."""
    if not sweep.metric.startswith("val_"):
        return None
    moving = [path for path, spec in sweep.parameters.items()
              if path.startswith(SPLIT_PATHS) and not _encodes_rows(path) and path != "data.split.stratify"
              and len(spec.extremes()) > 1]
    if not moving:
        return None
    return (f"{', '.join(moving)} change{'s' if len(moving) == 1 else ''} which rows the validation split holds, so "
            f"the trials' {sweep.metric} is measured on different rows and the best may only have drawn easy ones; "
            "keep the split and seed fixed in the base config to compare the other parameters")


def _loss_of_other_units(sweep: SweepConfig) -> str | None:
    """Ranked by the loss, trials whose losses measure otherwise do not compare, by the
    rule nnrun compare tells two runs' losses apart by (compare.loss_units: the loss's
    scale, its class weights, standardized targets): a lower class weight makes a smaller
    loss of the same predictions."""
    if sweep.metric not in ("loss", "val_loss"):
        return None
    moving = [path for path, spec in sweep.parameters.items()
              if len({_loss_units_with(path, value) for value in spec.extremes()} - {None}) > 1]
    if not moving:
        return None
    return (f"{', '.join(moving)} change{'s' if len(moving) == 1 else ''} what the loss measures (its kind, its "
            f"class weights or the target's scale), so the trials' {sweep.metric} values do not compare; rank by a "
            "metric such as val_accuracy or val_mae")


def _loss_units_with(path: str, value) -> str | None:
    """What the loss measures with ``value`` at ``path`` (None: a setting it does not
    depend on), as nnrun compare reads it off a run's config."""
    from nnrun.commands.compare import loss_units

    if path in ("loss", "loss.type"):
        return loss_units(value if path == "loss" else {"type": value})
    if path == "loss.class_weights" or path.startswith("loss.class_weights."):
        return loss_units({"type": "any", "class_weights": repr(value)})
    return loss_units("any", value) if path == "data.target_scale" else None


def _encodes_rows(path: str) -> bool:
    """Whether a parameter only changes how each row is encoded (data.source.text.length, ...)."""
    return any(path == key or path.startswith(key + ".") for key in ENCODING_PATHS)


def _training_metric(sweep: SweepConfig) -> str | None:
    """A metric of the training split ranks the trial that fits its own rows best,
    which more epochs, more units and less regularization always win."""
    if sweep.metric.startswith("val_"):
        return None
    return (f"metric: {sweep.metric} is measured on the training split, which the trial that memorises its rows "
            f"wins; rank by val_{sweep.metric} (measured on rows no trial trains on) unless that is meant")
