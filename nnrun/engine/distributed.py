"""One training run over several processes: ``mpiexec -n N nnrun train CONFIG``.

    world = connect()          # None in a plain process; mpi4py is imported only here
    world.agree(build)         # every process builds; an error anywhere stops them all
    world.sum_in_rank_order(grads)

Every process builds the same experiment from the same config and seed; process 0
(the writer) alone prints and writes the run directory, and its state (weights,
optimizer slots, random generators, progress) is sent to the others before the first
step, both for a new run and for a resumed one.

Sums are taken in a fixed order, so every process holds the same bits and a run is
reproducible at a given N: each element of a summed buffer is ``((p0 + p1) + p2) + ...``
over the processes' partial values, added by one process and copied to the others
(an all-to-all of slices, a sum in rank order, an all-gather; the data volume of a
ring all-reduce). With two processes the one addition commutes, so MPI's all-reduce
gives these bits and serves, faster (see benchmarks/mpi_sum.py).

Messages between processes carry JSON and raw array bytes, never pickles.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

from nnrun.errors import NnrunError, UserError

INSTALL = "pip install 'nnrun[mpi]'"
# What MPI launchers tell the processes they start (MPICH/hydra and PMI-2, Open MPI,
# MVAPICH, PMIx): read without importing mpi4py, so a plain run never loads MPI.
SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE", "PMIX_SIZE")
RANK_VARIABLES = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "MV2_COMM_WORLD_RANK", "PMIX_RANK")


def _launcher_value(names: tuple[str, ...], default: int) -> int:
    for name in names:
        value = os.environ.get(name, "").strip()
        if value.isdigit():
            return int(value)
    return default


def launched_size() -> int:
    """How many processes an MPI launcher started for this run (1 without one)."""
    return _launcher_value(SIZE_VARIABLES, 1)


def refuse_launcher(what: str, each: str, hint: str) -> None:
    """Refuse ``what`` (a Python script's ``nnrun.train``, a sweep) under an MPI launcher
    of several processes: ``each`` of them would do it whole, side by side."""
    size = launched_size()
    if size > 1:
        raise UserError(f"{what}: started by an MPI launcher with {size} processes, each of which would {each}",
                        hint=hint)


def launched_rank() -> int:
    """This process's rank as the launcher numbered it (0 without one)."""
    return _launcher_value(RANK_VARIABLES, 0)


class Stopped(NnrunError):
    """Another process reported the error that stops the run; the writer prints it."""

    def __init__(self, exit_code: int):
        super().__init__("stopped with the other processes of this run")
        self.exit_code = exit_code


def connect() -> "World | None":
    """The run's processes when started by an MPI launcher with more than one; else None."""
    size = launched_size()
    if size <= 1:
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        raise UserError(
            f"nnrun was started by an MPI launcher with {size} processes, but mpi4py is not installed",
            hint=f"install the MPI extra on every machine: {INSTALL}",
        ) from None
    return World(MPI.COMM_WORLD, MPI)


class World:
    """This process's place among the run's processes, and the collective operations
    training needs. Every method is collective: all processes call it in the same order."""

    def __init__(self, comm, mpi):
        self.comm, self.mpi = comm, mpi
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self.writes = self.rank == 0

    # ---- agreeing on errors and sharing small values
    def agree(self, action):
        """Run ``action`` here and learn whether it failed anywhere; if so, raise on every
        process: the writer raises its own error or the first other one, named by process."""
        try:
            result, report = action(), None
        except NnrunError as exc:
            result, report = None, exc
        rendered = None if report is None else [report.exit_code, report.render()]
        reports = self.allgather_json(rendered)
        failed = [(rank, r) for rank, r in enumerate(reports) if r is not None]
        if not failed:
            return result
        rank, (code, message) = failed[0]
        if report is None and self.writes:
            report = UserError(f"process {rank} of {self.size}: {message}")
            report.exit_code = code
        report = report or Stopped(code)
        report.agreed = True  # every process raises at this point: none waits for another
        raise report

    def allgather_json(self, value) -> list:
        data = np.frombuffer(json.dumps(value).encode(), np.uint8)
        sizes = np.empty(self.size, np.int64)
        self.comm.Allgather(np.array([data.size], np.int64), sizes)
        gathered = np.empty(int(sizes.sum()), np.uint8)
        self.comm.Allgatherv(data, [gathered, sizes])
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        return [json.loads(gathered[a:b].tobytes()) for a, b in zip(offsets[:-1], offsets[1:])]

    def broadcast_json(self, value):
        """The writer's ``value`` on every process."""
        data = np.frombuffer(json.dumps(value).encode(), np.uint8) if self.writes else None
        size = np.array([data.size if self.writes else 0], np.int64)
        self.comm.Bcast(size, root=0)
        buffer = data.copy() if self.writes else np.empty(int(size[0]), np.uint8)
        self.comm.Bcast(buffer, root=0)
        return json.loads(buffer.tobytes())

    def broadcast_arrays(self, arrays: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
        """The writer's named arrays on every process (names, shapes and dtypes as JSON)."""
        layout = self.broadcast_json(
            {name: [list(a.shape), a.dtype.str] for name, a in arrays.items()} if self.writes else None
        )
        received = {}
        for name, (shape, dtype) in layout.items():
            buffer = np.ascontiguousarray(arrays[name]) if self.writes else np.empty(shape, np.dtype(dtype))
            self.comm.Bcast(buffer.reshape(-1).view(np.uint8), root=0)
            received[name] = buffer
        return received

    # ---- sums with one fixed order
    def sum_in_rank_order(self, buffer: np.ndarray) -> None:
        """Replace the flat ``buffer`` by its sum over the processes, in rank order, in place."""
        if self.size == 2:  # p0 + p1 == p1 + p0 bit for bit: MPI's own all-reduce is exact here, and faster
            self.comm.Allreduce(self.mpi.IN_PLACE, buffer, op=self.mpi.SUM)
        else:
            self.sum_slices_in_rank_order(buffer)

    def sum_slices_in_rank_order(self, buffer: np.ndarray) -> None:
        """Each process sums one slice of ``buffer`` in rank order; the slices are gathered."""
        counts = np.full(self.size, buffer.size // self.size)
        counts[: buffer.size % self.size] += 1
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        mine = int(counts[self.rank])
        slices = np.empty((self.size, mine), buffer.dtype)  # every process's values of my slice
        received = (np.full(self.size, mine), np.arange(self.size) * mine)
        self.comm.Alltoallv([buffer, (counts, starts)], [slices, received])
        total = buffer[starts[self.rank] : starts[self.rank] + mine]
        np.copyto(total, slices[0])
        for part in slices[1:]:
            total += part
        self.comm.Allgatherv(self.mpi.IN_PLACE, [buffer, (counts, starts)])

    def sum_small(self, values: np.ndarray) -> np.ndarray:
        """The sum over processes of a small array, in rank order (a gather, then adds)."""
        values = np.ascontiguousarray(values)
        gathered = np.empty((self.size, *values.shape), values.dtype)
        self.comm.Allgather(values, gathered)
        total = gathered[0].copy()
        for part in gathered[1:]:
            total += part
        return total

    def sum_disjoint(self, local: np.ndarray, out: np.ndarray) -> None:
        """``out`` <- sum of ``local`` over processes, for buffers each process filled in
        rows the others left at zero: exact in any order, so MPI's own sum serves."""
        self.comm.Allreduce(local, out, op=self.mpi.SUM)

    # ---- stopping
    def abort(self, exc: BaseException) -> None:
        """Stop every process of the run now: for an error only this process met, while
        the others may be waiting for it in a collective operation."""
        if isinstance(exc, KeyboardInterrupt):  # as a single process says it
            code, line = 130, "interrupted"
        else:
            code = getattr(exc, "exit_code", 1)
            message = exc.render() if isinstance(exc, NnrunError) else (str(exc) or type(exc).__name__)
            line = f"{getattr(exc, 'label', 'error')}: process {self.rank} of {self.size}: {message}"
        print(line, file=sys.stderr, flush=True)
        self.comm.Abort(code)
