"""Does an epoch cost the same at epoch 4,000 as at epoch 250?

    python benchmarks/long_runs.py                        # 250, 1,000 and 4,000 iris epochs
    python benchmarks/long_runs.py --epochs 250 1000      # fewer
    python benchmarks/long_runs.py --smoke                # a few seconds, proves the script works

Each measurement is a real ``nnrun train configs/iris.yaml`` process, in four modes:
checkpoints on (the config's default) or off (``training.checkpoint=null``), and its
output piped or shown in a terminal (a pseudo-terminal, so the live progress bars are
drawn as a user would see them). A run's cost per epoch, in wall time and in CPU time,
is read while it runs, from its epoch lines as they arrive (see :class:`EpochClock`), so
start-up, loading and the final evaluation do not count. The modes (and the source trees
given with ``--source``) are alternated within each epoch count (A B C D A B C D), so
drift on a shared machine hits them alike; the best of ``--repeats`` is kept.

The ratio columns are the point: cost per epoch at N epochs over that at the smallest N.
Per-epoch cost that does not grow with the epoch count keeps them near 1. On a busy
machine, CPU time is the steadier of the two.

Like benchmarks/run.py, the benchmark removes OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
from its processes' environment and fixes the BLAS thread count; it says so.
"""

from __future__ import annotations

import argparse
import math
import re
import os
import pty
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "iris.yaml"
PINNED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
MODES = ("checkpoints, piped", "checkpoints, terminal", "no checkpoints, piped", "no checkpoints, terminal")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, nargs="+", default=[250, 1000, 4000])
    parser.add_argument("--repeats", type=int, default=1, help="runs per mode and epoch count; the best is kept")
    parser.add_argument("--modes", nargs="+", type=int, default=list(range(len(MODES))),
                        help="which modes, by index: " + "; ".join(f"{i} {m}" for i, m in enumerate(MODES)))
    parser.add_argument("--source", action="append", default=[], metavar="LABEL=DIR",
                        help="also run the nnrun source tree in DIR (put first on PYTHONPATH), alternated with the "
                        "others; e.g. --source before=/path/to/old/checkout --source after=.")
    parser.add_argument("--smoke", action="store_true", help="tiny epoch counts, to check the script runs")
    args = parser.parse_args()
    if args.smoke:
        args.epochs, args.repeats = [200, 400], 1  # long enough for several redraws in a terminal
    return args


def environment() -> tuple[dict, list[str]]:
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="40")
    removed = [name for name in PINNED if env.pop(name, None) is not None]
    env.update({name: "1" for name in THREAD_VARIABLES})
    return env, removed


def command(epochs: int, checkpoints: bool, run_dir: Path) -> list[str]:
    script = Path(sys.executable).parent / "nnrun"
    nnrun = [str(script)] if script.exists() else [sys.executable, "-m", "nnrun"]
    settings = ["--set", f"training.epochs={epochs}"]
    if not checkpoints:
        settings += ["--set", "training.checkpoint=null"]
    return [*nnrun, "train", str(CONFIG), *settings, "--run-dir", str(run_dir)]


EPOCH_LINE = re.compile(rb"epoch +(\d+)/(\d+) ")


class EpochClock:
    """Watches a run's output as it arrives: for every read, the newest epoch line in it,
    the time and the process's CPU time so far. The cost of an epoch is measured between
    the first such read and the last one before the final epoch's line: in a terminal,
    epoch lines arrive in batches, one per redraw, and the last batch comes with the
    closing results, so it is left out. Start-up, loading and the final evaluation do
    not count. CPU time (the process's user + system time, from /proc) is the measure
    that other programs on a busy machine disturb least."""

    def __init__(self):
        self.marks: list[tuple[int, float, float]] = []  # (newest epoch seen, wall time, CPU seconds)
        self.total = None
        self.pending = b""
        self.tail = b""
        self.pid = None

    def feed(self, chunk: bytes) -> None:
        now = time.perf_counter()
        text = self.pending + chunk
        epochs = [(int(m.group(1)), int(m.group(2))) for m in EPOCH_LINE.finditer(text)]
        if epochs:
            self.total = epochs[-1][1]
            self.marks.append((epochs[-1][0], now, cpu_seconds(self.pid)))
        self.pending = text[-64:]  # a line split across two reads
        self.tail = (self.tail + chunk)[-4000:]

    def per_epoch(self) -> tuple[float, float]:
        """(wall seconds, CPU seconds) per epoch."""
        marks = [mark for mark in self.marks if mark[0] < (self.total or 0)]
        if len(marks) < 2 or marks[-1][0] == marks[0][0]:  # a run too short for two redraws
            marks = self.marks
        if len(marks) < 2 or marks[-1][0] == marks[0][0]:
            raise SystemExit(f"too few epoch lines seen in the output:\n{self.tail.decode(errors='replace')}")
        (first, wall0, cpu0), (last, wall1, cpu1) = marks[0], marks[-1]
        return (wall1 - wall0) / (last - first), (cpu1 - cpu0) / (last - first)


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a running process (all its threads), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stream(process: subprocess.Popen, fd: int, clock: EpochClock) -> None:
    """Read ``fd`` until the process closes it, as a pipe reader or terminal would."""
    while True:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # a pseudo-terminal whose other side was closed
                break
            if not chunk:
                break
            clock.feed(chunk)
        elif process.poll() is not None:
            break


def run(argv: list[str], env: dict, terminal: bool) -> tuple[float, EpochClock]:
    """Wall time of one process and its epoch clock; output on a pipe or a pseudo-terminal."""
    clock = EpochClock()
    started = time.perf_counter()
    if terminal:
        master, slave = pty.openpty()
        process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
        clock.pid = process.pid
        os.close(slave)
        stream(process, master, clock)
        os.close(master)
    else:
        process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT)
        clock.pid = process.pid
        stream(process, process.stdout.fileno(), clock)
    code = process.wait()
    seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{clock.tail.decode(errors='replace')}")
    return seconds, clock


def measure(mode: int, epochs: int, work: Path, env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds) per epoch of one run."""
    checkpoints, terminal = mode in (0, 1), mode in (1, 3)
    run_dir = work / f"m{mode}-e{epochs}-{time.monotonic_ns()}"
    _, clock = run(command(epochs, checkpoints, run_dir), env, terminal)
    if not (run_dir / "model.safetensors").exists():
        raise SystemExit(f"{run_dir}: the run wrote no model.safetensors")
    return clock.per_epoch()


def main() -> None:
    args = parse_args()
    env, removed = environment()
    print(f"config: {CONFIG.relative_to(ROOT)}; BLAS threads 1; "
          + (f"unset {', '.join(removed)} for this benchmark's processes" if removed else "no OpenBLAS pins were set"))
    sources = dict(item.split("=", 1) for item in args.source) or {"this tree": ""}
    modes = sorted(set(args.modes))
    best: dict[tuple, tuple[float, float]] = {}  # (source, mode, epochs) -> (wall, cpu) per epoch
    with tempfile.TemporaryDirectory() as tmp:
        for epochs in args.epochs:
            for _ in range(args.repeats):
                for mode in modes:  # alternated: A B A B
                    for label, folder in sources.items():
                        source_env = dict(env, PYTHONPATH=folder) if folder else env
                        wall, cpu = measure(mode, epochs, Path(tmp), source_env)
                        old = best.get((label, mode, epochs), (math.inf, math.inf))
                        best[label, mode, epochs] = (min(old[0], wall), min(old[1], cpu))
            print(f"  measured {epochs} epochs", file=sys.stderr, flush=True)
    print_table(best, sources, modes, args.epochs)


def print_table(best: dict, sources: dict, modes: list[int], epochs_list: list[int]) -> None:
    first = epochs_list[0]
    print(f"\nms per epoch (best of the repeats); the ratios compare with {first} epochs\n")
    print(f"{'mode':<26}{'code':<12}{'epochs':>7}{'wall ms':>9}{'CPU ms':>8}{'wall x':>8}{'CPU x':>7}")
    for mode in modes:
        for label in sources:
            for i, epochs in enumerate(epochs_list):
                wall, cpu = best[label, mode, epochs]
                wall0, cpu0 = best[label, mode, first]
                name = MODES[mode] if i == 0 and label == next(iter(sources)) else ""
                code = label if i == 0 else ""
                print(f"{name:<26}{code:<12}{epochs:>7}{wall * 1000:>9.2f}{cpu * 1000:>8.2f}"
                      f"{_ratio(wall, wall0):>8}{_ratio(cpu, cpu0):>7}")


def _ratio(value: float, base: float) -> str:
    # CPU time comes in clock ticks (10 ms), and a terminal's epoch lines in redraws (ten a
    # second): a run as short as the smoke mode's can measure none of either.
    return f"{value / base:.2f}x" if base > 1e-6 else "-"


if __name__ == "__main__":
    main()
