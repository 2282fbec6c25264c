"""Run names: what a run directory is called, and the name a config file's name gives.

May import: nothing of nnrun.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

RUN_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"

# Latin letters that Unicode does not decompose into a base letter and an accent.
_SPELLED_OUT = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
                              "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D"})


def default_name(path: Path) -> str:
    """The run name a config file's name gives: its letters in ASCII, accents dropped
    (``Größe daten.yaml`` gives ``Grosse-daten``), any other characters one ``-``; ``run``
    when nothing is left (a name written in another script)."""
    letters = unicodedata.normalize("NFKD", path.stem.translate(_SPELLED_OUT))
    unaccented = "".join(c for c in letters if not unicodedata.combining(c))
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", unaccented).strip("._-")[:100].rstrip("._-")
    return stem if re.match(RUN_NAME_PATTERN, stem) else "run"
