"""``nnrun.sweep``: a hyperparameter search from Python, as ``nnrun sweep`` runs one.

    result = nnrun.sweep("configs/sweeps/iris.yaml", workers=2)
    result.best.values, result.best.best, result.best_config   # best.yaml retrains it
    nnrun.train(result.best_config)

    result = nnrun.sweep(resume="runs/iris-search-20260101-120000")   # finish a stopped one

The same sweep file, directory and errors as the command (a bad file is a UserError;
no trial completed, a TrainingFailed), but for Ctrl-C or SIGTERM: once the running
trials saved their checkpoints, a KeyboardInterrupt (:class:`nnrun.errors.Interrupted`)
as ``nnrun.train`` raises, so that a loop of sweeps stops too.
"""

from __future__ import annotations

import io
from pathlib import Path

from nnrun.api_calls import from_python, run_path
from nnrun.commands.sweep.runner import SweepResult


@from_python
def sweep(sweep_file: str | Path | None = None, *, resume: str | Path | None = None, run_dir: str | Path | None = None,
          runs_root: str | Path = "runs", workers: int | None = None, quiet: bool = True) -> SweepResult:
    """Run the sweep file's trials into ``runs_root/<name>-<time>/`` (or ``run_dir``), or
    finish the sweep directory ``resume``; ``workers``: trials at once on this machine,
    in place of the file's ``executor.workers``. ``quiet=False`` shows each trial and the
    leaderboard as the command does; quiet, only warnings reach standard error.

    The result names its fields: ``path`` (the sweep directory), ``trials`` (each with
    ``id``, ``values``, ``status``, ``best``, ``best_epoch``, ``epochs``), ``best`` (the
    best completed trial), ``metric``, ``direction``, ``best_run`` (its run directory,
    for ``nnrun.load``), ``best_config`` (best.yaml) and ``resumable`` (trials stopped
    from outside, which a resume finishes)."""
    from nnrun.commands.sweep.runner import SweepInterrupted, run_sweep
    from nnrun.console.output import OutputConsole
    from nnrun.console.sweep_view import QuietSweepView, make_view
    from nnrun.errors import Interrupted, UserError

    if not isinstance(quiet, bool):  # "no" is no False
        raise UserError(f"quiet: expected True or False, got {quiet!r}")
    sweep_file = run_path(sweep_file, "sweep_file", "a sweep file") if sweep_file is not None else None
    resume = run_path(resume, "resume", "a sweep directory") if resume is not None else None
    run_dir = run_path(run_dir, "run_dir", "a folder") if run_dir is not None else None
    runs_root = run_path(runs_root, "runs_root", "a folder")
    if sweep_file is None and resume is None:
        raise UserError("sweep: give a sweep file, or resume= a sweep directory to finish",
                        hint="nnrun.sweep(\"configs/sweeps/iris.yaml\")")
    view = make_view() if not quiet else QuietSweepView(OutputConsole(file=io.StringIO()))  # warnings: stderr
    try:
        return run_sweep(sweep_file, resume=resume, view=view, runs_root=runs_root, run_dir=run_dir, workers=workers)
    except SweepInterrupted as stopped:
        raise Interrupted(stopped) from None
    finally:
        view.close()
