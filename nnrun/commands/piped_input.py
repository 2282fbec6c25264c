"""A data file given as ``-`` (standard input) or as a pipe (``/dev/stdin``, a FIFO).

    with readable_once(input_path) as path:   # a regular file: the same path
        predict(run_dir, path, ...)

Why: a CSV file is read twice, once to learn its dialect and once for its rows, and a
pipe gives its bytes only once (the second read found it empty: "Empty CSV file").
Such an input is read once, whole, into a temporary file named after it, with the
suffix of what it holds: an .npz archive (a zip: its first bytes say so) or CSV text.
"""

from __future__ import annotations

import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from nnrun.errors import UserError

STDIN = "-"
ZIP_MAGIC = b"PK\x03\x04"  # every .npz archive starts with it


@contextmanager
def readable_once(path: Path) -> Iterator[Path]:
    """``path`` itself, or for standard input or a pipe, a temporary copy of its bytes."""
    if str(path) != STDIN and (not path.exists() or path.is_file() or path.is_dir()):
        yield path  # a regular file (or a missing one, which its reader reports)
        return
    if str(path) == STDIN:
        data, name, shown = sys.stdin.buffer.read(), "stdin", "standard input"
    else:
        with open(path, "rb") as pipe:
            data, name, shown = pipe.read(), path.stem or "input", str(path)
    with tempfile.TemporaryDirectory(prefix="nnrun-input-") as folder:
        copy = Path(folder) / f"{name}{'.npz' if data.startswith(ZIP_MAGIC) else '.csv'}"
        copy.write_bytes(data)
        try:
            yield copy
        except UserError as exc:  # told as the user gave it, not as the temporary copy
            exc.message = exc.message.replace(str(copy), shown)
            exc.hint = exc.hint and exc.hint.replace(str(copy), shown)
            exc.args = (exc.message,)
            raise
