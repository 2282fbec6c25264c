"""Recurrent text classifiers, nnrun against PyTorch CPU, in one run, same threads.

    python benchmarks/sequences.py              # 1 BLAS thread (the default)
    python benchmarks/sequences.py --threads 2
    python benchmarks/sequences.py --smoke      # a few seconds, proves the script works

The model: embedding (vocabulary 20,000, width 64) -> LSTM 128 (or GRU 128) -> dense 2
with softmax cross-entropy and Adam, on token sequences of length 100 at batch 64.
nnrun trains through its real trainer (``nnrun.train`` on an NPZ of token ids; the
epoch time is the one it records); PyTorch runs the classic loop with nn.Embedding,
nn.LSTM / nn.GRU and nn.Linear. Engines alternate (A B A B) and the best epoch of each
counts. Then one batch of nnrun is taken apart, to say where the time goes.

Like benchmarks/run.py, the script re-executes itself with OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE removed from its environment and the thread count fixed for every
BLAS, and says so.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import reexec_with_clean_environment  # noqa: E402  (the shared clean environment)

VOCABULARY, WIDTH, UNITS, CLASSES = 20_000, 64, 128, 2


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS and PyTorch threads (default 1)")
    parser.add_argument("--samples", type=int, default=4096, help="sequences per epoch")
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2, help="epochs timed per engine")
    parser.add_argument("--cells", nargs="+", default=["lstm", "gru"], choices=["lstm", "gru"])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check the script runs")
    parser.add_argument("--keep-openblas-env", action="store_true", help="do not unset OPENBLAS_CORETYPE/L2_SIZE")
    args = parser.parse_args()
    if args.smoke:
        args.samples, args.length, args.repeats = 256, 12, 1
    return args


def token_data(samples: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.integers(1, VOCABULARY, (samples, length))
    return x, (x[:, 0] % 2).astype(np.int64)


class Nnrun:
    name = "nnrun"

    def __init__(self, cell: str, x: np.ndarray, y: np.ndarray):
        self.workdir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.workdir.name, "tokens.npz")
        np.savez(self.path, x=x, y=y)
        self.cell, self.runs = cell, 0

    def layers(self) -> list[dict]:
        return [{"type": "embedding", "input_dim": VOCABULARY, "output_dim": WIDTH},
                {"type": self.cell, "units": UNITS},
                {"type": "dense", "units": CLASSES, "activation": "softmax"}]

    def epoch_seconds(self, batch_size: int) -> float:
        import nnrun

        self.runs += 1
        config = {
            "name": "bench", "seed": 0,
            "data": {"source": {"type": "npz", "path": self.path},
                     "split": {"validation": 0, "test": 0, "stratify": False}},
            "model": {"layers": self.layers()},
            "loss": "categorical_crossentropy",
            "optimizer": {"type": "adam", "learning_rate": 0.001},
            "training": {"epochs": 1, "batch_size": batch_size},
        }
        result = nnrun.train(config, run_dir=f"{self.workdir.name}/run{self.runs}")
        return result.history[0]["seconds"]


class Torch:
    name = "pytorch"

    def __init__(self, cell: str, x: np.ndarray, y: np.ndarray, threads: int):
        import torch

        torch.set_num_threads(threads)
        self.torch, self.cell = torch, cell
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)

    def epoch_seconds(self, batch_size: int) -> float:
        torch, nn = self.torch, self.torch.nn
        torch.manual_seed(0)
        recurrent = (nn.LSTM if self.cell == "lstm" else nn.GRU)(WIDTH, UNITS, batch_first=True)
        embedding, head = nn.Embedding(VOCABULARY, WIDTH), nn.Linear(UNITS, CLASSES)
        parameters = [*embedding.parameters(), *recurrent.parameters(), *head.parameters()]
        optimizer = torch.optim.Adam(parameters, lr=0.001)
        loss_fn = nn.CrossEntropyLoss()
        start = time.perf_counter()
        order = torch.randperm(len(self.x))
        for begin in range(0, len(self.x), batch_size):
            index = order[begin : begin + batch_size]
            optimizer.zero_grad(set_to_none=True)
            states, _ = recurrent(embedding(self.x[index]))
            loss_fn(head(states[:, -1]), self.y[index]).backward()
            optimizer.step()
        return time.perf_counter() - start


def compare(cell: str, args) -> None:
    x, y = token_data(args.samples, args.length)
    engines = [Nnrun(cell, x, y)]
    try:
        engines.append(Torch(cell, x, y, args.threads))
    except ImportError:
        print("PyTorch is not installed: nnrun alone (pip install torch==2.13.0)")
    times: dict[str, list[float]] = {engine.name: [] for engine in engines}
    for _ in range(args.repeats):
        for engine in engines:
            times[engine.name].append(engine.epoch_seconds(args.batch_size))
    best = {name: min(values) for name, values in times.items()}
    print(f"\n{cell.upper()} {UNITS} text classifier: vocabulary {VOCABULARY}, length {args.length}, embedding "
          f"{WIDTH}, batch {args.batch_size}, {args.samples} sequences; best of {args.repeats} epochs (alternated)")
    print(f"{'engine':<9} {'epoch s':>8} {'sequences/s':>12}  ratio to pytorch")
    for name, seconds in best.items():
        ratio = f"{seconds / best['pytorch']:.2f}x" if "pytorch" in best else "-"
        print(f"{name:<9} {seconds:>8.3f} {args.samples / seconds:>12.0f}  {ratio}")
    from breakdown import print_breakdown

    print_breakdown(cell, x[: args.batch_size], y[: args.batch_size], VOCABULARY, WIDTH, UNITS)


def main() -> None:
    args = parse_args()
    reexec_with_clean_environment(args)
    from measure import describe_machine

    unset = os.environ.get("NNRUN_BENCH_UNSET")
    print(describe_machine(args.threads))
    print(f"environment: unset {unset} for this benchmark's processes" if unset else
          "environment: no OpenBLAS pins were set (or --keep-openblas-env)")
    for cell in args.cells:
        compare(cell, args)


if __name__ == "__main__":
    main()
