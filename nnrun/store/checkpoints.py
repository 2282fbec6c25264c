"""Checkpoints: everything the rest of a run depends on, in one safetensors file.

    <run>/checkpoints/epoch-000012.safetensors

A checkpoint is taken at an epoch boundary. Its tensors are named
``<component>/<array>`` (``model/dense_0.kernel``, ``optimizer/m``,
``early_stopping/best_weights``); its metadata holds the format, the epoch, the config
(resolved) and its hash, the dataset fingerprint, each component's JSON state
(``state``), and a SHA-256 checksum of all of it (see :mod:`nnrun.store.tensorfile`).

Any stateful part of the training loop takes part by implementing :class:`Stateful`:

    def checkpoint_state(self) -> tuple[dict[str, np.ndarray], dict]: ...
    def restore_state(self, arrays: dict[str, np.ndarray], info: dict, origin: Path) -> None: ...

``checkpoint_state`` returns named arrays (views are fine; they are copied) and
JSON-able state that it will not change later (a fresh dict); ``restore_state`` puts them back and raises
:class:`~nnrun.errors.UserError` (naming ``origin``) if they do not fit. A learning-rate
schedule or a layer's moving statistics join the checkpoint by being added to the
components dict that :func:`loop_components` returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from nnrun.errors import UserError
from nnrun.store.rundir import CHECKPOINT_FILE, RunDir
from nnrun.store.tensorfile import check_like

FORMAT = "nnrun-checkpoint-1"


class Stateful(Protocol):
    def checkpoint_state(self) -> tuple[dict[str, np.ndarray], dict]: ...

    def restore_state(self, arrays: dict[str, np.ndarray], info: dict, origin: Path) -> None: ...


def newest_epoch(run_dir: Path) -> int | None:
    """The epoch of a run's newest checkpoint by its file name (not yet read), or None."""
    found = candidates(run_dir)
    return int(CHECKPOINT_FILE.fullmatch(found[0].name).group(1)) if found else None


def candidates(run_dir: Path) -> list[Path]:
    """Checkpoint files of a run, newest epoch first."""
    folder = RunDir(run_dir).checkpoints
    if folder.is_symlink():
        raise UserError(f"{folder}: is a symbolic link; nnrun reads only files inside the run directory")
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := CHECKPOINT_FILE.fullmatch(p.name))]
    return [path for _, path in sorted(found, reverse=True)]


class GraphWeights:
    """The model's parameters (and anything else ``graph.state()`` holds)."""

    def __init__(self, graph):
        self.graph = graph

    def checkpoint_state(self):
        return self.graph.state(), {}

    def restore_state(self, arrays, info, origin):
        check_like(origin, arrays, self.graph.state())
        self.graph.load_state(arrays, str(origin))


class OptimizerSlots:
    """Momentum and moment buffers; names starting with ``_`` are scratch space, not state."""

    def __init__(self, slots: dict[str, np.ndarray]):
        self.slots = slots

    def _saved(self):
        return {name: value for name, value in self.slots.items() if not name.startswith("_")}

    def checkpoint_state(self):
        return self._saved(), {}

    def restore_state(self, arrays, info, origin):
        check_like(origin, arrays, self._saved(), what="optimizer slot")
        for name, value in arrays.items():
            np.copyto(self.slots[name], value)


class Generators:
    """NumPy generators, by purpose; ``bit_generator.state`` is plain JSON."""

    def __init__(self, **generators: np.random.Generator):
        self.generators = generators

    def checkpoint_state(self):
        return {}, {name: g.bit_generator.state for name, g in self.generators.items()}

    def restore_state(self, arrays, info, origin):
        if not isinstance(info, dict) or set(info) != set(self.generators):
            raise UserError(f"{origin}: random generator states {sorted(info)} do not match {sorted(self.generators)}")
        for name, generator in self.generators.items():
            try:
                generator.bit_generator.state = info[name]
            except (TypeError, ValueError, KeyError) as exc:
                raise UserError(f"{origin}: the '{name}' random generator state is invalid ({exc})") from None


class ScheduleState:
    """A learning-rate schedule's plain-dict state (reduce_on_plateau's best, wait, ...)."""

    def __init__(self, state: dict):
        self.state = state

    def checkpoint_state(self):
        return {}, dict(self.state)

    def restore_state(self, arrays, info, origin):
        if not isinstance(info, dict) or set(info) != set(self.state):
            raise UserError(f"{origin}: the learning-rate schedule state does not match this config")
        self.state.update(info)


@dataclass
class Progress:
    """How far the loop is: epochs finished, optimizer steps taken, and the metrics rows
    so far. The rows are not part of a checkpoint (it would grow with every epoch):
    metrics.csv holds them, and a resumed run reads them back from there."""

    epoch: int = 0
    step: int = 0
    history: list[dict] = field(default_factory=list)
    threads: int | None = None  # the BLAS threads now, where training.threads: auto moves them

    def checkpoint_state(self):
        kept = {"epoch": self.epoch, "step": self.step}
        return {}, kept if self.threads is None else {**kept, "threads": self.threads}

    def restore_state(self, arrays, info, origin):
        # Checkpoints written before the history moved out also hold "history"; it is ignored.
        # Those written before the thread count was kept lack "threads": the run's own is used.
        try:
            self.epoch, self.step = int(info["epoch"]), int(info["step"])
            threads = info.get("threads")
            self.threads = None if threads is None else int(threads)
        except (KeyError, TypeError, ValueError):
            raise UserError(f"{origin}: the progress record is malformed") from None
        if self.epoch < 0 or self.step < 0 or (self.threads is not None and self.threads < 1):
            raise UserError(f"{origin}: the progress record is malformed")


def loop_components(graph, slots, progress: Progress, stopper=None, schedule_state: dict | None = None,
                    **generators) -> dict[str, Stateful]:
    """The training loop's state, by component name (the prefix of its tensor names)."""
    components: dict[str, Stateful] = {
        "model": GraphWeights(graph),
        "optimizer": OptimizerSlots(slots),
        "random": Generators(**generators),
        "progress": progress,
        "schedule": ScheduleState(schedule_state if schedule_state is not None else {}),
    }
    if stopper is not None:
        components["early_stopping"] = stopper
    return components


@dataclass
class Snapshot:
    """Copies of every component's state at the end of one epoch."""

    epoch: int
    arrays: dict[str, np.ndarray]  # "<component>/<name>" -> copy
    state: dict[str, dict]  # component -> JSON state


def capture(components: dict[str, Stateful], epoch: int) -> Snapshot:
    arrays, state = {}, {}
    for component, part in components.items():
        part_arrays, info = part.checkpoint_state()
        arrays.update({f"{component}/{name}": np.array(value, copy=True) for name, value in part_arrays.items()})
        state[component] = info
    return Snapshot(epoch, arrays, state)


def model_arrays(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
    """The model's weights among a checkpoint file's arrays (``model/<name>``), named as
    ``model.safetensors`` names them; None when ``arrays`` are not a checkpoint's."""
    if not arrays or not all("/" in name for name in arrays):
        return None
    prefix = "model/"
    mine = {name[len(prefix):]: value for name, value in arrays.items() if name.startswith(prefix)}
    return mine or None


def restore(components: dict[str, Stateful], arrays: dict[str, np.ndarray], state: dict, origin: Path) -> None:
    """Hand each component its arrays and state; unknown or missing components are errors."""
    known = set(components)
    stray = {name.split("/", 1)[0] for name in arrays} | set(state)
    if stray != known:
        raise UserError(
            f"{origin}: holds the components {sorted(stray)}, but this training loop has {sorted(known)}"
        )
    for component, part in components.items():
        prefix = f"{component}/"
        mine = {name[len(prefix) :]: value for name, value in arrays.items() if name.startswith(prefix)}
        part.restore_state(mine, state.get(component, {}), origin)
