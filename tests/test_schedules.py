"""Each schedule against rates computed by hand, and the rates reaching metrics.csv."""

from __future__ import annotations

import csv
import math

import pytest

from nnrun.model.schedules import Constant, Cosine, Exponential, ReduceOnPlateau, Step


def _rates(schedule, epochs, base=0.1):
    state = schedule.start(base)
    return [schedule.rate(state, e, epochs) for e in range(1, epochs + 1)]


def test_constant_and_step():
    assert _rates(Constant(), 3) == [0.1, 0.1, 0.1]
    assert _rates(Step(every=2, factor=0.5), 5) == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_exponential_smooth_and_staircase():
    assert _rates(Exponential(decay_rate=0.5, decay_epochs=2), 3) == pytest.approx([0.1, 0.1 * 0.5**0.5, 0.05])
    assert _rates(Exponential(decay_rate=0.5, decay_epochs=2, staircase=True), 3) == pytest.approx([0.1, 0.1, 0.05])


def test_cosine_with_linear_warmup():
    # 2 warmup epochs, then cosine over the 4 remaining: p = 0, 1/4, 2/4, 3/4.
    expected = [0.05, 0.1] + [0.1 * 0.5 * (1 + math.cos(math.pi * k / 4)) for k in range(4)]
    assert _rates(Cosine(warmup_epochs=2), 6) == pytest.approx(expected)
    # alpha is the floor as a fraction of the base rate.
    assert _rates(Cosine(alpha=0.5), 3)[-1] == pytest.approx(0.1 * (0.5 + 0.5 * 0.5 * (1 + math.cos(2 * math.pi / 3))))


def test_reduce_on_plateau_waits_patience_then_cools_down():
    schedule = ReduceOnPlateau(monitor="val_loss", factor=0.5, patience=2, cooldown=2, min_delta=0.0, min_lr=0.02)
    state = schedule.start(0.1)
    seen = []
    for loss in [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]:
        seen.append(schedule.rate(state, 0, 0))
        schedule.observe(state, {"val_loss": loss})
    # Improves twice, stalls twice -> halved. As in Keras, the epoch that ends a cooldown
    # already counts, so two cooldown epochs hold the rate for three.
    assert seen == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025])
    schedule.observe(state, {"val_loss": 0.95})
    assert schedule.rate(state, 0, 0) == pytest.approx(0.02)  # 0.0125 floored at min_lr


def test_reduce_on_plateau_follows_the_metric_direction():
    schedule = ReduceOnPlateau(monitor="val_accuracy", factor=0.5, patience=1)
    state = schedule.start(0.1)
    for accuracy in (0.5, 0.6, 0.7):  # rising accuracy is improvement
        schedule.observe(state, {"val_accuracy": accuracy})
    assert state["lr"] == 0.1
    schedule.observe(state, {"val_accuracy": 0.6})
    assert state["lr"] == pytest.approx(0.05)


def test_each_epoch_rate_lands_in_metrics_csv(run_cli, tmp_path, configs):
    result = run_cli("train", configs / "iris.yaml", "--set", "training.epochs=3", "--run-dir", "r",
                     "--set", "training.schedule={type: step, every: 1, factor: 0.5}")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((tmp_path / "r" / "metrics.csv").open()))
    assert [float(r["lr"]) for r in rows] == pytest.approx([0.001, 0.0005, 0.00025])


def test_plateau_monitor_must_be_reported(run_cli, configs):
    result = run_cli("train", configs / "iris.yaml", "--set", "training.epochs=1",
                     "--set", "training.schedule={type: reduce_on_plateau, monitor: val_f1}")
    assert result.exit_code == 2
    assert "training.schedule.monitor: 'val_f1' is not reported: f1 is not in metrics; add it (metrics: " \
        "[accuracy, f1]) to monitor it" in result.output
    result = run_cli("train", configs / "iris.yaml", "--set", "training.epochs=1",
                     "--set", "training.schedule={type: reduce_on_plateau, monitor: val_lost}")
    assert result.exit_code == 2 and "'val_lost' is not reported; did you mean 'val_loss'?" in result.output
    # A metric of the other task is not offered: a regression cannot add accuracy.
    result = run_cli("validate", configs / "diabetes.yaml", "--set", "training.early_stopping.monitor=val_accuracy")
    assert result.exit_code == 2 and "'val_accuracy' is not reported; choose one of loss, val_loss, mae, val_mae, " \
        "r2, val_r2" in " ".join(result.output.split()) and "add it" not in result.output


@pytest.mark.parametrize("setting, warning", [
    ("training.schedule={type: step, every: 5}", "warning: training.schedule.every: 5 epochs between steps in a run "
     "of 3: the rate never steps; give every fewer than 3 epochs"),
    ("training.schedule={type: reduce_on_plateau, min_lr: 0.5}", "warning: training.schedule.min_lr: 0.5 is not "
     "below optimizer.learning_rate 0.001, so the rate is never reduced; give a min_lr below the learning rate"),
    ("optimizer={type: sgd, nesterov: true}", "warning: optimizer.nesterov: true with momentum 0 is plain SGD; give "
     "momentum too (0.9 is usual)"),
    ("training.schedule={type: exponential, decay_rate: 0.5, decay_epochs: 100, staircase: true}",
     "warning: training.schedule.decay_epochs: 100 epochs between steps of a staircase in a run of 3: the rate never "
     "steps; give fewer, or staircase: false to decay smoothly"),
    ("training.batch_size=100000", "warning: training.batch_size: 100000 is more than the 105 training samples, so "
     "every step takes the whole split, one step an epoch; set batch_size: 105 to say so"),
    ("data.split={shuffle: false, stratify: true}", "warning: data.split: stratify: true keeps no class proportions "
     "with shuffle: false, which keeps the rows' order (training first, then validation, then test); set shuffle: "
     "true for stratified splits, or leave stratify out"),
])
def test_settings_that_never_act_in_the_run_are_warned(run_cli, configs, setting, warning):
    result = run_cli("validate", configs / "iris.yaml", "--set", "training.epochs=3", "--set", setting)
    assert result.exit_code == 0 and warning in " ".join(result.output.split())
