"""The closing results of a training run: final metrics per split, the best epoch, a
sparkline of the monitored loss, what early stopping did, an overfitting note, the time,
the files written and the exact command to run next."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from nnrun.console.numbers import number
from nnrun.console.tables import FoldingTable
from nnrun.engine.stopping import did_not_improve
from nnrun.model.metrics import POSITIVE_CLASS_METRICS
from nnrun.store.curves import SPARK_ASCII, SPARK_BLOCKS, overfitting, sparkline
from nnrun.store.history import best_row, format_seconds, monitored


def print_results(console: Console, result, experiment=None, resumed_after: int | None = None) -> None:
    """The closing table: final metrics per split, then best epoch, curve, notes,
    time, files and the command to run next. ``resumed_after``: the epoch a resumed
    run continued after (None for a run trained in one go)."""
    console.print(_final_table(result, experiment))
    for label, value in _result_lines(result, experiment, resumed_after, ascii_only=not _encodes_blocks(console)):
        console.print(f"{label + ':':<12} {value}", highlight=False, markup=False, soft_wrap=True)


def _final_table(result, experiment) -> Table:
    metrics = list(next(iter(result.final.values())))
    weights = f"weights of epoch {result.best_epoch}" if _restored(result, experiment) else "final weights"
    table = FoldingTable(title=f"Results ({weights})", title_justify="left")
    table.add_column("split")
    table.add_column("samples", justify="right")
    for name in metrics:
        table.add_column(name, justify="right")
    sizes = {name: len(part) for name, part in experiment.splits.items()} if experiment else {}
    for split, scores in result.final.items():
        table.add_row(split, str(sizes.get(split, "")), *(number(scores[m]) for m in metrics))
    return table


def _stopping(experiment):
    """The run's early-stopping settings, or None."""
    return experiment.config.training.early_stopping if experiment else None


def _restored(result, experiment) -> bool:
    stopping = _stopping(experiment)
    return bool(stopping and stopping.restore_best and result.best_epoch)


def _result_lines(result, experiment, resumed_after: int | None = None,
                  ascii_only: bool = False) -> list[tuple[str, str]]:
    """(label, text) lines under the table, in reading order."""
    history = result.history
    lines = [_best_epoch_line(result, experiment), _curve_line(history, ascii_only, experiment)]
    if result.stopped_early:
        lines.append(("early stop", _early_stop_note(result, experiment)))
    lines.append(_positive_class_line(experiment))
    lines.append(_majority_line(result, experiment))
    note = overfitting(history)
    if note:
        dropout = experiment is not None and any(node.layer.type == "dropout" for node in experiment.graph.nodes)
        advice = (f"; the saved weights are those of epoch {result.best_epoch}" if _restored(result, experiment)
                  else f"; try training.early_stopping, {'more dropout' if dropout else 'a dropout layer'}, a "
                  "kernel_regularizer, or fewer epochs")
        lines.append(("note", note + advice))
    lines.append(("time", _time_line(result, resumed_after)))
    entries = [p for p in Path(result.run_dir).iterdir() if not p.name.startswith(".")]
    files = sorted(p.name + ("/" if p.is_dir() else "") for p in entries)
    lines.append(("files", f"{result.run_dir} ({', '.join(files)})"))
    from nnrun.errors import next_evaluation

    lines.append(("next", next_evaluation(result.run_dir, result.final)))
    if resumed_after is not None:
        lines.append(_export_again_line(result.run_dir))
    return [line for line in lines if line is not None]


def _export_again_line(run_dir) -> tuple[str, str] | None:
    """After a resume, the exports in the run directory are of the weights before it
    (the resume warned as it began, many epochs ago in a long run): how to renew them."""
    from nnrun.errors import quoted
    from nnrun.store.rundir import RunDir

    run = RunDir(Path(run_dir))
    stale = [(run.onnx(half), half) for half in (False, True) if run.onnx(half).is_file()]
    if not stale:
        return None
    commands = " and ".join(f"nnrun export {quoted(run_dir)}{' --float16' if half else ''}" for _, half in stale)
    names = " and ".join(path.name for path, _ in stale)
    return "export", f"{commands} ({names} {'is' if len(stale) == 1 else 'are'} of the weights before the resume)"


def _time_line(result, resumed_after: int | None) -> str:
    """The time this process trained; for a resumed run also the time of all its epochs,
    the sum of metrics.csv's seconds as ``nnrun runs`` shows it, which the per-epoch
    average divides."""
    history = result.history
    epochs_seconds = sum(r["seconds"] for r in history)
    per_epoch = format_seconds(epochs_seconds / max(len(history), 1))
    if resumed_after is None:
        return f"{result.seconds:.2f}s in all, {per_epoch} per epoch on average"
    epochs = f"{len(history)} epoch{'s' * (len(history) != 1)}"
    return (f"{format_seconds(result.seconds)} since the resume after epoch {resumed_after}, loading and saving "
            f"included; the run's {epochs} trained for {format_seconds(epochs_seconds)} in all, {per_epoch} per "
            "epoch on average")


def _best_epoch_line(result, experiment) -> tuple[str, str] | None:
    """The epoch early stopping chose, else the one with the lowest validation loss."""
    history = result.history
    stopping = _stopping(experiment)
    key = stopping.monitor if stopping else monitored(history)
    best = next((r for r in history if r["epoch"] == result.best_epoch), None) or best_row(history, key)
    if best is None and history and key in history[-1]:  # never finite: nothing was ever the best
        return "best epoch", f"none: {key} was not a number in any epoch"
    if best is None or key not in best:
        return None
    return "best epoch", f"{best['epoch']} of {len(history)} ({key} {number(best[key])}{_during(key)})"


def _during(key: str) -> str:
    """What a training quantity of an epoch is: measured as its batches trained (dropout on,
    the weights moving), so it differs from the table's score of the final weights."""
    return "" if key.startswith("val_") else ", over the epoch's batches as they trained"


def _encodes_blocks(console: Console) -> bool:
    return console.encoding.lower().replace("-", "").startswith("utf")


def _curve_line(history: list[dict], ascii_only: bool, experiment=None) -> tuple[str, str] | None:
    """A sparkline of what early stopping watches, else of the validation loss (the
    training loss without a validation split), in ASCII on an output that cannot encode
    the block characters."""
    stopping = experiment.config.training.early_stopping if experiment else None
    key = stopping.monitor if stopping and history and stopping.monitor in history[0] else monitored(history)
    curve = [r[key] for r in history]
    if len(curve) < 2:
        return None
    blocks = SPARK_ASCII if ascii_only else SPARK_BLOCKS
    return key, f"{sparkline(curve, blocks=blocks)} {number(curve[0])} -> {number(curve[-1])}{_during(key)}"


def _positive_class_line(experiment) -> tuple[str, str] | None:
    """Of two classes, precision, recall, f1 and pr_auc score the second (class 1, as
    Keras's and scikit-learn's do): which one that is depends on how the names sort, so
    it is said."""
    classes = experiment.splits["train"].class_names if experiment else None
    named = [m for m in experiment.config.metrics if m in POSITIVE_CLASS_METRICS] if experiment else []
    if not named or not classes or len(classes) != 2:
        return None
    listed = " and ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)
    return ("note", f"{listed} {'is' if len(named) == 1 else 'are'} of class '{classes[1]}', the second of "
                    f"two (data.classes orders them; f1_macro averages both; nnrun evaluate reports each class)")


MAJORITY_MARGIN = 0.05  # balanced accuracy this far above chance (1 / classes): the model learned something


def _majority_line(result, experiment) -> tuple[str, str] | None:
    """A held-out accuracy no better than always predicting the most frequent training
    class: on imbalanced classes that number alone reads well (0.95 of 95 to 5), and on
    a model that ignores its inputs it is all there is to learn."""
    # Class weights trade accuracy for the rare classes on purpose: accuracy says little then.
    if experiment is None or "accuracy" not in experiment.config.metrics or \
            getattr(experiment.config.loss, "class_weights", None) is not None:
        return None
    train = experiment.splits["train"]
    split = next((name for name in ("test", "validation") if name in result.final and name in experiment.splits), None)
    if train.task != "classification" or train.y.ndim != 1 or split is None or not len(train.y):
        return None
    majority = int(np.bincount(train.y.astype(np.int64), minlength=train.num_classes).argmax())
    share, scores = float(np.mean(experiment.splits[split].y == majority)), result.final[split]
    balanced = scores.get("balanced_accuracy")  # where measured: above chance, the model tells the classes apart
    if not scores["accuracy"] <= share or share == 1 or \
            balanced is not None and balanced > 1 / train.num_classes + MAJORITY_MARGIN:
        return None  # (NaN: not said; a split of one class: nothing to tell apart)
    return ("note", f"{split} accuracy {number(scores['accuracy'])} is no better than always predicting "
                    f"'{train.class_names[majority]}', the most frequent training class ({number(share)} of the "
                    f"{split} split): the model does no better than the class shares alone (too few epochs, or inputs "
                    "that say little of the target); balanced_accuracy, which scores each class alike, tells them "
                    "apart")


def _early_stop_note(result, experiment) -> str:
    last = result.history[-1]["epoch"]
    if result.stopped_by == "hook":  # a pause where a checkpoint keeps it: a resume trains on from here
        from nnrun.errors import resume_command
        from nnrun.store.rundir import RunDir

        ended = f"a hook's should_stop ended training after epoch {last}"
        return f"{ended}; {resume_command(result.run_dir)} trains on" if RunDir(result.run_dir).paused(
            {"stopped_by": "hook"}) else f"{ended}, for good: no checkpoint was kept to train on from"
    stopping = _stopping(experiment)
    if not stopping:
        return f"stopped after epoch {last}"
    restored = f"; restored the weights of epoch {result.best_epoch}" if _restored(result, experiment) else \
        "; kept the final weights" if stopping.restore_best else ""
    return f"stopped after epoch {last} of {experiment.config.training.epochs}: {did_not_improve(stopping)}{restored}"


def print_result_json(result, note: str | None = None) -> None:
    """``nnrun train --json``: the result as one JSON object on standard output, for a
    script to read (process 0 alone, when several train one run); ``note``: why nothing
    trained (a completed run resumed: its recorded result)."""
    from nnrun.engine.distributed import launched_rank

    if launched_rank() > 0:
        return
    _print_json({"run_dir": str(result.run_dir), "epochs": result.epochs, "best_epoch": result.best_epoch,
                 "stopped_early": result.stopped_early, "stopped_by": result.stopped_by,
                 "seconds": round(result.seconds, 3), "parameters": result.parameters, "final": result.final,
                 **({"note": note} if note else {})})


def print_stopped_json(stopped) -> None:
    """``nnrun train --json`` of a run that failed or was interrupted (exit code 1 or
    130): its folder, its status, the message and what to do next (the resume command of
    an interrupted run), so a script that reads standard output need not parse the error."""
    from nnrun.engine.distributed import launched_rank
    from nnrun.errors import NonFiniteError, RunInterrupted, resume_command
    from nnrun.store.rundir import RunDir

    if launched_rank() > 0:
        return
    interrupted = isinstance(stopped, RunInterrupted)
    # Resumable where a checkpoint is kept, unless the run diverged (resumed, it would again).
    resumable = RunDir(stopped.run_dir).kept_checkpoint() and not isinstance(stopped, NonFiniteError)
    _print_json({"run_dir": str(stopped.run_dir), "status": "interrupted" if interrupted else "failed",
                 "message": stopped.message, "hint": stopped.hint,
                 "resume": resume_command(stopped.run_dir) if resumable else None,
                 "epoch": getattr(stopped, "details", {}).get("epoch")})


def print_sweep_json(result) -> None:
    """``nnrun sweep --json``: the sweep's folder, what it ranked by, the best trial (its
    values, score, run folder, and best.yaml to retrain it) and its trials counted by
    status (every status, 0 where none), as one JSON object on standard output; ``nnrun runs SWEEP_DIR --json`` lists
    every trial."""
    from nnrun.commands.sweep.trials import STATUSES

    best = result.best  # there is one: a sweep that completed no trial ends in an error instead
    counts = {status: sum(trial.status == status for trial in result.trials) for status in STATUSES}
    _print_json({"sweep_dir": str(result.path), "metric": result.metric, "direction": result.direction,
                 "best": {"trial": best.id, "value": best.best, "epoch": best.best_epoch, "values": best.values,
                          "run_dir": str(result.best_run), "config": str(result.best_config)},
                 "trials": counts})


def _print_json(report: dict) -> None:
    from nnrun.console.output import OutputConsole
    from nnrun.store.files import json_text

    OutputConsole().print(json_text(report), markup=False, highlight=False, soft_wrap=True, end="")
