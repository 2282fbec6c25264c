"""``executor: local``: trial processes on this machine, ``workers`` at once.

Each trial is a process of its own (:mod:`.worker`) with one BLAS thread, so
``workers`` trials use ``workers`` cores and a trial that crashes, or is killed, takes
nothing else with it. A reader thread per trial turns its messages into events; this
thread alone decides (pruning), records (trials.csv) and shows (the view).

Ctrl-C (or SIGTERM) reaches only the sweep, which passes one SIGINT to each trial: a
trial saves a checkpoint of its last finished epoch and stops, and the sweep exits
with 130 and the command that resumes it.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from nnrun.commands.sweep.stopping import raise_if_received, stopped_by
from nnrun.commands.sweep.trials import Trial
from nnrun.commands.sweep.worker import MARK
from nnrun.errors import said

ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                     "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")}


class TrialProcess:
    """One running trial process and the thread reading its messages."""

    def __init__(self, sweep_dir: Path, trial: Trial, ask: bool, events: queue.Queue):
        self.trial, self.events, self.started = trial, events, time.perf_counter()
        self.outcome: dict | None = None
        self.stderr = tempfile.TemporaryFile()
        command = [sys.executable, "-m", "nnrun.commands.sweep.worker", str(sweep_dir), trial.id,
                   json.dumps(trial.values)] + (["--ask"] if ask else [])
        # A session of its own: a Ctrl-C in the terminal reaches the sweep, which decides.
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True,
            env={**os.environ, **ONE_THREAD}, start_new_session=True, bufsize=1,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            if line.startswith(MARK):
                message = json.loads(line[len(MARK):])
                self.events.put((self, message))
        self.process.wait()
        self.events.put((self, {"exit": self.process.returncode}))

    def reply(self, prune: bool) -> None:
        try:
            self.process.stdin.write("prune\n" if prune else "go\n")
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass  # the trial is gone; its exit event follows

    def interrupt(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)

    def error_tail(self) -> str:
        """The last line the trial process wrote to standard error."""
        self.stderr.seek(0)
        lines = [line for line in self.stderr.read().decode(errors="replace").splitlines() if line.strip()]
        return lines[-1].strip() if lines else ""


def died(returncode: int, tail: str) -> str:
    """Why a trial process ended without an outcome, in words."""
    if returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.Signals._value2member_map_ else returncode
        return f"the trial process was killed by {name}" + (f" ({tail})" if tail else "")
    return f"the trial process exited with code {returncode}" + (f": {tail}" if tail else "")


def crowded_workers(executor, trials: int | None, given: int | None = None) -> str | None:
    """A warning when ``executor.workers`` runs more trials at once than there are CPUs
    (and the sweep has that many ``trials``): each trial has one thread, so they take
    turns on the cores and no trial is done sooner. ``given``: the count came from
    ``--workers`` (``workers=``), and the warning names that."""
    from nnrun.engine.threads import usable_cores

    if executor.type != "local" or not executor.workers:  # Ray sizes its own; none given: one per CPU
        return None
    cores = usable_cores()
    at_once = min(executor.workers, trials or executor.workers)
    if at_once <= cores:
        return None
    option = said("--workers", "workers") if given is not None else "executor.workers"
    remedy = f"give {said(f'--workers {cores}', f'workers={cores}')} or leave it out" if given is not None \
        else "leave workers out"
    return (f"{option}: {at_once} trials at once on {cores} CPU{'s' if cores != 1 else ''}: they take turns "
            f"on the cores, so each trial takes about {at_once / cores:.2g} times as long and the sweep ends no "
            f"sooner; {remedy} to run one trial per CPU")


def run_local(sweep_dir: Path, search, state, workers: int) -> None:
    """Run every trial the search yields, ``workers`` at once; ``state`` records and
    shows them (see :class:`.runner.SweepState`)."""
    events: queue.Queue = queue.Queue()
    running: dict[str, TrialProcess] = {}
    try:
        while True:
            while len(running) < workers and (trial := search.next_trial()) is not None:
                state.started(trial)
                running[trial.id] = TrialProcess(sweep_dir, trial, search.prunes, events)
            if not running:
                return
            try:
                process, message = events.get(timeout=0.5)
            except queue.Empty:
                raise_if_received()  # one whose interrupt was lost in a finalizer (see stopping)
                state.tick()
                continue
            _handle(process, message, search, state, running)
    except KeyboardInterrupt as interrupt:
        _stop_all(running, events, search, state, stopped_by(interrupt))
        raise


def _handle(process: TrialProcess, message: dict, search, state, running: dict) -> None:
    trial = process.trial
    if "epoch" in message:
        value = float(message["row"].get(state.metric, "nan"))
        trial.observe(message["epoch"], value, state.higher_is_better)
        state.epoch(trial)
        if search.prunes:
            process.reply(search.should_prune(trial, message["epoch"], value))
    elif "outcome" in message:
        process.outcome = message["outcome"]
    elif "exit" in message:
        outcome = process.outcome or _from_its_run(state, trial, "failed", died(message["exit"], process.error_tail()))
        trial.seconds += time.perf_counter() - process.started
        state.finished(trial, outcome)
        search.finished(trial)
        running.pop(trial.id, None)


def _stop_all(running: dict, events: queue.Queue, search, state, signal_name: str) -> None:
    """One SIGINT to every trial, then wait for each to save its checkpoint and exit
    (``signal_name``: what stopped the sweep, "Ctrl-C" or "SIGTERM")."""
    reason = f"stopped by {signal_name}"
    state.stopping(f"asked by {signal_name}; each running trial saves a checkpoint ({signal_name} again stops at once)")
    for process in running.values():
        process.interrupt()
    while running:
        try:
            process, event = events.get(timeout=30)
        except queue.Empty:
            break
        except KeyboardInterrupt:  # a second Ctrl-C: stop at once
            for process in running.values():
                process.process.kill()
            continue
        if "epoch" in event and search.prunes:
            process.reply(False)
        elif "outcome" in event:
            process.outcome = event["outcome"]
        elif "exit" in event:
            trial = process.trial
            outcome = process.outcome or _from_its_run(state, trial, "interrupted",
                                                       stopped_early(reason, event["exit"], process.error_tail()))
            trial.seconds += time.perf_counter() - process.started
            state.finished(trial, outcome)
            running.pop(trial.id, None)
    # A trial recorded as started whose process the stop came before (or left running by an
    # earlier stop, and not started again yet): never left "running".
    for trial in [t for t in state.trials.values() if t.status == "running" and t.id not in running]:
        began = (state.swept.trial_dir(trial.id) / "metrics.csv").is_file()
        said = reason if began else f"{reason} as it started"
        state.finished(trial, _from_its_run(state, trial, "interrupted", said))


def _from_its_run(state, trial: Trial, status: str, message: str) -> dict:
    """The outcome of a trial whose process ended before sending one (killed, or
    stopped while it wrapped up), as :func:`.trial.stopped_outcome` reads it."""
    from nnrun.commands.sweep.trial import stopped_outcome

    return stopped_outcome(state.swept.trial_dir(trial.id), state.swept.sweep, status, message)


def stopped_early(reason: str, returncode: int, tail: str) -> str:
    """Why a trial stopped with the sweep but sent no outcome (it had not started
    training, or a second Ctrl-C killed it), in words: "stopped by Ctrl-C", and how its
    process ended when that was not the SIGINT it was sent."""
    if returncode == -signal.SIGINT:
        return reason
    return f"{reason}; {died(returncode, tail)}"
