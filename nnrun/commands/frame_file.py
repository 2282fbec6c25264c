"""A table in memory saved as the CSV file its run trains on (see :mod:`.frames`).

Numbers are written so that they read back as the same float64, text quoted, missing
cells empty; ``data.source`` then points at the file, with the config's column settings
beside it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from nnrun.commands.frames import Columns, cell_text
from nnrun.config.overrides import Setting

def table_bytes(columns: Columns, targets: list[str], y: np.ndarray) -> bytes:
    """The table and its targets (a column each: (N,) or (N, targets)) as CSV text:
    numbers written so that they read back as the same float64, text quoted, missing
    cells empty."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    arrays = {}
    for label in columns.names:
        values = columns.values[label]
        if isinstance(values, np.ndarray):
            arrays[label] = pa.array(values, mask=np.isnan(values))
        else:
            arrays[label] = pa.array(values, type=pa.string())
    for target, values in zip(targets, y.reshape(len(y), -1).T):
        arrays[target] = pa.array(_targets(values))
    sink = pa.BufferOutputStream()
    pcsv.write_csv(pa.table(arrays), sink)
    return sink.getvalue().to_pybytes()


def _targets(y: np.ndarray):
    """One target per row: class labels as text, values as float64."""
    y = y.reshape(-1)
    if np.issubdtype(y.dtype, np.number) and not np.issubdtype(y.dtype, np.bool_):
        return y.astype(np.float64) if np.issubdtype(y.dtype, np.floating) else y.astype(np.int64)
    return [cell_text(v) for v in y.tolist()]


def table_source_overrides(path: Path, target: str | list[str], task: str, settings: dict | None, filled: dict,
                     validation: Path | None) -> list[str]:
    """``--set`` items pointing ``data.source`` at the saved table. Where the config
    gives column settings, the items set the other keys beside them, so that a mistake
    in a setting is told where the config has it; else they make the whole source."""
    source = {"type": "csv", "path": str(path), "target": target, "task": task, **filled}
    if validation is not None:
        source["validation_path"] = str(validation)
    if settings is None:
        return [Setting(f"data.source={json.dumps(source)}", "data=(x, y)")]
    return [Setting(f"data.source.{key}={json.dumps(value)}", "data=(x, y)") for key, value in source.items()]
