"""Arrow arrays to and from numpy, through their buffers.

pyarrow's own conversions (``to_numpy``, ``pa.array``, ``pa.scalar``, a Python value
given to a compute function) import pandas when it is installed, which costs more than
reading a whole file (0.3-0.5 s). The CSV reader (:mod:`.csvfile`) and the text-cell
parser (:mod:`.cells`) convert through these instead; nothing here imports pandas.
"""

from __future__ import annotations

import numpy as np


def values(column, dtype) -> tuple[np.ndarray, np.ndarray | None]:
    """A primitive arrow array's values as a numpy view of its buffer, and its null
    mask (None when it has no nulls)."""
    data = np.frombuffer(column.buffers()[1], dtype, len(column), column.offset * np.dtype(dtype).itemsize)
    if not column.null_count:
        return data, None
    bits = np.frombuffer(column.buffers()[0], np.uint8)
    valid = np.unpackbits(bits, bitorder="little")[column.offset : column.offset + len(column)]
    return data, valid == 0


def floats_into(column, out: np.ndarray) -> None:
    """A float32 arrow array written into ``out``, NaN where null."""
    data, null = values(column, np.float32)
    out[:] = data
    if null is not None:
        out[null] = np.nan


def mask(booleans) -> np.ndarray:
    """An arrow boolean array without nulls as a numpy bool array."""
    bits = np.frombuffer(booleans.buffers()[1], np.uint8)
    start = booleans.offset
    return np.unpackbits(bits, bitorder="little", count=start + len(booleans))[start:].astype(bool)


def indices(rows: np.ndarray):
    """Row numbers as an arrow int64 array (for ``take``)."""
    import pyarrow as pa

    rows = np.ascontiguousarray(rows, np.int64)
    return pa.Array.from_buffers(pa.int64(), len(rows), [None, pa.py_buffer(rows)])


def strings(cells: list[str]):
    """Python strings as an arrow string array."""
    import pyarrow as pa

    encoded = [cell.encode("utf-8", "replace") for cell in cells]  # a lone surrogate (JSON allows one) as "?"
    offsets = np.zeros(len(encoded) + 1, np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return pa.StringArray.from_buffers(len(encoded), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded)))


def null_string():
    """A null string scalar."""
    import pyarrow as pa

    return pa.nulls(1, pa.string())[0]
