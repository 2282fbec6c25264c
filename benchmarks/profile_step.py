"""Where a training step's time goes: per phase and per layer, at a given thread count.

    python benchmarks/profile_step.py --case mlp --batch-size 32 --threads 2
    python benchmarks/profile_step.py --case cnn --threads 1 2
    python benchmarks/profile_step.py --case iris --threads 1 --steps 3000

Times each phase of the real training step (gathering the batch, each layer's forward,
the loss, each layer's backward, the optimizer's step with its finite check) over many
steps and reports the median and the minimum per phase in microseconds; the minimum is what a
quiet machine would show, the median what this one showed. It also times the step's
matrix multiplies alone (the floor a NumPy trainer cannot go under). The ``iris`` case
is ``configs/iris.yaml``'s model at its batch of 32: arrays of a few hundred values, so
its step is Python and NumPy's per-call cost, which start-up pays 400 times. Thread counts are
set with threadpoolctl (and the element-wise row threads, as a run sets them) around the
measurement, so one process measures several.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict

import nnrun  # noqa: F401  (before numpy, as in any nnrun process: it sets OpenBLAS's idle timeout)
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def build(case: str, samples: int):
    import nnrun
    from engines import CNN_LAYERS, MLP_LAYERS

    from nnrun.engine.experiment import as_loaded, build

    if case == "iris":
        return build(as_loaded(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "configs", "iris.yaml")))

    shape = {"shape": [28, 28, 1]} if case == "cnn" else {"features": 784}
    config = {
        "name": "profile",
        "data": {"source": {"type": "synthetic", "samples": samples, "classes": 10, "seed": 0, **shape},
                 "split": {"validation": 0, "test": 0, "stratify": False}},
        "model": {"layers": CNN_LAYERS if case == "cnn" else MLP_LAYERS},
        "loss": "categorical_crossentropy", "optimizer": "adam",
    }
    del nnrun
    return build(as_loaded(config))


def profile(experiment, batch_size: int, steps: int) -> dict[str, list[float]]:
    """Run ``steps`` training steps phase by phase; returns seconds per phase per step."""
    from nnrun.engine.allocator import keep_freed_memory
    from nnrun.engine.guards import check_loss, non_finite_gradient
    from nnrun.engine.loop import Batches
    from nnrun.model import kernels

    graph, config = experiment.graph, experiment.config
    loss, optimizer = config.loss, config.optimizer
    slots = optimizer.slots(graph.trainable.size, graph.dtype)
    # As the training loop does: the MLP and CNN are built on a few thousand samples, so
    # they are taken for the 60,000-sample runs they stand for, where the compiled
    # kernels pay; iris is the run itself, and its kernels stay off as in `nnrun train`.
    values = graph.values_per_sample
    samples = len(experiment.splits["train"])
    kernels.prepare(graph.trainable.size, values * (samples if experiment.config.name == "iris" else 60_000))
    keep_freed_memory(values * batch_size * graph.dtype.itemsize)
    batches = Batches(experiment.splits["train"], batch_size, None)
    order = np.random.default_rng(0).permutation(len(batches.data))
    rng = np.random.default_rng(1)
    times: dict[str, list[float]] = defaultdict(list)
    clock = time.perf_counter
    step = 0
    iterator = batches.iterate(order)
    while step < steps:
        start = clock()
        try:
            x, y, *_ = next(iterator)
        except StopIteration:
            iterator = batches.iterate(order)
            continue
        times["gather"].append(clock() - start)
        values, tape = {"input": x}, []
        for node in graph.nodes:
            t = clock()
            out, cache = node.layer.forward(node.params, values[node.inputs[0]], True, rng)
            times[f"fwd {node.name}"].append(clock() - t)
            values[node.name] = out
            tape.append(cache)
        t = clock()
        value, d_out = loss(out, y, True)
        times["loss"].append(clock() - t)
        pending = d_out
        for node, cache in zip(reversed(graph.nodes), reversed(tape)):
            t = clock()
            dx, grads = node.layer.backward(node.params, cache, pending, need_dx=node.need_dx,
                                            **graph.backward_options(node))
            for local, grad in grads.items():
                if grad is not node.grads[local]:
                    np.copyto(node.grads[local], grad)
            times[f"bwd {node.name}"].append(clock() - t)
            pending = dx
        check_loss(value, 1, step + 1)
        step += 1
        t = clock()
        if not optimizer.step(graph.trainable, graph.grad_buffer, slots, 0.001, step):
            raise non_finite_gradient(value, 1, step)
        times["check + update"].append(clock() - t)
        times["step"].append(clock() - start)
    return times


def gemm_floor(experiment, batch_size: int, steps: int) -> list[float]:
    """The dense layers' matrix multiplies of one step, alone (forward, kernel gradient,
    input gradient except for the first layer): seconds per step."""
    shapes = [(node.params["kernel"].shape, node.reads_model_input) for node in experiment.graph.nodes
              if node.layer.type == "dense"]
    rng = np.random.default_rng(0)
    arrays = []
    for (k, m), first in shapes:
        x = rng.standard_normal((batch_size, k), dtype=np.float32)
        w = rng.standard_normal((k, m), dtype=np.float32)
        dz = rng.standard_normal((batch_size, m), dtype=np.float32)
        arrays.append((x, w, dz, first))
    result = []
    for _ in range(steps):
        start = time.perf_counter()
        for x, w, dz, first in arrays:
            x @ w
            x.T @ dz
            if not first:
                dz @ w.T
        result.append(time.perf_counter() - start)
    return result


def report(times: dict[str, list[float]], floor: list[float] | None) -> None:
    total = statistics.median(times["step"])
    print(f"  {'phase':<16} {'median us':>10} {'min us':>9} {'share':>6}")
    for phase, values in times.items():
        median = statistics.median(values)
        print(f"  {phase:<16} {median * 1e6:>10.1f} {min(values) * 1e6:>9.1f} {median / total:>6.0%}")
    if floor:
        print(f"  {'GEMMs alone':<16} {statistics.median(floor) * 1e6:>10.1f} {min(floor) * 1e6:>9.1f} "
              f"{statistics.median(floor) / total:>6.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=["mlp", "cnn", "iris"], default="mlp")
    parser.add_argument("--batch-size", type=int, nargs="+", default=None)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    from nnrun.model.rows import row_threads

    batch_sizes = args.batch_size or {"cnn": [128], "iris": [32]}.get(args.case, [32, 128, 512])
    experiment = build(args.case, 4096 if args.case == "mlp" else 2048)
    for batch_size in batch_sizes:
        for threads in args.threads:
            with threadpool_limits(threads), row_threads(threads):  # as a training run sets both
                profile(experiment, batch_size, 20)  # warm up: caches, page faults
                times = profile(experiment, batch_size, args.steps)
                floor = gemm_floor(experiment, batch_size, args.steps) if args.case == "mlp" else None
            print(f"\n{args.case}, batch {batch_size}, {threads} thread(s), {args.steps} steps")
            report(times, floor)


if __name__ == "__main__":
    main()
