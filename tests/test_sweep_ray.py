"""`executor: ray` on a local Ray of two CPUs: the same trials as the local executor,
the same files."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from sweeps import (MIXED, SWEEP, children, has_checkpoint_after_first_epochs, nnrun, only_sweep, start, statuses,
                    trials, wait_for, without_times, write_sweep)

pytest.importorskip("ray.tune")

RAY = "{type: ray, cpus: 2}"  # no address: the sweep starts a local Ray, ray.init(num_cpus=2)


def test_ray_runs_the_same_trials_in_the_same_order_as_local(tmp_path):
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    for folder, executor in ((local, "{type: local, workers: 2}"), (on_ray, RAY)):
        folder.mkdir()
        write_sweep(folder, SWEEP.replace("{type: local, workers: 2}", executor))
        result = nnrun("sweep", "sweep.yaml", cwd=folder)
        assert result.returncode == 0, result.stderr
    assert "ray executor (a local Ray)" in result.stdout and "trials:  4 completed" in result.stdout
    assert without_times(trials(only_sweep(on_ray))) == without_times(trials(only_sweep(local)))
    for trial in ("000", "001", "002", "003"):  # run directories too, to the byte
        assert (only_sweep(on_ray) / "trials" / trial / "model.safetensors").read_bytes() == \
            (only_sweep(local) / "trials" / trial / "model.safetensors").read_bytes()
    assert (only_sweep(on_ray) / "best.yaml").is_file()
    # None of Ray's own logs: their TensorBoard writer could hang the exit after a Ctrl-C.
    assert not [p for p in only_sweep(on_ray).rglob("*") if p.name.startswith("events.out") or
                p.name in ("progress.csv", "result.json")]


def test_ray_asha_prunes_and_optuna_search_runs(tmp_path):
    pytest.importorskip("optuna")
    text = SWEEP.replace("{type: local, workers: 2}", RAY + "\nscheduler: {type: asha, grace_epochs: 2, "
                         "reduction_factor: 2}").replace("search: random", "search: tpe").replace(
        "samples: 4", "samples: 6").replace("low: 1.0e-3", "low: 1.0e-5")
    write_sweep(tmp_path, text, epochs=12)
    result = nnrun("sweep", "sweep.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    directory = only_sweep(tmp_path)
    rows = trials(directory)
    assert [r["trial"] for r in rows] == ["000", "001", "002", "003", "004", "005"]
    assert {r["status"] for r in rows} <= {"completed", "pruned"} and "completed" in {r["status"] for r in rows}
    for row in rows:
        meta = json.loads((directory / row["run_dir"] / "meta.json").read_text())
        if row["status"] == "completed":
            assert meta["status"] == "completed" and row["epochs"] == "12"
        else:
            assert int(row["epochs"]) < 12 and row["message"] in (
                f"pruned by the scheduler after epoch {row['epochs']}",  # its run ended itself (TrialPruned)
                f"pruned by the scheduler after epoch {row['epochs']}; Ray ended its process: its run keeps its "
                "newest checkpoint")


def test_ray_median_goes_on_until_it_has_trials_to_compare_with(tmp_path):
    # With fewer than three other trials at an epoch, Ray's rule paused the trial, which
    # was recorded as pruned: every trial of this sweep, and the sweep failed.
    text = SWEEP.replace("{type: local, workers: 2}", RAY + "\nscheduler: {type: median, grace_epochs: 1}").replace(
        "samples: 4", "samples: 3")
    write_sweep(tmp_path, text, epochs=4)
    result = nnrun("sweep", "sweep.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [r["status"] for r in trials(only_sweep(tmp_path))] == ["completed"] * 3


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_under_ray_records_the_running_trial_and_exits_130(tmp_path, number):
    # ray.init sets a SIGTERM handler that leaves at once (exit code 15, the running
    # trial left "running" in trials.csv); the sweep must stop as on Ctrl-C instead.
    # Under Ray an epoch of this model takes about 25 ms (a tune.report each), so the
    # long trials' 150 epochs outlast the wait for a checkpoint, and the resume is short.
    write_sweep(tmp_path, MIXED.replace("values: [4, 400]", "values: [4, 150]").replace(
        "{type: local, workers: 2}", RAY))
    sweep = start("sweep", "sweep.yaml", cwd=tmp_path)
    wait_for(lambda: statuses(tmp_path).get("001") == "running" and has_checkpoint_after_first_epochs(tmp_path, "001"))
    sweep.send_signal(number)
    _, stderr = sweep.communicate(timeout=120)
    assert sweep.returncode == 130, stderr
    directory = only_sweep(tmp_path)
    assert f"hint: resume it with: nnrun sweep --resume {directory.relative_to(tmp_path)}" in stderr
    assert "SIGTERM received" not in stderr  # Ray's own handler never ran
    name = "SIGTERM" if number == signal.SIGTERM else "Ctrl-C"
    assert f"stopping: asked by {name}; Ray ends the running trials, and each resumes from its newest checkpoint" \
        in stderr
    assert "the sweep stopped; Ray ended the running trials, which resume from their newest checkpoints" in stderr
    # By id: under load Ray may start trial 001 before 000, which the signal then finds unstarted.
    row = next(r for r in trials(directory) if r["trial"] == "001")
    assert row["status"] == "interrupted"
    # Its epochs as its run recorded them (Ray's last report could be an epoch behind).
    assert int(row["epochs"]) == len((directory / "trials" / "001" / "metrics.csv").read_text().splitlines()) - 1
    assert row["message"] == ("stopped by SIGTERM" if number == signal.SIGTERM else "stopped by Ctrl-C")
    assert not children(sweep.pid)
    resumed = nnrun("sweep", "--resume", directory, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert {r["status"] for r in trials(directory)} == {"completed"}


def test_an_address_where_no_ray_cluster_answers_is_refused_before_the_sweep_directory(tmp_path):
    import socket

    with socket.socket() as probe:  # a port nothing listens on once this closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    write_sweep(tmp_path, SWEEP.replace("{type: local, workers: 2}", f'{{type: ray, address: "127.0.0.1:{port}"}}'))
    result = nnrun("sweep", "sweep.yaml", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    stderr = " ".join(result.stderr.split())
    assert f"error: executor.address: no Ray cluster answers at 127.0.0.1:{port} (connection refused)" in stderr
    assert "hint: start one with `ray start --head --port=6379`" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    write_sweep(tmp_path, SWEEP.replace("{type: local, workers: 2}", '{type: ray, address: "head"}'))
    for command in ("sweep", "validate"):  # a malformed address is a mistake in the file: validate tells it too
        malformed = nnrun(command, "sweep.yaml", cwd=tmp_path)
        assert malformed.returncode == 2
        assert "executor.address: expected 'auto' or 'host:port' (such as 'head:6379'), got 'head'" in \
            " ".join(malformed.stderr.split())
    if not Path("/tmp/ray/ray_current_cluster").exists():  # no cluster `ray start` left on this machine
        write_sweep(tmp_path, SWEEP.replace("{type: local, workers: 2}", "{type: ray, address: auto}"))
        auto = nnrun("sweep", "sweep.yaml", cwd=tmp_path)
        assert auto.returncode == 2, auto.stderr
        said = " ".join((auto.stdout + auto.stderr).split())
        announced = said.split(" -> ")[1].split()[0]  # the sweep directory it named before joining Ray
        assert "error: executor.address: auto: " in said and f"{announced} held no trial yet and was removed" in said
        assert not any((tmp_path / "runs").iterdir())
