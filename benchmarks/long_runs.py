"""Does an epoch cost the same at epoch 4,000 as at epoch 250?

    python benchmarks/long_runs.py                        # 250, 1,000 and 4,000 iris epochs
    python benchmarks/long_runs.py --epochs 250 1000      # fewer
    python benchmarks/long_runs.py --smoke                # a few seconds, proves the script works

Each measurement is a real ``nnrun train configs/iris.yaml`` process, in four modes:
checkpoints on (the config's default) or off (``training.checkpoint=null``), and its
output piped or shown in a terminal (a pseudo-terminal, so the live progress bars are
drawn as a user would see them). A run's time per epoch is read from its output as it arrives:
the time from the first epoch's line to the last one's, over the epochs in between, so
start-up, loading and the final evaluation do not count (the wall time is shown too). The modes are alternated within each epoch count (A B C D A B C D),
so drift on a shared machine hits them alike; the best of ``--repeats`` is kept.

The last column is the point: time per epoch at N epochs over that at the smallest N.
Per-epoch cost that does not grow with the epoch count keeps it near 1.

Like benchmarks/run.py, the benchmark removes OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
from its processes' environment and fixes the BLAS thread count; it says so.
"""

from __future__ import annotations

import argparse
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
    parser.add_argument("--smoke", action="store_true", help="tiny epoch counts, to check the script runs")
    args = parser.parse_args()
    if args.smoke:
        args.epochs, args.repeats = [3, 6], 1
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
    """Watches a run's output as it arrives and notes when the first and the last epoch
    lines appear: the time between them is the cost of the epochs, whatever start-up,
    loading and the final evaluation cost."""

    def __init__(self):
        self.first = self.last = None
        self.pending = b""
        self.tail = b""

    def feed(self, chunk: bytes) -> None:
        now = time.perf_counter()
        text = self.pending + chunk
        for match in EPOCH_LINE.finditer(text):
            epoch, total = int(match.group(1)), int(match.group(2))
            if epoch == 1 and self.first is None:
                self.first = now
            if epoch == total:
                self.last = now
        self.pending = text[-64:]  # a line split across two reads
        self.tail = (self.tail + chunk)[-4000:]

    def per_epoch(self, epochs: int) -> float:
        if self.first is None or self.last is None:
            raise SystemExit(f"no epoch lines seen in the output:\n{self.tail.decode(errors='replace')}")
        return (self.last - self.first) / max(epochs - 1, 1)


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
        os.close(slave)
        stream(process, master, clock)
        os.close(master)
    else:
        process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT)
        stream(process, process.stdout.fileno(), clock)
    code = process.wait()
    seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{clock.tail.decode(errors='replace')}")
    return seconds, clock


def measure(mode: int, epochs: int, work: Path, env: dict) -> tuple[float, float]:
    """(wall seconds, seconds per epoch) of one run."""
    checkpoints, terminal = mode in (0, 1), mode in (1, 3)
    run_dir = work / f"m{mode}-e{epochs}-{time.monotonic_ns()}"
    seconds, clock = run(command(epochs, checkpoints, run_dir), env, terminal)
    if not (run_dir / "model.safetensors").exists():
        raise SystemExit(f"{run_dir}: the run wrote no model.safetensors")
    return seconds, clock.per_epoch(epochs)


def main() -> None:
    args = parse_args()
    env, removed = environment()
    print(f"config: {CONFIG.relative_to(ROOT)}; BLAS threads 1; "
          + (f"unset {', '.join(removed)} for this benchmark's processes" if removed else "no OpenBLAS pins were set"))
    modes = sorted(set(args.modes))
    results: dict[tuple[int, int], tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for epochs in args.epochs:
            for _ in range(args.repeats):
                for mode in modes:  # alternated
                    wall, per_epoch = measure(mode, epochs, Path(tmp), env)
                    if (mode, epochs) not in results or per_epoch < results[mode, epochs][1]:
                        results[mode, epochs] = (wall, per_epoch)
            print(f"  measured {epochs} epochs", file=sys.stderr, flush=True)
    first = args.epochs[0]
    print(f"\n{'mode':<26}{'epochs':>7}{'wall s':>9}{'ms/epoch':>10}{'vs ' + str(first):>9}")
    for mode in modes:
        for i, epochs in enumerate(args.epochs):
            wall, per_epoch = results[mode, epochs]
            ratio = per_epoch / results[mode, first][1]
            label = MODES[mode] if i == 0 else ""
            print(f"{label:<26}{epochs:>7}{wall:>9.2f}{per_epoch * 1000:>10.2f}{ratio:>8.2f}x")


if __name__ == "__main__":
    main()
