"""Thread counts (training.threads), checkpoints on a time budget, the fast finite check."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from test_resume import CONFIG

import nnrun
from nnrun.engine import cpu_load, threads
from nnrun.engine.guards import check_loss, non_finite_gradient
from nnrun.errors import NonFiniteError
from nnrun.model.gradients import all_finite


def _config(**training) -> dict:
    return {**CONFIG, "training": {**CONFIG["training"], "early_stopping": None, **training}}


def test_finite_check_passes_huge_finite_gradients_and_catches_nan_and_inf():
    huge = np.full(1000, 3e38, np.float32)  # their float32 sum overflows; each one is finite
    assert all_finite(huge)
    for bad in (np.nan, np.inf, -np.inf):
        grads = np.ones(1000, np.float32)
        grads[517] = bad
        assert not all_finite(grads)
    with pytest.raises(NonFiniteError, match="the loss became nan in epoch 3, batch 4"):
        check_loss(float("nan"), 3, 4)
    error = non_finite_gradient(0.5, 3, 4)
    assert "a gradient became non-finite (NaN or inf) in epoch 3, batch 4, with a finite loss 0.5" in str(error)
    assert error.details["reason"] == "non-finite gradient"


def test_auto_threads_leaves_a_busy_core_alone(monkeypatch):
    assert threads.free_cores(2, 0.1) == 2  # quiet
    assert threads.free_cores(2, 1.0) == 1  # one neighbour spinning
    assert threads.free_cores(2, 5.0) == 1  # never fewer than one
    for name in threads.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(threads, "usable_cores", lambda: 4)
    monkeypatch.setattr(cpu_load, "busy_cores", lambda: 1.2)
    assert threads.auto_threads() == 3
    assert threads.auto_threads(processes=2) == 1  # two processes of a data-parallel run share them
    assert threads.auto_threads(work=threads.SMALL_WORK - 1) == 1  # a small model: one thread, nothing measured
    monkeypatch.setattr(cpu_load, "busy_cores", lambda: None)  # no per-CPU counters: the load average
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (2.2, 0.0, 0.0))
    assert threads.auto_threads() == 2
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert threads.auto_threads(work=1) == 2  # the user's environment wins


def test_busy_cores_sees_a_neighbour_that_just_started():
    import subprocess
    import sys

    if cpu_load.busy_cores() is None or threads.usable_cores() < 2:
        pytest.skip("needs Linux's per-CPU counters and two cores")
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        import time

        time.sleep(0.3)  # started, and spinning
        assert cpu_load.busy_cores(window=0.2) >= 0.7  # one core's worth, less the counters' 10 ms grain
    finally:
        spinner.kill()
        spinner.wait()


def test_a_number_wins_and_auto_keeps_what_the_run_recorded():
    assert threads.run_threads(3, recorded=1) == 3
    assert threads.run_threads("auto", recorded=1) == 1


def test_blas_threads_limits_the_blas_inside_the_block():
    from threadpoolctl import threadpool_info

    with threads.blas_threads(1):
        assert {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"} == {1}


def test_the_run_records_and_resumes_with_its_thread_count(tmp_path):
    run = nnrun.train(_config(threads=1, epochs=3), run_dir=tmp_path / "r").run_dir
    meta = json.loads((run / "meta.json").read_text())
    assert meta["environment"]["blas_threads"] == 1
    saved = (run / "config.yaml").read_text()
    assert "threads: 1" in saved


def test_bad_thread_count_is_a_config_error(run_cli, tmp_path):
    from test_cli import IRIS

    result = run_cli("validate", IRIS, "--set", "training.threads=0")
    assert result.exit_code == 2
    assert "training.threads" in result.output


def test_checkpoints_follow_a_time_budget_by_default(tmp_path):
    run = nnrun.train(_config(epochs=12, checkpoint={"keep": 2}), run_dir=tmp_path / "r").run_dir
    # Twelve quick epochs: the initial state and the last epoch only, not one file per epoch.
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "epoch-000000.safetensors", "epoch-000012.safetensors"]


def test_a_tiny_budget_saves_after_every_epoch(tmp_path):
    config = _config(epochs=4, checkpoint={"every_seconds": 1e-9, "keep": 10})
    run = nnrun.train(config, run_dir=tmp_path / "r").run_dir
    assert len(list((run / "checkpoints").iterdir())) == 5


def test_early_stopping_saves_the_epoch_it_stopped_at(tmp_path):
    config = {**CONFIG, "training": {**CONFIG["training"], "epochs": 200,
                                     "checkpoint": {"keep": 2},
                                     "early_stopping": {"monitor": "val_loss", "patience": 1, "min_delta": 10.0}}}
    result = nnrun.train(config, run_dir=tmp_path / "r")
    last = len(result.history)
    assert last < 200
    assert (result.run_dir / "checkpoints" / f"epoch-{last:06d}.safetensors").exists()


def test_the_watch_moves_to_the_cores_a_neighbour_leaves_and_back(monkeypatch):
    """Every WATCH_SECONDS between two steps it looks at how busy other processes kept
    the cores since it last looked (from the first step on), and sets the count the
    cores left allow; a load near a half core moves nothing."""
    from nnrun.store.checkpoints import Progress

    clock, busy, applied = [0.0], [1.0], []
    monkeypatch.setattr(threads.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(cpu_load, "reading", lambda cpus: "reading")
    # Its threads never wait here (the quick look: the next test); others keep busy[0] cores busy.
    monkeypatch.setattr(cpu_load, "contention", lambda before, after: None if busy[0] is None else (0.0, busy[0]))
    monkeypatch.setattr(threads, "WATCH_SECONDS", 0.25)  # a binary fraction: the fake clock's sums are exact
    watch = threads.ThreadWatch(2, applied.append, cores=2)
    progress = Progress()
    watch.begin(progress)
    assert progress.threads == 2
    clock[0] = 5.0  # busy before the first step (the kernels built in a child, say): not looked at
    watch.tick(1, 1)
    assert applied == []
    clock[0] += threads.WATCH_SECONDS / 2
    watch.tick(1, 2)  # not due yet
    assert applied == []
    clock[0] += threads.WATCH_SECONDS / 2
    watch.tick(1, 3)  # a second training started
    assert applied == [1] and watch.threads == 1 and progress.threads == 1
    for step, load in enumerate([0.55, 0.45, 0.55, 0.3, 1.0], start=4):  # hovering: stays
        busy[0] = load
        clock[0] += threads.WATCH_SECONDS
        watch.tick(2, step)
    assert applied == [1]
    busy[0] = 0.05  # it ended
    clock[0] += threads.WATCH_SECONDS
    watch.tick(3, 20)
    assert applied == [1, 2] and progress.threads == 2
    assert watch.changes == [{"epoch": 1, "step": 3, "threads": 1}, {"epoch": 3, "step": 20, "threads": 2}]
    for step, load in enumerate([0.4, 0.3, 0.45], start=21):  # at two threads, under half a core: stays
        busy[0] = load
        clock[0] += threads.WATCH_SECONDS
        watch.tick(3, step)
    assert applied == [1, 2]
    busy[0] = 0.67  # a spinning neighbour's share beside two threads of ours
    clock[0] += threads.WATCH_SECONDS
    watch.tick(3, 25)
    assert applied == [1, 2, 1]
    watch.threads, watch.changes, applied[:] = 2, watch.changes[:2], [1, 2]
    busy[0] = None  # no counters to read: the count stays
    clock[0] += threads.WATCH_SECONDS
    watch.tick(4, 30)
    assert applied == [1, 2]
    # A resumed run: the changes after its checkpoint (step 10) were thrown away with their steps.
    meta = {"thread_changes": [{"epoch": 1, "step": 5, "threads": 1}, {"epoch": 2, "step": 12, "threads": 2}]}
    resumed = threads.ThreadWatch(2, applied.append, cores=2)
    resumed.begin(Progress(epoch=2, step=10, threads=1))  # the count at the checkpoint
    assert resumed.threads == 1 and applied[-1] == 1
    resumed.changes = [{"epoch": 3, "step": 14, "threads": 2}]
    resumed.record(meta)
    assert meta["thread_changes"] == [{"epoch": 1, "step": 5, "threads": 1}, {"epoch": 3, "step": 14, "threads": 2}]


def test_the_watch_moves_down_sooner_when_its_threads_wait_for_busy_cores(monkeypatch):
    """Between two looks, every QUICK_SECONDS it reads how long the run's own threads
    waited for a CPU; waiting with the cores busy with others moves it down at once.
    Waiting alone (its own threads taking turns) or others busy without its threads
    waiting moves nothing, and at one thread it reads only for the regular looks."""
    from nnrun.store.checkpoints import Progress

    clock, contention, applied, readings = [0.0], [None], [], []
    monkeypatch.setattr(threads.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(cpu_load, "reading", lambda cpus: readings.append(clock[0]) or clock[0])
    monkeypatch.setattr(cpu_load, "contention", lambda before, after: contention[0])
    monkeypatch.setattr(threads, "WATCH_SECONDS", 0.25)
    monkeypatch.setattr(threads, "QUICK_SECONDS", 0.0625)  # binary fractions: the fake clock's sums are exact
    watch = threads.ThreadWatch(2, applied.append, cores=2)
    watch.begin(Progress())
    watch.tick(1, 1)  # the first step: the looks start
    for step, (waiting, busy) in enumerate([(0.1, 0.9), (0.6, 0.2), (0.24, 1.0)], start=2):
        contention[0] = (waiting, busy)
        clock[0] += threads.QUICK_SECONDS
        watch.tick(1, step)
        assert applied == [], (waiting, busy)
    assert readings == [0.0, 0.0625, 0.125, 0.1875]
    clock[0] += threads.QUICK_SECONDS / 2
    watch.tick(1, 5)  # not due
    assert len(readings) == 4
    contention[0] = (0.6, 0.7)  # a process spinning beside the run's two threads
    clock[0] += threads.QUICK_SECONDS / 2
    watch.tick(1, 6)
    assert applied == [1] and watch.changes == [{"epoch": 1, "step": 6, "threads": 1}]
    count = len(readings)
    for step in range(7, 10):  # at one thread: nothing to read until the regular look
        clock[0] += threads.QUICK_SECONDS
        watch.tick(1, step)
    assert len(readings) == count and applied == [1]
    contention[0] = (0.0, 0.05)  # the neighbour has gone
    clock[0] += threads.QUICK_SECONDS  # WATCH_SECONDS after the move, the regular look: the cores are idle
    watch.tick(1, 10)
    assert applied == [1, 2] and len(readings) == count + 1  # at two threads again: reading again


def test_contention_counts_only_the_threads_in_both_readings():
    """In cores over the window: its threads' wait, and the CPUs' busy share less its
    threads' running time; a thread that ended between the readings counts for nothing."""
    before = (2, (1000, 900), {"1": (0, 0), "2": (0, 0), "3": (5 * 10**9, 5 * 10**9)}, 10.0)
    after = (2, (1100, 900), {"1": (10**8, 2 * 10**7), "2": (5 * 10**7, 10**7), "4": (10**9, 10**9)}, 10.1)
    waiting, busy = cpu_load.contention(before, after)
    assert waiting == pytest.approx(0.3) and busy == pytest.approx(2.0 - 1.5)
    assert cpu_load.contention(None, after) is None and cpu_load.contention(before, before) is None


def test_a_resumed_auto_run_repeats_the_counts_of_one_never_stopped(tmp_path, monkeypatch):
    """The count the watch moved to is in every checkpoint, so the steps after it
    multiply as the unbroken run's did."""
    from test_resume import SignalAt

    from nnrun.engine.resume import resume_training
    from nnrun.errors import Interrupted

    for name in threads.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    monkeypatch.setattr(cpu_load, "busy_cores", lambda window=0.05: 1.0)  # the start sees a neighbour: 1
    monkeypatch.setattr(cpu_load, "contention", lambda before, after: (0.0, 0.0))  # then gone: the watch moves to 2
    monkeypatch.setattr(threads, "WATCH_SECONDS", 0.0)
    config = {"name": "watched", "data": {"source": {"type": "synthetic", "samples": 1500, "features": 300,
                                                     "classes": 10, "seed": 0}},
              "model": {"layers": [{"type": "dense", "units": 256, "activation": "relu"},
                                   {"type": "dense", "units": 10, "activation": "softmax"}]},
              "loss": "categorical_crossentropy",
              "training": {"epochs": 4, "batch_size": 128, "checkpoint": {"every_epochs": 1}}}
    unbroken = nnrun.train(config, run_dir=tmp_path / "unbroken").run_dir
    with pytest.raises(Interrupted):
        nnrun.train(config, run_dir=tmp_path / "resumed", hooks=SignalAt(epoch=2))
    resume_training(tmp_path / "resumed")
    assert (tmp_path / "resumed" / "model.safetensors").read_bytes() == (unbroken / "model.safetensors").read_bytes()
    for run in (unbroken, tmp_path / "resumed"):
        meta = json.loads((run / "meta.json").read_text())
        assert meta["environment"]["blas_threads"] == 1
        assert meta["thread_changes"] == [{"epoch": 1, "step": 2, "threads": 2}]


def test_only_an_auto_run_of_one_process_on_several_cores_is_watched(monkeypatch):
    for name in threads.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    big = threads.SMALL_WORK

    def watched(setting="auto", processes=1, work=big):
        return threads.watch_threads(setting, 2, processes, work, lambda count: None) is not None

    assert watched()
    assert not watched(setting=2)  # a number: the same bits on any load
    assert not watched(processes=2)  # a data-parallel run's processes are each other's neighbours
    assert not watched(work=big - 1)  # a small model: one thread everywhere
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert not watched()  # the environment's limit wins
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.setattr(threads, "usable_cores", lambda: 1)
    assert not watched()


def test_a_count_the_watch_sets_limits_the_blas_and_the_row_split():
    from threadpoolctl import threadpool_info

    from nnrun.model import rows

    def blas():
        return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}

    with threads.blas_threads(2), rows.row_threads(2):
        assert rows.splits(8, rows.MIN_ELEMENTS)
        threads.set_blas_threads(1)
        rows.set_row_threads(1)
        assert blas() == {1} and not rows.splits(8, rows.MIN_ELEMENTS)
        threads.set_blas_threads(2)
        rows.set_row_threads(2)
        assert blas() == {2} and rows.splits(8, rows.MIN_ELEMENTS)
    with rows.row_threads(1):  # started on one thread: a pool is made when a second comes
        assert not rows.splits(8, rows.MIN_ELEMENTS)
        rows.set_row_threads(3)
        assert rows.splits(8, rows.MIN_ELEMENTS)
        ranges = []
        rows.over_rows(9, lambda a, b: ranges.append((a, b, threading.get_ident())), rows.MIN_ELEMENTS)
        assert sorted(r[:2] for r in ranges) == [(0, 3), (3, 6), (6, 9)]  # three ranges: the third thread's too
        assert len({r[2] for r in ranges}) >= 2
    assert not rows.splits(8, rows.MIN_ELEMENTS)


def test_a_thread_count_past_the_blas_limit_is_refused_and_past_the_cores_warned(run_cli):
    from pathlib import Path

    iris = Path(__file__).parents[1] / "configs" / "iris.yaml"
    result = run_cli("validate", iris, "--set", "training.threads=99999999999999999999")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "training.threads: expected a whole number of at most 1024" in result.output
    from nnrun.engine.threads import usable_cores

    result = run_cli("validate", iris, "--set", f"training.threads={usable_cores() + 1}")
    assert result.exit_code == 0, result.output
    assert f"training.threads: {usable_cores() + 1} BLAS threads on the {usable_cores()} core" in \
        " ".join(result.output.split())
