"""A 12-trial random search, four ways: trials one after another with `nnrun train`,
and `nnrun sweep` with 1 and 2 local workers and on a local Ray of 2 CPUs.

    python benchmarks/sweep.py                  # iris and the digits CNN
    python benchmarks/sweep.py --cases iris
    python benchmarks/sweep.py --smoke          # a few seconds, proves the script runs

Every way runs the same trials (the sweep's plan, fixed by its seed) with one BLAS
thread per trial, and is timed start to exit as a user would see it; the ways are
alternated (A B C D A B C D) so drift hits all alike. Reported: wall time, the ratio to
sequential `nnrun train`, and the overhead per trial (the sweep with one worker minus
the trials' own training time, over the trials), beside the cost of starting a Python
process that imports nnrun's training code. The goal: 2 workers in at most 0.6x the
sequential time. Like benchmarks/run.py, it re-executes itself without
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, and says so.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PINNED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
CASES = {
    # base config, extra parameters (the epochs kept small where a trial would take minutes)
    "iris": ("configs/iris.yaml", ""),
    "digits_cnn": ("configs/digits_cnn.yaml", "  training.epochs: [3]\n"),
}
SWEEP = """\
base: {base}
name: bench
metric: val_accuracy
search: random
samples: {samples}
seed: 0
parameters:
  optimizer.learning_rate: {{type: loguniform, low: 3.0e-4, high: 3.0e-2}}
  training.batch_size: [16, 32, 64]
{extra}executor: {executor}
"""
WAYS = ("sequential", "local-1", "local-2", "ray-2")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--samples", type=int, default=12, help="trials per search (default 12)")
    parser.add_argument("--repeats", type=int, default=1, help="rounds of the four ways")
    parser.add_argument("--ways", nargs="+", default=list(WAYS), choices=list(WAYS))
    parser.add_argument("--smoke", action="store_true", help="two short iris trials, no Ray")
    args = parser.parse_args()
    if args.smoke:
        args.cases, args.samples, args.ways = ["iris"], 2, ["sequential", "local-1"]
    return args


def reexec_with_clean_environment() -> None:
    if os.environ.get("NNRUN_BENCH_CHILD"):
        return
    env = dict(os.environ, NNRUN_BENCH_CHILD="1", **ONE_THREAD)
    removed = [name for name in PINNED if env.pop(name, None) is not None]
    env["NNRUN_BENCH_UNSET"] = ",".join(removed)
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def nnrun(*args, cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "nnrun", *map(str, args)], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def write_sweep(folder: Path, case: str, samples: int, way: str, executor: str) -> Path:
    base, extra = CASES[case]
    path = folder / f"{case}-{way}.yaml"
    path.write_text(SWEEP.format(base=ROOT / base, samples=samples, extra=extra, executor=executor))
    return path


def sequential(folder: Path, sweep_file: Path) -> float:
    """The same trials, one `nnrun train` after another, each with its values as --set."""
    from nnrun.commands.sweep.space import planned_trials
    from nnrun.config.sweep import load_sweep

    located = load_sweep(sweep_file)
    runs = folder / f"sequential-{time.monotonic_ns()}"
    started = time.perf_counter()
    for index, values in enumerate(planned_trials(located.sweep)):
        sets = [f"--set={path}={json.dumps(value)}" for path, value in values.items()]
        nnrun("train", located.base_path, *sets, "--quiet", "--run-dir", runs / f"{index:03d}", cwd=folder)
    return time.perf_counter() - started


def swept(folder: Path, sweep_file: Path) -> tuple[float, float, float]:
    """Wall time of `nnrun sweep`, the trials' own training time (metrics.csv seconds),
    and the trials' time as the sweep saw it (trials.csv seconds: process to outcome)."""
    started = time.perf_counter()
    nnrun("sweep", sweep_file, cwd=folder)
    wall = time.perf_counter() - started
    (directory,) = sorted((folder / "runs").glob("bench-*"), key=lambda p: p.stat().st_mtime)[-1:]
    training = 0.0
    for metrics in directory.glob("trials/*/metrics.csv"):
        with open(metrics, newline="") as handle:
            training += sum(float(row["seconds"]) for row in csv.DictReader(handle))
    with open(directory / "trials.csv", newline="") as handle:
        trial_seconds = sum(float(row["seconds"]) for row in csv.DictReader(handle))
    os.rename(directory, folder / f"done-{directory.name}-{time.monotonic_ns()}")
    return wall, training, trial_seconds


def process_start(folder: Path) -> float:
    """A Python process that imports what a trial process imports, start to exit."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import nnrun.engine.train, nnrun.commands.sweep.trial"], cwd=folder,
                   check=True)
    return time.perf_counter() - started


def run_case(case: str, args, folder: Path) -> dict:
    executors = {"local-1": "{type: local, workers: 1}", "local-2": "{type: local, workers: 2}",
                 "ray-2": "{type: ray, cpus: 2}"}
    files = {way: write_sweep(folder, case, args.samples, way, executors.get(way, executors["local-1"]))
             for way in args.ways}
    times: dict[str, list[float]] = {way: [] for way in args.ways}
    training: list[tuple[float, float]] = []
    for _ in range(args.repeats):
        for way in args.ways:  # alternated: A B C D, A B C D
            if way == "sequential":
                times[way].append(sequential(folder, files[way]))
            else:
                wall, trained, trial_seconds = swept(folder, files[way])
                times[way].append(wall)
                if way == "local-1":
                    training.append((wall, trained, trial_seconds))
    starts = [process_start(folder) for _ in range(3)]
    return {"times": {way: min(values) for way, values in times.items()},
            "one_worker": min(training) if training else None, "start": min(starts)}


def report(case: str, samples: int, result: dict) -> None:
    times = result["times"]
    base = times.get("sequential")
    print(f"\n{case}: {samples} trials (best of the rounds, seconds)")
    for way, seconds in times.items():
        ratio = f"{seconds / base:.2f}x sequential" if base else ""
        print(f"  {way:<11} {seconds:7.2f}   {ratio}")
    if result["one_worker"]:
        wall, trained, trial_seconds = result["one_worker"]
        print(f"  with one worker, per trial: {trained / samples:.2f}s training epochs, "
              f"{(trial_seconds - trained) / samples:.2f}s around them (trial process start, imports, data, "
              f"final scoring, writing the run); {wall - trial_seconds:.2f}s once per sweep (start, checking "
              f"the base and every extreme, leaderboard). A bare Python process importing nnrun's training "
              f"code: {result['start']:.2f}s")
    if base and "local-2" in times:
        verdict = "met" if times["local-2"] <= 0.6 * base else "NOT met"
        print(f"  goal 2 workers <= 0.6x sequential: {times['local-2'] / base:.2f}x ({verdict})")


def main() -> None:
    args = parse_args()
    reexec_with_clean_environment()
    unset = os.environ.get("NNRUN_BENCH_UNSET")
    print(f"one BLAS thread per trial; {os.cpu_count()} CPUs; "
          + (f"unset for this benchmark: {unset}" if unset else "no OpenBLAS pins were set"))
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as temp:
        for case in args.cases:
            folder = Path(temp) / case
            folder.mkdir()
            report(case, args.samples, run_case(case, args, folder))


if __name__ == "__main__":
    main()
