"""Optuna for ``search: tpe`` and the schedulers (pip install 'nnrun[sweep]').

Imported only when the sweep needs it. The distributions here are also what Ray
Tune's OptunaSearch samples from, so both executors search the same space.
"""

from __future__ import annotations

from nnrun.config.sweep import SweepConfig
from nnrun.config.sweep_space import Choice, IntRange, LogUniform, Uniform
from nnrun.errors import UserError

from nnrun.commands.sweep.space import as_choice, as_params

INSTALL = "pip install 'nnrun[sweep]'"


def optuna_module():
    """The optuna package, or a clear error naming the install command."""
    try:
        import optuna
    except ImportError:
        raise UserError("this sweep needs Optuna (search: tpe, or a scheduler), which is not installed",
                        hint=f"install it with: {INSTALL}") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def distributions(sweep: SweepConfig) -> dict:
    """Each parameter as an Optuna distribution."""
    optuna = optuna_module()
    dist = optuna.distributions
    space = {}
    for path, spec in sweep.parameters.items():
        if isinstance(spec, LogUniform):
            space[path] = dist.FloatDistribution(spec.low, spec.high, log=True)
        elif isinstance(spec, Uniform):
            space[path] = dist.FloatDistribution(spec.low, spec.high)
        elif isinstance(spec, IntRange):
            space[path] = dist.IntDistribution(spec.low, spec.high)
        elif isinstance(spec, Choice):
            space[path] = dist.CategoricalDistribution([as_choice(value) for value in spec.values])
    return space


def sampler(sweep: SweepConfig):
    optuna = optuna_module()
    if sweep.search == "tpe":
        from nnrun.commands.sweep.tpe_sampler import TrialSeededTPE  # Optuna is installed: said above

        return TrialSeededTPE(sweep.seed)
    return optuna.samplers.RandomSampler(seed=sweep.seed)  # values come from the plan; unused


def pruner(sweep: SweepConfig):
    """Optuna's pruner for the sweep's scheduler (none: never prune)."""
    optuna = optuna_module()
    scheduler = sweep.scheduler
    if scheduler is None:
        return optuna.pruners.NopPruner()
    if scheduler.type == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=scheduler.grace_epochs, reduction_factor=scheduler.reduction_factor,
            min_early_stopping_rate=0,
        )
    # Epochs are reported from 1 and Optuna may prune at step n_warmup_steps itself, so
    # a trial is stopped after grace_epochs epochs at the earliest (as Ray's grace_period).
    return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=scheduler.grace_epochs)


def study(sweep: SweepConfig):
    optuna = optuna_module()
    direction = "maximize" if sweep.direction == "max" else "minimize"
    return optuna.create_study(direction=direction, sampler=sampler(sweep), pruner=pruner(sweep))


def add_finished(study_, sweep: SweepConfig, values: dict, value: float | None, curve: dict[int, float],
                 state: str) -> None:
    """Tell a resumed study about a trial finished before the sweep stopped."""
    optuna = optuna_module()
    states = {"completed": optuna.trial.TrialState.COMPLETE, "pruned": optuna.trial.TrialState.PRUNED}
    space = distributions(sweep)
    params = {k: v for k, v in as_params(values).items() if k in space}
    study_.add_trial(optuna.trial.create_trial(
        params=params, distributions={k: space[k] for k in params},
        value=value if state == "completed" else None, intermediate_values=curve,
        state=states.get(state, optuna.trial.TrialState.FAIL),
    ))
