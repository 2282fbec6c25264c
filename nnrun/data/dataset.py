"""The in-memory data set every source produces."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from nnrun.data.table import Table


MOVE_BYTES = 1 << 21  # moved per block when a split reuses the samples' memory: the block's copy is extra
_MADV_DONTNEED = 4  # Linux's madvise advice: drop these pages; they read as zeros if touched again


@dataclass(frozen=True)
class Dataset:
    """Samples ``x`` (N, *input_shape) float32 and targets ``y``: integer class labels
    (N,) for classification, float32 values (N,) or (N, k) for regression.

    A CSV source also carries its raw ``table``: its columns are encoded into ``x``
    only after the split, because categories and fill values are learned on the
    training rows. ``assigned`` (N,) int8 marks rows that came from an explicit
    validation (1) or test (2) file; -1 for rows the split may place anywhere.
    """

    x: np.ndarray
    y: np.ndarray
    task: str  # "classification" or "regression"
    feature_names: list[str]
    class_names: list[str] | None = None
    table: "Table | None" = None
    assigned: np.ndarray | None = None
    warnings: tuple[str, ...] = ()  # what the user should know about the data (single-row classes, ...)
    target_name: str | None = None  # the targets' column, where no setting names it (a bundled set's)
    target_names: tuple[str, ...] | None = None  # several regression targets' columns, where the data names them

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names or [])

    @property
    def target_width(self) -> int:
        """Output width a model needs: classes, or the number of regression targets."""
        if self.task == "classification":
            return self.num_classes
        return 1 if self.y.ndim == 1 else self.y.shape[1]

    def take(self, indices: np.ndarray) -> "Dataset":
        if len(indices) == len(self) and np.array_equal(indices, np.arange(len(self))):
            return self  # the whole set in order (no held-out splits): no copy
        return replace(
            self,
            x=np.take(self.x, indices, axis=0),  # whole rows: faster than indexing with an array
            y=self.y[indices],
            table=self.table.take(indices) if self.table is not None else None,
            assigned=self.assigned[indices] if self.assigned is not None else None,
        )

    def split(self, indices: dict[str, np.ndarray], keep: str = "train") -> dict[str, "Dataset"]:
        """The parts ``indices`` names (each an ascending array of rows; empty ones left
        out), in its order. This ends the set: its samples become the ``keep`` part's.

        Copying every part out would hold the whole set and all of its parts at once,
        twice the data at the peak. Instead the other parts are copied out, ``keep``'s
        rows are moved to the front of ``x`` in place, and the pages after them are
        handed back to the system: the peak is the data plus the held-out parts, and
        the rows and their order are those ``take`` gives. Where ``x`` is not this
        set's own to overwrite (a view, read-only), or holds a table's placeholder,
        every part is a copy."""
        found = {name: self.take(rows) for name, rows in indices.items() if name != keep and len(rows)}
        rows = indices.get(keep)
        if rows is not None and len(rows):
            found[keep] = self._moved_to_front(rows) if found and self._owns_samples(rows) else self.take(rows)
        return {name: found[name] for name in indices if name in found}

    def _owns_samples(self, rows: np.ndarray) -> bool:
        """Whether ``x`` may be overwritten: a writable array that owns its memory, or a
        reshape of one (images) spanning all of it, and a table's placeholder is not."""
        x = self.x
        memory = x if x.base is None else x.base
        whole = (isinstance(memory, np.ndarray) and memory.base is None and memory.flags.owndata
                 and memory.nbytes == x.nbytes and memory.ctypes.data == x.ctypes.data)
        return (whole and self.table is None and x.flags.writeable and x.flags.c_contiguous
                and bool(np.all(rows[1:] > rows[:-1])))

    def _moved_to_front(self, rows: np.ndarray) -> "Dataset":
        x = self.x
        # Safe in place: ascending rows put row k at or after position k, so a block
        # reads only rows no earlier block wrote, and reads them before writing.
        step = max(1, MOVE_BYTES // max(x.strides[0], 1))
        for start in range(0, len(rows), step):
            block = rows[start : start + step]
            if block[-1] != start + len(block) - 1:  # not already where it belongs
                x[start : start + len(block)] = np.take(x, block, axis=0)
        _hand_back_pages(x, len(rows))
        return replace(self, x=x[: len(rows)], y=self.y[rows],
                       assigned=self.assigned[rows] if self.assigned is not None else None)

    def with_x(self, x: np.ndarray) -> "Dataset":
        return replace(self, x=x)

    def fingerprint(self) -> str:
        """SHA-256 of the raw samples (the table's cells for CSV data) and targets,
        shapes and dtypes included, and of the feature and class names, so relabelled
        or reordered data gets a different fingerprint."""
        digest = hashlib.sha256()
        names = {"task": self.task, "features": self.feature_names, "classes": self.class_names}
        digest.update(json.dumps(names).encode())
        arrays = self.table.digest_parts() if self.table is not None else [self.x]
        for array in (*arrays, self.y):
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(np.ascontiguousarray(array).data)  # hashed in place, no bytes copy
        return digest.hexdigest()


def _hand_back_pages(x: np.ndarray, rows: int) -> None:
    """Give the system back the memory pages of ``x`` after its first ``rows`` rows,
    which nothing reads again (Linux; elsewhere they stay until ``x`` is freed)."""
    if not sys.platform.startswith("linux"):
        return
    page = os.sysconf("SC_PAGE_SIZE")
    first = -(-(x.ctypes.data + rows * x.strides[0]) // page) * page  # whole pages only
    last = (x.ctypes.data + x.nbytes) // page * page
    if last <= first:  # less than a page: a small set, as most are
        return
    import ctypes

    try:
        ctypes.CDLL(None).madvise(ctypes.c_void_p(first), ctypes.c_size_t(last - first), _MADV_DONTNEED)
    except (OSError, AttributeError):  # no C library to ask: the pages stay
        pass
