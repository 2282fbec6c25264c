"""Data-parallel nnrun (``mpiexec -n 2``) against one process, and against PyTorch.

    python benchmarks/distributed.py                  # MLP at batch 128 and 512, and the CNN
    python benchmarks/distributed.py --cases mlp --batch-sizes 512
    python benchmarks/distributed.py --smoke          # a few seconds, proves the script runs

Engines, each a real ``nnrun train`` process (PyTorch in this process):

    1p x 1t   one process, one BLAS thread
    1p x 2t   one process, two BLAS threads
    2p x 1t   mpiexec -n 2, one BLAS thread per process
    pytorch   PyTorch CPU with two threads (when installed)

Models as in benchmarks/run.py: the MLP 784-256-256-10 with Adam on 60,000 synthetic
samples, and the CNN (conv 3x3 x 32, relu, max pool 2, dense 10) on 10,000 28x28x1
images at batch 128. An nnrun epoch's time is the one nnrun records in metrics.csv
(process 0's clock for two processes, so it includes waiting for the other); each run
trains two epochs and the faster counts, to leave start-up effects out. Engines are
alternated (A B C D A B C D); the best of the repeats is reported, with ratios.

The script removes OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE from the environment of the
processes it starts (they pin OpenBLAS to an older kernel on some machines) and says so.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engines import CNN_LAYERS, MLP_LAYERS  # noqa: E402

BIN = Path(sys.executable).parent
PINNED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", default=["mlp", "cnn"], choices=["mlp", "cnn"])
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--cnn-samples", type=int, default=10_000)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 512])
    parser.add_argument("--repeats", type=int, default=2, help="runs per engine (alternated)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check the script runs")
    args = parser.parse_args()
    if args.smoke:
        args.samples, args.cnn_samples, args.batch_sizes, args.repeats = 2_000, 256, [128], 1
    return args


def environment(threads: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in PINNED}
    env.update({name: str(threads) for name in THREADS})
    return env


def config(source: dict, layers: list, batch_size: int) -> dict:
    return {"name": "bench", "data": {"source": source, "split": {"validation": 0, "test": 0, "stratify": False}},
            "model": {"layers": layers}, "loss": "categorical_crossentropy",
            "optimizer": {"type": "adam", "learning_rate": 0.001},
            "training": {"epochs": 2, "batch_size": batch_size, "checkpoint": None}}


class NnrunProcess:
    def __init__(self, name: str, processes: int, threads: int, workdir: Path):
        self.name, self.processes, self.threads, self.workdir = name, processes, threads, workdir
        self.runs = 0

    def epoch_seconds(self, config_file: Path) -> float:
        self.runs += 1
        run = self.workdir / f"{self.name.replace(' ', '')}-{self.runs}"
        command = [str(BIN / "nnrun"), "train", str(config_file), "--run-dir", str(run), "--quiet"]
        if self.processes > 1:
            mpiexec = shutil.which("mpiexec", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
            command = [mpiexec, "-n", str(self.processes), *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=environment(self.threads))
        with open(run / "metrics.csv") as rows:
            return min(float(row["seconds"]) for row in csv.DictReader(rows))


class TorchTwoThreads:
    name = "pytorch"

    def __init__(self, data):
        from engines import Torch

        self.engine, self.data = Torch(2), data

    def epoch_seconds(self, config_file: Path) -> float:
        batch = yaml.safe_load(config_file.read_text())["training"]["batch_size"]
        return min(self.engine.epoch_seconds(self.data.x, self.data.y, batch) for _ in range(2))


def engines(workdir: Path, data) -> list:
    found = [NnrunProcess("1p x 1t", 1, 1, workdir), NnrunProcess("1p x 2t", 1, 2, workdir),
             NnrunProcess("2p x 1t", 2, 1, workdir)]
    try:
        found.append(TorchTwoThreads(data))
    except ImportError:
        print("(PyTorch is not installed: its column is left out)")
    return found


def measure(title: str, source: dict, layers: list, batch_sizes: list[int], repeats: int) -> None:
    from nnrun.data.sources import SyntheticSource

    data = SyntheticSource(**source).load(0)
    print(f"\n{title}; best of {repeats} runs per engine, alternated")
    print(f"{'batch':>5}  {'engine':<8} {'epoch s':>8}  {'vs 1p x 1t':>10}  {'vs 1p x 2t':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        contenders = engines(Path(tmp), data)
        for batch in batch_sizes:
            config_file = Path(tmp) / f"config-{batch}.yaml"
            config_file.write_text(yaml.safe_dump(config(source, layers, batch)))
            times = {engine.name: [] for engine in contenders}
            for _ in range(repeats):
                for engine in contenders:
                    times[engine.name].append(engine.epoch_seconds(config_file))
            best = {name: min(values) for name, values in times.items()}
            for name, seconds in best.items():
                print(f"{batch:>5}  {name:<8} {seconds:>8.3f}  {best['1p x 1t'] / seconds:>9.2f}x  "
                      f"{best['1p x 2t'] / seconds:>9.2f}x")


def main() -> None:
    args = parse_args()
    unset = [name for name in PINNED if name in os.environ]
    print(f"{os.cpu_count()} cores; " + (f"unset {', '.join(unset)} for the processes started here"
                                         if unset else "no OpenBLAS pins were set"))
    print("ratios: how many times faster than one process with one (or two) BLAS threads")
    os.environ.update(environment(2))  # PyTorch's two threads; nnrun processes set their own
    if "mlp" in args.cases:
        source = {"type": "synthetic", "samples": args.samples, "features": 784, "classes": 10, "seed": 0}
        measure(f"MLP 784-256-256-10, Adam, {args.samples} samples", source, MLP_LAYERS, args.batch_sizes,
                args.repeats)
    if "cnn" in args.cases:
        source = {"type": "synthetic", "samples": args.cnn_samples, "shape": [28, 28, 1], "classes": 10, "seed": 0}
        measure(f"CNN conv 3x3 x 32, max pool 2, dense 10; {args.cnn_samples} 28x28x1 images", source, CNN_LAYERS,
                [128], args.repeats)


if __name__ == "__main__":
    main()
