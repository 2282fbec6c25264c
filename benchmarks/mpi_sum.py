"""The cost of one gradient sum across processes, as data-parallel training pays it per step.

    mpiexec -n 2 python benchmarks/mpi_sum.py [--size 269322] [--repeats 300]

Compares nnrun's sum in rank order (an all-to-all of slices, adds in rank order, an
all-gather: the same bits on every process at any run; with two processes nnrun uses
MPI's all-reduce instead, whose one addition commutes) with MPI's own all-reduce, on a
float32 buffer the size of the MLP 784-256-256-10's gradient. Prints the median time
of each, measured alternately, from process 0.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from mpi4py import MPI

from nnrun.engine.distributed import World


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10)
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()
    world = World(MPI.COMM_WORLD, MPI)
    buffer = np.random.default_rng(world.rank).standard_normal(args.size, dtype=np.float32)
    times: dict[str, list[float]] = {"rank order": [], "MPI all-reduce": []}
    for _ in range(args.repeats):
        for name, reduce in (("rank order", world.sum_slices_in_rank_order),
                             ("MPI all-reduce", lambda b: world.comm.Allreduce(MPI.IN_PLACE, b, op=MPI.SUM))):
            world.comm.Barrier()
            start = time.perf_counter()
            reduce(buffer)
            times[name].append(time.perf_counter() - start)
            buffer *= np.float32(1 / world.size)  # after a sum every process holds the same values: keep them in range
    if world.writes:
        print(f"{world.size} processes, float32 buffer of {args.size} values ({args.size * 4 / 2**20:.1f} MiB), "
              f"median of {args.repeats}")
        for name, values in times.items():
            print(f"  {name:<15} {statistics.median(values) * 1e3:8.3f} ms")


if __name__ == "__main__":
    main()
